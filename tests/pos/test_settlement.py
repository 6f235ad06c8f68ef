"""Settlement figures by hand, by property, and through the shift services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from pos import services as svc
from pos.domain import DomainError, Tender
from pos.rounding import half_up
from pos.settlement import (EnterpriseInfo, LineRow, PayRow, SaleRow, cash_figures,
                            count_total, settle)
from tests.conftest import in_shift


def sale(id, kind, total, *, hour=10, subtotal=None, discount=0):
    return SaleRow(id, kind, f"A01-20261121-{id}", f"2026-11-21T{hour:02d}:05:00+09:00",
                   subtotal if subtotal is not None else total + discount, 0, discount, total,
                   total, half_up(total * 10, 11), total - half_up(total * 10, 11), 0, 0)


ENTS = {"A": EnterpriseInfo("A", "꿈드림", 1000), "B": EnterpriseInfo("B", "늘푸른", 1500)}


def test_a_hand_computed_day():
    sales = [sale("1", "sale", 15000), sale("2", "refund", -5000, hour=11),
             sale("3", "sale", 3000, hour=11, subtotal=3300, discount=300)]
    lines = [LineRow("1", "pa", "비누", "A", "꿈드림", 2, 10000),
             LineRow("1", "pb", "쌀", "B", "늘푸른", 1, 5000),
             LineRow("2", "pb", "쌀", "B", "늘푸른", -1, -5000),
             LineRow("3", "pa", "비누", "A", "꿈드림", 1, 3000)]
    pays = [PayRow("1", "card", "card", 9000, 9000, 0),
            PayRow("1", "cash", "cash", 6000, 10000, 4000),
            PayRow("2", "cash", "cash", -5000, -5000, 0),
            PayRow("3", "local_voucher", "voucher", 3000, 5000, 2000)]
    cash = cash_figures(sales, pays, float_amount=50000, cash_in=10000, cash_out=3000,
                        counted=55000)
    f = settle(sales, lines, pays, [], ENTS, cash=cash)
    assert (f.gross, f.discounts, f.sales_total, f.refunds, f.voids, f.net) == (
        18300, 300, 18000, -5000, 0, 13000)
    assert (f.receipt_count, f.refund_count, f.average_sale) == (2, 1, 9000)
    methods = {m.method: m for m in f.methods}
    assert (methods["card"].count, methods["card"].amount) == (1, 9000)
    assert (methods["cash"].amount, methods["cash"].refund_amount) == (1000, -5000)
    assert methods["local_voucher"].amount == 3000
    a, b = f.enterprises
    # sale 1: card 9,000 shared 10:5 → A 6,000, B 3,000; cash (last) takes the rest: 4,000 / 2,000
    assert a.by_method == {"card": 6000, "cash": 4000, "local_voucher": 3000}
    assert b.by_method == {"card": 3000, "cash": -3000}
    assert (a.sales, a.refunds, a.net, a.commission, a.payout) == (13000, 0, 13000, 1300, 11700)
    assert (b.sales, b.refunds, b.net, b.commission, b.payout) == (5000, -5000, 0, 0, 0)
    # expected cash: 50,000 + 10,000 taken − (4,000 + 2,000 change) − 5,000 refunded + 10,000 − 3,000
    assert cash.expected == 56000 and cash.difference == -1000
    assert [(h.hour, h.receipts, h.amount) for h in f.hours] == [(10, 1, 15000), (11, 1, -2000)]
    soap = next(p for p in f.products if p.name == "비누")
    assert (soap.qty, soap.amount, soap.qty_sold) == (3, 13000, 3)
    rice = next(p for p in f.products if p.name == "쌀")
    assert (rice.qty, rice.qty_sold, rice.qty_returned, rice.amount_returned) == (0, 1, 1, -5000)


def test_counts_by_denomination():
    assert count_total({50000: 1, 10000: 3, 500: 3, 10: 7}) == 81570
    with pytest.raises(ValueError):
        count_total({2000: 1})
    with pytest.raises(ValueError):
        count_total({1000: -1})


docs = st.lists(st.tuples(
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 90000)), min_size=1, max_size=4),
    st.lists(st.sampled_from(["cash", "card", "qr", "local_voucher"]), min_size=1, max_size=3),
    st.booleans(), st.integers(8, 20)), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(docs, st.data())
def test_every_way_of_adding_up_gives_the_same_net(doc_specs, data):
    sales, lines, pays = [], [], []
    ents = {e: EnterpriseInfo(e, e, data.draw(st.integers(0, 3000))) for e in "ABC"}
    for n, (line_specs, methods, refund, hour) in enumerate(doc_specs):
        total = sum(a for _, a in line_specs)
        sign = -1 if refund else 1
        doc_id = str(n)
        sales.append(sale(doc_id, "refund" if refund else "sale", sign * total, hour=hour))
        for e, a in line_specs:
            lines.append(LineRow(doc_id, e, e, e, e, sign, sign * a))
        left = total
        for k, m in enumerate(methods):
            amount = left if k == len(methods) - 1 else data.draw(st.integers(0, left))
            left -= amount
            if amount:
                pays.append(PayRow(doc_id, m, m, sign * amount, sign * amount, 0))
    f = settle(sales, lines, pays, [], ents)
    assert sum(m.amount for m in f.methods) == f.net
    assert sum(e.net for e in f.enterprises) == f.net
    assert sum(p.amount for p in f.products) == f.net
    assert sum(h.amount for h in f.hours) == f.net
    for e in f.enterprises:
        assert sum(e.by_method.values()) == e.net
        assert e.commission == half_up(e.net * e.commission_bp, 10000)
        assert e.payout == e.net - e.commission
    per_method = {}
    for e in f.enterprises:
        for m, v in e.by_method.items():
            per_method[m] = per_method.get(m, 0) + v
    assert {m: v for m, v in per_method.items() if v} == {
        m.method: m.amount for m in f.methods if m.amount}


def _sell(store, *, method="cash"):
    with store.unit_of_work() as uow:
        p = svc.list_products(uow)[0]
        in_shift(uow)
        doc = svc.record_sale(uow, items=[svc.SaleItem(p["id"], 2)],
                              tenders=[Tender(method, p["price"] * 2)])
        uow.commit()
    return doc


def test_a_refund_in_a_later_shift_reduces_that_shift(store, stall, clock):
    with store.unit_of_work() as uow:
        first = svc.open_shift(uow, counts={10000: 5})
        uow.commit()
    doc = _sell(store)
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            svc.open_shift(uow, float_amount=0)
        assert e.value.code == "shift_already_open"
        svc.move_cash(uow, kind="out", amount=2000, reason="포장재")
        total = doc.totals.total
        closed, z1 = svc.close_shift(uow, counted=50000 + total - 2000 - 1000)  # 1,000 short
        uow.commit()
    assert z1.net == total and z1.cash.expected == 50000 + total - 2000
    assert closed["difference"] == z1.cash.difference == -1000
    assert list((store.data_dir / "backups").glob("*shift-1.db.gz"))
    clock.advance(timedelta(hours=20))  # the next morning
    with store.unit_of_work() as uow:
        second = svc.open_shift(uow, float_amount=30000)
        back = svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        z2 = svc.shift_settlement(uow, shift_id=second["id"])
        again = svc.shift_settlement(uow, shift_id=first["id"])
    assert z2.refunds == back.totals.total == -total // 2 and z2.net == -total // 2
    assert z2.cash.expected == 30000 - total // 2 and z2.receipt_count == 0
    assert again.net == z1.net  # the first shift's Z figures do not move
    assert (second["number"], first["number"]) == (2, 1)


def test_no_sale_or_cash_movement_outside_a_shift_and_cash_rules(store, stall):
    with store.unit_of_work() as uow:
        assert svc.current_shift(uow) is None
        with pytest.raises(DomainError) as e:  # it would be in no cash count and no Z report
            svc.record_sale(uow, items=[svc.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        assert e.value.code == "shift_not_open"
        with pytest.raises(DomainError) as e:
            svc.move_cash(uow, kind="in", amount=1000, reason="x")
        assert e.value.code == "shift_not_open"
    with store.unit_of_work(write=False) as uow:
        assert svc.list_documents(uow) == []
    with store.unit_of_work() as uow:
        svc.open_shift(uow, float_amount=10000)
        uow.commit()
    doc = _sell(store)
    with store.unit_of_work() as uow:
        for kwargs, code in ((dict(kind="in", amount=0, reason="x"), "price_invalid"),
                             (dict(kind="sideways", amount=10, reason="x"), "cash_kind_invalid"),
                             (dict(kind="in", amount=10, reason=" "), "reason_required")):
            with pytest.raises(DomainError) as e:
                svc.move_cash(uow, **kwargs)
            assert e.value.code == code
        with pytest.raises(DomainError):
            svc.close_shift(uow, counts={3000: 1})
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert svc.day_settlement(uow, day=doc.business_day).net == doc.totals.total


def test_expected_cash_from_sql_agrees_with_the_settlement(store, stall):
    with store.unit_of_work() as uow:
        shift = svc.open_shift(uow, float_amount=30000)
        uow.commit()
    doc = _sell(store)
    _sell(store, method="card")
    with store.unit_of_work() as uow:
        svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        svc.move_cash(uow, kind="in", amount=5000, reason="거스름돈 보충")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert svc.expected_cash(uow, shift_id=shift["id"]) == \
            svc.shift_settlement(uow, shift_id=shift["id"]).cash.expected


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_sums_agree_with_the_reference_computation(tmp_path, seed):
    """`summed_settlement` (SQLite sums) and `settle` (every row in Python) are the same figures."""
    from pos.demo import run_demo
    from pos.services.shifts import _enterprises, _load, _load_cash_receipts, _method_order
    from pos.settlement import cash_figures, settle as reference
    from pos.store import Store

    with Store(tmp_path / "d") as store:
        run_demo(store, sales=400, seed=seed)
        with store.unit_of_work() as uow:
            shift = svc.current_shift(uow)
            svc.move_cash(uow, kind="in", amount=7000, reason="거스름돈")
            fast = svc.shift_settlement(uow, shift_id=shift["id"])
            rows = _load(uow, shift_id=shift["id"])
            cash = cash_figures(rows[0], rows[2], float_amount=shift["float_amount"], cash_in=7000)
            slow = reference(*rows, _enterprises(uow), cash=cash,
                             method_order=list(_method_order(uow)),
                             cash_receipts=_load_cash_receipts(uow, shift_id=shift["id"]))
            day = svc.day_settlement(uow, day=shift["business_day"])
    assert fast == slow
    assert any(len(e.by_method) > 2 for e in fast.enterprises)
    assert any(e.cash_receipts for e in fast.enterprises)  # some demo customers ask for one
    assert day.net == fast.net and day.cash is None
