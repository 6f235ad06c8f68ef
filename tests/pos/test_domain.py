"""Pricing, payments and refunds as pure rules, without a database."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pos.domain import (CartItem, ChangePolicy, DEFAULT_METHODS, Discount, DomainError,
                        MethodKind, PaymentMethod, Refundable, TaxClass, TaxStatus, Tender,
                        price_cart, price_refund, refund_lines, settle)
from pos.rounding import split_vat

METHODS = {m.code: m for m in DEFAULT_METHODS}


def item(price, qty=1, ent="E1", tax=TaxClass.TAXABLE, status=TaxStatus.GENERAL, ld=0):
    return CartItem(name=f"p{price}", unit_price=price, qty=qty, enterprise_id=ent,
                    enterprise_name=ent, tax_class=tax, tax_status=status, line_discount=ld)


def test_vat_is_split_once_per_receipt_not_per_line():
    priced = price_cart([item(1000), item(1000), item(1000)])
    # per line: 3 × (909 + 91) = 2727 + 273 happens to agree; use 1,100-won lines to see drift
    assert (priced.totals.supply_value, priced.totals.vat) == (2727, 273)
    drift = price_cart([item(1050)] * 3)
    assert drift.totals.taxable_total == 3150
    assert drift.totals.supply_value == split_vat(3150).supply_value == 2864
    assert drift.totals.vat == 286  # per-line rounding would give 3 × 95 = 285


def test_exempt_lines_and_exempt_enterprises_are_outside_vat():
    priced = price_cart([item(3000), item(11000, tax=TaxClass.EXEMPT),
                         item(7000, ent="FARM", status=TaxStatus.EXEMPT)])
    t = priced.totals
    assert (t.total, t.taxable_total, t.exempt_total) == (21000, 3000, 18000)
    assert (t.supply_value, t.vat) == (2727, 273)


def test_simplified_taxpayer_part_shows_no_vat_but_counts_as_taxable():
    priced = price_cart([item(13000, ent="S", status=TaxStatus.SIMPLIFIED), item(3000)])
    parts = {p.enterprise_id: p for p in priced.parts}
    assert parts["S"].vat == 0 and parts["S"].supply_value == 13000
    assert parts["E1"].vat == 273
    assert priced.totals.taxable_total == 16000


def test_receipt_discount_percent_is_spread_by_largest_remainder():
    priced = price_cart([item(3000, 2), item(1000, 3)], Discount.percent(10))
    assert priced.totals.receipt_discount == 900
    assert [ln.receipt_discount for ln in priced.lines] == [600, 300]
    assert priced.totals.total == 8100
    assert sum(ln.amount for ln in priced.lines) == priced.totals.total


def test_discounts_cannot_exceed_what_is_sold():
    with pytest.raises(DomainError) as e:
        price_cart([item(1000)], Discount.amount(1500))
    assert e.value.code == "discount_too_large"
    with pytest.raises(DomainError):
        price_cart([item(1000, ld=1001)])
    with pytest.raises(DomainError):
        price_cart([item(1000)], Discount.percent("120"))
    with pytest.raises(DomainError):
        price_cart([])
    with pytest.raises(DomainError):
        price_cart([item(1000, qty=0)])


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 200_000), st.integers(1, 20), st.integers(0, 100)),
                min_size=1, max_size=12),
       st.one_of(st.none(), st.integers(0, 100), st.integers(0, 10**6)), st.booleans())
def test_priced_lines_always_sum_to_the_total(specs, disc, as_percent):
    items = [item(p, q, ld=p * q * pct // 100, ent=f"E{i % 3}",
                  tax=TaxClass.EXEMPT if i % 4 == 0 else TaxClass.TAXABLE)
             for i, (p, q, pct) in enumerate(specs)]
    net = sum(i.unit_price * i.qty - i.line_discount for i in items)
    discount = None
    if disc is not None:
        discount = Discount.percent(disc) if as_percent and disc <= 100 else Discount.amount(min(disc, net))
    priced = price_cart(items, discount)
    t = priced.totals
    assert sum(ln.amount for ln in priced.lines) == t.total
    assert t.subtotal - t.line_discount - t.receipt_discount == t.total
    assert t.taxable_total + t.exempt_total == t.total
    assert t.supply_value + t.vat == t.taxable_total
    assert all(ln.amount >= 0 for ln in priced.lines)


def test_cash_gives_change_and_split_payment_covers_the_total():
    pays = settle(8100, [Tender("local_voucher", 5000), Tender("cash", 10000)], METHODS)
    assert [(p.method, p.amount, p.tendered, p.change) for p in pays] == [
        ("local_voucher", 5000, 5000, 0), ("cash", 3100, 10000, 6900)]


def test_short_payment_is_refused_with_what_is_missing():
    with pytest.raises(DomainError) as e:
        settle(8100, [Tender("cash", 5000)], METHODS)
    assert e.value.code == "payment_short" and e.value.params["short"] == 3100


def test_card_cannot_be_charged_more_than_due():
    with pytest.raises(DomainError) as e:
        settle(8100, [Tender("card", 9000)], METHODS)
    assert e.value.code == "overpay_not_allowed"


def test_voucher_change_policies():
    over60 = METHODS["onnuri"]
    assert over60.change_policy == ChangePolicy.CASH_OVER_60
    pays = settle(7000, [Tender("onnuri", 10000)], METHODS)
    assert pays[0].change == 3000
    with pytest.raises(DomainError) as e:
        settle(5000, [Tender("onnuri", 10000)], METHODS)
    assert e.value.code == "voucher_change_refused" and e.value.params["percent"] == 60
    none = dict(METHODS, gift=PaymentMethod("gift", MethodKind.VOUCHER, "상품권", "Voucher",
                                            ChangePolicy.NONE))
    kept = settle(7000, [Tender("gift", 10000)], none)[0]
    assert (kept.amount, kept.change, kept.tendered) == (7000, 0, 10000)
    cash = dict(METHODS, gift=PaymentMethod("gift", MethodKind.VOUCHER, "상품권", "Voucher",
                                            ChangePolicy.CASH))
    assert settle(1000, [Tender("gift", 10000)], cash)[0].change == 9000


def test_only_the_last_tender_may_exceed_what_is_due():
    with pytest.raises(DomainError) as e:
        settle(5000, [Tender("cash", 10000), Tender("card", 1000)], METHODS)
    assert e.value.code == "tender_excess_not_last"
    with pytest.raises(DomainError):
        settle(5000, [Tender("bitcoin", 5000)], METHODS)


@settings(max_examples=200, suppress_health_check=[HealthCheck.large_base_example])
@given(st.integers(1, 10**6), st.lists(st.sampled_from(["cash", "card", "local_voucher", "qr"]),
                                       min_size=1, max_size=4), st.data())
def test_settled_payments_pay_exactly_the_total(total, methods, data):
    tenders = []
    due = total
    for i, m in enumerate(methods):
        last = i == len(methods) - 1 or due == 1
        amount = data.draw(st.integers(1, due - 1)) if not last else due
        if last and m == "cash":
            amount = due + data.draw(st.integers(0, 50000))
        tenders.append(Tender(m, amount))
        due -= amount
        if due <= 0:
            break
    pays = settle(total, tenders, METHODS)
    assert sum(p.amount for p in pays) == total
    for p in pays:
        assert p.tendered == p.amount + p.change or p.kind == MethodKind.VOUCHER


def _sale(lines_spec, discount=None):
    return price_cart([item(p, q, ent=f"E{i % 2}") for i, (p, q) in enumerate(lines_spec)],
                      discount)


def test_refund_returns_the_discounted_amount_of_the_units():
    sale = _sale([(3000, 2), (1000, 3)], Discount.percent(10))
    refund = price_refund(refund_lines([Refundable(ln, 0) for ln in sale.lines], {1: 1}))
    assert refund.totals.total == -2700
    assert refund.lines[0].qty == -1 and refund.lines[0].original_line_no == 1


def test_refund_refuses_more_than_is_left():
    sale = _sale([(3000, 2)])
    with pytest.raises(DomainError) as e:
        refund_lines([Refundable(sale.lines[0], 1)], {1: 2})
    assert e.value.code == "refund_too_much" and e.value.params["remaining"] == 1
    with pytest.raises(DomainError):
        refund_lines([Refundable(sale.lines[0], 0)], {2: 1})
    with pytest.raises(DomainError):
        refund_lines([Refundable(sale.lines[0], 0)], {1: 0})


@settings(max_examples=150, suppress_health_check=[HealthCheck.large_base_example])
@given(st.lists(st.tuples(st.integers(1, 50_000), st.integers(1, 6)), min_size=1, max_size=6),
       st.integers(0, 30), st.data())
def test_refunding_everything_in_any_steps_returns_exactly_the_sale(spec, pct, data):
    sale = _sale(spec, Discount.percent(pct))
    refunded = {ln.line_no: 0 for ln in sale.lines}
    total_back = 0
    vat_back = 0
    while any(refunded[ln.line_no] < ln.qty for ln in sale.lines):
        wanted = {}
        for ln in sale.lines:
            left = ln.qty - refunded[ln.line_no]
            if left:
                # the first line with units left always gives at least one back
                wanted[ln.line_no] = data.draw(st.integers(0 if wanted else 1, left))
        lines = refund_lines([Refundable(ln, refunded[ln.line_no]) for ln in sale.lines], wanted)
        doc = price_refund(lines)
        assert doc.totals.total <= 0
        total_back += doc.totals.total
        vat_back += doc.totals.vat
        for ln in lines:
            refunded[ln.original_line_no] += -ln.qty
    assert total_back == -sale.totals.total
    # each refund rounds its own VAT once: the sum is within a won per refund of the sale's VAT
    assert abs(vat_back + sale.totals.vat) <= len(spec) * 6
