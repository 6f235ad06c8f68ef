"""Stock as movements. A product's stock is tracked once it has a movement: goods received from
its enterprise, counted by the vendor, returned to the enterprise. Sales take goods away and
voids and refunds bring them back (`pos.services.sales`). Each movement is an outbox event
(`stock.moved`): the organizer's server adds up every till of the stall, and each till shows
the stall's figure plus what it did since the server counted (`apply_stall_stock`). Selling past
zero is allowed (a till offline cannot know what the others sold) and flagged on the screen.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from pos import events, tables as t
from pos.domain import DomainError, clean_text
from pos.money import MAX_STOCK
from pos.outbox import append_event
from pos.store import UnitOfWork

KINDS = ("received", "counted", "returned")


def record_stock(uow: UnitOfWork, *, product_id: str, kind: str, qty: int,
                 reason: str = "", alone: bool = True) -> dict:
    """`received`: `qty` (> 0) goods came from the enterprise; `returned`: `qty` (> 0) went back
    to it; `counted`: the vendor counted `qty` (≥ 0), and the stock becomes that. Returns the
    movement with its `change` in stock. `alone`: a movement a person records by itself, which
    needs the `stock` permission and goes into the audit log; a count made by a catalog edit
    or import (`alone=False`) is covered by that edit's."""
    from pos.services.catalog import get_product
    from pos.services.shifts import business_day, current_shift

    if kind not in KINDS:
        raise ValueError(kind)
    if isinstance(qty, bool) or not isinstance(qty, int) or not \
            (0 <= qty <= MAX_STOCK if kind == "counted" else 0 < qty <= MAX_STOCK):
        raise DomainError("stock_qty_invalid", value=qty, max=MAX_STOCK)
    product = get_product(uow, product_id=product_id)
    if product is None or product["merged_into"] or product["removed"]:
        raise DomainError("product_unknown", value=product_id)
    known = product["stock"] or 0
    if kind == "returned" and qty > known:  # more than there is: the figure is behind the goods
        raise DomainError("stock_return_too_many", name=product["name"], qty=qty, stock=known)
    if alone:
        from pos.services.staff import need

        need(uow, "stock", amount=qty, subject=product["name"])
    known = max(-MAX_STOCK, min(MAX_STOCK, known))
    change = {"received": qty, "returned": -qty, "counted": qty - known}[kind]
    if not -MAX_STOCK <= known + change <= MAX_STOCK:
        raise DomainError("stock_qty_invalid", value=known + change, max=MAX_STOCK)
    wall = uow.clock.now()
    shift = current_shift(uow)
    day = business_day(uow, wall, shift)
    allocation = uow.store.numbering.allocate(uow, wall, receipt=False, day=day)
    row = {"id": uow.new_id(wall), "device_id": uow.store.device["id"], "seq": allocation.seq,
           "product_id": product_id, "kind": kind, "qty": change,
           "counted": qty if kind == "counted" else None, "business_day": day,
           "shift_id": shift["id"] if shift else None,
           "reason": clean_text(reason or "", limit=200, lenient=True) or "",
           "created_at": wall.isoformat()}
    uow.conn.execute(t.stock_movements.insert().values(**row))
    uow.conn.execute(t.products.update().where(t.products.c.id == product_id)
                     .values(stock=known + change))
    append_event(uow, event_type="stock.moved", allocation=allocation, wall=wall, payload={
        "id": row["id"], "product_id": product_id, "kind": kind, "qty": change,
        "counted": row["counted"], "business_day": day, "shift_id": row["shift_id"],
        "reason": row["reason"], "created_at": row["created_at"]})
    uow.note(events.CATALOG)
    if alone:
        from pos import audit

        audit.record(uow, "stock_move", product["name"], {
            "what": kind, "change": change, "stock": known + change, "reason": row["reason"]})
    return {**row, "change": change, "stock": known + change}


def movements(uow: UnitOfWork, *, day: str | None = None, shift_id: str | None = None,
              product_id: str | None = None) -> list[dict]:
    q = select(t.stock_movements).order_by(t.stock_movements.c.seq)
    if day:
        q = q.where(t.stock_movements.c.business_day == day)
    if shift_id:
        q = q.where(t.stock_movements.c.shift_id == shift_id)
    if product_id:
        q = q.where(t.stock_movements.c.product_id == product_id)
    return [dict(r) for r in uow.conn.execute(q).mappings()]


def _own_since(uow: UnitOfWork, seq: int) -> tuple[dict[str, int], dict[str, int]]:
    """This till's events after `seq`: per product, its newest count (what was counted) and
    the change in stock by its other events (after that count, where there is one)."""
    device = uow.store.device["id"]
    m = t.stock_movements.c
    counts: dict[str, tuple[int, int]] = {}
    for pid, at, counted in uow.conn.execute(
            select(m.product_id, m.seq, m.counted).where(
                m.device_id == device, m.seq > seq, m.kind == "counted").order_by(m.seq)):
        counts[pid] = (at, int(counted))
    changes: dict[str, int] = {}
    rows = list(uow.conn.execute(select(m.product_id, m.seq, m.qty).where(
        m.device_id == device, m.seq > seq, m.kind != "counted")))
    rows += [(pid, at, -qty) for pid, at, qty in uow.conn.execute(
        select(t.sale_lines.c.product_id, t.sales.c.seq, t.sale_lines.c.qty)
        .join(t.sales, t.sales.c.id == t.sale_lines.c.sale_id)
        .where(t.sales.c.device_id == device, t.sales.c.seq > seq,
               t.sale_lines.c.product_id.is_not(None)))]
    for pid, at, qty in rows:
        if pid in counts and at < counts[pid][0]:
            continue  # before this till's own count: on the shelf's side of it
        changes[pid] = changes.get(pid, 0) + int(qty)
    return changes, {pid: counted for pid, (_at, counted) in counts.items()}


def apply_stall_stock(uow: UnitOfWork, levels: dict[str, int], counted_seq: int) -> int:
    """The stall's stock from the server (every till's movements and sales, this till's up to
    `counted_seq`), plus this till's later ones: each tracked product's stock here. A count of
    this till's the server has not had yet is the stock, with what this till did after it.
    Returns how many products changed."""
    if not levels:
        return 0
    own, counts = _own_since(uow, counted_seq)
    merged = dict(uow.conn.execute(select(t.products.c.id, t.products.c.merged_into).where(
        t.products.c.merged_into.is_not(None))).all())
    for pid in list(own):  # what was sold as a product now merged into another
        if pid in merged and merged[pid] in levels:
            own[merged[pid]] = own.get(merged[pid], 0) + own.pop(pid)
    current = dict(uow.conn.execute(select(t.products.c.id, t.products.c.stock).where(
        t.products.c.id.in_(list(levels)))).all())
    changes = []
    for pid, qty in levels.items():
        if pid not in current:
            continue
        stock = (counts[pid] if pid in counts else qty) + own.get(pid, 0)
        if current[pid] != stock:
            changes.append({"pid": pid, "stock": stock})
    if changes:
        uow.conn.execute(t.products.update().where(t.products.c.id == bindparam("pid"))
                         .values(stock=bindparam("stock")), changes)
        uow.note(events.CATALOG)
    return len(changes)


def stock_figures(uow: UnitOfWork, *, shift_id: str | None = None,
                  day: str | None = None) -> list:
    """Received / sold / returned / missing per tracked product in a shift or business day, on
    this till (`pos.settlement.StockFigures`), by enterprise and name."""
    from pos.settlement import StockFigures

    m = t.stock_movements.c
    where = (m.shift_id == shift_id) if shift_id else (m.business_day == day)
    moved: dict[str, dict[str, int]] = {}
    for pid, kind, qty in uow.conn.execute(select(m.product_id, m.kind, func.sum(m.qty))
                                           .where(where).group_by(m.product_id, m.kind)):
        moved.setdefault(pid, {})[kind] = int(qty)
    s, ln = t.sales.c, t.sale_lines.c
    sold = dict(uow.conn.execute(
        select(ln.product_id, func.sum(ln.qty)).join(t.sales, s.id == ln.sale_id)
        .where((s.shift_id == shift_id) if shift_id else (s.business_day == day),
               ln.product_id.is_not(None)).group_by(ln.product_id)).all())
    tracked = {r.id: r for r in uow.conn.execute(
        select(t.products.c.id, t.products.c.name, t.products.c.enterprise_id,
               t.products.c.stock, t.enterprises.c.name.label("enterprise_name"))
        .join(t.enterprises, t.enterprises.c.id == t.products.c.enterprise_id)
        .where(t.products.c.stock.is_not(None) | t.products.c.id.in_(list(moved))))}
    out = []
    for pid, r in tracked.items():
        kinds = moved.get(pid, {})
        qty_sold = int(sold.get(pid, 0) or 0)
        if not kinds and not qty_sold:
            continue
        out.append(StockFigures(pid, r.name, r.enterprise_id, r.enterprise_name,
                                kinds.get("received", 0), qty_sold, -kinds.get("returned", 0),
                                -kinds.get("counted", 0), r.stock))
    return sorted(out, key=lambda f: (f.enterprise_name, f.name, f.product_id))
