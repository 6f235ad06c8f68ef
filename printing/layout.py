"""Width-aware receipt layout: one layout for every renderer and paper width.

A receipt is laid out in character columns (32 for 58 mm, 42 or 48 for 80 mm). Hangul and
other East Asian wide and ambiguous characters take two columns (`char_width`).
Rows carry a left part and an optional right part (amounts), so the raster renderer can put
the right part flush with the paper's edge whatever the font, and the text renderer can pad.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def char_width(ch: str) -> int:
    """Columns a character takes. East Asian "ambiguous" characters (· × ★ ※ ① and the like)
    count two: a Korean printer in text mode prints every character that is not ASCII from
    its two-byte font, two columns wide, and the app's own "QR·간편결제" had pushed amounts
    onto the next line. (The raster renderer draws them narrower: counting two only wraps a
    little earlier there.)"""
    if unicodedata.combining(ch):
        return 0
    if ch < "\x80":
        return 1
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def width(text: str) -> int:
    """Columns `text` takes on a receipt printer."""
    return sum(char_width(ch) for ch in text)


def cut_to(text: str, columns: int) -> tuple[str, str]:
    """Split `text` so the first part fits `columns`."""
    used = 0
    for i, ch in enumerate(text):
        w = char_width(ch)
        if used + w > columns:
            return text[:i], text[i:]
        used += w
    return text, ""


def wrap(text: str, columns: int) -> list[str]:
    """Wrap at spaces where possible, inside a word when it is longer than a line."""
    if columns < 2:
        raise ValueError("too narrow")
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if width(candidate) <= columns:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while width(current) > columns:
            head, current = cut_to(current, columns)
            lines.append(head)
    if current or not lines:
        lines.append(current)
    return lines


@dataclass(frozen=True, slots=True)
class Row:
    """One printed line: `left` text and an optional `right` part flush right.

    `double` prints at double width and height (so half the columns); `align` places a row
    without a right part."""

    left: str
    right: str = ""
    bold: bool = False
    double: bool = False
    align: str = "left"

    def text(self, columns: int) -> str:
        """The row as a fixed-width string (what the text renderer sends)."""
        cols = columns // 2 if self.double else columns
        if self.right:
            gap = cols - width(self.left) - width(self.right)
            return self.left + " " * max(gap, 1) + self.right
        pad = cols - width(self.left)
        if self.align == "center":
            return " " * (pad // 2) + self.left
        if self.align == "right":
            return " " * pad + self.left
        return self.left


@dataclass(frozen=True, slots=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True, slots=True)
class QR:
    data: str


@dataclass(frozen=True, slots=True)
class Barcode:
    data: str


@dataclass(frozen=True, slots=True)
class Logo:
    path: str


@dataclass(frozen=True, slots=True)
class Feed:
    lines: int = 1


Item = Row | Rule | QR | Barcode | Logo | Feed


def fit(left: str, right: str, columns: int, *, bold: bool = False,
        double: bool = False) -> list[Row]:
    """`left` wrapped so that its last line leaves room for `right` on the same line."""
    cols = columns // 2 if double else columns
    if not right:
        return [Row(line, bold=bold, double=double) for line in wrap(left, cols)]
    room = cols - width(right) - 1
    if room < 4:
        return [Row(line, bold=bold, double=double) for line in wrap(left, cols)] + [
            Row("", right, bold=bold, double=double)]
    lines = wrap(left, cols)
    if width(lines[-1]) > room:
        return [Row(line, bold=bold, double=double) for line in lines] + [
            Row("", right, bold=bold, double=double)]
    return ([Row(line, bold=bold, double=double) for line in lines[:-1]]
            + [Row(lines[-1], right, bold=bold, double=double)])


def heading(text: str, columns: int) -> list[Row]:
    """A centred title at double size, wrapped at half the columns so it never runs past the
    paper (the 58 mm refund heading had wrapped by itself in the printer)."""
    return [Row(row.left, bold=True, double=True, align="center")
            for row in fit(text, "", columns, double=True)]
