"""Every rounding rule of Jangteo, in one place.

Amounts are `int` won. Each rule is named and used everywhere the figure appears, so a receipt,
a settlement and an export never disagree by a won.

- `half_up(n, d)`: n/d rounded half away from zero (the won rounding taught in Korean schools
  and used on receipts).
- `split_vat`: supply value = taxable total / 1.1 rounded half up; VAT = taxable total − supply
  value. Applied once to a receipt's taxable total (per enterprise at a joint stall), never per
  line: per-line rounding drifts by a won or two.
- `percent_of`: a percentage of an amount, half up (percent discounts, commission).
- `spread`: an amount shared across weights by the largest-remainder rule (receipt discount
  spread over lines; refunds of part of a line).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


def half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half away from zero, in exact integer arithmetic."""
    if denominator == 0:
        raise ZeroDivisionError("half_up by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


@dataclass(frozen=True, slots=True)
class VatSplit:
    """A taxable total split into supply value (공급가액) and VAT (부가세)."""

    taxable_total: int
    supply_value: int
    vat: int


def split_vat(taxable_total: int, *, shows_vat: bool = True) -> VatSplit:
    """Split a VAT-inclusive taxable total: supply = total / 1.1 half up, VAT = the rest.

    `shows_vat=False` is for simplified taxpayers (간이과세자), whose receipts show the total
    only: supply value is the total and VAT is 0, so supply + VAT = total always holds.
    """
    if not shows_vat:
        return VatSplit(taxable_total, taxable_total, 0)
    supply = half_up(taxable_total * 10, 11)
    return VatSplit(taxable_total, supply, taxable_total - supply)


def percent_of(amount: int, percent: Decimal | int | str) -> int:
    """`percent` % of `amount`, half up. Percent may have decimals (e.g. 12.5)."""
    frac = Fraction(Decimal(str(percent))) * amount / 100
    return half_up(frac.numerator, frac.denominator)


def spread(total: int, weights: list[int]) -> list[int]:
    """Share `total` over `weights` in proportion, largest remainder first, ties by position.

    The shares sum to `total` exactly. With all weights zero the total goes to the first item.
    Used for the receipt discount (weights: each line's amount after its line discount) and
    anywhere else an amount must be divided without losing a won.
    """
    if not weights:
        if total:
            raise ValueError("cannot spread a non-zero amount over no items")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    wsum = sum(weights)
    if wsum == 0:
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = []
    remainders = []
    for i, w in enumerate(weights):
        q, r = divmod(magnitude * w, wsum)
        shares.append(q)
        remainders.append((-r, i))
    left = magnitude - sum(shares)
    for _, i in sorted(remainders)[:left]:
        shares[i] += 1
    return [sign * s for s in shares]


def cumulative_share(total: int, whole: int, before: int, now: int) -> int:
    """The part of `total` that belongs to units `before`..`before+now` out of `whole` units.

    Refunding a line in several steps returns exactly the line's amount once every unit is back:
    each step is the difference of two cumulative half-up shares.
    """
    if whole <= 0 or before < 0 or now < 0 or before + now > whole:
        raise ValueError("share outside the whole")
    return half_up(total * (before + now), whole) - half_up(total * before, whole)
