"""Settlement figures: pure functions from a shift's (or a day's) documents to the numbers every
report shows — X and Z reports, the Shift screen, the per-enterprise statements, exports.

Rules (all in won, all through `pos.rounding`):
- gross = Σ subtotal of sales; discounts = Σ line and receipt discounts of sales;
  sales = gross − discounts; voids and refunds are the (negative) totals of those documents;
  net = sales + voids + refunds. The same net comes out by payment method and by enterprise.
- Each document's payments are shared out to its enterprises in proportion to what each sold
  on it (`rounding.spread`, one payment after the other, the last one taking what is left), so
  every enterprise's card, voucher and cash amounts add up to its net and every method's total.
  A card taken on an enterprise's own terminal is that enterprise's; a card on the stall's
  terminal is shared only over the enterprises that use the stall's (`allocate`).
- Commission = net × rate, half up (`rounding.half_up`); payout = net − commission.
- Expected cash = float + cash taken − change given − cash refunds + cash in − cash out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from pos.domain import TaxBreakdown
from pos.rounding import half_up, spread

DENOMINATIONS = (50000, 10000, 5000, 1000, 500, 100, 50, 10)


def count_total(counts: dict[int, int]) -> int:
    """The cash in a count by denomination ({50000: 3, 1000: 12, …})."""
    total = 0
    for denom, n in counts.items():
        if int(denom) not in DENOMINATIONS:
            raise ValueError(f"not a Korean note or coin: {denom}")
        if int(n) < 0:
            raise ValueError("a count cannot be negative")
        total += int(denom) * int(n)
    return total


@dataclass(frozen=True, slots=True)
class SaleRow:
    id: str
    kind: str
    receipt_no: str
    created_at: str
    subtotal: int
    line_discount: int
    receipt_discount: int
    total: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    change: int
    staff_name: str | None = None


@dataclass(frozen=True, slots=True)
class LineRow:
    sale_id: str
    product_id: str | None
    name: str
    enterprise_id: str
    enterprise_name: str
    qty: int
    amount: int


@dataclass(frozen=True, slots=True)
class PayRow:
    sale_id: str
    method: str
    kind: str
    amount: int
    tendered: int
    change: int
    enterprise_id: str | None = None  # a card on that enterprise's own terminal


@dataclass(frozen=True, slots=True)
class PartRow:
    sale_id: str
    enterprise_id: str
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    tax_status: str = "general"
    own_terminal: bool = False  # the enterprise took its cards on its own terminal

    @property
    def simplified_total(self) -> int:
        return self.taxable_total if self.tax_status == "simplified" else 0


@dataclass(frozen=True, slots=True)
class EnterpriseInfo:
    id: str
    name: str
    commission_bp: int = 0


@dataclass(frozen=True, slots=True)
class MethodFigures:
    method: str
    count: int  # payments on sales
    amount: int  # net: sales minus refunds, change taken off
    refund_count: int
    refund_amount: int  # negative


class _Taxed:
    """Figures with a VAT breakdown (`supply_value`, `vat`, `exempt_total`,
    `simplified_total`): `tax` is it as every page shows it."""

    __slots__ = ()

    @property
    def tax(self) -> TaxBreakdown:
        return TaxBreakdown.of(supply_value=self.supply_value, vat=self.vat,
                               exempt_total=self.exempt_total,
                               simplified_total=self.simplified_total)


@dataclass(frozen=True, slots=True)
class EnterpriseFigures(_Taxed):
    enterprise_id: str
    name: str
    sales: int
    refunds: int  # voids and refunds, negative
    net: int
    commission_bp: int
    commission: int
    payout: int
    qty_sold: int
    qty_returned: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    by_method: dict[str, int] = field(default_factory=dict)
    simplified_total: int = 0
    # cash receipts (현금영수증) asked for its cash-like part, less cancellations: to issue or issued
    cash_receipts: int = 0


@dataclass(frozen=True, slots=True)
class ProductFigures:
    name: str
    enterprise_id: str
    enterprise_name: str
    qty: int  # net of returns
    amount: int
    qty_sold: int = 0
    qty_returned: int = 0
    amount_sold: int = 0
    amount_returned: int = 0


@dataclass(frozen=True, slots=True)
class StockFigures:
    """A tracked product's goods in the period, on this till: what came from its enterprise,
    what was sold (net of returns), what went back to the enterprise, and what counts found
    missing (or over, below 0), beside the stock as this till knows it now (not at the end of
    the period, and the stall's: the other tills' sales are in it)."""

    product_id: str
    name: str
    enterprise_id: str
    enterprise_name: str
    received: int
    sold: int
    returned: int
    missing: int
    stock: int | None


@dataclass(frozen=True, slots=True)
class HourFigures:
    hour: int
    receipts: int
    amount: int


@dataclass(frozen=True, slots=True)
class StaffFigures:
    """What one person recorded in the period (staff accounts on): receipts, their sales,
    the voids and refunds they gave (negative), net, and the cash that went through their hands
    (cash taken − change given + cash paid back)."""

    name: str
    receipts: int
    sales: int
    returns: int
    net: int
    cash: int


@dataclass(frozen=True, slots=True)
class CashFigures:
    float: int
    cash_taken: int
    change_given: int
    cash_refunds: int
    cash_in: int
    cash_out: int
    expected: int
    counted: int | None = None
    difference: int | None = None


@dataclass(frozen=True, slots=True)
class Settlement(_Taxed):
    gross: int
    discounts: int
    sales_total: int
    voids: int
    refunds: int
    net: int
    taxable_total: int
    supply_value: int
    vat: int
    exempt_total: int
    receipt_count: int
    void_count: int
    refund_count: int
    average_sale: int
    methods: list[MethodFigures]
    enterprises: list[EnterpriseFigures]
    products: list[ProductFigures]
    hours: list[HourFigures]
    cash: CashFigures | None = None
    stock: list[StockFigures] = field(default_factory=list)
    simplified_total: int = 0
    staff: list[StaffFigures] = field(default_factory=list)  # by name; none without accounts


def staff_figures(rows: dict[str, list[int]]) -> list[StaffFigures]:
    """{name: [receipts, sales, returns, cash]} as figures, by name."""
    return [StaffFigures(name, v[0], v[1], v[2], v[1] + v[2], v[3])
            for name, v in sorted(rows.items())]


def cash_figures(sales: list[SaleRow], payments: list[PayRow], *, float_amount: int,
                 cash_in: int = 0, cash_out: int = 0, counted: int | None = None) -> CashFigures:
    kinds = {s.id: s.kind for s in sales}
    taken = change = refunds = 0
    for p in payments:
        if kinds.get(p.sale_id) == "sale":
            change += p.change
            if p.kind == "cash":
                taken += p.tendered
        elif p.kind == "cash":
            refunds += -p.amount
    expected = float_amount + taken - change - refunds + cash_in - cash_out
    return CashFigures(float_amount, taken, change, refunds, cash_in, cash_out, expected, counted,
                       None if counted is None else counted - expected)


def allocate(by_enterprise: dict[str, int], payments, own=()) -> dict[str, dict[str, int]]:
    """Share a document's payments out to its enterprises (see the module's rules): {enterprise
    id: {method: won}}. Any payments with `method` and `amount` will do; the settlement, the
    cash receipts (`pos.services.cash_receipts`) and the VAT figures share out by this one rule,
    so they agree.

    Card terminals (a joint stall where some enterprises take cards on their own terminal):
    a payment whose `enterprise_id` names one of the document's enterprises went through that
    enterprise's terminal and is its own (up to its part); an untied card payment went through
    the stall's terminal and is shared only over the enterprises not in `own` (those that take
    cards on their own terminal); every other payment is shared over what is left of everyone.
    Tied payments are taken first, then the stall's cards, then the rest in their order; the
    last one takes what is left, so the sums stay exact whatever a till sent. With nothing
    tied and nobody own, this is the plain rule: one payment after the other in proportion."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ids = list(by_enterprise)
    sign = -1 if sum(by_enterprise.values()) < 0 else 1
    remaining = [abs(by_enterprise[e]) for e in ids]
    index = {e: i for i, e in enumerate(ids)}
    own = {e for e in own if e in index}

    def tied(p):
        return index.get(getattr(p, "enterprise_id", None))

    def stall_card(p):
        return own and tied(p) is None and str(getattr(p, "kind", "")) == "card"

    ordered = ([p for p in payments if tied(p) is not None]
               + [p for p in payments if tied(p) is None and stall_card(p)]
               + [p for p in payments if tied(p) is None and not stall_card(p)])
    everyone = list(range(len(ids)))
    others = [i for i in everyone if ids[i] not in own]
    for k, p in enumerate(ordered):
        amount = abs(p.amount)
        if k == len(ordered) - 1:
            shares = list(remaining)
        else:
            t = tied(p)
            eligible = [t] if t is not None else others if stall_card(p) else everyone
            if eligible == everyone:
                shares = spread(amount, remaining) if sum(remaining) else [0] * len(ids)
            else:
                shares = [0] * len(ids)
                room = sum(remaining[i] for i in eligible)
                if room:
                    part = spread(min(amount, room), [remaining[i] for i in eligible])
                    for i, won in zip(eligible, part):
                        shares[i] = won
                excess = amount - sum(shares)  # more than its enterprises had left
                if excess:
                    rest = [remaining[i] - shares[i] for i in everyone]
                    weights = rest if sum(rest) else [abs(by_enterprise[e]) for e in ids]
                    shares = [a + b for a, b in zip(shares, spread(excess, weights))]
        for i, e in enumerate(ids):
            out[e][p.method] += sign * shares[i]
            remaining[i] -= shares[i]
    return out


def method_sort_key(order: list[str] | None):
    """Payment methods in the till's configured order, unknown ones after, by code."""
    rank = {m: i for i, m in enumerate(order or [])}
    return lambda code: (rank.get(code, len(rank)), code)


def settle(sales: list[SaleRow], lines: list[LineRow], payments: list[PayRow],
           parts: list[PartRow], enterprises: dict[str, EnterpriseInfo], *,
           cash: CashFigures | None = None, method_order: list[str] | None = None,
           cash_receipts: list[tuple] | None = None) -> Settlement:
    """The reference computation of every figure, from the documents' rows. The store computes
    the same figures with SQL sums (`pos.services.shifts`); a test holds the two together.
    `cash_receipts`: (document id, enterprise id, signed won) of the requests in force."""
    kind = {s.id: s.kind for s in sales}
    is_sale = {s.id: s.kind == "sale" for s in sales}
    sale_docs = [s for s in sales if s.kind == "sale"]
    gross = sum(s.subtotal for s in sale_docs)
    discounts = sum(s.line_discount + s.receipt_discount for s in sale_docs)
    voids = sum(s.total for s in sales if s.kind == "void")
    refunds = sum(s.total for s in sales if s.kind == "refund")

    methods: dict[str, list[int]] = {}
    pays_by_doc: dict[str, list[PayRow]] = defaultdict(list)
    for p in payments:
        if p.sale_id not in kind:
            continue
        pays_by_doc[p.sale_id].append(p)
        m = methods.setdefault(p.method, [0, 0, 0, 0])
        if is_sale[p.sale_id]:
            m[0] += 1
            m[1] += p.amount
        else:
            m[2] += 1
            m[3] += p.amount

    ent: dict[str, dict] = {}
    lines_by_doc: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    products: dict[tuple, list] = {}
    for ln in lines:
        if ln.sale_id not in kind:
            continue
        e = ent.setdefault(ln.enterprise_id, {"name": ln.enterprise_name, "sales": 0,
                                              "refunds": 0, "qty_sold": 0, "qty_returned": 0,
                                              "taxable": 0, "supply": 0, "vat": 0, "exempt": 0,
                                              "simplified": 0, "by_method": defaultdict(int)})
        e["name"] = min(e["name"], ln.enterprise_name)
        if is_sale[ln.sale_id]:
            e["sales"] += ln.amount
            e["qty_sold"] += ln.qty
        else:
            e["refunds"] += ln.amount
            e["qty_returned"] += -ln.qty
        lines_by_doc[ln.sale_id][ln.enterprise_id] += ln.amount
        key = (ln.product_id or ln.name, ln.enterprise_id)
        prod = products.setdefault(key, [ln.name, ln.enterprise_id, ln.enterprise_name,
                                         0, 0, 0, 0, 0, 0])
        prod[0] = min(prod[0], ln.name)
        prod[2] = min(prod[2], ln.enterprise_name)
        prod[3] += ln.qty
        prod[4] += ln.amount
        if is_sale[ln.sale_id]:
            prod[5] += ln.qty
            prod[7] += ln.amount
        else:
            prod[6] += -ln.qty
            prod[8] += ln.amount
    people: dict[str, list[int]] = {}
    for doc in sales:
        if doc.staff_name is None:
            continue
        v = people.setdefault(doc.staff_name, [0, 0, 0, 0])
        if doc.kind == "sale":
            v[0] += 1
            v[1] += doc.total
        else:
            v[2] += doc.total
        for p in pays_by_doc.get(doc.id, []):
            if doc.kind == "sale":
                v[3] += (p.tendered if p.kind == "cash" else 0) - p.change
            elif p.kind == "cash":
                v[3] += p.amount
    own_by_doc: dict[str, set] = defaultdict(set)
    for part in parts:
        if part.own_terminal:
            own_by_doc[part.sale_id].add(part.enterprise_id)
    for doc_id, amounts in lines_by_doc.items():
        for enterprise_id, by_method in allocate(amounts, pays_by_doc.get(doc_id, []),
                                                 own_by_doc.get(doc_id, ())).items():
            for method, value in by_method.items():
                ent[enterprise_id]["by_method"][method] += value
    for doc_id, enterprise_id, won in cash_receipts or ():
        if doc_id in kind and enterprise_id in ent:
            ent[enterprise_id]["cash_receipts"] = ent[enterprise_id].get("cash_receipts", 0) + won
    for part in parts:
        if part.sale_id in kind and part.enterprise_id in ent:
            e = ent[part.enterprise_id]
            e["taxable"] += part.taxable_total
            e["supply"] += part.supply_value
            e["vat"] += part.vat
            e["exempt"] += part.exempt_total
            e["simplified"] += part.simplified_total

    return assemble(
        gross=gross, discounts=discounts, voids=voids, refunds=refunds,
        taxable_total=sum(s.taxable_total for s in sales),
        supply_value=sum(s.supply_value for s in sales), vat=sum(s.vat for s in sales),
        exempt_total=sum(s.exempt_total for s in sales),
        simplified_total=sum(p.simplified_total for p in parts if p.sale_id in kind),
        receipt_count=len(sale_docs),
        void_count=sum(1 for s in sales if s.kind == "void"),
        refund_count=sum(1 for s in sales if s.kind == "refund"),
        methods={m: tuple(v) for m, v in methods.items()},
        enterprises={k: {**v, "by_method": dict(v["by_method"])} for k, v in ent.items()},
        products=[tuple(v) for v in products.values()],
        hours=_hours(sales), infos=enterprises, cash=cash, method_order=method_order,
        staff=staff_figures(people))


def _hours(sales: list[SaleRow]) -> dict[int, tuple[int, int]]:
    hours: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for s in sales:
        h = datetime.fromisoformat(s.created_at).hour
        hours[h][1] += s.total
        if s.kind == "sale":
            hours[h][0] += 1
    return {h: (v[0], v[1]) for h, v in hours.items()}


def assemble(*, gross: int, discounts: int, voids: int, refunds: int, taxable_total: int,
             supply_value: int, vat: int, exempt_total: int, receipt_count: int, void_count: int,
             refund_count: int, methods: dict[str, tuple], enterprises: dict[str, dict],
             products: list[tuple], hours: dict[int, tuple[int, int]],
             infos: dict[str, EnterpriseInfo], cash: CashFigures | None = None,
             method_order: list[str] | None = None, simplified_total: int = 0,
             staff: list[StaffFigures] | None = None) -> Settlement:
    """The `Settlement` from summed parts, in one canonical order, whoever summed them.

    methods: {code: (sale count, sale amount, refund count, refund amount)};
    enterprises: {id: {name, sales, refunds, qty_sold, qty_returned, taxable, supply, vat,
    exempt, simplified, by_method}}; products: (name, enterprise id, enterprise name, qty, amount,
    qty sold, qty returned, amount sold, amount returned); hours: {hour: (receipts, amount)}."""
    ent = enterprises
    enterprise_figures = []
    for enterprise_id, e in sorted(ent.items(), key=lambda kv: (
            infos[kv[0]].name if kv[0] in infos else kv[1]["name"], kv[0])):
        info = infos.get(enterprise_id)
        bp = info.commission_bp if info else 0
        net = e["sales"] + e["refunds"]
        commission = half_up(net * bp, 10000)
        enterprise_figures.append(EnterpriseFigures(
            enterprise_id, info.name if info else e["name"], e["sales"], e["refunds"], net, bp,
            commission, net - commission, e["qty_sold"], e["qty_returned"], e["taxable"],
            e["supply"], e["vat"], e["exempt"],
            {m: v for m, v in sorted(e["by_method"].items()) if v}, e.get("simplified", 0),
            e.get("cash_receipts", 0)))
    sales_total = gross - discounts
    key = method_sort_key(method_order)
    return Settlement(
        gross=gross, discounts=discounts, sales_total=sales_total, voids=voids, refunds=refunds,
        net=sales_total + voids + refunds, taxable_total=taxable_total,
        supply_value=supply_value, vat=vat, exempt_total=exempt_total,
        simplified_total=simplified_total, receipt_count=receipt_count, void_count=void_count, refund_count=refund_count,
        average_sale=half_up(sales_total, receipt_count) if receipt_count else 0,
        methods=[MethodFigures(m, v[0], v[1] + v[3], v[2], v[3])
                 for m, v in sorted(methods.items(), key=lambda kv: key(kv[0]))],
        enterprises=enterprise_figures,
        products=sorted((ProductFigures(*v) for v in products),
                        key=lambda p: (-p.amount, p.name, p.enterprise_id)),
        hours=[HourFigures(h, v[0], v[1]) for h, v in sorted(hours.items())],
        cash=cash, staff=list(staff or []))


def breakdown(amount: int) -> dict[int, int]:
    """The fewest notes and coins for `amount` (multiples of 10 won): a count for tests, demos
    and the "count as expected" button."""
    if amount < 0 or amount % 10:
        raise ValueError("amount must be a non-negative multiple of 10 won")
    counts = {}
    for denom in DENOMINATIONS:
        counts[denom], amount = divmod(amount, denom)
    return {d: n for d, n in counts.items() if n}
