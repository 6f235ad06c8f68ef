"""Won amounts: formatting and strict parsing. There is one formatter; use it."""

from __future__ import annotations

import re
from pos.errors import CodedError

Won = int
"""Money is always an `int` number of won (KRW has no minor unit)."""

MAX_WON = 1_000_000_000
"""The largest amount one price, line or payment may be: a billion won is more than any booth
takes at once, and sums of such amounts over years stay far inside SQLite's 64-bit integers
(an unbounded amount once overflowed a shift's cash total and locked the till out of its Z
report)."""
MAX_QTY = 9999
MAX_STOCK = MAX_QTY * 100  # a product's stock, and one movement of it (goods received, counted)


def format_amount(amount: int) -> str:
    """`3,000`, `-1,500`: the digits alone, for a column or a printed receipt whose heading
    already says 원."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"money must be int won, got {type(amount).__name__}")
    return f"{amount:,}"


def format_won(amount: int, lang: str = "ko") -> str:
    """`3,000원` in Korean, `₩3,000` in English, as its catalogue's `won_format` says in any
    other language; negatives keep the sign in front."""
    digits = format_amount(amount).lstrip("-")
    sign = "-" if amount < 0 else ""
    if lang == "ko":
        return f"{sign}{digits}원"
    if lang == "en":
        return f"{sign}₩{digits}"
    from pos.i18n import tr  # another language says in its catalogue how it writes won

    return sign + tr("won_format", lang, digits=digits)


_AMOUNT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$|^[+-]?\d+$")


class AmountError(CodedError, ValueError):
    """Text that is not a whole number of won; `code` names the reason for translation."""

    def __init__(self, code: str, text: str):
        super().__init__(code, value=text)
        self.text = text


def parse_won(text: str | int | float, *, allow_negative: bool = False) -> int:
    """Parse `3000`, `3,000`, `3,000원`, `₩3,000`, `￦3000` into int won.

    Decimals are refused (a price of `1500.5` is a typo, not half a won) — except a spreadsheet
    number like `1500.0`, which is whole.
    """
    if isinstance(text, bool):
        raise AmountError("not_a_number", str(text))
    if isinstance(text, int):
        value = text
    elif isinstance(text, float):
        if not text.is_integer():
            raise AmountError("decimal", str(text))
        value = int(text)
    else:
        s = str(text).strip().replace(" ", "")
        s = s.removesuffix("원").lstrip("₩￦").strip()
        if s.startswith(("-₩", "-￦")):
            s = "-" + s[2:]
        if not s:
            raise AmountError("empty", str(text))
        if re.fullmatch(r"[+-]?[\d,]*\.\d*", s):
            whole, _, frac = s.partition(".")
            if frac.strip("0"):
                raise AmountError("decimal", str(text))
            s = whole
        if not _AMOUNT.match(s):
            raise AmountError("not_a_number", str(text))
        if len(s) > 20:
            raise AmountError("too_large", str(text)[:40])
        value = int(s.replace(",", ""))
    if value < 0 and not allow_negative:
        raise AmountError("negative", str(text))
    if abs(value) > MAX_WON:
        raise AmountError("too_large", str(text)[:40])
    return value
