"""Card terminals at a joint stall: an enterprise that takes cards on its own terminal gets the
cards taken on it, the stall's terminal's cards go to the enterprises that use it, and each
enterprise's card figure is what its own card company pays it. The rule is
`pos.settlement.allocate`; the till records whose terminal took each card, checks it, prints
it, sends it (`own_terminals`, a payment's `enterprise_id`) and the same figures come out of
the till's SQL sums, its reference computation, the VAT figures and the cash receipts."""

from __future__ import annotations

import json
from types import SimpleNamespace as P

import pytest
from hypothesis import given, settings, strategies as st

from pos import services as svc
from pos.domain import Discount, DomainError, Tender
from pos.settlement import allocate
from tests.conftest import in_shift


# --- the rule ----------------------------------------------------------------------------------

def pay(method, amount, kind=None, enterprise_id=None):
    return P(method=method, amount=amount, kind=kind or method, enterprise_id=enterprise_id)


def test_a_card_on_an_enterprises_own_terminal_is_its_own():
    """A sells 30,000 and takes cards on its own terminal, B 20,000 on the stall's: A's card
    is A's, the stall's card is B's, and the cash is what each has left (worked by hand)."""
    got = allocate({"A": 30_000, "B": 20_000},
                   [pay("card", 25_000, enterprise_id="A"), pay("card", 15_000),
                    pay("cash", 10_000)], own={"A"})
    assert {e: dict(v) for e, v in got.items()} == {
        "A": {"card": 25_000, "cash": 5_000}, "B": {"card": 15_000, "cash": 5_000}}


def test_the_stalls_card_goes_only_to_the_enterprises_that_use_it():
    """No card on A's terminal: the stall's card is B's (up to B's part) and A paid cash; the
    plain rule would have given A three fifths of the card."""
    got = allocate({"A": 30_000, "B": 20_000}, [pay("card", 20_000), pay("cash", 30_000)],
                   own={"A"})
    assert {e: dict(v) for e, v in got.items()} == {"A": {"card": 0, "cash": 30_000},
                                                     "B": {"card": 20_000, "cash": 0}}
    plain = allocate({"A": 30_000, "B": 20_000}, [pay("card", 20_000), pay("cash", 30_000)])
    assert dict(plain["A"]) == {"card": 12_000, "cash": 18_000}


def test_a_stall_card_for_more_than_the_others_part_is_shared_with_what_is_left():
    """The cashier put everything on the stall's terminal: B's part first, the rest over A."""
    got = allocate({"A": 30_000, "B": 20_000, "C": 10_000},
                   [pay("card", 50_000), pay("cash", 10_000)], own={"A"})
    assert dict(got["B"]) == {"card": 20_000, "cash": 0}
    assert dict(got["C"]) == {"card": 10_000, "cash": 0}
    assert dict(got["A"]) == {"card": 20_000, "cash": 10_000}


def test_a_refund_is_shared_by_the_same_rule_with_its_sign():
    got = allocate({"A": -12_000, "B": -8_000},
                   [pay("card", -12_000, enterprise_id="A"), pay("cash", -8_000)], own={"A"})
    assert {e: dict(v) for e, v in got.items()} == {"A": {"card": -12_000, "cash": 0},
                                                     "B": {"card": 0, "cash": -8_000}}


documents = st.tuples(
    st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 90_000), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(["cash", "card", "qr", "onnuri"]),
                       st.sampled_from([None, "A", "B", "Z"]), st.integers(0, 100_000)),
             min_size=1, max_size=5),
    st.sets(st.sampled_from("ABCZ")), st.booleans())


@settings(max_examples=300, deadline=None)
@given(documents)
def test_whatever_a_till_sent_every_won_lands_once(doc):
    """Ties to enterprises not in the document, cards over a part, own terminals of nobody:
    each enterprise's shares add up to its part and each payment's to its amount."""
    parts, specs, own, refund = doc
    sign = -1 if refund else 1
    total = sum(parts.values())
    amounts = [a for *_, a in specs]
    scale = sum(amounts)
    pays, left = [], total
    for k, (method, tied, a) in enumerate(specs):  # payments that add up to the total
        share = left if k == len(specs) - 1 else (a * total // scale if scale else 0)
        share = min(share, left)
        left -= share
        pays.append(pay(method, sign * share, enterprise_id=tied))
    got = allocate({e: sign * v for e, v in parts.items()}, pays, own)
    for e, v in parts.items():
        assert sum(got[e].values()) == sign * v
    by_method: dict[str, int] = {}
    for p in pays:
        by_method[p.method] = by_method.get(p.method, 0) + p.amount
    for method, won in by_method.items():
        assert sum(got[e].get(method, 0) for e in parts) == won


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 90_000), min_size=1),
       st.lists(st.tuples(st.sampled_from(["cash", "card", "qr"]), st.integers(1, 50_000)),
                min_size=1, max_size=4))
def test_a_stall_where_nobody_has_an_own_terminal_keeps_the_plain_rule(parts, specs):
    """Nothing tied and nobody own: the shares are the proportional rule's, payment after
    payment (worked out here with `spread` directly)."""
    from pos.rounding import spread

    pays = [pay(m, a) for m, a in specs]
    pays[-1] = pay(pays[-1].method, sum(parts.values()) - sum(p.amount for p in pays[:-1]))
    if pays[-1].amount < 0:
        return
    ids = list(parts)
    remaining = [parts[e] for e in ids]
    expected = {e: {} for e in ids}
    for k, p in enumerate(pays):
        shares = (list(remaining) if k == len(pays) - 1
                  else spread(p.amount, remaining) if sum(remaining) else [0] * len(ids))
        for i, e in enumerate(ids):
            expected[e][p.method] = expected[e].get(p.method, 0) + shares[i]
            remaining[i] -= shares[i]
    got = allocate(parts, pays, own=())
    assert {e: dict(v) for e, v in got.items()} == expected
    assert {e: dict(v) for e, v in allocate(parts, pays, own={"Q"}).items()} == expected


# --- at the till -------------------------------------------------------------------------------

@pytest.fixture()
def joint(store, stall):
    """The stall's general enterprise (모두의공방) takes cards on its own terminal."""
    with store.unit_of_work() as uow:
        svc.update_enterprise(uow, enterprise_id=stall.general, card_terminal="own")
        uow.commit()
    return stall


def _sell(store, items, tenders, discount=None):
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        doc = svc.record_sale(uow, items=items, tenders=tenders, discount=discount)
        uow.commit()
    return doc


def _parts(doc):
    out: dict[str, int] = {}
    for ln in doc.lines:
        out[ln.enterprise_id] = out.get(ln.enterprise_id, 0) + ln.amount
    return out


def test_a_joint_sale_with_a_discount_takes_each_card_on_its_terminal(store, joint):
    """향초 ×2 (모두의공방, own terminal) and 자수 브로치 (손끝공방, the stall's), 7 % off: the
    card on 모두의공방's terminal is exactly its part, to the won, and the day's settlement
    gives each enterprise the card its own terminal (or the stall's) took."""
    items = [svc.SaleItem(joint.candle, 2), svc.SaleItem(joint.brooch, 1)]
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        priced = svc.quote_sale(uow, items=items, discount=Discount.percent("7"))
    part = {e: a for e, a in ((ln.enterprise_id, 0) for ln in priced.lines)}
    for ln in priced.lines:
        part[ln.enterprise_id] += ln.amount
    own, rest = part[joint.general], part[joint.simplified]
    assert own + rest == priced.totals.total and own == 22_320  # 24,000 less its 7 %
    doc = _sell(store, items, [Tender("card", own, approval_no="11", terminal=joint.general),
                               Tender("card", rest - 1000, approval_no="22"),
                               Tender("cash", 1000)], discount=Discount.percent("7"))
    assert [p.enterprise_id for p in doc.payments] == [joint.general, None, None]
    assert {p.enterprise_id: p.own_terminal for p in doc.parts} == {
        joint.general: True, joint.simplified: False}
    with store.unit_of_work(write=False) as uow:
        again = svc.get_document(uow, sale_id=doc.id)
        day = svc.day_settlement(uow, day=doc.business_day)
    assert again.payments == doc.payments and again.parts == doc.parts
    by = {e.name: dict(e.by_method) for e in day.enterprises}
    assert by["모두의공방"] == {"card": own}
    assert by["손끝공방"] == {"card": rest - 1000, "cash": 1000}


def test_a_card_on_a_terminal_that_cannot_have_taken_it_is_refused(store, joint):
    items = [svc.SaleItem(joint.soap), svc.SaleItem(joint.eggs)]  # 3,000 + 7,000
    cases = [
        ([Tender("card", 4000, terminal=joint.general), Tender("cash", 6000)],
         "terminal_over_part"),  # more than 모두의공방's 3,000
        ([Tender("card", 7000, terminal=joint.exempt), Tender("cash", 3000)],
         "terminal_unknown"),  # 늘푸른농장 uses the stall's terminal
        ([Tender("card", 3000, terminal=joint.simplified), Tender("cash", 7000)],
         "terminal_unknown"),  # 손끝공방 sells nothing here
        ([Tender("card", 3000, terminal="x" * 10_000), Tender("cash", 7000)],
         "terminal_unknown"),
        ([Tender("cash", 3000, terminal=joint.general), Tender("cash", 7000)],
         "terminal_not_card"),
    ]
    for tenders, code in cases:
        with store.unit_of_work() as uow:
            in_shift(uow, daily=True)
            with pytest.raises(DomainError) as e:
                svc.record_sale(uow, items=items, tenders=tenders)
        assert e.value.code == code
        assert len(str(e.value.params.get("name", ""))) <= 40
    with store.unit_of_work(write=False) as uow:
        assert svc.list_documents(uow) == []


def test_a_void_and_a_card_refund_go_back_on_the_terminal_that_took_the_card(store, joint):
    doc = _sell(store, [svc.SaleItem(joint.soap, 2), svc.SaleItem(joint.eggs)],
                [Tender("card", 6000, terminal=joint.general), Tender("card", 7000)])
    with store.unit_of_work() as uow:
        line = next(ln.line_no for ln in doc.lines if ln.enterprise_id == joint.general)
        refund = svc.refund_sale(uow, sale_id=doc.id, quantities={line: 1}, method="card")
        uow.commit()
    assert refund.payments[0].enterprise_id == joint.general
    assert {p.enterprise_id: p.own_terminal for p in refund.parts} == {joint.general: True}
    second = _sell(store, [svc.SaleItem(joint.soap), svc.SaleItem(joint.eggs)],
                   [Tender("card", 3000, terminal=joint.general), Tender("cash", 7000)])
    with store.unit_of_work() as uow:
        # the enterprise has since moved to the stall's terminal: the void is as sold
        svc.update_enterprise(uow, enterprise_id=joint.general, card_terminal="stall")
        void = svc.void_sale(uow, sale_id=second.id)
        uow.commit()
        day = svc.day_settlement(uow, day=doc.business_day)
    assert [p.enterprise_id for p in void.payments] == [joint.general, None]
    assert {p.enterprise_id: p.own_terminal for p in void.parts}[joint.general] is True
    by = {e.name: e.by_method for e in day.enterprises}
    # 모두의공방: 6,000 and 3,000 on its terminal, 3,000 refunded and 3,000 voided on it
    assert (by["모두의공방"].get("card"), by["모두의공방"].get("cash", 0)) == (3000, 0)
    # 늘푸른농장: 7,000 on the stall's terminal; 7,000 cash taken and voided
    assert (by["늘푸른농장"].get("card"), by["늘푸른농장"].get("cash", 0)) == (7000, 0)


def test_the_sql_sums_and_the_reference_agree_with_terminals(tmp_path):
    """The demo stall's coffee cooperative takes its cards on its own terminal: its sales by
    card are split between its terminal and the stall's, and the fast sums hold."""
    from pos.demo import OWN_TERMINAL, run_demo
    from pos.services.shifts import _enterprises, _load, _load_cash_receipts, _method_order
    from pos.settlement import settle
    from pos.store import Store

    with Store(tmp_path / "d") as store:
        run_demo(store, sales=300, seed=3)
        with store.unit_of_work(write=False) as uow:
            shift = svc.current_shift(uow)
            fast = svc.shift_settlement(uow, shift_id=shift["id"])
            rows = _load(uow, shift_id=shift["id"])
            slow = settle(*rows, _enterprises(uow), method_order=list(_method_order(uow)),
                          cash_receipts=_load_cash_receipts(uow, shift_id=shift["id"]))
            tied = uow.conn.exec_driver_sql(
                "SELECT COUNT(*), SUM(p.amount) FROM payments p JOIN sales s ON s.id = "
                "p.sale_id WHERE p.enterprise_id IS NOT NULL AND s.kind = 'sale'").one()
    assert tied[0] > 5
    assert fast.enterprises == slow.enterprises and fast.methods == slow.methods
    coffee = next(e for e in fast.enterprises if e.name == OWN_TERMINAL)
    # every card of its own is on its terminal: its card figure is at least what those took
    assert coffee.by_method.get("card", 0) >= tied[1] - abs(coffee.refunds)


def test_the_till_sends_whose_terminal_took_each_card(store, joint):
    from sync.client import pending_events
    from sync.protocol import Document

    plain = _sell(store, [svc.SaleItem(joint.eggs)], [Tender("card", 7000)])
    doc = _sell(store, [svc.SaleItem(joint.soap), svc.SaleItem(joint.eggs)],
                [Tender("card", 3000, terminal=joint.general), Tender("card", 7000)])
    with store.unit_of_work(write=False) as uow:
        events = {e["document"]["id"]: e["document"] for e in pending_events(uow, after=0)
                  if "document" in e}
    sent = events[doc.id]
    assert sent["own_terminals"] == [joint.general]
    assert [p.get("enterprise_id") for p in sent["payments"]] == [joint.general, None]
    assert "enterprise_id" not in sent["payments"][1]
    assert "own_terminals" not in events[plain.id]  # an event as before: bytes unchanged
    assert all("enterprise_id" not in p for p in events[plain.id]["payments"])
    Document.model_validate(sent)
    with store.unit_of_work() as uow:
        void = svc.void_sale(uow, sale_id=doc.id)
        uow.commit()
        back = next(e["document"] for e in pending_events(uow, after=0)
                    if e.get("document", {}).get("id") == void.id)
    Document.model_validate(back)
    flipped = {**back, "payments": [{**back["payments"][0], "amount": 3000, "tendered": 3000},
                                    {**back["payments"][1], "amount": -13_000,
                                     "tendered": -13_000}]}
    with pytest.raises(ValueError) as e:  # a return's card on a terminal pays back
        Document.model_validate_json(json.dumps(flipped))
    assert "its document's sign" in str(e.value)
    for bad, said in (
            ({**sent, "own_terminals": []}, "own terminal"),
            ({**sent, "own_terminals": [joint.general, joint.general]}, "once at most"),
            ({**sent, "own_terminals": ["nobody"]}, "once at most"),
            ({**sent, "payments": [{**sent["payments"][0], "amount": 3001, "tendered": 3001},
                                   {**sent["payments"][1], "amount": 6999,
                                    "tendered": 6999}]}, "its part"),
            ({**sent, "payments": [{**sent["payments"][0], "kind": "qr"},
                                   sent["payments"][1]]}, "only a card")):
        with pytest.raises(ValueError) as e:
            Document.model_validate_json(json.dumps(bad))
        assert said in str(e.value)


def test_the_vat_figures_and_cash_receipts_share_by_the_same_rule(store, joint):
    """The VAT figures from documents (as the server reads them) give the card to the
    enterprise whose terminal took it, as the till's settlement does; the cash receipt of a
    sale is for what each enterprise took in cash."""
    from pos.services import cash_receipts as cr
    from pos.vat import from_documents
    from sync.client import pending_events

    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        doc = svc.record_sale(uow, items=[svc.SaleItem(joint.candle), svc.SaleItem(joint.eggs)],
                              tenders=[Tender("card", 7000), Tender("cash", 12_000)],
                              cash_receipt=cr.Ask("010-2345-6789"))
        uow.commit()
        events = [e["document"] for e in pending_events(uow, after=0) if "document" in e]
    # the stall's card is 늘푸른농장's: 모두의공방 (own terminal, no card on it) paid cash
    assert {r.enterprise_name: r.amount for r in doc.cash_receipts} == {"모두의공방": 12_000}
    sent = [P(kind=e["kind"], business_day=e["business_day"],
              own_terminals=e.get("own_terminals", []),
              lines=[P(**{k: ln[k] for k in ("enterprise_id", "enterprise_name", "tax_class",
                                             "tax_status", "amount")}) for ln in e["lines"]],
              payments=[P(method=x["method"], kind=x["kind"], amount=x["amount"],
                          enterprise_id=x.get("enterprise_id")) for x in e["payments"]])
            for e in events]
    figures = {f.name: f for f in from_documents(
        sent, [], cash_like_kinds=("cash", "transfer"), day_from=doc.business_day,
        day_to=doc.business_day)}
    assert (figures["모두의공방"].card, figures["늘푸른농장"].card) == (0, 7000)
    with store.unit_of_work(write=False) as uow:
        day = svc.day_settlement(uow, day=doc.business_day)
    by = {e.name: dict(e.by_method) for e in day.enterprises}
    assert by["모두의공방"] == {"cash": 12_000}


def test_the_receipt_says_whose_terminal_took_the_card(store, joint):
    from printing.decode import decode
    from printing.profiles import profile
    from printing.receipt import layout_receipt, receipt_for
    from printing.render import render

    doc = _sell(store, [svc.SaleItem(joint.soap), svc.SaleItem(joint.eggs)],
                [Tender("card", 3000, approval_no="30012345", terminal=joint.general),
                 Tender("card", 7000, approval_no="40012345")])
    prof = profile("generic-58-text")
    with store.unit_of_work(write=False) as uow:
        items = layout_receipt(receipt_for(uow, sale_id=doc.id, lang="ko"), prof.columns)
    lines = [ln.strip() for ln in decode(render(items, prof)).text_lines()]
    at = next(i for i, ln in enumerate(lines) if "모두의공방 단말기" in ln)
    assert "30012345" in lines[at + 1]  # under the card it took, above its approval
    assert sum("단말기" in ln for ln in lines) == 1  # the stall's terminal is not said


def test_the_command_line_takes_a_card_on_an_enterprises_terminal(tmp_path):
    from pos.store import Store
    from tests.pos.test_cli import jangteo

    data = tmp_path / "till"
    with Store(data) as store, store.unit_of_work() as uow:
        firm = svc.add_enterprise(uow, name="모두의공방", bizno="220-81-62517",
                                  card_terminal="own")
        other = svc.add_enterprise(uow, name="늘푸른농장", tax_status="exempt")
        svc.add_product(uow, name="수제비누", price=3000, enterprise_id=firm, sku="SOAP")
        svc.add_product(uow, name="유정란", price=7000, enterprise_id=other, sku="EGG")
        uow.commit()
    d = ("--data-dir", str(data))
    assert jangteo(*d, "shift", "open", "--float", "0").returncode == 0
    sold = jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--item", "EGG",
                   "--pay", "card:3000@모두의공방", "--pay", "card")
    assert sold.returncode == 0, sold.stderr
    # without an amount, a card on an enterprise's terminal charges its part
    parted = jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--item", "EGG",
                     "--pay", "card@모두의공방", "--pay", "cash")
    assert parted.returncode == 0, parted.stderr
    for pays, said in ((["card:3000@늘푸른농장", "card"], "Cannot take the card on 늘푸른농장"),
                       (["card:3000@nobody", "card"], "Cannot take the card on nobody"),
                       (["card:5000@모두의공방", "card"], "part of this sale is ₩3,000"),
                       (["cash:3000@모두의공방", "card"], "for a card payment only")):
        args = [a for p in pays for a in ("--pay", p)]
        bad = jangteo(*d, "--lang", "en", "sell", "--item", "SOAP", "--item", "EGG", *args)
        assert bad.returncode == 1 and said in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    with Store(data) as store, store.unit_of_work(write=False) as uow:
        docs = [svc.get_document(uow, sale_id=d["id"]) for d in svc.list_documents(uow)]
    assert [[(p.amount, p.enterprise_id) for p in doc.payments] for doc in docs] == [
        [(3000, firm), (7000, None)], [(3000, firm), (7000, None)]]
    assert docs[1].payments[1].method == "cash"


def test_a_card_refund_goes_back_on_each_terminal_up_to_what_it_took(store, joint):
    """Lines of two enterprises refunded by card: 모두의공방's part on its terminal, the rest on
    the stall's; a second refund of its line finds its terminal's card already given back."""
    doc = _sell(store, [svc.SaleItem(joint.soap, 2), svc.SaleItem(joint.eggs)],
                [Tender("card", 3000, terminal=joint.general), Tender("cash", 3000),
                 Tender("card", 7000)])
    soap = next(ln.line_no for ln in doc.lines if ln.enterprise_id == joint.general)
    eggs = next(ln.line_no for ln in doc.lines if ln.enterprise_id == joint.exempt)
    with store.unit_of_work() as uow:
        both = svc.refund_sale(uow, sale_id=doc.id, quantities={soap: 1, eggs: 1},
                               method="card")
        again = svc.refund_sale(uow, sale_id=doc.id, quantities={soap: 1}, method="card")
        uow.commit()
        day = svc.day_settlement(uow, day=doc.business_day)
    assert [(p.amount, p.enterprise_id) for p in both.payments] == [(-3000, joint.general),
                                                                   (-7000, None)]
    assert [(p.amount, p.enterprise_id) for p in again.payments] == [(-3000, None)]
    for e in day.enterprises:
        assert sum(e.by_method.values()) == e.net


def test_the_stalls_terminal_takes_only_the_part_of_those_that_use_it(store, joint):
    """모두의공방 takes its cards on its own terminal: a card on the stall's for more than the
    other enterprises' part is refused, with the names said (여신전문금융업법 §19)."""
    items = [svc.SaleItem(joint.soap), svc.SaleItem(joint.eggs)]  # 3,000 own + 7,000
    with store.unit_of_work() as uow:
        in_shift(uow, daily=True)
        with pytest.raises(DomainError) as e:
            svc.record_sale(uow, items=items, tenders=[Tender("card", 10_000)])
    assert e.value.code == "stall_card_over"
    assert e.value.params == {"amount": 10_000, "part": 7000, "names": "모두의공방"}
    doc = _sell(store, items, [Tender("cash", 3000), Tender("card", 7000)])
    assert [p.enterprise_id for p in doc.payments] == [None, None]

