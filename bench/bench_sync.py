"""Sync throughput against a local server on PostgreSQL (127.0.0.1:5432, database `test`).

Targets on the reference machine (2 cores): one device pushing sales (5 lines each) through
HTTP ≥ 5,000 sales/s end to end; replaying them all again ≥ 20,000 sales/s; 20 devices pushing
at once without errors; server memory flat over the run (it grows by at most 32 MB over the last
three quarters of the one-device push: a leak per event would show there); pulling a
10,000-product catalog ≤ 1 s.

    uv run python bench/bench_sync.py [--sales 100000] [--devices 20] [--sqlite]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import report  # noqa: E402


def _rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fill(store, sales: int) -> None:
    """`sales` sales of 5 lines, committed in batches (the till's own speed is benched
    elsewhere)."""
    from pos import services as svc
    from pos.demo import load_demo_catalog
    from pos.domain import Tender

    load_demo_catalog(store)
    with store.unit_of_work() as uow:
        products = svc.list_products(uow)[:5]
        items = [svc.SaleItem(p["id"], 1) for p in products]
        total = svc.quote_sale(uow, items=items).totals.total
    done = 0
    while done < sales:
        with store.unit_of_work() as uow:
            for _ in range(min(1000, sales - done)):
                svc.record_sale(uow, items=items, tenders=[Tender("card", total)])
            uow.commit()
        done += min(1000, sales - done)


def main() -> int:
    from pos.store import Store
    from sync import client
    from sync.server import service
    from sync.server.db import make_engine, migrate
    from tests.sync.conftest import _drop_postgres, _free_port, _postgres_url
    from tests.sync.test_sync_crashes import start_server

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=100_000)
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--sqlite", action="store_true")
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        pg = None
        if args.sqlite:
            url = f"sqlite:///{tmp}/server.db"
        else:
            pg, url = _postgres_url()
        engine = make_engine(url)
        migrate(engine)
        port = _free_port()
        proc = start_server(url, port)  # its own process, as deployed
        server_url = f"http://127.0.0.1:{port}"
        try:
            with engine.begin() as c:
                event = service.create_event(c, name="bench")

            def enrolled(name: str, sales: int) -> Store:
                store = Store(Path(tmp) / name)
                fill(store, sales)
                with engine.begin() as c:
                    stall = service.create_stall(c, event_id=event, name=name)
                    code = service.device_code(c, stall_id=stall)
                client.enroll(store, url=server_url, code=code)
                return store

            till = enrolled("one", args.sales)
            rss0 = _rss_mb(proc.pid)
            samples: list[float] = []
            sampling = threading.Event()

            def sample():  # the server's memory every 0.2 s while the one device pushes
                while not sampling.wait(0.2):
                    samples.append(_rss_mb(proc.pid))

            sampler = threading.Thread(target=sample)
            sampler.start()
            t0 = time.perf_counter()
            client.sync_now(till)
            elapsed = time.perf_counter() - t0
            sampling.set()
            sampler.join()
            ok &= report(f"push {args.sales} sales, one device", args.sales / elapsed,
                         "sales/s", limit=5000, higher_is_better=True)
            warm = samples[len(samples) // 4:] or [rss0]  # after the first quarter of the push
            ok &= report("server memory growth, last 3/4 of the push", warm[-1] - warm[0], "MB",
                         limit=32)
            from pos import services as svc

            with till.unit_of_work() as uow:  # the till forgets its ack (e.g. restored from a
                conf = client.settings(uow)   # backup) and sends everything again
                svc.set_setting(uow, "sync", {**conf, "acked_seq": 0})
                uow.commit()
            t0 = time.perf_counter()
            assert client.push_all(till) == client.sync_state(till).last_seq
            elapsed = time.perf_counter() - t0
            ok &= report("replay them all (already there)", args.sales / elapsed, "sales/s",
                         limit=20000, higher_is_better=True)
            till.close()
            per = max(100, args.sales // 100)
            tills = [enrolled(f"d{k}", per) for k in range(args.devices)]
            errors = []

            def push(store):
                try:
                    client.sync_now(store)
                except Exception as e:  # noqa: BLE001 - counted and reported
                    errors.append(repr(e))

            threads = [threading.Thread(target=push, args=(s,)) for s in tills]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t0
            report(f"{args.devices} devices × {per} sales at once", args.devices * per / elapsed,
                   "sales/s")
            ok &= report(f"errors with {args.devices} devices at once", len(errors), "errors",
                         limit=0)
            for s in tills:
                s.close()
            report("server memory growth over the whole run (4 pushes at once at most)",
                   _rss_mb(proc.pid) - rss0, "MB")
            # a stall with a 10,000-product catalog, pulled by a new till
            from sync import protocol as p

            with engine.begin() as c:
                stall = service.create_stall(c, event_id=event, name="big catalog")
                for k in range(10_000):
                    service.put_product(c, stall_id=stall, product=p.Product(
                        id=f"P{k:06d}", name=f"상품 {k}", price=1000 + k % 50 * 100,
                        tax_class="taxable", enterprise={"name": f"업체 {k % 15}"},
                        barcodes=[f"2{k:012d}"], hlc=f"{1795000000000 + k:013d}-00000-SRV"))
                code = service.device_code(c, stall_id=stall)
            fresh = Store(Path(tmp) / "fresh")
            client.enroll(fresh, url=server_url, code=code)
            t0 = time.perf_counter()
            while client.pull_once(fresh, limit=5000):
                pass
            ok &= report("pull a 10,000-product catalog", time.perf_counter() - t0, "s",
                         limit=1.0)
            fresh.close()
        finally:
            proc.kill()
            proc.wait(10)
            engine.dispose()
            if pg:
                _drop_postgres(pg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
