"""Cash receipts (현금영수증): numbers taken and masked, requests per enterprise of a sale, the
mandatory-issue self-issue, cancellations by returns, the queue, its export read back, and the
printed line decoded from the printer's bytes. Each rule's source is in `pos.korea_rules`."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest

from pos import korea_rules as kr
from pos import services as svc
from pos import tables as t
from pos.domain import Discount, DomainError, Tender
from pos.services import cash_receipts as cr
from tests.conftest import in_shift


# --- numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, kind, masked, formatted", [
    ("010-1234-5678", "phone", "010-****-5678", "010-1234-5678"),
    ("01012345678", "phone", "010-****-5678", "010-1234-5678"),
    (" 011 234 5678 ", "phone", "011-***-5678", "011-234-5678"),
    ("220-81-62517", "bizno", "220-**-*2517", "220-81-62517"),
    ("9410 1234 5678 9012", "card", "9410-****-****-9012", "9410-1234-5678-9012"),
    ("1234567890123", "card", "1234-****-****-3", "1234-5678-9012-3"),
    ("010-000-1234", "self", "010-000-1234", "010-000-1234"),
])
def test_a_customers_number_is_recognised_masked_and_kept_in_full(given, kind, masked,
                                                                   formatted):
    identity = kr.parse_identity(given)
    assert identity.kind == kind and identity.number.isdigit()
    assert identity.masked() == masked and identity.formatted() == formatted
    # masked: the middle digits are not on the screen or the paper
    if kind in ("phone", "card"):
        assert identity.number[4:-4] not in masked.replace("-", "").replace("*", "")


@pytest.mark.parametrize("given", [
    "", "010-1234-567",  # 010 has 11 digits
    "012-345-6789",  # no such mobile prefix
    "220-81-62518",  # the check digit is wrong
    "12345", "1" * 20, "010\x001234\x005678", "010-1234-5678-9", "０１０-１２３４-５６７８",
    "x" * 10_000, "2" * 10_000, "٠١٠١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to Python
    12345678901, None, ["01012345678"],
])
def test_a_number_that_is_no_cash_receipt_number_is_refused_with_it_said(given):
    with pytest.raises(DomainError) as e:
        kr.parse_identity(given)
    assert e.value.code == "cash_receipt_number_invalid"
    assert len(str(e.value.params["value"])) <= 40


def test_the_rules_come_with_their_sources_and_can_be_set_per_stall():
    """Every rule's default is written once, beside its source, in `pos.korea_rules`."""
    import inspect

    source = inspect.getsource(kr)
    for figure, cited in ((kr.MANDATORY_MIN, "taxtimes.co.kr"), (kr.ISSUE_DAYS, "bznav.com"),
                          (kr.SIMPLIFIED_MAX, "eventmoa.kr"), (kr.ONNURI.min_percent, "ajunews"),
                          (kr.LOCAL.small_min_percent, "forlater.tistory.com")):
        assert cited in source and figure
    assert kr.MANDATORY_MIN == 100_000 and kr.SELF_ISSUE_NUMBER == "0100001234"
    assert kr.ISSUE_DAYS == 5 and kr.SIMPLIFIED_MAX == 104_000_000
    assert kr.SIMPLIFIED_INVOICE_MIN == 48_000_000
    rules = kr.rules_from({"mandatory_min": 50_000, "issue_days": 3, "seller_model":
                           "consignment", "vouchers": {"local_voucher": {"min_percent": 70}}})
    assert (rules.mandatory_min, rules.issue_days, rules.seller_model) == (50_000, 3,
                                                                          "consignment")
    assert rules.voucher_rule("local_voucher").min_percent == 70
    assert rules.voucher_rule("onnuri") == kr.ONNURI
    for bad in ({"mandatory_min": -1}, {"mandatory_min": True}, {"issue_days": 2**63},
                {"seller_model": "both"}, {"cash_like_kinds": ["card"]}, {"nonsense": 1},
                {"vouchers": {"x y": {}}}, {"vouchers": {"onnuri": {"min_percent": 101}}},
                {"vouchers": {"onnuri": {"change": "yes"}}}, [1], "rules"):
        with pytest.raises(DomainError) as e:
            kr.rules_from(bad)
        assert e.value.code == "setting_invalid"


def test_voucher_change_follows_the_rule_of_its_type():
    """온누리: change when 60 % of the face value is used (ajunews, citing 소상공인시장진흥공단);
    지역사랑: 80 % for ₩10,000 notes, 60 % for larger (정책주간지 공감, via forlater.tistory.com)."""
    assert kr.ONNURI.allows_change(used=6_000, tendered=10_000, face_value=10_000)
    assert not kr.ONNURI.allows_change(used=5_999, tendered=10_000, face_value=10_000)
    assert not kr.LOCAL.allows_change(used=7_999, tendered=10_000, face_value=10_000)
    assert kr.LOCAL.allows_change(used=8_000, tendered=10_000, face_value=10_000)
    assert kr.LOCAL.allows_change(used=30_000, tendered=50_000, face_value=50_000)
    assert not kr.VoucherRule(change=False).allows_change(10_000, 10_000, 10_000)


# --- requests with a sale -----------------------------------------------------------------------

def _sell(store, items, tenders, *, ask=None, discount=None):
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        doc = svc.record_sale(uow, items=items, tenders=tenders, discount=discount,
                              cash_receipt=ask)
        uow.commit()
    return doc


def test_a_mixed_sale_with_a_discount_asks_each_enterprise_for_its_cash_part(store, stall):
    """Three enterprises, a receipt discount, part card and part cash: each enterprise's
    request is its share of the cash, as the settlement shares the payments out, to the won."""
    items = [svc.SaleItem(stall.candle, 2), svc.SaleItem(stall.brooch, 1),
             svc.SaleItem(stall.eggs, 3)]
    with store.unit_of_work() as uow:
        total = svc.quote_sale(uow, items=items, discount=Discount.percent("7")).totals.total
    doc = _sell(store, items, [Tender("card", 10_001, approval_no="30012345"),
                               Tender("cash", total - 10_001 + 5_000)],
                ask=cr.Ask("010-2345-6789"), discount=Discount.percent("7"))
    made = doc.cash_receipts
    assert {r.enterprise_name for r in made} == {"모두의공방", "손끝공방", "늘푸른농장"}
    assert sum(r.amount for r in made) == total - 10_001  # the cash kept, not the cash handed
    assert all(r.purpose == "deduction" and r.identity_kind == "phone" and not r.voluntary
               and r.state == "to_issue" for r in made)
    with store.unit_of_work(write=False) as uow:
        figures = svc.day_settlement(uow, day=doc.business_day)
    by_name = {e.name: e for e in figures.enterprises}
    for r in made:
        assert r.amount == by_name[r.enterprise_name].by_method.get("cash", 0)
    assert {r.due_day for r in made} == {"2026-11-26"}  # five days after 2026-11-21
    with store.unit_of_work(write=False) as uow:
        assert [r.id for r in cr.of_sale(uow, sale_id=doc.id)] == [r.id for r in made]


def test_a_card_only_sale_has_no_request_and_a_bad_number_refuses_the_sale(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("card", 3000)],
                ask=cr.Ask("010-2345-6789"))
    assert doc.cash_receipts == ()
    with store.unit_of_work() as uow:
        in_shift(uow)
        before = len(svc.list_documents(uow))
        with pytest.raises(DomainError) as e:
            svc.record_sale(uow, items=[svc.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)],
                            cash_receipt=cr.Ask("010-1234"))
        assert e.value.code == "cash_receipt_number_invalid"
        with pytest.raises(DomainError):
            svc.record_sale(uow, items=[svc.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)],
                            cash_receipt=cr.Ask("010-1234-5678", "gift"))
        assert len(svc.list_documents(uow)) == before


def test_a_business_number_asks_for_an_expense_proof(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("transfer", 3000)],
                ask=cr.Ask("220-81-62517"))
    (r,) = doc.cash_receipts
    assert (r.identity_kind, r.purpose, r.amount) == ("bizno", "proof", 3000)


def _mandatory(store, enterprise_id):
    with store.unit_of_work() as uow:
        svc.update_enterprise(uow, enterprise_id=enterprise_id, cash_receipt_mandatory=True)
        uow.commit()


def test_a_mandatory_issue_trade_self_issues_from_100000_won_in_cash(store, stall):
    """의무발행업종: a cash transaction of ₩100,000 or more is issued even unasked (taxtimes);
    to 010-000-1234 when no number is given (bznav)."""
    _mandatory(store, stall.general)
    at_the_line = [svc.SaleItem(stall.candle, 8), svc.SaleItem(stall.soap, 1)]  # 99,000
    doc = _sell(store, at_the_line, [Tender("cash", 99_000)])
    assert doc.cash_receipts == ()
    doc = _sell(store, [svc.SaleItem(stall.candle, 8), svc.SaleItem(stall.soap, 2)],
                [Tender("cash", 102_000)])
    (r,) = doc.cash_receipts
    assert r.voluntary and r.identity_kind == "self" and r.masked == "010-000-1234"
    assert r.amount == 102_000 and r.enterprise_id == stall.general
    # another enterprise of the same sale is not in that trade: nothing for it
    doc = _sell(store, [svc.SaleItem(stall.candle, 9), svc.SaleItem(stall.eggs, 1)],
                [Tender("cash", 115_000)])
    assert [(r.enterprise_name, r.amount) for r in doc.cash_receipts] == [("모두의공방", 108_000)]
    doc = _sell(store, [svc.SaleItem(stall.candle, 9)], [Tender("card", 108_000)])
    assert doc.cash_receipts == ()  # paid by card: the card slip is the proof
    with store.unit_of_work(write=False) as uow:
        lines = svc.quote_sale(uow, items=[svc.SaleItem(stall.candle, 9)]).lines
        from pos.domain import Payment, MethodKind

        assert cr.must_ask(uow, lines, [Payment(1, "cash", MethodKind.CASH, 108_000, 108_000)])
        assert not cr.must_ask(uow, lines, [Payment(1, "card", MethodKind.CARD, 108_000,
                                                    108_000)])


def test_a_number_given_later_replaces_the_self_issue_not_yet_issued(store, stall, clock):
    _mandatory(store, stall.general)
    doc = _sell(store, [svc.SaleItem(stall.candle, 9)], [Tender("cash", 108_000)])
    with store.unit_of_work() as uow:
        made = cr.request_later(uow, receipt_no=doc.receipt_no, ask=cr.Ask("010-9876-5432"))
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        states = {(r.identity_kind, r.state) for r in cr.of_sale(uow, sale_id=doc.id)}
    assert states == {("self", "cancelled"), ("phone", "to_issue")} and len(made) == 1


def test_a_request_afterwards_is_taken_within_the_deadline_and_once(store, stall, clock):
    doc = _sell(store, [svc.SaleItem(stall.soap, 2)], [Tender("cash", 10_000)])
    assert doc.cash_receipts == ()
    clock.advance(timedelta(days=5))  # 2026-11-26: the fifth day, still in
    with store.unit_of_work() as uow:
        (r,) = cr.request_later(uow, receipt_no=doc.receipt_no, ask=cr.Ask("010-1111-2222"))
        uow.commit()
    assert r.amount == 6000 and r.business_day == doc.business_day
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        cr.request_later(uow, receipt_no=doc.receipt_no, ask=cr.Ask("010-3333-4444"))
    assert e.value.code == "cash_receipt_exists" and e.value.params["number"] == "010-****-2222"
    late = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)])
    clock.advance(timedelta(days=6))
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        cr.request_later(uow, receipt_no=late.receipt_no, ask=cr.Ask("010-1111-2222"))
    assert e.value.code == "cash_receipt_too_late"
    card = _sell(store, [svc.SaleItem(stall.soap)], [Tender("card", 3000)])
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        cr.request_later(uow, receipt_no=card.receipt_no, ask=cr.Ask("010-1111-2222"))
    assert e.value.code == "cash_receipt_no_cash"


# --- returns cancel -----------------------------------------------------------------------------

def test_a_void_of_a_sale_not_yet_issued_cancels_its_requests(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.soap), svc.SaleItem(stall.eggs)],
                [Tender("cash", 10_000)], ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        void = svc.void_sale(uow, sale_id=doc.id)
        uow.commit()
    assert void.cash_receipts == ()  # nothing was issued: nothing to cancel at the NTS
    with store.unit_of_work(write=False) as uow:
        assert {r.state for r in cr.of_sale(uow, sale_id=doc.id)} == {"cancelled"}
        assert cr.list_requests(uow, state="to_issue") == []


def test_a_refund_of_an_issued_request_makes_a_cancellation_to_issue(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.candle, 2), svc.SaleItem(stall.eggs, 1)],
                [Tender("cash", 31_000)], ask=cr.Ask("010-2345-6789"))
    general = next(r for r in doc.cash_receipts if r.enterprise_id == stall.general)
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=cr.short_id(general.id), approval_no="123456789")
        uow.commit()
    with store.unit_of_work() as uow:
        line = next(ln.line_no for ln in doc.lines if ln.enterprise_id == stall.general)
        refund = svc.refund_sale(uow, sale_id=doc.id, quantities={line: 1}, method="cash")
        uow.commit()
    (cancel,) = refund.cash_receipts
    assert (cancel.kind, cancel.cancels, cancel.amount, cancel.state) == (
        "cancel", general.id, 12_000, "to_issue")
    assert cancel.return_id == refund.id and cancel.masked == "010-****-6789"
    # the rest: the other enterprise's request, not issued, is cancelled whole by the rest
    with store.unit_of_work() as uow:
        rest = svc.refund_sale(uow, sale_id=doc.id, quantities={
            ln.line_no: ln.qty - (1 if ln.enterprise_id == stall.general else 0)
            for ln in doc.lines}, method="cash")
        uow.commit()
    assert [(r.kind, r.amount) for r in rest.cash_receipts] == [("cancel", 12_000)]
    with store.unit_of_work(write=False) as uow:
        eggs = next(r for r in cr.of_sale(uow, sale_id=doc.id)
                    if r.enterprise_id == stall.exempt)
        assert eggs.state == "cancelled"
        # never more cancelled than was requested
        assert sum(r.amount for r in cr.of_sale(uow, sale_id=doc.id)
                   if r.kind == "cancel") == general.amount


def test_a_refund_by_card_of_a_cash_sale_leaves_its_cash_receipt(store, stall):
    """A cash receipt follows the cash: a return paid back on the card is the card's."""
    doc = _sell(store, [svc.SaleItem(stall.soap, 2)],
                [Tender("card", 3000, approval_no="1"), Tender("cash", 3000)],
                ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        refund = svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="card")
        uow.commit()
    assert refund.cash_receipts == ()
    with store.unit_of_work(write=False) as uow:
        assert [r.state for r in cr.of_sale(uow, sale_id=doc.id)] == ["to_issue"]


# --- the queue ----------------------------------------------------------------------------------

def test_marking_issued_takes_an_approval_number_and_refuses_nonsense(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                ask=cr.Ask("01023456789"))
    (r,) = doc.cash_receipts
    for bad in ("", " ", "12 34", "123\x00", "12;DROP", "가나다", "9" * 41):
        with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
            cr.mark_issued(uow, ref=r.id, approval_no=bad)
        assert e.value.code == "cash_receipt_approval_invalid"
    for ref in ("", "abc", r.id[-7:], r.id[:8], "x" * 10_000, "%%%%%%%%", None, 5):
        with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
            cr.mark_issued(uow, ref=ref, approval_no="1")
        assert e.value.code == "cash_receipt_unknown"
    with store.unit_of_work() as uow:
        done = cr.mark_issued(uow, ref=cr.short_id(r.id).upper(), approval_no=" A-123456789 ")
        uow.commit()
    assert (done.state, done.approval_no) == ("issued", "A-123456789")


def test_every_request_and_change_goes_to_the_server_as_the_protocol_says(store, stall):
    from sync.protocol import CashReceiptPayload

    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=doc.cash_receipts[0].id, approval_no="77")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        rows = uow.conn.execute(t.outbox.select().where(
            t.outbox.c.event_type == "cash_receipt.changed").order_by(t.outbox.c.seq)).all()
    states = [CashReceiptPayload.model_validate(json.loads(r.payload)) for r in rows]
    assert [(s.state, s.approval_no) for s in states] == [("to_issue", None), ("issued", "77")]
    assert states[0].identity == "01023456789" and states[0].sale_id.hex == doc.id.replace("-",
                                                                                           "")


def test_the_export_is_one_file_per_enterprise_read_back(store, stall, tmp_path):
    doc = _sell(store, [svc.SaleItem(stall.candle), svc.SaleItem(stall.eggs)],
                [Tender("cash", 19_000)], ask=cr.Ask("9410-1234-5678-9012-345"))
    issued = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                   ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=issued.cash_receipts[0].id, approval_no="555")
        svc.refund_sale(uow, sale_id=issued.id, quantities={1: 1}, method="cash")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        written = cr.export(uow, tmp_path / "out")
    files = {p.name: n for p, n in written}
    assert files == {"cash-receipts_모두의공방_2208162517.csv": 2,
                     "cash-receipts_늘푸른농장_no-bizno.csv": 1}
    with open(tmp_path / "out" / "cash-receipts_모두의공방_2208162517.csv",
              encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == cr.EXPORT_COLUMNS
    sale, cancel = rows
    assert (sale["identity"], sale["identity_kind"], sale["purpose"], sale["amount"]) == (
        "9410-1234-5678-9012-345", "card", "소득공제", "12000")
    assert (cancel["kind"], cancel["cancels_approval_no"], cancel["amount"],
            cancel["identity"]) == ("cancel", "555", "3000", "010-2345-6789")
    assert sale["due_day"] == "2026-11-26" and sale["issuer_bizno"] == "220-81-62517"


# --- on paper -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["generic-58-text", "generic-80"])
def test_the_receipt_prints_the_request_masked(store, stall, key):
    from printing.decode import decode
    from printing.profiles import profile
    from printing.receipt import layout_receipt, receipt_for
    from printing.render import render

    doc = _sell(store, [svc.SaleItem(stall.soap), svc.SaleItem(stall.eggs)],
                [Tender("cash", 10_000)], ask=cr.Ask("010-2345-6789"))
    prof = profile(key)
    with store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id), prof.columns)
    data = render(items, prof)
    decoded = decode(data)
    if key.endswith("-text"):  # Korean text mode: the bytes decode back to the lines
        lines = decoded.text_lines()
    else:  # a raster receipt is a picture: its rows are what was drawn
        assert decoded.rasters() and decoded.unknown == []
        lines = [i.text(prof.columns) for i in items if hasattr(i, "text")]
    assert "현금영수증 요청: 010-****-6789 (소득공제)" in " ".join(ln.strip() for ln in lines)
    assert any("늘푸른농장" in ln and "7,000" in ln for ln in lines)
    assert not any("2345" in ln for ln in lines)


def svc_today():
    from datetime import date

    return date.today()


# --- the command line ---------------------------------------------------------------------------

def test_the_command_line_takes_lists_issues_and_exports_requests(tmp_path):
    from pos.store import Store
    from tests.pos.test_cli import jangteo

    data = tmp_path / "till"
    with Store(data) as store, store.unit_of_work() as uow:
        firm = svc.add_enterprise(uow, name="모두의공방", bizno="220-81-62517")
        svc.add_product(uow, name="수제비누", price=3000, enterprise_id=firm, sku="SOAP")
        uow.commit()
    d = ("--data-dir", str(data))
    assert jangteo(*d, "shift", "open", "--float", "0").returncode == 0
    sold = jangteo(*d, "--lang", "ko", "sell", "--item", "SOAP:2", "--pay", "cash:10000",
                   "--cash-receipt", "010-2345-6789")
    assert sold.returncode == 0, sold.stderr
    assert "현금영수증 요청" in sold.stdout and "010-****-6789" in sold.stdout
    assert "2345" not in sold.stdout and "6,000원" in sold.stdout
    bad = jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--pay", "cash",
                  "--cash-receipt", "010-1234")
    assert bad.returncode == 1 and "Not a number a cash receipt can be issued to" in bad.stderr
    blank = jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--pay", "cash",
                    "--cash-receipt", " ")
    assert blank.returncode == 1 and "Give the number" in blank.stderr
    assert "Traceback" not in blank.stderr
    assert jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--pay", "cash").returncode == 0
    with Store(data) as store, store.unit_of_work(write=False) as uow:
        assert len(svc.list_documents(uow)) == 2  # the refused sale left nothing
        receipt_no = svc.list_documents(uow)[-1]["receipt_no"]
    added = jangteo(*d, "--lang", "en", "cash-receipts", "add", receipt_no, "220-81-62517")
    assert added.returncode == 0 and "220-**-*2517" in added.stdout, added.stderr
    listed = jangteo(*d, "--lang", "en", "cash-receipts", "list")
    rows = listed.stdout.splitlines()
    assert len([r for r in rows[:-1] if r.endswith("to issue")]) == 2
    due = (svc_today() + timedelta(days=kr.ISSUE_DAYS)).isoformat()
    assert rows[-1] == f"2 to issue, ₩9,000: the first by {due}."
    assert "(deduction)" in rows[0] and "(proof)" in rows[1]
    short = rows[0].split()[0]
    marked = jangteo(*d, "--lang", "en", "cash-receipts", "mark-issued", short, "A-1")
    assert marked.returncode == 0 and "approval A-1" in marked.stdout
    again = jangteo(*d, "--lang", "ko", "cash-receipts", "mark-issued", "nonsense", "1")
    assert again.returncode == 1 and "현금영수증 요청이 없습니다" in again.stderr
    assert jangteo(*d, "cash-receipts", "export", "").returncode == 2  # not the current folder
    out = tmp_path / "export"
    exported = jangteo(*d, "--lang", "en", "cash-receipts", "export", str(out))
    assert exported.returncode == 0 and "1 cash receipt" in exported.stdout
    (path,) = out.iterdir()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["identity"], row["purpose"], row["amount"], row["state"]) == (
        "220-81-62517", "지출증빙", "3000", "to_issue")


# --- vouchers by rule -------------------------------------------------------------------------

def test_a_sale_paid_by_vouchers_follows_each_types_rule_and_records_the_notes(store, stall):
    """A ₩10,000 지역사랑 note for a ₩7,000 sale is 70 % used: under the 80 % rule for small
    notes, no change; the same by 온누리 (60 %) gives ₩3,000 back. The notes taken are kept."""
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        in_shift(uow)
        svc.record_sale(uow, items=[svc.SaleItem(stall.eggs)],
                        tenders=[Tender("local_voucher", 10_000, face_value=10_000, count=1)])
    assert (e.value.code, e.value.params["percent"]) == ("voucher_change_refused", 80)
    doc = _sell(store, [svc.SaleItem(stall.eggs)],
                [Tender("onnuri", 10_000, face_value=10_000, count=1)])
    assert doc.change == 3000
    doc = _sell(store, [svc.SaleItem(stall.candle, 2), svc.SaleItem(stall.eggs)],
                [Tender("local_voucher", 35_000, face_value=5_000, count=7)])
    assert doc.change == 4000  # 89 % of seven ₩5,000 notes used
    with store.unit_of_work(write=False) as uow:
        back = svc.get_document(uow, sale_id=doc.id)
    assert [(p.face_value, p.count) for p in back.payments] == [(5_000, 7)]
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        svc.record_sale(uow, items=[svc.SaleItem(stall.eggs)],
                        tenders=[Tender("onnuri", 10_000, face_value=3_000, count=3)])
    assert e.value.code == "voucher_notes_invalid"
    with store.unit_of_work() as uow:  # the stall's local government says 80 % for 온누리 too
        svc.save_settings(uow, rules={"vouchers": {"onnuri": {"min_percent": 80}}})
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        svc.record_sale(uow, items=[svc.SaleItem(stall.eggs)], tenders=[Tender("onnuri", 10_000)])
    assert (e.value.code, e.value.params["percent"]) == ("voucher_change_refused", 80)
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        svc.save_settings(uow, rules={"vouchers": {"onnuri": {"min_percent": "80"}}})
    assert e.value.code == "setting_invalid"


def test_the_notes_go_to_the_server_only_when_noted(store, stall):
    """An event's bytes are unchanged for a payment without notes (a resend of an event sent
    before this field existed must compare equal); with notes they are in the document."""
    from sync.client import _documents
    from sync.protocol import Document

    plain = _sell(store, [svc.SaleItem(stall.eggs)], [Tender("cash", 7000)])
    notes = _sell(store, [svc.SaleItem(stall.eggs)],
                  [Tender("onnuri", 10_000, face_value=5_000, count=2)])
    with store.unit_of_work(write=False) as uow:
        docs = _documents(uow, [plain.id, notes.id])
    assert "face_value" not in docs[plain.id]
    checked = Document.model_validate_json(docs[notes.id])
    assert (checked.payments[0].face_value, checked.payments[0].count) == (5_000, 2)
    with pytest.raises(Exception):
        Document.model_validate_json(docs[notes.id].replace('"count":2', '"count":3'))


def test_the_settlement_shows_each_enterprises_cash_receipts(store, stall, tmp_path):
    """What each enterprise must issue (or has): its requests less its cancellations, in the
    settlement of the day and its CSV; a request cancelled before it was issued is none."""
    from printing.reports import settlement_csv

    first = _sell(store, [svc.SaleItem(stall.candle), svc.SaleItem(stall.eggs)],
                  [Tender("cash", 19_000)], ask=cr.Ask("010-2345-6789"))
    voided = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                   ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        svc.void_sale(uow, sale_id=voided.id)
        general = next(r for r in first.cash_receipts if r.enterprise_id == stall.general)
        cr.mark_issued(uow, ref=general.id, approval_no="9")
        line = next(ln.line_no for ln in first.lines if ln.enterprise_id == stall.general)
        svc.refund_sale(uow, sale_id=first.id, quantities={line: 1}, method="cash")
        uow.commit()
        figures = svc.day_settlement(uow, day=first.business_day)
    by_name = {e.name: e.cash_receipts for e in figures.enterprises}
    assert by_name == {"모두의공방": 12_000 - 12_000, "늘푸른농장": 7_000}
    settlement_csv(tmp_path / "s.csv", figures, enterprises={}, methods=["cash"], lang="en")
    with open(tmp_path / "s.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["Enterprise"]: r["Cash receipts"] for r in rows} == {
        "모두의공방": "0", "늘푸른농장": "7000", "Total": "7000"}


def test_a_self_issue_already_issued_is_not_issued_twice(store, stall):
    _mandatory(store, stall.general)
    doc = _sell(store, [svc.SaleItem(stall.candle, 9)], [Tender("cash", 108_000)])
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=doc.cash_receipts[0].id, approval_no="5550001")
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        cr.request_later(uow, receipt_no=doc.receipt_no, ask=cr.Ask("010-9876-5432"))
    assert e.value.code == "cash_receipt_self_issued" and e.value.params["approval"] == "5550001"


def test_the_check_finds_cash_receipts_beyond_the_cash_taken(store, stall):
    from pos.services.check import run_checks

    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work(write=False) as uow:
        assert run_checks(uow) == []
    with store.unit_of_work() as uow:  # written by hand, or by a bug: more than was paid
        uow.conn.execute(t.cash_receipts.update().values(amount=3001))
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        found = run_checks(uow)
    assert [(p.code, p.subject) for p in found] == [("cash_receipts_within_cash", doc.receipt_no)]
    assert "3001 > cash 3000" in found[0].detail


def test_a_part_given_back_before_issue_leaves_one_request_for_what_was_kept(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.candle, 3)], [Tender("cash", 36_000)],
                ask=cr.Ask("010-2345-6789"))
    (first,) = doc.cash_receipts
    with store.unit_of_work() as uow:
        refund = svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
        uow.commit()
    (kept,) = refund.cash_receipts
    assert (kept.kind, kept.amount, kept.masked, kept.due_day) == (
        "issue", 24_000, first.masked, first.due_day)
    with store.unit_of_work() as uow:
        again = svc.refund_sale(uow, sale_id=doc.id, quantities={1: 2}, method="cash")
        uow.commit()
    assert again.cash_receipts == ()
    with store.unit_of_work(write=False) as uow:
        assert [r.state for r in cr.of_sale(uow, sale_id=doc.id)] == ["cancelled", "cancelled"]


# --- what strangers tried ---------------------------------------------------------------------

def test_a_blank_or_wrong_kind_of_number_is_said_and_sells_nothing(store, stall):
    with store.unit_of_work() as uow:
        in_shift(uow)
        for ask, code in ((cr.Ask(" "), "cash_receipt_number_needed"),
                          (cr.Ask("\t"), "cash_receipt_number_needed"),
                          (cr.Ask("220-81-62517", "deduction"), "cash_receipt_bizno_is_proof"),
                          (cr.Ask("010-1234\n-5678"), "cash_receipt_number_invalid"),
                          (cr.Ask("010-1234-5678\x1b[2J"), "cash_receipt_number_invalid")):
            with pytest.raises(DomainError) as e:
                svc.record_sale(uow, items=[svc.SaleItem(stall.soap)],
                                tenders=[Tender("cash", 3000)], cash_receipt=ask)
            assert e.value.code == code
            assert "\x1b" not in str(e.value.params.get("value", ""))
        assert svc.list_documents(uow) == []


def test_an_approval_number_once_entered_is_not_typed_over(store, stall):
    doc = _sell(store, [svc.SaleItem(stall.soap)], [Tender("cash", 3000)],
                ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work() as uow:
        cr.mark_issued(uow, ref=doc.cash_receipts[0].id, approval_no="111")
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(DomainError) as e:
        cr.mark_issued(uow, ref=doc.cash_receipts[0].id, approval_no="222")
    assert e.value.code == "cash_receipt_already_issued" and e.value.params["approval"] == "111"


def test_issuers_whose_names_make_one_file_name_get_two_files(store, stall, tmp_path):
    with store.unit_of_work() as uow:
        for name in ("X/Y", "X:Y"):
            firm = svc.add_enterprise(uow, name=name)
            svc.add_product(uow, name=f"{name} 상품", price=1000, enterprise_id=firm)
        uow.commit()
        ids = [p["id"] for p in svc.list_products(uow) if p["name"].startswith("X")]
    for pid in ids:
        _sell(store, [svc.SaleItem(pid)], [Tender("cash", 1000)], ask=cr.Ask("010-2345-6789"))
    with store.unit_of_work(write=False) as uow:
        written = cr.export(uow, tmp_path)
    assert sorted(p.name for p, _n in written) == ["cash-receipts_X_Y_no-bizno.csv",
                                                   "cash-receipts_X_Y_no-bizno_2.csv"]
    issuers = set()
    for path, _n in written:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            issuers |= {r["issuer"] for r in csv.DictReader(fh)}
    assert issuers == {"X/Y", "X:Y"}


def test_a_file_that_cannot_be_written_is_named_and_leaves_no_part(tmp_path):
    from pos.export import write_csv

    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(OSError) as e:
        write_csv(tmp_path / "taken.csv", ["a"], [[1]])
    assert e.value.filename == str(tmp_path / "taken.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.csv"]


def test_a_sale_given_back_in_three_refunds_leaves_no_vat(store, stall):
    """Each refund's VAT is rounded on its own; the period's is worked out on its net."""
    from pos.vat import vat_figures

    doc = _sell(store, [svc.SaleItem(stall.soap, 3)], [Tender("cash", 9000)])
    for _ in range(3):
        with store.unit_of_work() as uow:
            svc.refund_sale(uow, sale_id=doc.id, quantities={1: 1}, method="cash")
            uow.commit()
    with store.unit_of_work(write=False) as uow:
        (f,) = vat_figures(uow, day_from=doc.business_day, day_to=doc.business_day)
        day = svc.day_settlement(uow, day=doc.business_day)
    assert (f.net, f.taxable_total, f.supply_value, f.vat) == (0, 0, 0, 0)
    assert day.supply_value + day.vat == 0  # the documents' own sums: rounded each
