"""Shifts: open with a float, cash in and out, close with a count; X and Z figures."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import bindparam, func, select

from pos import audit, backups, events, tables as t
from pos.services import staff
from pos.domain import DomainError, plain
from pos.errors import CodedError
from pos.settlement import (DENOMINATIONS, CashFigures, EnterpriseInfo, LineRow, PartRow, PayRow,
                            SaleRow, Settlement, count_total, staff_figures)
from pos.outbox import append_event
from pos.store import BACKUP_DIR, StoreError, UnitOfWork

log = logging.getLogger("jangteo.shifts")

_OPEN = select(t.shifts).where(t.shifts.c.device_id == bindparam("device_id"),
                               t.shifts.c.status == "open")


def current_shift(uow: UnitOfWork) -> dict | None:
    """The device's open shift, or None. Cached between transactions (one process owns the
    data directory); opening and closing clear the cache."""
    cache = uow.store.cache
    if "open_shift" not in cache:
        row = uow.conn.execute(_OPEN, {"device_id": uow.store.device["id"]}).mappings().first()
        found = dict(row) if row else None
        if getattr(uow, "shift_changed", False):
            return found
        cache["open_shift"] = found
    return cache["open_shift"]


def business_day(uow: UnitOfWork, wall, shift: dict | None = None, *,
                 hold_back: bool = True) -> str:
    """The business day a document or shift made at `wall` belongs to.

    Days are counted in the time zone of the device's newest document (a laptop set to the
    wrong zone books to the stall's day). With a shift open: the shift's day, or the next
    day for a shift that runs past midnight; a clock further off either way (a dead clock
    battery, a jump of a year) cannot move a sale out of its shift's day. Without one: the
    wall clock's date, but (`hold_back`, for a sale outside a shift) never before the newest
    document's day when the clock has gone back behind it. A shift being opened takes the
    wall clock's day and the till says the clock looks behind: one reading a year ahead must
    not pull every later shift into that year."""
    from datetime import date, timedelta

    numbering = uow.store.numbering
    zone = numbering.home_zone(uow) or wall.tzinfo
    day = wall.astimezone(zone).date()
    if shift is not None:
        opened = date.fromisoformat(shift["business_day"])
        return (day if opened <= day <= opened + timedelta(days=1) else opened).isoformat()
    behind = numbering.clock_behind(uow, wall) if hold_back else None
    if behind is not None:
        day = max(day, behind.astimezone(zone).date())
    return day.isoformat()


def clock_note(uow: UnitOfWork, wall, shift: dict | None, behind) -> tuple[str, dict] | None:
    """What the till should say about its clock when a document is made at `wall`, or None."""
    from datetime import date, timedelta

    stamp = "%Y-%m-%d %H:%M"
    zone = uow.store.numbering.home_zone(uow)
    if behind is not None:
        return "clock_behind", {"now": wall.strftime(stamp), "newest": behind.strftime(stamp)}
    if shift is not None:
        local = wall.astimezone(zone or wall.tzinfo).date()
        opened = date.fromisoformat(shift["business_day"])
        if local > opened + timedelta(days=1):
            return "clock_ahead", {"now": wall.strftime(stamp), "day": shift["business_day"]}
    if zone is not None and wall.utcoffset() != zone.utcoffset(wall):
        return "zone_differs", {"zone": wall.strftime("UTC%z"),
                                "home": wall.astimezone(zone).strftime("UTC%z")}
    return None


def _changed(uow: UnitOfWork) -> None:
    uow.store.cache.pop("open_shift", None)
    uow.shift_changed = True
    uow.on_commit(lambda: uow.store.cache.pop("open_shift", None))


def _counts(counts: dict | None) -> tuple[int, str | None]:
    if counts is None:
        return 0, None
    try:
        clean = {int(k): int(v) for k, v in counts.items() if int(v)}
        total = count_total(clean)
    except (TypeError, ValueError) as e:
        raise DomainError("count_invalid", detail=str(e)) from None
    return total, json.dumps({str(k): clean[k] for k in DENOMINATIONS if k in clean})


def open_shift(uow: UnitOfWork, *, float_amount: int | None = None,
               counts: dict | None = None) -> dict:
    """Open a shift with a float typed as a total or counted by denomination."""

    if current_shift(uow) is not None:
        raise DomainError("shift_already_open")
    counted, counts_json = _counts(counts)
    amount = counted if counts is not None else (float_amount or 0)
    if amount < 0:
        raise DomainError("count_invalid", detail=str(amount))
    device = uow.store.device
    now = uow.clock.now()
    # after the shifts this store has and those a lost or restored file had (pos.marks): two
    # Z reports never carry one number
    floor = uow.conn.execute(select(t.store_meta.c.value).where(
        t.store_meta.c.key == "shift_floor")).scalar()
    number = max(uow.conn.execute(select(func.max(t.shifts.c.number))
                                  .where(t.shifts.c.device_id == device["id"])).scalar() or 0,
                 int(floor or 0)) + 1
    row = {"id": uow.new_id(now), "device_id": device["id"], "number": number, "status": "open",
           "business_day": business_day(uow, now, hold_back=False), "opened_at": now.isoformat(),
           "float_amount": amount, "float_counts": counts_json}
    opened_by = staff.actor_columns(uow)["staff_name"]
    uow.conn.execute(t.shifts.insert().values(**row, opened_by=opened_by))
    _changed(uow)
    uow.note(events.SHIFT)
    append_event(uow, event_type="shift.opened", wall=now, payload={
        **row, "float_counts": counts, **({"opened_by": opened_by} if opened_by else {})})
    store = uow.store
    uow.on_commit(lambda: store.confirmed_shift(number))
    note = clock_note(uow, now, None, uow.store.numbering.clock_behind(uow, now))
    return {**row, "clock_note": note} if note else row


def move_cash(uow: UnitOfWork, *, kind: str, amount: int, reason: str) -> dict:
    """Cash put into (change top-up) or taken out of (buying supplies) the drawer."""

    shift = current_shift(uow)
    if shift is None:
        raise DomainError("shift_not_open")
    if kind not in ("in", "out"):
        raise DomainError("cash_kind_invalid", value=kind)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("price_invalid", value=amount)
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    staff.need(uow, "cash_move", amount=amount)
    now = uow.clock.now()
    row = {"id": uow.new_id(now), "shift_id": shift["id"], "kind": kind, "amount": amount,
           "reason": reason.strip(), "created_at": now.isoformat()}
    who = staff.actor_columns(uow)
    uow.conn.execute(t.cash_movements.insert().values(**row, **who))
    uow.note(events.SHIFT)
    append_event(uow, event_type="cash.moved", wall=now, payload={
        **row, **({"staff_name": who["staff_name"]} if who["staff_name"] else {})})
    if who["staff_id"]:
        audit.record(uow, "cash_move", kind, {"amount": amount, "reason": row["reason"]})
    return {**row, **who}


def open_drawer(uow: UnitOfWork, *, reason: str) -> int:
    """Open the cash drawer without a sale ("no sale"): a reason is needed, the permission
    `no_sale` (or a manager's approval), and it is recorded in the audit log. The kick goes to
    the till's printer, which the drawer hangs on. Returns the print job's id."""
    from pos import print_jobs
    from pos.services.settings import till_settings

    target = till_settings(uow).printer
    if not target.url:
        raise DomainError("drawer_no_printer")

    if current_shift(uow) is None:
        raise DomainError("shift_not_open")
    reason = difference_reason(reason)
    if not reason:
        raise DomainError("reason_required")
    staff.need(uow, "no_sale", subject=reason)
    job = print_jobs.enqueue_drawer(uow, target)
    audit.record(uow, "no_sale", reason, {"job": job})
    return job


# Every query below reads only the documents of one shift (or one business day): it starts
# from `sales` through its index on shift_id (or business_day) and reaches each document's
# lines, payments and VAT parts through their primary keys. `CROSS JOIN` fixes that order
# (SQLite never reorders it): left to the planner, a join from a table it knows nothing about
# (the temporary `settle_docs`) was planned as a full scan of sale_lines or payments, which
# made a Z report grow with the whole store instead of the shift. `{where}` / `{w}` is the
# condition on `s`; tests/pos/test_big_store.py holds every plan to an index search.
_LOAD_SQL = {
    "sales": """SELECT s.id, s.kind, s.receipt_no, s.created_at, s.subtotal, s.line_discount,
                      s.receipt_discount, s.total, s.taxable_total, s.supply_value, s.vat,
                      s.exempt_total, s.change, s.staff_name FROM sales s WHERE {where}
                ORDER BY s.seq""",
    "lines": """SELECT l.sale_id, l.product_id, l.name, l.enterprise_id, l.enterprise_name, l.qty,
                      l.amount FROM sales s CROSS JOIN sale_lines l ON l.sale_id = s.id
                WHERE {where}""",
    "payments": """SELECT p.sale_id, p.method, p.kind, p.amount, p.tendered, p.change,
                          p.enterprise_id FROM sales s CROSS JOIN payments p ON p.sale_id = s.id WHERE {where}
                   ORDER BY p.sale_id, p.n""",
    "parts": """SELECT x.sale_id, x.enterprise_id, x.taxable_total, x.supply_value, x.vat,
                       x.exempt_total, x.tax_status, x.own_terminal
                FROM sales s CROSS JOIN sale_taxes x ON x.sale_id = s.id WHERE {where}""",
}


def _load(uow: UnitOfWork, *, shift_id: str | None = None,
          day: str | None = None) -> tuple[list, list, list, list]:
    """The documents of a shift or a day as plain rows, one query per table (fetched whole:
    a day of 10,000 sales is read in well under a tenth of a second)."""
    where, param = ("s.shift_id = ?", shift_id) if shift_id else ("s.business_day = ?", day)
    out = []
    for key, cls in (("sales", SaleRow), ("lines", LineRow), ("payments", PayRow),
                     ("parts", PartRow)):
        rows = uow.conn.exec_driver_sql(_LOAD_SQL[key].format(where=where), (param,)).fetchall()
        out.append([cls(*r) for r in rows])
    return tuple(out)


def _load_cash_receipts(uow: UnitOfWork, *, shift_id: str | None = None,
                        day: str | None = None) -> list[tuple]:
    """The cash receipt requests of a shift's or a day's documents, as the reference
    computation takes them (`pos.settlement.settle`): (document id, enterprise id, signed
    won) of those in force."""
    where, param = ("s.shift_id = ?", shift_id) if shift_id else ("s.business_day = ?", day)
    return [tuple(r) for r in uow.conn.exec_driver_sql(
        "SELECT s.id, c.enterprise_id, CASE WHEN c.kind = 'issue' THEN c.amount "
        "ELSE -c.amount END FROM cash_receipts c JOIN sales s "
        "ON s.id = COALESCE(c.return_id, c.sale_id) "
        f"WHERE {where} AND c.state <> 'cancelled' AND c.enterprise_id IS NOT NULL",
        (param,)).fetchall()]


_AGG = {
    "totals": """SELECT s.kind, COUNT(*), SUM(s.subtotal), SUM(s.line_discount + s.receipt_discount),
                        SUM(s.total), SUM(s.taxable_total), SUM(s.supply_value), SUM(s.vat),
                        SUM(s.exempt_total)
                 FROM sales s WHERE {w} GROUP BY s.kind""",
    "methods": """SELECT p.method, SUM(s.kind = 'sale'), SUM(CASE WHEN s.kind = 'sale' THEN p.amount
                         ELSE 0 END), SUM(s.kind <> 'sale'),
                         SUM(CASE WHEN s.kind <> 'sale' THEN p.amount ELSE 0 END)
                  FROM sales s CROSS JOIN payments p ON p.sale_id = s.id WHERE {w}
                  GROUP BY p.method""",
    "parts": """SELECT x.enterprise_id, SUM(x.taxable_total), SUM(x.supply_value), SUM(x.vat),
                       SUM(x.exempt_total),
                       SUM(CASE WHEN x.tax_status = 'simplified' THEN x.taxable_total ELSE 0 END)
                FROM sales s CROSS JOIN sale_taxes x ON x.sale_id = s.id WHERE {w}
                GROUP BY x.enterprise_id""",
    "products": """SELECT MIN(l.name), l.enterprise_id, MIN(l.enterprise_name), SUM(l.qty),
                          SUM(l.amount), SUM(CASE WHEN s.kind = 'sale' THEN l.qty ELSE 0 END),
                          SUM(CASE WHEN s.kind <> 'sale' THEN -l.qty ELSE 0 END),
                          SUM(CASE WHEN s.kind = 'sale' THEN l.amount ELSE 0 END),
                          SUM(CASE WHEN s.kind <> 'sale' THEN l.amount ELSE 0 END)
                   FROM sales s CROSS JOIN sale_lines l ON l.sale_id = s.id WHERE {w}
                   GROUP BY COALESCE(l.product_id, l.name), l.enterprise_id""",
    "hours": """SELECT CAST(substr(s.created_at, 12, 2) AS INTEGER), SUM(s.kind = 'sale'),
                       SUM(s.total) FROM sales s WHERE {w} GROUP BY 1""",
    # who recorded what (staff accounts on): receipts, sales, returns; then their cash
    "staff": """SELECT s.staff_name, SUM(s.kind = 'sale'),
                       SUM(CASE WHEN s.kind = 'sale' THEN s.total ELSE 0 END),
                       SUM(CASE WHEN s.kind <> 'sale' THEN s.total ELSE 0 END)
                FROM sales s WHERE {w} AND s.staff_name IS NOT NULL GROUP BY s.staff_name""",
    "staff_cash": """SELECT s.staff_name,
                       SUM(CASE WHEN s.kind = 'sale'
                                THEN (CASE WHEN p.kind = 'cash' THEN p.tendered ELSE 0 END)
                                     - p.change
                                WHEN p.kind = 'cash' THEN p.amount ELSE 0 END)
                     FROM sales s CROSS JOIN payments p ON p.sale_id = s.id
                     WHERE {w} AND s.staff_name IS NOT NULL GROUP BY s.staff_name""",
    # cash receipts asked for (less cancellations) by the documents' enterprises
    "cash_receipts": """SELECT c.enterprise_id,
                            SUM(CASE WHEN c.kind = 'issue' THEN c.amount ELSE -c.amount END)
                     FROM cash_receipts c JOIN sales s ON s.id = COALESCE(c.return_id, c.sale_id)
                     WHERE {w} AND c.state <> 'cancelled' AND c.enterprise_id IS NOT NULL
                     GROUP BY c.enterprise_id""",
    # documents and how many payments and enterprises each has
    "docs": """CREATE TEMP TABLE IF NOT EXISTS settle_docs
               (id TEXT PRIMARY KEY, np INTEGER, ne INTEGER)""",
    "docs_fill": """INSERT INTO temp.settle_docs
                    SELECT s.id, (SELECT COUNT(*) FROM payments p WHERE p.sale_id = s.id),
                           (SELECT COUNT(DISTINCT l.enterprise_id) FROM sale_lines l
                            WHERE l.sale_id = s.id)
                    FROM sales s WHERE {w}""",
    # one payment: each enterprise's lines went to that payment's method
    "alloc_one_payment": """SELECT l.enterprise_id, p.method, SUM(l.amount)
                            FROM temp.settle_docs d CROSS JOIN sale_lines l ON l.sale_id = d.id
                            CROSS JOIN payments p ON p.sale_id = d.id
                            WHERE d.np = 1 GROUP BY l.enterprise_id, p.method""",
    # one enterprise: it got every payment
    "alloc_one_enterprise": """SELECT (SELECT l.enterprise_id FROM sale_lines l
                                       WHERE l.sale_id = d.id LIMIT 1), p.method, SUM(p.amount)
                               FROM temp.settle_docs d CROSS JOIN payments p ON p.sale_id = d.id
                               WHERE d.np > 1 AND d.ne = 1 GROUP BY 1, p.method""",
    "split_lines": """SELECT l.sale_id, l.enterprise_id, SUM(l.amount)
                      FROM temp.settle_docs d CROSS JOIN sale_lines l ON l.sale_id = d.id
                      WHERE d.np > 1 AND d.ne > 1 GROUP BY l.sale_id, l.enterprise_id
                      ORDER BY l.sale_id, MIN(l.line_no)""",
    "split_pays": """SELECT p.sale_id, p.method, p.kind, p.amount, p.tendered, p.change,
                            p.enterprise_id
                     FROM temp.settle_docs d CROSS JOIN payments p ON p.sale_id = d.id
                     WHERE d.np > 1 AND d.ne > 1 ORDER BY p.sale_id, p.n""",
    # of those, the enterprises that took their cards on their own terminal
    "split_own": """SELECT x.sale_id, x.enterprise_id
                    FROM temp.settle_docs d CROSS JOIN sale_taxes x ON x.sale_id = d.id
                    WHERE d.np > 1 AND d.ne > 1 AND x.own_terminal""",
}


def summed_settlement(uow: UnitOfWork, *, shift_id: str | None = None, day: str | None = None,
                      cash=None, day_to: str | None = None) -> Settlement:
    """The same figures as `pos.settlement.settle`, summed by SQLite: a 10,000-sale shift
    without reading every row into Python. Only receipts split between several payments and
    several enterprises are shared out in Python (`settlement.allocate`)."""
    from pos.settlement import allocate, assemble

    if shift_id:
        where, chosen = "s.shift_id = ?", (shift_id,)
    elif day_to:  # a period of business days, both included
        where, chosen = "s.business_day BETWEEN ? AND ?", (day, day_to)
    else:
        where, chosen = "s.business_day = ?", (day,)

    def q(key: str, params=chosen):
        return uow.conn.exec_driver_sql(_AGG[key].format(w=where), params).fetchall()

    totals = {r[0]: r[1:] for r in q("totals")}

    def tot(kind, i):
        return int(totals[kind][i] or 0) if kind in totals else 0

    def across(i):
        return sum(int(v[i] or 0) for v in totals.values())

    products = [tuple(r) for r in q("products")]
    enterprises: dict[str, dict] = {}
    for name, eid, ename, _qty, _amount, qty_sold, qty_returned, sold, returned in products:
        e = enterprises.setdefault(eid, {"name": ename, "sales": 0, "refunds": 0, "qty_sold": 0,
                                         "qty_returned": 0, "taxable": 0, "supply": 0, "vat": 0,
                                         "exempt": 0, "simplified": 0, "by_method": {}})
        e["name"] = min(e["name"], ename)
        e["sales"] += sold
        e["refunds"] += returned
        e["qty_sold"] += qty_sold
        e["qty_returned"] += qty_returned
    simplified_total = 0
    for eid, taxable, supply, vat, exempt, simplified in q("parts"):
        simplified_total += int(simplified or 0)
        if eid in enterprises:
            enterprises[eid].update(taxable=taxable, supply=supply, vat=vat, exempt=exempt,
                                    simplified=int(simplified or 0))
    for eid, won in q("cash_receipts"):
        if eid in enterprises:
            enterprises[eid]["cash_receipts"] = int(won or 0)
    uow.conn.exec_driver_sql(_AGG["docs"])
    uow.conn.exec_driver_sql("DELETE FROM temp.settle_docs")
    uow.conn.exec_driver_sql(_AGG["docs_fill"].format(w=where), chosen)

    def add(eid, method, amount):
        by = enterprises[eid]["by_method"]
        by[method] = by.get(method, 0) + int(amount)

    for eid, method, amount in q("alloc_one_payment", ()) + q("alloc_one_enterprise", ()):
        add(eid, method, amount)
    amounts: dict[str, dict[str, int]] = {}
    for sale_id, eid, amount in q("split_lines", ()):
        amounts.setdefault(sale_id, {})[eid] = int(amount)
    pays: dict[str, list[PayRow]] = {}
    for row in q("split_pays", ()):
        pays.setdefault(row[0], []).append(PayRow(*row))
    own: dict[str, set] = {}
    for sale_id, eid in q("split_own", ()):
        own.setdefault(sale_id, set()).add(eid)
    for sale_id, by_enterprise in amounts.items():
        for eid, by_method in allocate(by_enterprise, pays.get(sale_id, []),
                                       own.get(sale_id, ())).items():
            for method, value in by_method.items():
                add(eid, method, value)
    uow.conn.exec_driver_sql("DELETE FROM temp.settle_docs")
    method_order = list(_method_order(uow))
    people = {r[0]: [int(r[1] or 0), int(r[2] or 0), int(r[3] or 0), 0] for r in q("staff")}
    for name, amount in q("staff_cash"):
        people[name][3] = int(amount or 0)
    return assemble(
        gross=tot("sale", 1), discounts=tot("sale", 2), voids=tot("void", 3),
        refunds=tot("refund", 3), taxable_total=across(4), supply_value=across(5),
        vat=across(6), exempt_total=across(7), receipt_count=tot("sale", 0),
        void_count=tot("void", 0), refund_count=tot("refund", 0),
        methods={r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in q("methods")},
        enterprises=enterprises, products=products,
        hours={int(r[0]): (int(r[1]), int(r[2])) for r in q("hours")},
        infos=_enterprises(uow), cash=cash, method_order=method_order,
        simplified_total=simplified_total, staff=staff_figures(people))


def _method_order(uow: UnitOfWork):
    from pos.services.settings import payment_methods

    return payment_methods(uow).keys()


def _enterprises(uow: UnitOfWork) -> dict[str, EnterpriseInfo]:
    return {r.id: EnterpriseInfo(r.id, r.name, r.commission_bp) for r in uow.conn.execute(
        select(t.enterprises.c.id, t.enterprises.c.name, t.enterprises.c.commission_bp))}


def get_shift(uow: UnitOfWork, *, shift_id: str | None = None, last: bool = False,
              status: str | None = None) -> dict:
    """The shift with this id or number, else the device's last one (the last with `status`,
    found from the newest end of the (device, number) index: no other shift row is read)."""
    q = select(t.shifts).where(t.shifts.c.device_id == uow.store.device["id"])
    if shift_id:
        q = q.where((t.shifts.c.id == shift_id) | (t.shifts.c.number == _int_or(shift_id)))
    else:
        if status is not None:
            q = q.where(t.shifts.c.status == status)
        q = q.order_by(t.shifts.c.number.desc()).limit(1)
    row = uow.conn.execute(q).mappings().first()
    if row is None:
        raise DomainError("shift_unknown", value=shift_id or "last")
    return dict(row)


# what a person may give for a shift (`jangteo report … --shift`), besides its number
NEWEST = ("last", "latest")
OPEN = ("current", "open")


def pick_shift(uow: UnitOfWork, wanted: str | None, *, default: str = "last") -> dict:
    """The shift a person names: "last" (the newest, open or closed), "current"/"open" (the
    open one), "closed" (the newest closed one), a number ("2" or "#2") or a shift's id; with
    nothing given, `default` (one of those words). Each refusal names the shifts there are."""
    said = (wanted or default).strip()
    word = said.lower()
    numbers = uow.conn.execute(select(t.shifts.c.number).where(
        t.shifts.c.device_id == uow.store.device["id"]).order_by(t.shifts.c.number)).scalars()
    numbers = list(numbers)
    if not numbers:
        raise DomainError("shift_none_yet")
    if word in NEWEST:
        return get_shift(uow)
    if word in OPEN:
        shift = current_shift(uow)
        if shift is None:
            raise DomainError("shift_none_open", shifts=_listed(numbers))
        return get_shift(uow, shift_id=shift["id"])
    if word == "closed":
        try:
            return get_shift(uow, status="closed")
        except DomainError:
            raise DomainError("shift_none_closed", value=numbers[-1]) from None
    number = _int_or(said.removeprefix("#"))
    if number in numbers:
        return get_shift(uow, shift_id=str(number))
    if number < 0:  # not a number: an id, or a word the command does not know
        try:
            return get_shift(uow, shift_id=said)
        except DomainError:
            raise DomainError("shift_word_unknown", value=said[:40],
                              shifts=_listed(numbers)) from None
    raise DomainError("shift_number_unknown", value=number, shifts=_listed(numbers))


def _listed(numbers: list[int], most: int = 10) -> str:
    """The shifts there are, as "#1, #2, #3" (the first and the newest ones of a long list)."""
    shown = [f"#{n}" for n in numbers]
    if len(shown) > most:
        shown = shown[:2] + ["…"] + shown[-(most - 3):]
    return ", ".join(shown)


def _int_or(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1


def list_shifts(uow: UnitOfWork) -> list[dict]:
    q = (select(t.shifts)
         .where(t.shifts.c.device_id == uow.store.device["id"])
         .order_by(t.shifts.c.number.desc()))
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def shift_settlement(uow: UnitOfWork, *, shift_id: str, counted: int | None = None) -> Settlement:
    """The X figures of a shift (its Z figures once closed)."""
    shift = get_shift(uow, shift_id=shift_id)
    moves = dict(uow.conn.execute(select(t.cash_movements.c.kind,
                                         func.sum(t.cash_movements.c.amount))
                                  .where(t.cash_movements.c.shift_id == shift["id"])
                                  .group_by(t.cash_movements.c.kind)).all())
    if counted is None and shift["status"] == "closed":
        counted = shift["counted_amount"]
    taken, change, refunds = _cash_sums(uow, shift["id"])
    cash_in, cash_out = int(moves.get("in", 0)), int(moves.get("out", 0))
    expected = shift["float_amount"] + taken - change - refunds + cash_in - cash_out
    cash = CashFigures(shift["float_amount"], taken, change, refunds, cash_in, cash_out,
                       expected, counted, None if counted is None else counted - expected)
    from pos.services.stock import stock_figures

    return replace(summed_settlement(uow, shift_id=shift["id"], cash=cash),
                   stock=stock_figures(uow, shift_id=shift["id"]))


def _cash_sums(uow: UnitOfWork, shift_id: str) -> tuple[int, int, int]:
    """(cash taken, change given, cash refunded) of a shift."""
    from sqlalchemy import case

    s, p = t.sales.c, t.payments.c
    is_sale = s.kind == "sale"
    is_cash = p.kind == "cash"
    row = uow.conn.execute(
        select(func.coalesce(func.sum(case((is_sale & is_cash, p.tendered), else_=0)), 0),
               func.coalesce(func.sum(case((is_sale, p.change), else_=0)), 0),
               func.coalesce(func.sum(case((~is_sale & is_cash, -p.amount), else_=0)), 0))
        .select_from(t.payments.join(t.sales, t.sales.c.id == p.sale_id))
        .where(s.shift_id == shift_id)).one()
    return int(row[0]), int(row[1]), int(row[2])


def expected_cash(uow: UnitOfWork, *, shift_id: str) -> int:
    """The cash that should be in the drawer now, from SQL sums (cheap enough for the status
    bar after every sale; `shift_settlement` gives the same figure with all the others)."""
    taken, change, refunds = _cash_sums(uow, shift_id)
    moves = dict(uow.conn.execute(select(t.cash_movements.c.kind,
                                         func.sum(t.cash_movements.c.amount))
                                  .where(t.cash_movements.c.shift_id == shift_id)
                                  .group_by(t.cash_movements.c.kind)).all())
    shift = get_shift(uow, shift_id=shift_id)
    return (shift["float_amount"] + int(taken) - int(change) - int(refunds)
            + int(moves.get("in", 0)) - int(moves.get("out", 0)))


def day_settlement(uow: UnitOfWork, *, day: str) -> Settlement:
    """All documents of a business day, whatever shift they belong to (no cash figures)."""
    from pos.services.stock import stock_figures

    return replace(summed_settlement(uow, day=day), stock=stock_figures(uow, day=day))


def period_settlement(uow: UnitOfWork, *, day_from: str, day_to: str) -> Settlement:
    """All documents of the business days `day_from` to `day_to`, both included (no cash
    figures): the VAT filing figures' base (`pos.vat`)."""
    return summed_settlement(uow, day=day_from, day_to=day_to)


def movements(uow: UnitOfWork, *, shift_id: str) -> list[dict]:
    q = select(t.cash_movements).where(t.cash_movements.c.shift_id == shift_id).order_by(
        t.cash_movements.c.created_at)
    return [dict(r) for r in uow.conn.execute(q).mappings()]


@dataclass
class ShiftClosed:
    """What `close_shift` gives: the closed shift and its Z figures (`closed, figures =
    close_shift(…)` unpacks them) and, once the close has committed, the backup copy written
    or the error that kept it from being written. The close is recorded either way: a backup
    that fails is a warning to show beside the close, never a failed close."""

    shift: dict
    figures: Settlement
    backup: Path | None = None
    backup_error: CodedError | None = None

    def __iter__(self):
        return iter((self.shift, self.figures))


REASON_MAX = 200


def difference_reason(text: str | None) -> str | None:
    """A cash difference's reason as kept: one line, spaces trimmed, at most 200 characters;
    None when empty. `DomainError("reason_invalid")` for what cannot be printed (a control
    character, a NUL) or is too long: said, never cut silently."""
    if text is None:
        return None
    clean = " ".join(text.split())
    if not clean:
        return None
    if len(clean) > REASON_MAX:
        raise DomainError("reason_too_long", limit=REASON_MAX, length=len(clean))
    if not all(c.isprintable() for c in clean):
        raise DomainError("reason_invalid")
    return clean


def close_shift(uow: UnitOfWork, *, counts: dict | None = None, counted: int | None = None,
                reason: str | None = None) -> ShiftClosed:
    """Close the open shift with the cash counted (by denomination, or a total). The Z figures
    are kept with the shift; a backup of the database is written once the close commits, and
    its outcome lands in the result (`ShiftClosed.backup`, `.backup_error`). `reason`: why the
    count differs from what was expected (the till's screen and command line ask for one when
    it does), kept and printed on the Z; one line of at most 200 characters."""

    shift = current_shift(uow)
    if shift is None:
        raise DomainError("shift_not_open")
    total, counts_json = _counts(counts)
    if counts is None:
        if counted is None or counted < 0:
            raise DomainError("count_invalid", detail=str(counted))
        total = counted
    figures = shift_settlement(uow, shift_id=shift["id"], counted=total)
    reason = difference_reason(reason)
    difference = figures.cash.difference
    if difference:
        staff.need(uow, "close_difference", amount=difference, subject=f"Z{shift['number']}")
    now = uow.clock.now()
    values = {"status": "closed", "closed_at": now.isoformat(), "counted_amount": total,
              "counts": counts_json, "expected_amount": figures.cash.expected,
              "difference": figures.cash.difference, "difference_reason": reason,
              "report": json.dumps(plain(figures), ensure_ascii=False),
              "closed_by": staff.actor_columns(uow)["staff_name"]}
    uow.conn.execute(t.shifts.update().where(t.shifts.c.id == shift["id"]).values(**values))
    if difference:
        audit.record(uow, "shift_difference", f"Z{shift['number']}",
                     {"difference": difference, "reason": reason or ""})
    _changed(uow)
    closed = {**shift, **values}
    uow.note(events.SHIFT)
    # the counts as objects, as in `shift.opened` (stored as JSON text here)
    append_event(uow, event_type="shift.closed", payload={
        **{k: v for k, v in closed.items() if k != "report"
           and not (k in ("opened_by", "closed_by") and v is None)},
        "float_counts": json.loads(closed["float_counts"]) if closed["float_counts"] else None,
        "counts": json.loads(counts_json) if counts_json else None}, wall=now)
    result = ShiftClosed(closed, figures)
    store = uow.store

    def write_backup() -> None:
        # runs inside `uow.commit()`, after the transaction committed: nothing raised here may
        # make the caller believe the close failed
        try:
            result.backup = backups.backup(store.path, Path(store.data_dir) / BACKUP_DIR,
                                           f"shift-{shift['number']}", now)
        except StoreError as e:
            log.warning("shift #%s closed; its backup failed: %s", shift["number"], e)
            result.backup_error = e
        except Exception as e:  # noqa: BLE001 - a fault of the program, logged in full
            log.exception("shift #%s closed; its backup failed", shift["number"])
            result.backup_error = StoreError("backup_failed", path=str(store.data_dir),
                                             detail=f"{type(e).__name__}: {e}")

    uow.on_commit(write_backup)
    return result
