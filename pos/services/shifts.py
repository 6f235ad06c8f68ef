"""Shifts: open with a float, cash in and out, close with a count; X and Z figures."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import bindparam, func, select

from pos import tables as t
from pos.domain import DomainError, plain
from pos.settlement import (DENOMINATIONS, EnterpriseInfo, LineRow, PartRow, PayRow, SaleRow,
                            Settlement, cash_figures, count_total, settle)
from pos.store import UnitOfWork, backup

BACKUPS_KEPT = 30

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
    from pos.services.sales import append_event

    if current_shift(uow) is not None:
        raise DomainError("shift_already_open")
    counted, counts_json = _counts(counts)
    amount = counted if counts is not None else (float_amount or 0)
    if amount < 0:
        raise DomainError("count_invalid", detail=str(amount))
    device = uow.store.device
    now = uow.clock.now()
    number = (uow.conn.execute(select(func.max(t.shifts.c.number))
                               .where(t.shifts.c.device_id == device["id"])).scalar() or 0) + 1
    row = {"id": uow.new_id(now), "device_id": device["id"], "number": number, "status": "open",
           "business_day": now.date().isoformat(), "opened_at": now.isoformat(),
           "float_amount": amount, "float_counts": counts_json}
    uow.conn.execute(t.shifts.insert().values(**row))
    _changed(uow)
    append_event(uow, event_type="shift.opened", payload={**row, "float_counts": counts},
                 wall=now)
    return row


def move_cash(uow: UnitOfWork, *, kind: str, amount: int, reason: str) -> dict:
    """Cash put into (change top-up) or taken out of (buying supplies) the drawer."""
    from pos.services.sales import append_event

    shift = current_shift(uow)
    if shift is None:
        raise DomainError("shift_not_open")
    if kind not in ("in", "out"):
        raise DomainError("cash_kind_invalid", value=kind)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("price_invalid", value=amount)
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    now = uow.clock.now()
    row = {"id": uow.new_id(now), "shift_id": shift["id"], "kind": kind, "amount": amount,
           "reason": reason.strip(), "created_at": now.isoformat()}
    uow.conn.execute(t.cash_movements.insert().values(**row))
    append_event(uow, event_type="cash.moved", payload=row, wall=now)
    return row


def _load(uow: UnitOfWork, where) -> tuple[list, list, list, list]:
    s = t.sales.c
    sales = [SaleRow(*r) for r in uow.conn.execute(
        select(s.id, s.kind, s.receipt_no, s.created_at, s.subtotal, s.line_discount,
               s.receipt_discount, s.total, s.taxable_total, s.supply_value, s.vat,
               s.exempt_total, s.change).where(where).order_by(s.seq))]
    ids = select(s.id).where(where).scalar_subquery()
    lc = t.sale_lines.c
    lines = [LineRow(*r) for r in uow.conn.execute(
        select(lc.sale_id, lc.product_id, lc.name, lc.enterprise_id, lc.enterprise_name, lc.qty,
               lc.amount).where(lc.sale_id.in_(ids)))]
    pc = t.payments.c
    pays = [PayRow(*r) for r in uow.conn.execute(
        select(pc.sale_id, pc.method, pc.kind, pc.amount, pc.tendered, pc.change)
        .where(pc.sale_id.in_(ids)).order_by(pc.sale_id, pc.n))]
    xc = t.sale_taxes.c
    parts = [PartRow(*r) for r in uow.conn.execute(
        select(xc.sale_id, xc.enterprise_id, xc.taxable_total, xc.supply_value, xc.vat,
               xc.exempt_total).where(xc.sale_id.in_(ids)))]
    return sales, lines, pays, parts


def _enterprises(uow: UnitOfWork) -> dict[str, EnterpriseInfo]:
    return {r.id: EnterpriseInfo(r.id, r.name, r.commission_bp) for r in uow.conn.execute(
        select(t.enterprises.c.id, t.enterprises.c.name, t.enterprises.c.commission_bp))}


def get_shift(uow: UnitOfWork, *, shift_id: str | None = None, last: bool = False) -> dict:
    q = select(t.shifts).where(t.shifts.c.device_id == uow.store.device["id"])
    if shift_id:
        q = q.where((t.shifts.c.id == shift_id) | (t.shifts.c.number == _int_or(shift_id)))
    else:
        q = q.order_by(t.shifts.c.number.desc()).limit(1)
    row = uow.conn.execute(q).mappings().first()
    if row is None:
        raise DomainError("shift_unknown", value=shift_id or "last")
    return dict(row)


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
    sales, lines, pays, parts = _load(uow, t.sales.c.shift_id == shift["id"])
    moves = dict(uow.conn.execute(select(t.cash_movements.c.kind,
                                         func.sum(t.cash_movements.c.amount))
                                  .where(t.cash_movements.c.shift_id == shift["id"])
                                  .group_by(t.cash_movements.c.kind)).all())
    if counted is None and shift["status"] == "closed":
        counted = shift["counted_amount"]
    cash = cash_figures(sales, pays, float_amount=shift["float_amount"],
                        cash_in=int(moves.get("in", 0)), cash_out=int(moves.get("out", 0)),
                        counted=counted)
    return settle(sales, lines, pays, parts, _enterprises(uow), cash=cash)


def expected_cash(uow: UnitOfWork, *, shift_id: str) -> int:
    """The cash that should be in the drawer now, from SQL sums (cheap enough for the status
    bar after every sale; `shift_settlement` gives the same figure with all the others)."""
    from sqlalchemy import case

    s, p = t.sales.c, t.payments.c
    is_sale = s.kind == "sale"
    is_cash = p.kind == "cash"
    taken, change, refunds = uow.conn.execute(
        select(func.coalesce(func.sum(case((is_sale & is_cash, p.tendered), else_=0)), 0),
               func.coalesce(func.sum(case((is_sale, p.change), else_=0)), 0),
               func.coalesce(func.sum(case((~is_sale & is_cash, -p.amount), else_=0)), 0))
        .select_from(t.payments.join(t.sales, t.sales.c.id == p.sale_id))
        .where(s.shift_id == shift_id)).one()
    moves = dict(uow.conn.execute(select(t.cash_movements.c.kind,
                                         func.sum(t.cash_movements.c.amount))
                                  .where(t.cash_movements.c.shift_id == shift_id)
                                  .group_by(t.cash_movements.c.kind)).all())
    shift = get_shift(uow, shift_id=shift_id)
    return (shift["float_amount"] + int(taken) - int(change) - int(refunds)
            + int(moves.get("in", 0)) - int(moves.get("out", 0)))


def day_settlement(uow: UnitOfWork, *, day: str) -> Settlement:
    """All documents of a business day, whatever shift they belong to (no cash figures)."""
    sales, lines, pays, parts = _load(uow, t.sales.c.business_day == day)
    return settle(sales, lines, pays, parts, _enterprises(uow))


def movements(uow: UnitOfWork, *, shift_id: str) -> list[dict]:
    q = select(t.cash_movements).where(t.cash_movements.c.shift_id == shift_id).order_by(
        t.cash_movements.c.created_at)
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def close_shift(uow: UnitOfWork, *, counts: dict | None = None,
                counted: int | None = None) -> tuple[dict, Settlement]:
    """Close the open shift with the cash counted (by denomination, or a total). The Z figures
    are kept with the shift; a backup of the database is written once the close commits."""
    from pos.services.sales import append_event

    shift = current_shift(uow)
    if shift is None:
        raise DomainError("shift_not_open")
    total, counts_json = _counts(counts)
    if counts is None:
        if counted is None or counted < 0:
            raise DomainError("count_invalid", detail=str(counted))
        total = counted
    figures = shift_settlement(uow, shift_id=shift["id"], counted=total)
    now = uow.clock.now()
    values = {"status": "closed", "closed_at": now.isoformat(), "counted_amount": total,
              "counts": counts_json, "expected_amount": figures.cash.expected,
              "difference": figures.cash.difference,
              "report": json.dumps(plain(figures), ensure_ascii=False)}
    uow.conn.execute(t.shifts.update().where(t.shifts.c.id == shift["id"]).values(**values))
    _changed(uow)
    closed = {**shift, **values}
    append_event(uow, event_type="shift.closed",
                 payload={k: v for k, v in closed.items() if k != "report"}, wall=now)
    store = uow.store
    uow.on_commit(lambda: backup(store.path, Path(store.data_dir) / "backups",
                                 f"shift-{shift['number']}", now, keep=BACKUPS_KEPT))
    return closed, figures
