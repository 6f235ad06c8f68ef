"""Finding products as the vendor types: by name, by barcode or SKU, and by Korean initial
consonants (초성): `ㅅㅈㅂ` finds `수제비누`.

The index is built once per catalog load; a search is a scan of prepared strings, a few
milliseconds for 10,000 products.
"""

from __future__ import annotations

from dataclasses import dataclass

CHOSUNG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JAMO = set(CHOSUNG)
_FIRST, _LAST = 0xAC00, 0xD7A3


def initials(text: str) -> str:
    """Each Hangul syllable replaced by its initial consonant; other characters lower-cased;
    spaces dropped."""
    out = []
    for ch in text:
        code = ord(ch)
        if _FIRST <= code <= _LAST:
            out.append(CHOSUNG[(code - _FIRST) // 588])
        elif not ch.isspace():
            out.append(ch.lower())
    return "".join(out)


def _compact(text: str) -> str:
    return "".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class _Entry:
    product: dict
    name: str
    initials: str
    codes: tuple[str, ...]


class ProductIndex:
    """Products in display order, searchable by name, initials, barcode and SKU."""

    def __init__(self, products: list[dict]):
        self.products = products
        self._entries = [
            _Entry(p, _compact(p["name"]), initials(p["name"]),
                   tuple(c.lower() for c in [*(p.get("barcodes") or []), p.get("sku") or ""] if c))
            for p in products
        ]
        self._by_code = {}
        for e in self._entries:
            for c in e.codes:
                self._by_code.setdefault(c, e.product)

    def by_code(self, code: str) -> dict | None:
        """The product with exactly this barcode or SKU."""
        return self._by_code.get(code.strip().lower())

    def search(self, query: str, limit: int | None = None) -> list[dict]:
        """Products whose name contains the query (spaces ignored), whose initials contain it
        (when it has initial consonants), or whose barcode or SKU starts with it. Names that
        start with the query come first; otherwise catalog order is kept."""
        q = _compact(query)
        if not q:
            return self.products[:limit] if limit else list(self.products)
        jamo = any(ch in _JAMO for ch in q)
        q_initials = initials(q) if jamo else ""
        syllables = [ch for ch in q if _FIRST <= ord(ch) <= _LAST] if jamo else []
        first, rest = [], []
        for e in self._entries:
            if jamo:
                hit = q_initials in e.initials and all(s in e.name for s in syllables)
                starts = hit and e.initials.startswith(q_initials)
            else:
                hit = q in e.name
                starts = hit and e.name.startswith(q)
                if not hit:
                    hit = any(c.startswith(q) for c in e.codes)
            if hit:
                (first if starts else rest).append(e.product)
                if limit and not rest and len(first) >= limit:
                    break
        found = first + rest
        return found[:limit] if limit else found
