"""The figures an enterprise's VAT return (부가가치세 신고) asks for, per enterprise and period,
refunds netted: taxable (과세) and exempt (면세) sales, with the supply value and VAT of a general
taxpayer; and how the money came, as the return's 신용카드매출전표등 발행금액 집계표 splits it:
card slips, cash receipts issued, other cash, vouchers.

The base is the settlement of the period (`pos.services.shifts.period_settlement`: the same
sums, payments shared out to enterprises by `pos.settlement.allocate`), so the figures agree
with every other report: for each enterprise

    card + cash_receipts_issued + cash_receipts_waiting + other_cash + vouchers + tokens = net
    taxable_total + exempt_total = net;  supply_value + vat = taxable_total (general taxpayers)

Cash receipts count by their business day (a cancellation by the return's); those still
waiting to be issued are their own figure, to be issued before the return is filed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from pos import tables as t
from pos.domain import DomainError
from pos.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class VatFigures:
    enterprise_id: str
    name: str
    bizno: str
    representative: str
    tax_status: str  # general, simplified, exempt
    day_from: str
    day_to: str
    sales: int  # sales after discounts
    refunds: int  # voids and refunds, negative
    net: int
    taxable_total: int  # VAT included
    supply_value: int  # general taxpayers: without VAT; a simplified taxpayer's is its total
    vat: int
    exempt_total: int
    card: int  # card slips (card, and mobile payments that settle as cards)
    cash_receipts_issued: int
    cash_receipts_waiting: int
    other_cash: int  # cash and transfers without a cash receipt
    vouchers: int
    tokens: int
    receipts_issued_count: int = 0
    receipts_waiting_count: int = 0
    # the tax types its sales carried in the period, in order: more than one when it changed
    # (간이 → 일반 on 7-01 is usual): the return is then two, split at the change
    statuses: tuple[str, ...] = ()

    @property
    def cash_like(self) -> int:
        return self.cash_receipts_issued + self.cash_receipts_waiting + self.other_cash


def vat_figures(uow: UnitOfWork, *, day_from: str, day_to: str,
                enterprise: str | None = None) -> list[VatFigures]:
    """Every enterprise with sales in the period (or the one named: name, id or registration
    number), by name."""
    from pos.services import cash_receipts as cr
    from pos.services.catalog import find_enterprise, list_enterprises
    from pos.services.settings import payment_methods
    from pos.services.shifts import period_settlement

    if day_from > day_to:
        raise DomainError("period_reversed", day_from=day_from, day_to=day_to)
    wanted = None
    if enterprise is not None:
        found = find_enterprise(uow, ref=enterprise)
        if found is None:
            raise DomainError("enterprise_unknown", value=enterprise[:40])
        wanted = found["id"]
    rules = cr.rules(uow)
    kinds = {code: str(m.kind) for code, m in payment_methods(uow).items()}
    info = {e["id"]: e for e in list_enterprises(uow)}
    figures = period_settlement(uow, day_from=day_from, day_to=day_to)
    receipts = _cash_receipt_sums(uow, day_from, day_to)
    seen: dict[str, list[str]] = {}
    x, d = t.sale_taxes.c, t.sales.c
    for eid, status, _first in uow.conn.execute(
            select(x.enterprise_id, x.tax_status, func.min(d.business_day))
            .select_from(t.sale_taxes.join(t.sales, d.id == x.sale_id))
            .where(d.business_day.between(day_from, day_to))
            .group_by(x.enterprise_id, x.tax_status).order_by(func.min(d.business_day))):
        seen.setdefault(eid, []).append(status)
    out = []
    for e in figures.enterprises:
        if wanted is not None and e.enterprise_id != wanted:
            continue
        groups = {"card": 0, "cash": 0, "voucher": 0, "token": 0}
        for method, won in e.by_method.items():
            kind = kinds.get(method, "card" if method not in ("cash", "transfer") else "cash")
            if kind in rules.cash_like_kinds:
                groups["cash"] += won
            elif kind in ("voucher", "token"):
                groups[kind] += won
            else:  # card, and a QR payment that is not counted as cash
                groups["card"] += won
        issued, waiting, n_issued, n_waiting = receipts.get(e.enterprise_id, (0, 0, 0, 0))
        me = info.get(e.enterprise_id, {})
        statuses = tuple(seen.get(e.enterprise_id, ()))
        supply, vat = _period_vat(e.taxable_total, e.supply_value, e.vat, statuses)
        out.append(VatFigures(
            e.enterprise_id, e.name, me.get("bizno") or "", me.get("representative") or "",
            me.get("tax_status") or "general", day_from, day_to, e.sales, e.refunds, e.net,
            e.taxable_total, supply, vat, e.exempt_total, groups["card"], issued,
            waiting, groups["cash"] - issued - waiting, groups["voucher"], groups["token"],
            n_issued, n_waiting, statuses))
    if wanted is not None and not out:  # an enterprise without sales: its figures are 0
        me = info[wanted]
        out.append(VatFigures(wanted, me["name"], me.get("bizno") or "",
                              me.get("representative") or "", me["tax_status"], day_from,
                              day_to, *([0] * 13)))
    return out


def _period_vat(taxable: int, supply: int, vat: int, statuses: tuple) -> tuple[int, int]:
    """A general taxpayer's supply value and VAT for the period, worked out once on its net
    taxable sales as the return does (`pos.rounding.split_vat`): the documents' own VAT, each
    rounded, would leave a sale given back in three refunds at 1 won of supply and -1 of VAT.
    When the tax type changed in the period, the documents' sums (the return is two then)."""
    from pos.rounding import split_vat

    if len(statuses) > 1:
        return supply, vat
    split = split_vat(taxable, shows_vat=statuses == ("general",))
    return split.supply_value, split.vat


def _cash_receipt_sums(uow: UnitOfWork, day_from: str, day_to: str) -> dict:
    """{enterprise id: (issued won, waiting won, issued count, waiting count)}: requests less
    cancellations, by their business day; the counts are of both."""
    c = t.cash_receipts.c
    signed = func.sum(case((c.kind == "issue", c.amount), else_=-c.amount))
    counted = func.count()  # requests and cancellations: each is one to issue
    out: dict[str, list[int]] = {}
    for eid, state, won, n in uow.conn.execute(
            select(c.enterprise_id, c.state, signed, counted)
            .where(c.business_day.between(day_from, day_to), c.state != "cancelled",
                   c.enterprise_id.is_not(None))
            .group_by(c.enterprise_id, c.state)):
        acc = out.setdefault(eid, [0, 0, 0, 0])
        if state == "issued":
            acc[0] += int(won or 0)
            acc[2] += int(n or 0)
        else:
            acc[1] += int(won or 0)
            acc[3] += int(n or 0)
    return {k: tuple(v) for k, v in out.items()}


CSV_COLUMNS = ("enterprise", "bizno", "representative", "tax_status", "from", "to", "sales",
               "refunds", "net", "taxable_total", "supply_value", "vat", "exempt_total", "card",
               "cash_receipts_issued", "cash_receipts_waiting", "other_cash", "vouchers",
               "tokens")


def vat_csv(path, rows: list[VatFigures]) -> int:
    """The figures as CSV (UTF-8 with BOM, as every export): one row per enterprise, the
    columns `CSV_COLUMNS` (won, refunds netted)."""
    from pos.export import write_csv

    return write_csv(path, CSV_COLUMNS, (
        [f.name, f.bizno, f.representative, f.tax_status, f.day_from, f.day_to, f.sales,
         f.refunds, f.net, f.taxable_total, f.supply_value, f.vat, f.exempt_total, f.card,
         f.cash_receipts_issued, f.cash_receipts_waiting, f.other_cash, f.vouchers, f.tokens]
        for f in rows))


def from_documents(docs, receipts, *, cash_like_kinds, day_from: str, day_to: str,
                   info: dict | None = None) -> list[VatFigures]:
    """The same figures from documents as sent to the organizer's server (any objects with
    `kind`, `lines` — `enterprise_id`, `enterprise_name`, `tax_class`, `tax_status`, `amount`
    — and `payments` — `method`, `kind`, `amount`, `enterprise_id` — and `own_terminals`,
    the enterprises that took cards on their own terminal), across tills: enterprises by name (the
    tills' ids differ), by the same rules as the till (`pos.domain.tax_parts` once per
    enterprise of a document, payments shared out by `pos.settlement.allocate`). `receipts`:
    (enterprise name, kind, state, amount) of the cash receipt requests of the period; `info`:
    {name: {"bizno": …}}."""
    from pos.domain import tax_parts
    from pos.settlement import allocate

    info = info or {}
    acc: dict[str, dict] = {}

    def firm(name: str, status: str) -> dict:
        e = acc.setdefault(name, {"status": status, "sales": 0, "refunds": 0, "taxable": 0,
                                  "supply": 0, "vat": 0, "exempt": 0, "card": 0, "cash": 0,
                                  "voucher": 0, "token": 0, "seen": {}})
        e["seen"].setdefault(str(status), None)
        e["status"] = str(status)  # the newest document's: the enterprise as it now is
        return e

    docs = sorted(docs, key=lambda doc: getattr(doc, "business_day", ""))  # by day: the statuses
    for doc in docs:
        names = {}
        by_enterprise: dict[str, int] = {}
        for ln in doc.lines:
            names[ln.enterprise_id] = ln.enterprise_name
            by_enterprise[ln.enterprise_id] = by_enterprise.get(ln.enterprise_id, 0) + ln.amount
            e = firm(ln.enterprise_name, ln.tax_status)
            e["sales" if doc.kind == "sale" else "refunds"] += ln.amount
        for part in tax_parts(doc.lines):
            e = firm(part.enterprise_name, part.tax_status)
            e["taxable"] += part.taxable_total
            e["supply"] += part.supply_value
            e["vat"] += part.vat
            e["exempt"] += part.exempt_total
        kinds = {pay.method: str(pay.kind) for pay in doc.payments}
        own = getattr(doc, "own_terminals", None) or ()
        for eid, by_method in allocate(by_enterprise, doc.payments, own).items():
            e = acc[names[eid]]
            for method, won in by_method.items():
                kind = kinds[method]
                group = ("cash" if kind in cash_like_kinds
                         else kind if kind in ("voucher", "token") else "card")
                e[group] += won
    issued: dict[str, list[int]] = {}
    for name, kind, state, amount in receipts:
        if state == "cancelled":
            continue
        v = issued.setdefault(name, [0, 0, 0, 0])
        signed = amount if kind == "issue" else -amount
        k = 0 if state == "issued" else 1
        v[k] += signed
        v[k + 2] += 1
    out = []
    for name in sorted(acc):
        e = acc[name]
        i, w, ni, nw = issued.get(name, (0, 0, 0, 0))
        supply, vat = _period_vat(e["taxable"], e["supply"], e["vat"], tuple(e["seen"]))
        out.append(VatFigures(
            name, name, (info.get(name) or {}).get("bizno") or "",
            (info.get(name) or {}).get("representative") or "", e["status"], day_from, day_to,
            e["sales"], e["refunds"], e["sales"] + e["refunds"], e["taxable"], supply,
            vat, e["exempt"], e["card"], i, w, e["cash"] - i - w, e["voucher"],
            e["token"], ni, nw, tuple(e["seen"])))
    return out
