"""The product tiles of the Sell screen: a list model and a delegate that paints big tiles.

Painting tiles (instead of one button per product) keeps a 10,000-product catalog instant.
"""

from __future__ import annotations

from ui.qt import (QAbstractListModel, QColor, QFont, QFontMetrics, QListView, QModelIndex,
                   QPainter, QPen, QPoint, QRect, QSize, QStaticText, QStyle,
                   QStyledItemDelegate, Qt, QTimer, Signal)
from ui.texts import t, won

PRODUCT_ROLE = Qt.UserRole + 1
MIN_TILE = 160  # px: a tile is never narrower; the grid's width is shared out above it

# soft, distinguishable colours for enterprises of a joint stall (first enterprise first)
PALETTE = ["#e8833a", "#3b8ea5", "#6a994e", "#bc4b51", "#8e6c8a", "#d4a017", "#2f6690",
           "#7d5a50", "#4d908e", "#c06c84"]


class ProductListModel(QAbstractListModel):
    def __init__(self, colors: dict[str, str], parent=None):
        super().__init__(parent)
        self._products: list[dict] = []
        self._colors = colors

    def set_products(self, products: list[dict]) -> None:
        self.beginResetModel()
        for p in products:
            p["_color"] = self._colors.get(p["enterprise_id"], "#888888")
        self._products = products
        self.endResetModel()

    def product(self, row: int) -> dict:
        return self._products[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._products)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        p = self._products[index.row()]
        if role == Qt.DisplayRole:
            return p["name"]
        if role == Qt.ToolTipRole:
            tip = f"{p['name']}\n{won(p['price'])}\n{p['enterprise_name']}"
            return tip + ("" if p.get("stock") is None else "\n" + stock_text(p["stock"]))
        if role == PRODUCT_ROLE:
            return p
        return None


LOW_STOCK = 3  # a tracked product with this many or fewer left is marked on its tile


def stock_text(stock: int) -> str:
    """A tracked product's stock on its tile: sold out at 0 or below (other tills may have sold
    past zero while offline; selling on is allowed, and the tile says so)."""
    if stock <= 0:
        return t("tile_sold_out")
    return t("tile_low_stock", count=stock) if stock <= LOW_STOCK else t("tile_stock", count=stock)


class TileDelegate(QStyledItemDelegate):
    """Paints a tile: enterprise colour bar, name (wrapped), enterprise, price.

    Text layout is the costly part of painting, so each product's texts are laid out once
    (`QStaticText`) and reused at every repaint while the font and tile size stay the same.
    """

    def __init__(self, parent=None, size: QSize | None = None):
        super().__init__(parent)
        self._size = size or QSize(168, 96)
        self._fonts_for: QFont | None = None
        self._cache: dict[str, tuple] = {}

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return self._size

    def set_tile_width(self, width: int) -> None:
        self._size = QSize(width, self._size.height())
        self._cache.clear()  # texts were laid out for the old width

    def _fonts(self, base: QFont):
        if self._fonts_for != base:
            name = QFont(base)
            name.setBold(True)
            small = QFont(base)
            small.setPointSizeF(max(base.pointSizeF() * 0.8, 7))
            price = QFont(base)
            price.setBold(True)
            price.setPointSizeF(base.pointSizeF() * 1.15)
            self._font_set = (name, small, price)
            self._fonts_for = QFont(base)
            self._cache.clear()
        return self._font_set

    def _texts(self, p: dict, width: int, fonts) -> tuple:
        key = f"{p['id']}:{p['price']}:{p['name']}:{width}"
        cached = self._cache.get(key)
        if cached is None:
            name_font, small_font, price_font = fonts
            name = QStaticText(p["name"])
            name.setTextFormat(Qt.PlainText)
            name.setTextWidth(width)
            name.prepare(font=name_font)
            price = QStaticText(won(p["price"]))
            price.setTextFormat(Qt.PlainText)
            price.prepare(font=price_font)
            # the enterprise's name has a line of its own, above the price
            enterprise = QFontMetrics(small_font).elidedText(p["enterprise_name"], Qt.ElideRight,
                                                             width)
            cached = (name, price, QStaticText(enterprise),
                      QFontMetrics(small_font).height(), price.size())
            self._cache[key] = cached
        return cached

    def paint(self, painter: QPainter, option, index) -> None:
        p = index.data(PRODUCT_ROLE)
        color = QColor(p.get("_color", "#888888"))
        r = option.rect.adjusted(3, 3, -3, -3)
        text = r.adjusted(14, 6, -8, -6)
        fonts = self._fonts(option.font)
        name, price, enterprise, small_height, price_size = self._texts(p, text.width(), fonts)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        hover = bool(option.state & QStyle.State_MouseOver)
        painter.setPen(QPen(color if hover else QColor("#c8c8c8"), 2 if hover else 1))
        painter.setBrush(QColor("#fffdf8"))
        painter.drawRoundedRect(r, 8, 8)
        painter.fillRect(QRect(r.left() + 1, r.top() + 4, 7, r.height() - 8), color)
        painter.setFont(fonts[0])
        painter.setPen(QColor("#222222"))
        bottom = int(text.bottom() - price_size.height())  # the price's line
        painter.setClipRect(QRect(text.left(), text.top(), text.width(),
                                  bottom - small_height - text.top()))
        painter.drawStaticText(text.left(), text.top(), name)
        painter.setClipping(False)
        painter.setFont(fonts[1])
        painter.setPen(color.darker(130))
        painter.drawStaticText(text.left(), bottom - small_height, enterprise)
        painter.setFont(fonts[2])
        painter.setPen(QColor("#111111"))
        painter.drawStaticText(int(text.right() - price_size.width()),
                               int(text.bottom() - price_size.height()), price)
        if p.get("stock") is not None:  # a badge in the top right corner
            label = stock_text(p["stock"])
            painter.setFont(fonts[1])
            metrics = QFontMetrics(fonts[1])
            badge = QRect(0, 0, metrics.horizontalAdvance(label) + 10, metrics.height() + 2)
            badge.moveTopRight(r.topRight() + QPoint(-4, 4))
            sold_out, low = p["stock"] <= 0, 0 < p["stock"] <= LOW_STOCK
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor("#c62828" if sold_out else "#ef8a00" if low else "#eeeeee"))
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(QColor("#ffffff" if sold_out or low else "#333333"))
            painter.drawText(badge, Qt.AlignCenter, label)
            if sold_out:  # the whole tile greyed: still sellable, plainly not on the shelf
                painter.fillRect(r.adjusted(1, 1, -1, -1), QColor(255, 255, 255, 110))
        painter.restore()


class ProductGrid(QListView):
    """Tiles in rows that reflow with the window; a click or tap picks a product, a right
    click or a long press (touch) asks for the tile's menu (`menu_requested(product, pos)`)."""

    menu_requested = Signal(object, object)
    HOLD_MS = 650

    def __init__(self, model: ProductListModel, parent=None):
        super().__init__(parent)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._held)
        self._held_at = None
        self._swallow_click = False
        self.setModel(model)
        self.setItemDelegate(TileDelegate(self))
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setWrapping(True)
        self.setMouseTracking(True)
        self.setSelectionMode(QListView.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_tiles()

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        index = self.indexAt(event.pos())
        if index.isValid():
            self.menu_requested.emit(index.data(PRODUCT_ROLE), event.globalPos())

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._swallow_click = False
        if event.button() == Qt.LeftButton:
            self._held_at = event.position().toPoint()
            self._hold.start(self.HOLD_MS)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._hold.stop()
        if self._swallow_click:  # the press was a long one: its menu, not a sale
            self._swallow_click = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _held(self) -> None:
        index = self.indexAt(self._held_at) if self._held_at is not None else None
        if index is not None and index.isValid():
            self._swallow_click = True
            self.menu_requested.emit(index.data(PRODUCT_ROLE),
                                     self.viewport().mapToGlobal(self._held_at))

    def fit_tiles(self) -> None:
        """Tiles share the grid's whole width: as many columns of at least `MIN_TILE` as fit,
        each as wide as they can be (the grid had left a strip empty on the right while
        enterprise names were cut)."""
        delegate = self.itemDelegate()
        spacing = self.spacing()
        room = self.viewport().width() - spacing
        columns = max(1, room // (MIN_TILE + spacing))  # a tile and the spacing after it
        tile = max(MIN_TILE // 2, room // columns - spacing)
        if tile != delegate._size.width():
            delegate.set_tile_width(tile)
            self.doItemsLayout()
