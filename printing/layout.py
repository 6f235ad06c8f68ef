"""Width-aware receipt layout: one layout for every renderer and paper width.

Widths come from a `Measure`: `Columns` for the printer's own font in text mode (32 for
58 mm, 42 or 48 for 80 mm; Hangul and other East Asian wide and ambiguous characters take two,
`char_width`), or the raster renderer's dots measured with the font it draws with
(`printing.render.measure_for`), where a Latin capital or a digit is wider than a column and
a space narrower. A plain number of columns is read as `Columns`.
Rows carry a left part and an optional right part (amounts), so the raster renderer can put
the right part flush with the paper's edge whatever the font, and the text renderer can pad.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol


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


class Measure(Protocol):
    """How wide text is, in the units the paper is `across` (columns or dots)."""

    across: int

    def __call__(self, text: str, *, bold: bool = False, double: bool = False) -> float: ...

    def cell(self, double: bool = False) -> float:
        """One column's width: the least gap between a row's two parts."""


class Columns:
    """Widths in character columns, as a printer's own fixed-pitch font prints them."""

    __slots__ = ("across",)

    def __init__(self, columns: int):
        self.across = columns

    def __call__(self, text: str, *, bold: bool = False, double: bool = False) -> int:
        return width(text) * (2 if double else 1)

    def cell(self, double: bool = False) -> int:
        return 2 if double else 1


def as_measure(measure: int | Measure) -> Measure:
    return Columns(measure) if isinstance(measure, int) else measure


def cut_to(text: str, room: float, measure: int | Measure | None = None, *,
           bold: bool = False, double: bool = False) -> tuple[str, str]:
    """Split `text` so the first part fits `room` (at least one character, so that wrapping
    always goes on)."""
    m = Columns(int(room)) if measure is None else as_measure(measure)
    used, end = 0.0, len(text)
    for i, ch in enumerate(text):
        used += m(ch, bold=bold, double=double)
        if used > room:
            end = i
            break
    # a run can be wider than its characters one by one (kerning): back off until it fits
    while end > 1 and m(text[:end], bold=bold, double=double) > room:
        end -= 1
    end = max(end, 1)
    return text[:end], text[end:]


def wrap(text: str, measure: int | Measure, *, bold: bool = False,
         double: bool = False) -> list[str]:
    """Wrap at spaces where possible, inside a word when it is longer than a line."""
    m = as_measure(measure)
    if m.across < 2 * m.cell(double):
        raise ValueError("too narrow")
    if m(text, bold=bold, double=double) <= m.across:
        return [text]  # most texts: one measure, not one a word
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if m(candidate, bold=bold, double=double) <= m.across:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while True:  # cut by cut, so a very long word is never measured whole again
            head, rest = cut_to(current, m.across, m, bold=bold, double=double)
            if not rest:
                break
            lines.append(head)
            current = rest
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

    def text(self, columns: int | Columns) -> str:
        """The row as a fixed-width string (what the text renderer sends)."""
        columns = as_measure(columns).across
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


def fit(left: str, right: str, measure: int | Measure, *, bold: bool = False,
        double: bool = False) -> list[Row]:
    """`left` wrapped so that its last line, or that line's last words, leave room for `right`
    on the same line, at least a column apart; `right` goes on a line of its own when not."""
    m = as_measure(measure)
    lines = [Row(line, bold=bold, double=double)
             for line in wrap(left, m, bold=bold, double=double)] if left or not right else []
    if not right:
        return lines
    room = m.across - m(right, bold=bold, double=double) - m.cell(double)
    if lines and room >= 4 * m.cell(double):
        # the last line's last words go down beside `right` when they fit there
        words = lines[-1].left.split(" ")
        for k in range(len(words)):
            tail = " ".join(words[k:])
            if m(tail, bold=bold, double=double) <= room:
                head = " ".join(words[:k])
                return (lines[:-1] + ([Row(head, bold=bold, double=double)] if head else [])
                        + [Row(tail, right, bold=bold, double=double)])
    return lines + [Row("", right, bold=bold, double=double)]


def heading(text: str, measure: int | Measure) -> list[Row]:
    """A centred title at double size, wrapped at half the columns so it never runs past the
    paper (the 58 mm refund heading had wrapped by itself in the printer)."""
    return [Row(row.left, bold=True, double=True, align="center")
            for row in fit(text, "", measure, bold=True, double=True)]
