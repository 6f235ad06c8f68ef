"""Finding products as the vendor types: by name, by barcode or SKU, and by Korean initial
consonants (초성): `ㅅㅈㅂ` finds `수제비누`.

The index is built once per catalog load; a search is a scan of prepared strings, a few
milliseconds for 10,000 products.
"""

from __future__ import annotations


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


class ProductIndex:
    """Products in display order, searchable by name, initials, barcode and SKU.

    Each kind of key is joined into one text ("blob") with a line per product, so a search is
    a few `str.find` calls in C over the whole catalog, not a Python loop over every product.
    """

    def __init__(self, products: list[dict]):
        self.products = products
        names, inits, codes = [], [], []
        self._by_code: dict[str, dict] = {}
        for i, p in enumerate(products):
            names.append(_compact(p["name"]))
            inits.append(initials(p["name"]))
            keys = [c.lower() for c in [*(p.get("barcodes") or []), p.get("sku") or ""] if c]
            codes.append(keys)
            for c in keys:
                self._by_code.setdefault(c, p)
        self._names = _Blob(names)
        self._initials = _Blob(inits)
        self._codes = _Blob(["\t".join(c) for c in codes])

    def by_code(self, code: str) -> dict | None:
        """The product with exactly this barcode or SKU."""
        return self._by_code.get(code.strip().lower())

    def search(self, query: str, limit: int | None = None) -> list[dict]:
        """Products whose name contains the query (spaces ignored), whose initials contain it
        (when it has initial consonants), or whose barcode or SKU starts with it. Names that
        start with the query come first; otherwise catalog order is kept.

        With a `limit`, scanning stops as soon as the first `limit` results are known, so a
        one-character query on a big catalog costs no more than a precise one."""
        q = _compact(query).replace("\t", "")
        if not q:
            return self.products[:limit] if limit else list(self.products)
        if any(ch in _JAMO for ch in q):
            syllables = [ch for ch in q if _FIRST <= ord(ch) <= _LAST]
            blob, needle = self._initials, initials(q)

            def ok(i: int) -> bool:
                return all(x in self._names.lines[i] for x in syllables)
        else:
            blob, needle = self._names, q

            def ok(i: int) -> bool:
                return True

        starts = [i for i in blob.line_starts_with(needle) if ok(i)]
        if limit and len(starts) >= limit:
            return [self.products[i] for i in starts[:limit]]
        taken = set(starts)
        rest: list[int] = []
        want = (limit - len(starts)) if limit else None
        sources = [blob.lines_containing(needle)]
        if blob is self._names:
            sources.append(self._codes.fields_starting_with(needle))
        for source in sources:
            for i in source:
                if want is not None and len(rest) >= want:
                    break
                if i not in taken and ok(i):
                    taken.add(i)
                    rest.append(i)
        rest.sort()
        return [self.products[i] for i in starts + rest]


class _Blob:
    """Lines of text joined by newlines (fields within a line by tabs), with each line's start
    offset for mapping a hit back to its line."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.text = "\n" + "\n".join(lines) + "\n"
        self.starts = []
        pos = 1
        for line in lines:
            self.starts.append(pos)
            pos += len(line) + 1

    def _line_of(self, pos: int) -> int:
        from bisect import bisect_right

        return bisect_right(self.starts, pos) - 1

    def _positions(self, needle: str):
        text = self.text
        pos = text.find(needle)
        while pos != -1:
            yield pos
            pos = text.find(needle, pos + 1)

    def line_starts_with(self, needle: str) -> list[int]:
        """Lines that begin with `needle`, in order."""
        return [self._line_of(pos + 1) for pos in self._positions("\n" + needle)]

    def lines_containing(self, needle: str):
        """Lines containing `needle`, in order, each once."""
        last = -1
        for pos in self._positions(needle):
            i = self._line_of(pos)
            if i != last:
                last = i
                yield i

    def fields_starting_with(self, needle: str):
        """Lines with a field (tab-separated) that begins with `needle`; not in order."""
        seen = set()
        for sep in ("\n", "\t"):
            for pos in self._positions(sep + needle):
                i = self._line_of(pos + 1)
                if i not in seen:
                    seen.add(i)
                    yield i
