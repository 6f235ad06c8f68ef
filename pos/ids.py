"""Identities of documents: UUID version 7 and human receipt numbers."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date, datetime


def uuid7(when: datetime, random_bytes: bytes | None = None) -> uuid.UUID:
    """A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.

    Sorting by the UUID sorts by creation time, which keeps the sales table's index compact.
    `random_bytes` (10 bytes) lets the demo be deterministic.
    """
    millis = int(when.timestamp() * 1000)
    if not 0 <= millis < 1 << 48:
        raise ValueError("time outside the UUIDv7 range")
    rand = random_bytes if random_bytes is not None else os.urandom(10)
    if len(rand) != 10:
        raise ValueError("10 random bytes expected")
    value = (millis << 80) | int.from_bytes(rand, "big")
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 4122 variant
    return uuid.UUID(int=value)


DEVICE_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,5}$")
RECEIPT_NO = re.compile(r"^(?P<device>[A-Z][A-Z0-9]{1,5})-(?P<day>\d{8})-?(?P<n>\d{4,})$")


def receipt_no(device_code: str, day: date, n: int) -> str:
    """`A01-20261122-0042`: the device's code, the business day, the n-th document that day."""
    if not DEVICE_CODE.match(device_code):
        raise ValueError(f"bad device code {device_code!r}")
    if n < 1:
        raise ValueError("receipt numbers start at 1")
    return f"{device_code}-{day.year:04d}{day.month:02d}{day.day:02d}-{n:04d}"


def barcode_form(number: str) -> str:
    """`A01-20261122-0042` → `A01-202611220042`: the digits run together so a CODE128 barcode
    can pack them two to a symbol and fit 58 mm paper. `parse_receipt_no` reads both forms."""
    device, day, n = parse_receipt_no(number)
    return f"{device}-{day.year:04d}{day.month:02d}{day.day:02d}{n:04d}"


def canonical_receipt_no(text: str) -> str:
    """The printed form of a receipt number typed or scanned in either form."""
    return receipt_no(*parse_receipt_no(text))


_RECEIPT_DASHES = re.compile(r"[-\s\u2010-\u2015\u2212\uff0d_]+")
_RECEIPT_BARE = re.compile(r"^(?P<device>[A-Z][A-Z0-9]{1,5}?)(?P<day>20\d{6})(?P<n>\d{4,})$")


def parse_receipt_no(text: str) -> tuple[str, date, int]:
    """A receipt number as printed, scanned or typed: dashes or spaces between its parts
    (full-width ones too, as a Korean input method types them), or none at all."""
    import unicodedata

    plain = unicodedata.normalize("NFKC", text[:64]).strip().upper()
    m = RECEIPT_NO.match(plain)
    if not m:
        parts = [x for x in _RECEIPT_DASHES.split(plain) if x]
        joined = "-".join(parts)
        m = RECEIPT_NO.match(joined) if len(parts) in (2, 3) else None
        if not m and len(parts) == 1:
            m = _RECEIPT_BARE.match(parts[0])
    if not m:
        raise ValueError(f"not a receipt number: {text[:40]!r}")
    try:
        day = datetime.strptime(m["day"], "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"not a receipt number: {text[:40]!r}") from None
    return m["device"], day, int(m["n"])
