"""Korean business registration numbers (사업자등록번호), `123-45-67890`, with their check digit."""

from __future__ import annotations

_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def is_valid(text: str) -> bool:
    """True when `text` has 10 digits (hyphens or spaces allowed) and the check digit agrees."""
    raw = text.replace("-", "").replace(" ", "")
    if len(raw) != 10 or not raw.isascii() or not raw.isdigit():
        return False
    d = [int(c) for c in raw]
    s = sum(di * wi for di, wi in zip(d, _WEIGHTS)) + (d[8] * 5) // 10
    return (10 - s % 10) % 10 == d[9]


def normalize(text: str) -> str:
    """`1234567890` → `123-45-67890`. Raises ValueError when the number is not valid."""
    if not is_valid(text):
        raise ValueError(f"invalid business registration number: {text!r}")
    raw = _digits(text)
    return f"{raw[:3]}-{raw[3:5]}-{raw[5:]}"


def with_check_digit(first_nine: str) -> str:
    """Complete nine digits with their check digit (used by the demo to make valid numbers)."""
    d = [int(c) for c in first_nine]
    if len(d) != 9:
        raise ValueError("nine digits expected")
    s = sum(di * wi for di, wi in zip(d, _WEIGHTS)) + (d[8] * 5) // 10
    return normalize(first_nine + str((10 - s % 10) % 10))
