"""Which product of a stall's catalog a product is, when the two came from different places (two
tills that each loaded the demo or imported one products.csv, a till joining a stall that has a
catalog already, the organizer adding what a till has): by SKU, then by barcode, then by
enterprise and name. The till (joining a stall) and the organizer's server (taking a product
it has not seen) decide with this one function, so they agree.

A match is refused, as a conflict to list, when the rules point at different products (the SKU
says one, a barcode another) or a barcode's product has another SKU: the product stays a
product of its own, and a person decides.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def name_key(enterprise: str, name: str) -> str:
    """Enterprise and product name as matched: NFKC (full-width letters and digits as plain
    ones), zero-width characters and soft hyphens dropped, case folded, blanks collapsed."""
    def norm(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
        return " ".join(text.casefold().split())

    return f"{norm(enterprise)}\x1f{norm(name)}"


@dataclass(frozen=True)
class Known:
    """A product of the catalog a new one may be: its id and SKU."""

    id: str
    sku: str | None = None


@dataclass(frozen=True)
class Match:
    id: str | None  # the catalog's product it is, or None: a product of its own
    by: str | None = None  # "sku", "barcode" or "name"
    # why it could not be matched although a rule pointed at one: a message key of
    # `pos.i18n` (`match_*`) and its parameters
    conflict: str | None = None
    params: dict | None = None

    def reason(self) -> str:
        """The conflict in English (the organizer's server's alerts)."""
        return ENGLISH[self.conflict].format(**(self.params or {})) if self.conflict else ""


ENGLISH = {
    "match_sku_or_barcode": "SKU {sku} is one product, barcode {barcode} another",
    "match_barcodes_apart": "its barcodes belong to {count} products",
    "match_barcode_other_sku": "barcode {barcode} belongs to a product with SKU {other}, "
                               "not {sku}",
    "match_names_apart": "{count} products have its enterprise and name",
}


def match(*, sku: str | None, barcodes: Iterable[str], key: str,
          by_sku: Callable[[str], Known | None],
          by_barcodes: Callable[[list[str]], dict[str, Known]],
          by_key: Callable[[str], list[Known]]) -> Match:
    """The product of the catalog that a product with this SKU, these barcodes and this
    `name_key` is. The lookups see only the catalog's live products (not hidden ones)."""
    codes = [b for b in barcodes if b]
    held = by_barcodes(codes) if codes else {}
    if sku:
        found = by_sku(sku)
        if found is not None:
            others = sorted(b for b, k in held.items() if k.id != found.id)
            if others:
                return Match(None, conflict="match_sku_or_barcode",
                             params={"sku": sku, "barcode": others[0]})
            return Match(found.id, "sku")
    ids = {k.id: k for k in held.values()}
    if len(ids) > 1:
        return Match(None, conflict="match_barcodes_apart", params={"count": len(ids)})
    if ids:
        (found,) = ids.values()
        if sku and found.sku and found.sku != sku:
            return Match(None, conflict="match_barcode_other_sku",
                         params={"barcode": sorted(held)[0], "other": found.sku, "sku": sku})
        return Match(found.id, "barcode")
    named = [k for k in by_key(key) if not (sku and k.sku and k.sku != sku)]
    if len(named) == 1:
        return Match(named[0].id, "name")
    if len(named) > 1:
        return Match(None, conflict="match_names_apart", params={"count": len(named)})
    return Match(None)
