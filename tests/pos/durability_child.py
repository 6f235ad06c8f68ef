"""Sells in a loop on a data directory and reports each document once its commit returned.

Run by tests/pos/test_durability.py, which kills this process with SIGKILL at random moments.
"""

import json
import random
import sys

from pos import services as s
from pos.demo import card_tenders
from pos.domain import DomainError, Tender
from pos.store import Store
from tests.conftest import in_shift


def main() -> None:
    data_dir, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    store = Store(data_dir)
    with store.unit_of_work(write=False) as uow:
        products = s.list_products(uow, active_only=True)
    sold = []
    while True:
        picks = rng.sample(products, rng.randint(1, 5))
        items = [s.SaleItem(p["id"], rng.randint(1, 3)) for p in picks]
        with store.unit_of_work() as uow:
            priced = s.quote_sale(uow, items=items)
            total = priced.totals.total
            if rng.random() < 0.5:  # on the terminals a joint stall takes cards on
                tenders = card_tenders(uow, priced, str(rng.randrange(10**8)))
            else:
                voucher = min(5000, total)
                tenders = [Tender("local_voucher", voucher)]
                if total > voucher:
                    tenders.append(Tender("cash", total - voucher + rng.choice([0, 500, 1000])))
            in_shift(uow)
            doc = s.record_sale(uow, items=items, tenders=tenders)
            if sold and rng.random() < 0.1:
                target = sold.pop(rng.randrange(len(sold)))
                try:
                    back = s.refund_sale(uow, sale_id=target, quantities={1: 1}, method="cash")
                except DomainError:
                    back = None
            else:
                back = None
            uow.commit()
        sold.append(doc.id)
        for d in filter(None, (doc, back)):
            print(json.dumps({"id": d.id, "receipt_no": d.receipt_no, "total": d.totals.total,
                              "lines": len(d.lines), "payments": len(d.payments),
                              "seq": d.seq}), flush=True)


if __name__ == "__main__":
    main()
