"""Staff accounts at the till: PINs kept as slow salted hashes, a wait after wrong PINs that
never locks the stall out, permissions with a manager's approval recorded with both names,
who made each document, and the audit log whose chain `jangteo check` verifies."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta

import pytest

from pos import audit, services as s
from pos.domain import DomainError, Tender
from pos.services import staff
from pos.services.check import run_checks
from tests.conftest import in_shift, manager_and_cashier


def people(store):
    """A manager and a cashier, accounts on, the cashier signed in."""
    return manager_and_cashier(store)


def test_the_first_person_is_a_manager_and_the_pin_is_only_a_salted_scrypt_hash(store):
    with store.unit_of_work() as uow:
        first = staff.add_staff(uow, name="김매니저", role="cashier", pin="2468")
        uow.commit()
    assert first.role == "manager"
    store.actor = first
    with store.unit_of_work() as uow:
        staff.add_staff(uow, name="박계산", role="cashier", pin="2468")
        uow.commit()
    rows = sqlite3.connect(store.path).execute(
        "SELECT name, pin_salt, pin_hash, pin_kdf FROM staff ORDER BY name").fetchall()
    (_, salt_a, hash_a, kdf), (_, salt_b, hash_b, _) = rows
    assert kdf == "scrypt n=16384 r=8 p=1"
    assert salt_a != salt_b and hash_a != hash_b  # one PIN, two people: two hashes
    raw = open(store.path, "rb").read()
    assert b"2468" not in raw
    expected = hashlib.scrypt(b"2468", salt=bytes.fromhex(salt_a), n=2 ** 14, r=8, p=1,
                              maxmem=64 * 1024 * 1024, dklen=32).hex()
    assert hash_a == expected


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "١٢٣٤", " 1234", "", None, 1234])
def test_a_pin_is_4_to_6_ascii_digits(store, pin):
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            staff.add_staff(uow, name="김매니저", role="manager", pin=pin)
    assert e.value.code == "pin_invalid"


@pytest.mark.parametrize("name", ["", "   ", "a" * 41, "이름\x00", "\u202e이름"])
def test_a_name_is_refused_when_it_cannot_be_shown(store, name):
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError):
            staff.add_staff(uow, name=name, role="manager", pin="1234")


def test_wrong_pins_make_the_next_try_wait_longer_but_another_person_signs_in(store, clock):
    clock.step = timedelta(0)
    boss, clerk = people(store)
    waits = [0]
    for _ in range(6):
        clock.advance(timedelta(seconds=waits[-1]))  # waits out the wait before
        with store.unit_of_work() as uow:
            result = staff.check_pin(uow, staff_id=clerk.id, pin="0000")
            uow.commit()
        assert result.staff is None
        waits.append(result.wait)
    del waits[0]
    assert waits == [0, 0, 1, 2, 4, 8]
    with store.unit_of_work() as uow:  # within the wait even the right PIN is not tried
        assert staff.check_pin(uow, staff_id=clerk.id, pin="1357").wait == 8
        # a manager is never held up by someone else's wrong PINs
        assert staff.check_pin(uow, staff_id=boss.id, pin="2468").staff == boss
        uow.commit()
    clock.advance(timedelta(seconds=9))
    with store.unit_of_work() as uow:
        assert staff.check_pin(uow, staff_id=clerk.id, pin="1357").staff == clerk
        uow.commit()
    with store.unit_of_work() as uow:  # the count starts again
        assert staff.check_pin(uow, staff_id=clerk.id, pin="0000").wait == 0
        failed = audit.entries(uow, action="pin_failed")
    assert len(failed) == 7 and all(e.staff_name == clerk.name for e in failed)


def test_setting_the_clock_back_neither_ends_nor_lengthens_the_wait(store, clock):
    """A stranger's attack: the clock set back 5 minutes before every guess had ended every
    wait (1,112 guesses to the PIN, none waited). Now the wait starts again from the clock's
    new time, never longer than a minute, and the jump is in the audit log."""
    clock.step = timedelta(0)
    boss, clerk = people(store)
    wait = 0
    for _ in range(20):
        clock.advance(timedelta(seconds=wait))
        with store.unit_of_work() as uow:
            wait = staff.check_pin(uow, staff_id=clerk.id, pin="9999").wait
            uow.commit()
    assert wait == staff.WAIT_MAX
    with store.unit_of_work() as uow:  # within the wait: not even tried
        assert staff.check_pin(uow, staff_id=clerk.id, pin="1357").wait == staff.WAIT_MAX
        uow.commit()
    for _ in range(5):  # back 5 minutes before each try: it waits as long as ever
        clock.advance(timedelta(minutes=-5))
        with store.unit_of_work() as uow:
            result = staff.check_pin(uow, staff_id=clerk.id, pin="1357")
            uow.commit()
        assert result.staff is None and result.wait == staff.WAIT_MAX
    clock.advance(timedelta(seconds=staff.WAIT_MAX))  # waited out: the right PIN is heard
    with store.unit_of_work() as uow:
        assert staff.check_pin(uow, staff_id=clerk.id, pin="1357").staff == clerk
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        jumps = audit.entries(uow, action="clock_jump")
    assert len(jumps) == 5 and jumps[0].subject == clerk.name


def test_names_that_look_the_same_are_one_name(store):
    with store.unit_of_work() as uow:
        store.actor = staff.add_staff(uow, name="이계산", role="manager", pin="1234")
        uow.commit()
    with store.unit_of_work() as uow:
        for twin in ("이 계산", "이\u200b계산", "이계산\u00a0", "\u110b\u1175\u1100\u1168\u1109\u1161\u11ab"):
            with pytest.raises(DomainError) as e:
                staff.add_staff(uow, name=twin, role="cashier", pin="1234")
            assert e.value.code == "staff_name_taken" and e.value.params["name"] == "이계산"
        staff.add_staff(uow, name="abc", role="cashier", pin="1234")
        for twin in ("ABC", "Ａbc", "a b c"):
            with pytest.raises(DomainError):
                staff.add_staff(uow, name=twin, role="cashier", pin="1234")
        assert staff.find_staff(uow, "Ａ Ｂ Ｃ").name == "abc"  # signs in as the same person
        uow.commit()


def test_a_manager_who_demotes_or_disables_themselves_acts_as_they_now_are(store):
    boss, clerk = people(store)
    store.actor = boss
    with store.unit_of_work() as uow:
        staff.update_staff(uow, staff_id=clerk.id, role="manager")
        uow.commit()
    with store.unit_of_work() as uow:
        staff.update_staff(uow, staff_id=boss.id, role="cashier")
        uow.commit()
    assert store.actor.role == "cashier"
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError):  # no longer a manager: cannot switch accounts off
            staff.set_accounts(uow, False)
    store.actor = staff.Staff(clerk.id, clerk.name, "manager")
    with store.unit_of_work() as uow:
        staff.update_staff(uow, staff_id=boss.id, role="manager")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        store.actor = boss = staff.find_staff(uow, boss.id)
    with store.unit_of_work() as uow:  # disabled while signed in: signed out
        staff.update_staff(uow, staff_id=boss.id, active=False)
        uow.commit()
    assert store.actor is None
    store.actor = staff.Staff(clerk.id, clerk.name, "manager")
    with store.unit_of_work() as uow:
        before = audit.count(uow)
        staff.update_staff(uow, staff_id=clerk.id, active=True)  # already active: nothing
        assert audit.count(uow) == before
        uow.commit()


def test_a_cashier_needs_a_manager_to_void_and_the_approval_names_both(store, stall):
    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        uow.commit()
    assert sale.staff_name == clerk.name
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as refused:
            s.void_sale(uow, sale_id=sale.id, reason="잘못 찍음")
    assert refused.value.code == "needs_approval"
    assert "이계산" in refused.value.text("ko") and "판매 취소" in refused.value.text("ko")
    with store.unit_of_work() as uow:  # a cashier's approval is no approval
        uow.approver = clerk
        with pytest.raises(DomainError):
            s.void_sale(uow, sale_id=sale.id)
    with store.unit_of_work() as uow:
        uow.approver = boss
        void = s.void_sale(uow, sale_id=sale.id, reason="잘못 찍음")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert s.get_document(uow, sale_id=void.id).staff_name == clerk.name
        approval, = audit.entries(uow, action="approval")
        voided, = audit.entries(uow, action="void")
    assert approval.details == {"right": "void", "staff": "이계산", "approver": "김매니저",
                                "amount": 3000}
    assert approval.subject == sale.receipt_no and approval.staff_name == clerk.name
    assert voided.subject == void.receipt_no and voided.details["original"] == sale.receipt_no


def test_discounts_within_the_cashiers_limit_need_nobody(store, stall):
    from pos.domain import Discount

    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        in_shift(uow)
        small = s.record_sale(uow, items=[s.SaleItem(stall.candle, 1, line_discount=1000)],
                              tenders=[Tender("cash", 11000)])
        with pytest.raises(DomainError) as e:  # 3,000 of 12,000 is 25 %: over 10 %
            s.record_sale(uow, items=[s.SaleItem(stall.candle)], tenders=[Tender("cash", 9000)],
                          discount=Discount("amount", "3000"))
        assert e.value.code == "needs_approval"
        with pytest.raises(DomainError):  # a price changed at the till
            s.record_sale(uow, items=[s.SaleItem(stall.soap, unit_price=1000)],
                          tenders=[Tender("cash", 1000)])
        uow.approver = boss
        s.record_sale(uow, items=[s.SaleItem(stall.soap, unit_price=1000)],
                      tenders=[Tender("cash", 1000)])
        uow.commit()
    assert small.totals.total == 11000


def test_cash_moves_and_a_large_difference_need_a_manager_a_small_one_does_not(store, stall):
    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        in_shift(uow)
        with pytest.raises(DomainError):
            s.move_cash(uow, kind="out", amount=5000, reason="봉투")
        uow.approver = boss
        moved = s.move_cash(uow, kind="out", amount=5000, reason="봉투")
        uow.commit()
    assert moved["staff_name"] == clerk.name
    with store.unit_of_work() as uow:
        uow.approver = boss
        s.move_cash(uow, kind="in", amount=7000, reason="거스름돈")  # expected: 2,000
        uow.commit()
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError):  # 2,000 short: over the 1,000 limit
            s.close_shift(uow, counted=0, reason="모름")
    with store.unit_of_work() as uow:  # 500 won over: within the cashier's limit
        closed = s.close_shift(uow, counted=2500, reason="동전 하나")
        uow.commit()
    assert closed.shift["closed_by"] == clerk.name


def test_with_accounts_on_nobody_signed_in_can_sell(store, stall):
    people(store)
    store.actor = None
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            in_shift(uow)
    assert e.value.code == "sign_in_needed"


def test_the_last_manager_stays_a_manager(store):
    boss, clerk = people(store)
    store.actor = boss
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError) as e:
            staff.update_staff(uow, staff_id=boss.id, active=False)
        assert e.value.code == "last_manager"
        with pytest.raises(DomainError):
            staff.update_staff(uow, staff_id=boss.id, role="cashier")
        staff.update_staff(uow, staff_id=clerk.id, role="manager")
        staff.update_staff(uow, staff_id=boss.id, active=False)
        uow.commit()
    store.actor = clerk
    with store.unit_of_work() as uow:
        with pytest.raises(DomainError):  # a disabled person cannot sign in
            staff.check_pin(uow, staff_id=boss.id, pin="2468")


def test_a_cashier_cannot_manage_staff_or_switch_accounts_off(store):
    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        for action in (lambda: staff.add_staff(uow, name="몰래", role="manager", pin="1111"),
                       lambda: staff.update_staff(uow, staff_id=clerk.id, role="manager"),
                       lambda: staff.reset_pin(uow, staff_id=boss.id, pin="0000"),
                       lambda: staff.set_accounts(uow, False)):
            with pytest.raises(DomainError) as e:
                action()
            assert e.value.code == "needs_approval"
        staff.reset_pin(uow, staff_id=clerk.id, pin="8642")  # one's own PIN
        uow.commit()


def _chain_problems(store):
    with store.unit_of_work(write=False) as uow:
        return {p.code for p in run_checks(uow)}


def test_an_edited_or_deleted_audit_entry_is_found_by_check(store, stall):
    boss, clerk = people(store)
    store.actor = boss
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        s.void_sale(uow, sale_id=sale.id, reason="테스트")
        uow.commit()
    assert _chain_problems(store) == set()
    store.close()
    db = sqlite3.connect(store.path)
    n, details = db.execute("SELECT n, details FROM audit_log WHERE action = 'void'").fetchone()
    edited = json.dumps({**json.loads(details), "reason": "고객 요청"})
    db.execute("UPDATE audit_log SET details = ? WHERE n = ?", (edited, n))
    db.commit()
    from pos.store import Store

    with Store(store.data_dir) as again:
        with again.unit_of_work(write=False) as uow:
            assert {p.code for p in run_checks(uow)} >= {"audit_edited"}
    db.execute("UPDATE audit_log SET details = ? WHERE n = ?", (details, n))
    db.commit()
    # the event waiting to be sent edited, its hash left as it was: the server would see it
    # as broken; the till's own check says so first
    seq, payload = db.execute("SELECT seq, payload FROM outbox WHERE event_type = "
                              "'audit.logged' ORDER BY seq DESC LIMIT 1").fetchone()
    db.execute("UPDATE outbox SET payload = ? WHERE seq = ?",
               (payload.replace('"staff_name":"김매니저"', '"staff_name":"박누구"'), seq))
    db.commit()
    with Store(store.data_dir) as again:
        with again.unit_of_work(write=False) as uow:
            assert {p.code for p in run_checks(uow)} == {"audit_edited"}
    db.execute("UPDATE outbox SET payload = ? WHERE seq = ?", (payload, seq))
    db.execute("DELETE FROM audit_log WHERE n = 2")
    db.commit()
    with Store(store.data_dir) as again:
        with again.unit_of_work(write=False) as uow:
            problems = run_checks(uow)
    assert {p.code for p in problems} == {"audit_chain"}
    assert any("1..1" not in p.detail and "#3" == p.subject for p in problems)


def test_without_accounts_voids_are_still_in_the_audit_log_without_a_name(store, stall):
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        s.refund_sale(uow, sale_id=sale.id, quantities={1: 1}, method="cash", reason="변심")
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        entry, = audit.entries(uow)
    assert entry.action == "refund" and entry.staff_name is None
    assert entry.details["reason"] == "변심" and entry.details["total"] == -3000
    assert sale.staff_name is None


def test_the_protocol_carries_no_pin_and_takes_the_audit_chain():
    from pydantic import ValidationError

    from sync import protocol as p

    person = {"id": "x", "name": "이계산", "role": "cashier", "active": True,
              "updated_at": "2026-12-03T10:00:00+09:00"}
    p.StaffPayload.model_validate(person)
    for extra in ({"pin": "1234"}, {"pin_hash": "ab" * 32}, {"pin_salt": "00"}):
        with pytest.raises(ValidationError):
            p.StaffPayload.model_validate({**person, **extra})
    fields = dict(n=1, at="2026-12-03T10:00:00+09:00", device_id="d", staff_id=None,
                  staff_name=None, action="void", subject="A01-20261203-0001", details={})
    digest = audit.chain_hash(audit.GENESIS, **fields)
    p.AuditPayload.model_validate({**fields, "prev_hash": audit.GENESIS, "hash": digest})
    with pytest.raises(ValidationError):
        p.AuditPayload.model_validate({**fields, "action": "rm -rf", "prev_hash": audit.GENESIS,
                                       "hash": digest})
    assert set(p.AuditAction.__args__) == set(audit.ACTIONS)


def test_the_sales_export_names_who_recorded_each_document(store, stall, tmp_path):
    import csv

    from pos.export import export_sales

    boss, clerk = people(store)
    with store.unit_of_work() as uow:
        in_shift(uow)
        sale = s.record_sale(uow, items=[s.SaleItem(stall.soap, 2)], tenders=[Tender("cash", 6000)])
        uow.approver = boss
        s.refund_sale(uow, sale_id=sale.id, quantities={1: 1}, method="cash")
        uow.commit()
    for by in ("line", "receipt"):
        with store.unit_of_work(write=False) as uow:
            export_sales(uow, tmp_path / f"{by}.csv", by=by)
        rows = list(csv.DictReader((tmp_path / f"{by}.csv").read_text("utf-8-sig").splitlines()))
        assert [(r["kind"], r["staff"]) for r in rows] == [("sale", "이계산"), ("refund", "이계산")]


def test_a_price_changed_at_the_till_and_a_wrong_clock_are_in_the_audit_log(store, stall, clock):
    with store.unit_of_work() as uow:
        in_shift(uow)
        first = s.record_sale(uow, items=[s.SaleItem(stall.soap), s.SaleItem(stall.candle,
                                                                             unit_price=9000)],
                              tenders=[Tender("cash", 12000)])
        uow.commit()
    clock.advance(timedelta(hours=-3))  # the clock set back: behind the newest sale
    with store.unit_of_work() as uow:
        for _ in range(3):
            s.record_sale(uow, items=[s.SaleItem(stall.soap)], tenders=[Tender("cash", 3000)])
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        edits = audit.entries(uow, action="price_edit")
        jumps = audit.entries(uow, action="clock_jump")
    assert [(e.subject, e.details) for e in edits] == [
        (first.receipt_no, {"product": "향초", "price": 12000, "charged": 9000})]
    assert len(jumps) == 1 and jumps[0].details["note"] == "clock_behind"  # once, not thrice
