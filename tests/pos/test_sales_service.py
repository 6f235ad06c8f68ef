"""Selling through the services on a real SQLite file."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pos import services as s
from pos import tables as t
from pos.domain import Discount, DocKind, DomainError, Tender
from pos.services.check import run_checks
from tests.conftest import in_shift


def sell(store, items, tenders, **kw):
    with store.unit_of_work() as uow:
        in_shift(uow)
        doc = s.record_sale(uow, items=items, tenders=tenders, **kw)
        uow.commit()
    return doc


def test_a_paid_sale_is_stored_with_lines_payments_vat_and_outbox(store, stall):
    doc = sell(store, [s.SaleItem(stall.soap, 2), s.SaleItem(stall.rice, 1),
                       s.SaleItem(stall.eggs, 1)],
               [Tender("local_voucher", 10000), Tender("cash", 20000)],
               discount=Discount.amount(1000))
    assert doc.receipt_no == "A01-20261121-0001"
    with store.unit_of_work(write=False) as uow:
        back = s.get_document(uow, receipt_no=doc.receipt_no)
        outbox = uow.conn.execute(select(t.outbox)).mappings().all()
    assert back.totals == doc.totals
    assert back.totals.subtotal == 6000 + 11000 + 7000
    assert back.totals.total == 23000
    assert [ln.name for ln in back.lines] == ["수제비누", "무농약 쌀 2kg", "유정란 10구"]
    assert back.lines[0].barcode == "8800000000017" and back.lines[0].sku == "SOAP"
    assert sum(ln.receipt_discount for ln in back.lines) == 1000
    cash = back.payments[1]
    assert (cash.method, cash.amount, cash.tendered, cash.change) == ("cash", 13000, 20000, 7000)
    assert back.change == 7000
    # the soap line is the only taxable one: 6,000 − its share of the discount (250)
    assert back.totals.taxable_total == 5750
    assert (back.totals.supply_value, back.totals.vat) == (5227, 523)
    products = [o for o in outbox if o["event_type"] == "product.changed"]
    assert len(products) == 5  # the stall's catalog went to the outbox first
    # with the candle's stock of 10, a count: a movement, not a value
    assert [o["event_type"] for o in outbox[:6]].count("stock.moved") == 1
    assert [(o["seq"], o["event_type"], o["document_id"]) for o in outbox[6:]] == [
        (7, "shift.opened", None), (8, "sale.recorded", doc.id)]  # every sale is in a shift


def test_a_sale_that_does_not_add_up_writes_nothing_and_leaves_no_gap(store, stall):
    with pytest.raises(DomainError):
        sell(store, [s.SaleItem(stall.candle)], [Tender("cash", 5000)])
    ok = sell(store, [s.SaleItem(stall.candle)], [Tender("cash", 12000)])
    # after 5 products, the candle's stock count and the shift
    assert ok.seq == 8 and ok.receipt_no.endswith("-0001")
    with store.unit_of_work() as uow:
        in_shift(uow)
        s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("card", 3000)])
        # leaving without commit rolls back; the numbers are not used up
    again = sell(store, [s.SaleItem(stall.soap)], [Tender("card", 3000, approval_no="12345678")])
    assert again.seq == 9 and again.receipt_no.endswith("-0002")
    assert again.payments[0].approval_no == "12345678"


def test_receipt_numbers_restart_each_day_and_seq_keeps_counting(store, stall, clock):
    first = sell(store, [s.SaleItem(stall.soap)], [Tender("cash", 3000)])
    clock.advance(timedelta(days=1))
    second = sell(store, [s.SaleItem(stall.soap)], [Tender("cash", 3000)])
    assert first.receipt_no == "A01-20261121-0001"
    assert second.receipt_no == "A01-20261122-0001"
    assert second.seq == first.seq + 1
    assert second.hlc > first.hlc


def test_stock_goes_down_when_sold_and_up_when_refunded(store, stall):
    doc = sell(store, [s.SaleItem(stall.candle, 3)], [Tender("card", 36000)])
    with store.unit_of_work() as uow:
        assert s.get_product(uow, product_id=stall.candle)["stock"] == 7
        s.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert s.get_product(uow, product_id=stall.candle)["stock"] == 8
        assert s.get_product(uow, product_id=stall.soap)["stock"] is None


def test_void_gives_every_payment_back_by_its_own_method(store, stall):
    doc = sell(store, [s.SaleItem(stall.soap, 2), s.SaleItem(stall.brooch)],
               [Tender("card", 10000), Tender("cash", 10000)])
    with store.unit_of_work() as uow:
        void = s.void_sale(uow, receipt_no=doc.receipt_no, reason="잘못 입력")
        uow.commit()
    assert void.kind == DocKind.VOID
    assert void.original_receipt_no == doc.receipt_no
    assert void.totals.total == -doc.totals.total
    assert void.totals.vat == -doc.totals.vat
    assert [(p.method, p.amount) for p in void.payments] == [("card", -10000), ("cash", -9000)]
    assert all(ln.qty < 0 for ln in void.lines)
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            s.void_sale(uow, sale_id=doc.id)
        assert e.value.code == "already_returned"
        with pytest.raises(DomainError) as e:
            s.void_sale(uow, sale_id=void.id)
        assert e.value.code == "not_a_sale"


def test_refunds_any_number_of_times_never_more_than_sold(store, stall):
    doc = sell(store, [s.SaleItem(stall.soap, 3), s.SaleItem(stall.eggs, 1)],
               [Tender("cash", 20000)], discount=Discount.percent(10))
    back = []
    for qty in (1, 2):
        with store.unit_of_work() as uow:
            back.append(s.refund_sale(uow, sale_id=doc.id, quantities={1: qty},
                                      method="transfer"))
            uow.commit()
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            s.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        assert e.value.code == "refund_too_much"
        with pytest.raises(DomainError) as e:
            s.void_sale(uow, sale_id=doc.id)
        assert e.value.code == "void_after_refund"
        last = s.refund_sale(uow, sale_id=doc.id, quantities={2: 1}, method="cash")
        uow.commit()
    assert sum(d.totals.total for d in back) + last.totals.total == -doc.totals.total
    assert back[0].payments[0].method == "transfer"
    with store.unit_of_work(write=False) as uow:
        original = s.get_document(uow, sale_id=doc.id)
        assert original.refunds == [d.receipt_no for d in back] + [last.receipt_no]
        assert all(r.remaining == 0 for r in s.refundable_lines(uow, sale_id=doc.id))
        assert run_checks(uow) == []


def test_the_till_sells_products_by_price_typed_at_the_booth(store, stall):
    doc = sell(store, [s.SaleItem(stall.candle, 1, unit_price=10000)], [Tender("cash", 10000)])
    assert doc.lines[0].unit_price == 10000
    with store.unit_of_work(write=False) as uow:
        assert s.get_product(uow, product_id=stall.candle)["price"] == 12000


def test_catalog_rules_explain_themselves(store, stall):
    with store.unit_of_work() as uow:
        for kwargs, code in [
            (dict(name="x", bizno="123-45-67890"), "bizno_invalid"),
            (dict(name="모두의공방"), "enterprise_exists"),
            (dict(name=" "), "name_empty"),
            (dict(name="y", commission_bp=20000), "commission_invalid"),
        ]:
            with pytest.raises(DomainError) as e:
                s.add_enterprise(uow, **kwargs)
            assert e.value.code == code
        with pytest.raises(DomainError) as e:
            s.add_product(uow, name="z", price=100, enterprise_id=stall.general,
                          barcodes=["8800000000017"])
        assert e.value.code == "barcode_taken"
        with pytest.raises(DomainError) as e:
            s.add_product(uow, name="z", price=-1, enterprise_id=stall.general)
        assert e.value.code == "price_negative"
        s.update_product(uow, product_id=stall.soap, price=3500, barcodes=["8800000000024"])
        p = s.get_product(uow, product_id=stall.soap)
        assert (p["price"], p["version"], p["barcodes"]) == (3500, 2, ["8800000000024"])
        assert s.product_by_barcode(uow, barcode="8800000000024")["id"] == stall.soap
        assert s.find_enterprise(uow, ref="2208162517")["id"] == stall.general


def test_check_finds_a_tampered_sale(store, stall):
    doc = sell(store, [s.SaleItem(stall.soap)], [Tender("cash", 5000)])
    with store.unit_of_work() as uow:
        assert run_checks(uow) == []
        uow.conn.execute(t.sale_lines.update().where(t.sale_lines.c.sale_id == doc.id)
                         .values(amount=2000))
        uow.conn.execute(t.outbox.delete())
        codes = {p.code for p in run_checks(uow)}
    assert {"lines_total", "line_arithmetic", "document_in_outbox"} <= codes


def test_a_reason_pasted_with_a_line_break_is_kept_on_one_line(store, stall):
    doc = sell(store, [s.SaleItem(stall.soap)], [Tender("cash", 3000)])
    with store.unit_of_work() as uow:
        back = s.void_sale(uow, sale_id=doc.id, reason="불량 제품\r\n교환 요청")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert s.get_document(uow, sale_id=back.id).reason == "불량 제품 교환 요청"
    again = sell(store, [s.SaleItem(stall.soap)], [Tender("cash", 3000)])
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            s.refund_sale(uow, sale_id=again.id, quantities={1: 1}, method="cash",
                          reason="\u202e반품")  # a direction override: refused, said
        assert e.value.code == "text_control"
