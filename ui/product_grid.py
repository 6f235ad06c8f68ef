"""The product tiles of the Sell screen: a list model and a delegate that paints big tiles.

Painting tiles (instead of one button per product) keeps a 10,000-product catalog instant.
"""

from __future__ import annotations

from ui.qt import (QAbstractListModel, QColor, QFont, QListView, QModelIndex, QPainter, QPen,
                   QRect, QSize, QStyle, QStyledItemDelegate, Qt)
from ui.texts import won

PRODUCT_ROLE = Qt.UserRole + 1
COLOR_ROLE = Qt.UserRole + 2

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
            return f"{p['name']}\n{won(p['price'])}\n{p['enterprise_name']}"
        if role == PRODUCT_ROLE:
            return p
        if role == COLOR_ROLE:
            return self._colors.get(p["enterprise_id"], "#888888")
        return None


class TileDelegate(QStyledItemDelegate):
    def __init__(self, parent=None, size: QSize | None = None):
        super().__init__(parent)
        self._size = size or QSize(168, 92)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return self._size

    def paint(self, painter: QPainter, option, index) -> None:
        p = index.data(PRODUCT_ROLE)
        color = QColor(index.data(COLOR_ROLE))
        r = option.rect.adjusted(3, 3, -3, -3)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        selected = bool(option.state & QStyle.State_MouseOver)
        painter.setPen(QPen(color if selected else QColor("#c8c8c8"), 2 if selected else 1))
        painter.setBrush(QColor("#fffdf8"))
        painter.drawRoundedRect(r, 8, 8)
        painter.setPen(Qt.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRect(r.left(), r.top(), 8, r.height()), 4, 4)
        text = r.adjusted(14, 6, -8, -6)
        base = QFont(option.font)
        name_font = QFont(base)
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(QColor("#222222"))
        name_rect = QRect(text.left(), text.top(), text.width(), text.height() - 26)
        painter.drawText(name_rect, Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop, p["name"])
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() * 0.8, 7))
        painter.setFont(small)
        painter.setPen(color.darker(130))
        painter.drawText(text, Qt.AlignLeft | Qt.AlignBottom,
                         painter.fontMetrics().elidedText(p["enterprise_name"], Qt.ElideRight,
                                                          text.width() // 2))
        price_font = QFont(base)
        price_font.setBold(True)
        price_font.setPointSizeF(base.pointSizeF() * 1.15)
        painter.setFont(price_font)
        painter.setPen(QColor("#111111"))
        painter.drawText(text, Qt.AlignRight | Qt.AlignBottom, won(p["price"]))
        painter.restore()


class ProductGrid(QListView):
    """Tiles in rows that reflow with the window; a click or tap picks a product."""

    def __init__(self, model: ProductListModel, parent=None):
        super().__init__(parent)
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
