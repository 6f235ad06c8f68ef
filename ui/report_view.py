"""An X/Z report on screen, drawn sharp at the screen's resolution from the same items the
printer gets (`printing.layout`): each row's left part flush left and right part flush right
in the till's own font, a rule as a line. The view had shown the printer's text-mode bytes
decoded with a stand-in bitmap font and scaled down ("Z REPCRT", "Cpened", "165, 000")."""

from __future__ import annotations

from printing.layout import Feed, Row, Rule
from ui.qt import QApplication, QColor, QFont, QFontMetrics, QPainter, QPixmap, QPen, Qt


def report_pixmap(items, columns: int, width: int = 420, ratio: float | None = None) -> QPixmap:
    """The rows of `items` on white, `width` device-independent pixels wide, at the screen's
    pixel ratio (`ratio`, default the application's) so that nothing is scaled afterwards."""
    ratio = ratio or (QApplication.instance().devicePixelRatio() if QApplication.instance() else 1)
    margin = 14
    cell = (width - 2 * margin) / columns  # one column; a Hangul syllable takes two
    base = QFont(QApplication.font())
    base.setPixelSize(max(9, int(cell * 1.75)))
    bold = QFont(base)
    bold.setBold(True)
    big = QFont(bold)
    big.setPixelSize(base.pixelSize() * 2 - 2)
    lines = []  # (kind, row or None, font, height)
    for item in items:
        if isinstance(item, Row):
            font = big if item.double else bold if item.bold else base
            lines.append(("row", item, font, QFontMetrics(font).height() + 2))
        elif isinstance(item, Rule):
            lines.append(("rule", item, base, QFontMetrics(base).height() // 2 + 4))
        elif isinstance(item, Feed):
            lines.append(("feed", None, base, QFontMetrics(base).height() * item.lines // 2))
    height = sum(h for *_, h in lines) + 2 * margin
    pixmap = QPixmap(int(width * ratio), int(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor("white"))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.TextAntialiasing)
    painter.setPen(QColor("#111111"))
    y = margin
    inner = width - 2 * margin
    for kind, item, font, h in lines:
        if kind == "row":
            painter.setFont(font)
            metrics = QFontMetrics(font)
            left = item.left
            if item.right:
                right_width = metrics.horizontalAdvance(item.right)
                painter.drawText(margin + inner - right_width, y + metrics.ascent(), item.right)
                left = metrics.elidedText(left, Qt.ElideRight, inner - right_width - 8)
                painter.drawText(margin, y + metrics.ascent(), left)
            else:
                align = {"center": Qt.AlignHCenter, "right": Qt.AlignRight}.get(item.align,
                                                                                 Qt.AlignLeft)
                painter.drawText(margin, y, inner, h, align | Qt.AlignTop, left)
        elif kind == "rule":
            pen = QPen(QColor("#555555"), 1, Qt.DashLine if item.char == "-" else Qt.SolidLine)
            painter.setPen(pen)
            painter.drawLine(margin, y + h // 2, margin + inner, y + h // 2)
            if item.char == "=":
                painter.drawLine(margin, y + h // 2 + 2, margin + inner, y + h // 2 + 2)
            painter.setPen(QColor("#111111"))
        y += h
    painter.end()
    return pixmap
