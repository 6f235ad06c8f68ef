"""The demo stall: a joint stall of six social-economy enterprises and a market day of sales.

Deterministic for a seed and a date: the same command gives the same receipts and amounts
(identifiers stay unique, as on real tills). Every sale is committed on its own, as at a real till.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from pos import bizno
from pos import tables as t
from pos.clock import SteppingClock
from pos.domain import (CartItem, Discount, DomainError, TaxClass, TaxStatus, Tender,
                        price_cart)
from pos.services import (SaleItem, add_category, current_shift, open_shift, add_enterprise, add_product, list_products,
                          record_sale, refund_sale, save_settings, void_sale)
from pos.store import Store

STORE_IDENTITY = {
    "name": "우리동네 사회적경제 공동판매장",
    "bizno": "",
    "representative": "",
    "address": "서울특별시 중구 세종대로 110 시청 앞 광장",
    "phone": "02-000-0000",
}

# (trade name, first nine digits of the registration number, representative, address, phone,
#  tax status, commission basis points, category, products: (name, price, exempt?, barcode?));
# the coffee cooperative takes its cards on its own terminal (OWN_TERMINAL)
OWN_TERMINAL = "다온커피협동조합"
ENTERPRISES = [
    ("꿈드림공예협동조합", "101810123", "김하늘", "서울특별시 종로구 창신길 12", "02-741-1201",
     "general", 1000, "공예", [
         ("천연 수제비누", 6000, False, True), ("라벤더 향초", 12000, False, True),
         ("한지 필통", 8000, False, False), ("자개 열쇠고리", 9000, False, True),
         ("누비 파우치", 15000, False, False), ("매듭 팔찌", 7000, False, False),
         ("도자기 머그컵", 18000, False, True)]),
    ("햇살마을기업", "214860456", "이보람", "경기도 양평군 양서면 용담리 45", "031-771-4502",
     "general", 800, "가공식품", [
         ("유기농 현미 누룽지", 5000, False, True), ("수제 딸기잼", 9000, False, True),
         ("참기름 300ml", 15000, False, True), ("들기름 300ml", 14000, False, False),
         ("도라지청", 22000, False, False), ("무농약 쌀 2kg", 11000, True, True),
         ("햇감자 1kg", 4000, True, False)]),
    ("늘푸른영농조합법인", "312810789", "박들녘", "충청남도 홍성군 홍동면 운월리 8", "041-632-7703",
     "exempt", 500, "농산물", [
         ("친환경 방울토마토", 6000, True, False), ("표고버섯 500g", 10000, True, True),
         ("잡곡 혼합 1kg", 9000, True, True), ("유정란 10구", 7000, True, False),
         ("햇사과 2kg", 15000, True, False), ("단호박", 3000, True, False)]),
    ("온새미로 사회적기업", "220881234", "최온유", "서울특별시 성동구 성수이로 77", "02-463-2204",
     "general", 1200, "생활용품", [
         ("대나무 칫솔", 3000, False, True), ("소창 행주 3장", 9000, False, True),
         ("삼베 수세미", 4000, False, False), ("고체 설거지바", 7000, False, True),
         ("면 장바구니", 12000, False, False), ("밀랍 랩", 11000, False, True),
         ("재생지 노트", 5000, False, False)]),
    ("손끝공방", "104120567", "정다은", "서울특별시 중구 을지로 157", "010-2345-6789",
     "simplified", 1500, "액세서리", [
         ("은 반지", 25000, False, False), ("원석 귀걸이", 18000, False, False),
         ("가죽 카드지갑", 28000, False, True), ("자수 브로치", 13000, False, False),
         ("꽃 머리핀", 6000, False, False), ("가죽 키링", 9000, False, False)]),
    ("다온커피협동조합", "617810345", "한다온", "부산광역시 해운대구 센텀로 21", "051-744-3305",
     "general", 1000, "음료·간식", [
         ("드립백 커피 5개입", 7500, False, True), ("콜드브루 원액", 13500, False, True),
         ("수제 쿠키", 2500, False, False), ("쌀 마들렌", 3000, False, False),
         ("유자차", 4000, False, False), ("아메리카노", 3500, False, False),
         ("식혜", 3000, False, False)]),
]


def _ean13(rng: random.Random) -> str:
    digits = [8, 8, 0] + [rng.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits + [check]))


# 100,000 won of change to start the day: 5 × 10,000, 6 × 5,000, 15 × 1,000, 10 × 500
DEMO_FLOAT = {10000: 5, 5000: 6, 1000: 15, 500: 10}


class DemoNotEmpty(RuntimeError):
    code = "demo_not_empty"
    params: dict = {}


def load_demo_catalog(store: Store, *, seed: int = 1) -> int:
    """The stall's enterprises and products (skipped if the catalog has any enterprise).
    Returns the number of products added."""
    rng = random.Random(f"catalog-{seed}")
    with store.unit_of_work() as uow:
        if uow.conn.execute(select(func.count()).select_from(t.enterprises)).scalar():
            return 0
        save_settings(uow, store=STORE_IDENTITY)
        n = 0
        for name, nine, rep, addr, phone, status, bp, category, products in ENTERPRISES:
            eid = add_enterprise(uow, name=name, bizno=bizno.with_check_digit(nine),
                                 representative=rep, address=addr, phone=phone,
                                 tax_status=status, commission_bp=bp,
                                 card_terminal="own" if name == OWN_TERMINAL else "stall")
            cid = add_category(uow, name=category)
            for k, (pname, price, exempt, barcoded) in enumerate(products, start=1):
                add_product(uow, name=pname, price=price, enterprise_id=eid,
                            tax_class="exempt" if exempt else "taxable",
                            sku=f"{nine[:3]}-{k:03d}", category_id=cid,
                            barcodes=[_ean13(rng)] if barcoded else [],
                            stock=None)
                n += 1
        uow.commit()
    return n


def _tenders(rng: random.Random, total: int) -> list[Tender]:
    roll = rng.random()
    if roll < 0.35:
        step = rng.choice([1000, 5000, 10000, 10000, 50000])
        return [Tender("cash", -(-total // step) * step)]
    if roll < 0.70:
        return [Tender("card", total, approval_no=f"{rng.randrange(10**8):08d}")]
    if roll < 0.80:
        return [Tender("qr", total)]
    if roll < 0.85:
        return [Tender("transfer", total)]
    if roll < 0.95 and total > 5000:
        face = 10000 if total > 10000 else 5000
        rest = total - face
        cash = -(-rest // 1000) * 1000 if rest > 0 else 0
        return [Tender("local_voucher", face)] + ([Tender("cash", cash)] if cash else [])
    face = -(-total // 5000) * 5000
    if total * 10 >= face * 6:
        return [Tender("onnuri", face)]
    return [Tender("cash", total)]


def card_tenders(uow, priced, approval_no: str | None = None) -> list[Tender]:
    """A whole sale paid by card as a joint stall takes it: each enterprise that takes cards on
    its own terminal its part on that terminal, the rest on the stall's (one card when nobody
    has a terminal of its own)."""
    from pos.services.sales import terminals_of

    own = terminals_of(uow)
    parts: dict[str, int] = {}
    for ln in priced.lines:
        parts[ln.enterprise_id] = parts.get(ln.enterprise_id, 0) + ln.amount
    tied = [Tender("card", won, approval_no=(approval_no or "")[::-1] or None, terminal=eid)
            for eid, won in parts.items() if eid in own and won > 0]
    rest = priced.totals.total - sum(x.amount for x in tied)
    return tied + ([Tender("card", rest, approval_no=approval_no)] if rest > 0 else [])


def run_demo(store: Store, *, sales: int = 300, seed: int = 1, day: date | None = None,
             progress=None) -> dict:
    """Fill an empty store with the demo stall and a market day of `sales` sales from 10:00 to
    18:00, with mixed and split payments, a few refunds and a few voids."""
    with store.unit_of_work(write=False) as uow:
        if uow.conn.execute(select(func.count()).select_from(t.sales)).scalar():
            raise DemoNotEmpty()
    load_demo_catalog(store, seed=seed)
    rng = random.Random(seed)
    asks = random.Random(f"cash-receipts-{seed}")  # its own: the sales stay those of the seed
    now = store.clock.now()
    # by default the newest market day already over (today after 18:00, else yesterday): a
    # day stamped later than now would make every real sale today say the clock is behind
    day = day or (now.date() if now.hour >= 18 else now.date() - timedelta(days=1))
    tz = now.tzinfo
    start = datetime.combine(day, time(10, 0), tzinfo=tz)
    span = timedelta(hours=8).total_seconds()
    saved_clock = store.clock
    clock = SteppingClock(start)
    # the day's contents follow the seed; identifiers stay random, so two tills that ran the
    # same demo never send the organizer's server clashing document ids
    store.clock = clock
    try:
        clock.set(start - timedelta(minutes=30))
        with store.unit_of_work() as uow:
            if current_shift(uow) is None:  # the day starts with a counted float
                open_shift(uow, counts=DEMO_FLOAT)
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            products = [p for p in list_products(uow, active_only=True)]
        products.sort(key=lambda p: p["sku"] or p["name"])
        by_id = {p["id"]: p for p in products}
        weights = [3 if p["price"] <= 8000 else 1 for p in products]
        done = {"sales": 0, "refunds": 0, "voids": 0}
        recent: list[str] = []
        for i in range(sales):
            clock.set(start + timedelta(seconds=span * i / max(sales, 1) + rng.randrange(0, 3)))
            picks = rng.choices(products, weights, k=rng.choice([1, 1, 2, 2, 3, 4]))
            items = {}
            for p in picks:
                qty = items.get(p["id"], (0,))[0] + rng.choice([1, 1, 1, 2])
                items[p["id"]] = (qty, p["price"])
            lines = []
            for pid, (qty, price) in items.items():
                ld = (price * qty // 10 // 100 * 100) if rng.random() < 0.05 else 0
                lines.append(SaleItem(pid, qty, ld))
            discount = None
            if rng.random() < 0.05:
                discount = rng.choice([Discount.percent(10), Discount.amount(1000)])
            gross = sum(it.qty * items[it.product_id][1] - it.line_discount for it in lines)
            if discount and discount.kind == "amount" and int(discount.value) > gross:
                discount = None
            with store.unit_of_work() as uow:
                priced = price_cart([_cart_item(by_id[it.product_id], it) for it in lines],
                                    discount)
                priced_total = priced.totals.total
                ask = None
                if asks.random() < 0.15:  # some customers ask for a cash receipt
                    from pos.services.cash_receipts import Ask

                    ask = Ask(f"010-{asks.randrange(2000, 9999)}-{asks.randrange(1000, 9999)}")
                tenders = _tenders(rng, priced_total)
                if [x.method for x in tenders] == ["card"]:  # on the terminals that take it
                    tenders = card_tenders(uow, priced, tenders[0].approval_no)
                doc = record_sale(uow, items=lines, tenders=tenders,
                                  discount=discount, receipt_requested=rng.random() < 0.3,
                                  cash_receipt=ask)
                uow.commit()
            done["sales"] += 1
            recent.append(doc.id)
            roll = rng.random()
            if roll < 0.01 and recent:
                with store.unit_of_work() as uow:
                    void_sale(uow, sale_id=recent.pop(), reason="잘못 입력한 판매")
                    uow.commit()
                done["voids"] += 1
            elif roll < 0.025 and len(recent) > 5:
                target = recent.pop(rng.randrange(len(recent) - 5))
                with store.unit_of_work() as uow:
                    try:
                        refund_sale(uow, sale_id=target, quantities={1: 1},
                                    method=rng.choice(["cash", "card"]), reason="고객 변심")
                        uow.commit()
                        done["refunds"] += 1
                    except DomainError:
                        pass
            if progress and i % 100 == 0:
                progress(i, sales)
        return done
    finally:
        store.clock = saved_clock


def _cart_item(product: dict, item: SaleItem) -> CartItem:
    """The demo prices a cart itself to choose the tenders before it records the sale."""
    return CartItem(name=product["name"], unit_price=product["price"], qty=item.qty,
                    enterprise_id=product["enterprise_id"],
                    enterprise_name=product["enterprise_name"],
                    tax_class=TaxClass(product["tax_class"]),
                    tax_status=TaxStatus(product["tax_status"]), line_discount=item.line_discount)
