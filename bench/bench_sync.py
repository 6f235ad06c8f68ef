"""Sync throughput against a local server on PostgreSQL (127.0.0.1:5432, database `test`), the
server in its own process as deployed.

- Push: one device pushing sales (5 lines each) through HTTP, end to end, in sales/s, against
  PostgreSQL's COPY of the same rows — the events, documents, lines and payments the server
  stored for those sales, read back from it — into scratch tables of the same shape (columns,
  keys, indexes, foreign keys, compression), from this process, in transactions of as many
  events as the till's push batches. Target: push ≥ 0.40 × COPY's sales/s.
- Replay of every batch (the till forgot its ack; all "already there"): ≥ 3 × push's sales/s.
- Server memory over the last three quarters of the push grows by at most 32 MB (a leak per
  event would show there); 20 devices pushing at once without errors.
- Pulling a 10,000-product catalog: ≤ 1 s, beside a raw SELECT of the same rows in the same
  pages.

With --sqlite the server runs on SQLite, and the anchor is sqlite3's executemany of the same
rows with the server's pragmas.

    uv run python bench/bench_sync.py [--sales 100000] [--devices 20] [--sqlite] [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import finish, note, parser, report, rss_mb  # noqa: E402

# The server's tables that hold a pushed sale, and how to find one device's rows in each, in
# seq order (the order the server wrote them).
_STORED = {
    "device_events": ("FROM device_events x WHERE x.device_id = :d", "x.seq"),
    "documents": ("FROM documents x WHERE x.device_id = :d", "x.seq"),
    "document_lines": ("FROM document_lines x JOIN documents d ON d.id = x.document_id "
                       "WHERE d.device_id = :d", "d.seq, x.line_no"),
    "document_payments": ("FROM document_payments x JOIN documents d ON d.id = x.document_id "
                          "WHERE d.device_id = :d", "d.seq, x.n"),
}


def fill(store, sales: int) -> None:
    """`sales` sales of 5 lines, committed in batches (the till's own speed is benched
    elsewhere)."""
    from pos import services as svc
    from pos.demo import load_demo_catalog

    load_demo_catalog(store)
    with store.unit_of_work() as uow:
        if svc.current_shift(uow) is None:  # every sale belongs to a shift
            svc.open_shift(uow, float_amount=0)
        products = svc.list_products(uow)[:5]
        items = [svc.SaleItem(p["id"], 1) for p in products]
        from pos.demo import card_tenders

        tenders = card_tenders(uow, svc.quote_sale(uow, items=items))  # as the stall takes it
        uow.commit()
    done = 0
    while done < sales:
        with store.unit_of_work() as uow:
            for _ in range(min(1000, sales - done)):
                svc.record_sale(uow, items=items, tenders=tenders)
            uow.commit()
        done += min(1000, sales - done)


def stored_batches(engine, device_id: str, batch: int) -> list[dict[str, list[tuple]]]:
    """What the server stored for the device, table by table, cut into the push's batches
    (every `batch` events, with their documents' lines and payments)."""
    from sqlalchemy import text

    from sync.server import tables as st

    out: list[dict[str, list[tuple]]] = []
    with engine.connect() as c:
        seqs = [r[0] for r in c.execute(text(
            "SELECT seq FROM device_events WHERE device_id = :d ORDER BY seq"), {"d": device_id})]
        cut = {seq: k // batch for k, seq in enumerate(seqs)}
        for name, (source, order) in _STORED.items():
            cols = [col.name for col in st.metadata.tables[name].columns]
            seq = "x.seq" if "seq" in cols else "d.seq"
            rows = c.execute(text(f"SELECT {seq}, {', '.join('x.' + n for n in cols)} {source} "
                                  f"ORDER BY {order}"), {"d": device_id}).all()
            for row in rows:
                k = cut[row[0]]
                while len(out) <= k:
                    out.append({n: [] for n in _STORED})
                out[k][name].append(tuple(row[1:]))
    return out


def copy_anchor(engine, pg: str | None, batches: list[dict[str, list[tuple]]]) -> float:
    """Seconds to write `batches` into scratch tables shaped like the server's, one
    transaction per batch: COPY on PostgreSQL, executemany on SQLite."""
    from sync.server import tables as st

    names = {n: f"bench_{n}" for n in _STORED}
    if pg:
        import psycopg

        con = psycopg.connect(f"host=127.0.0.1 port=5432 dbname={pg} user=postgres")
        try:
            with con.transaction():
                for name, scratch in names.items():
                    con.execute(f"CREATE TABLE {scratch} (LIKE {name} INCLUDING ALL)")
                    for fk in st.metadata.tables[name].foreign_keys:
                        con.execute(f"ALTER TABLE {scratch} ADD FOREIGN KEY ({fk.parent.name}) "
                                    f"REFERENCES {fk.column.table.name} ({fk.column.name})")
            cols = {n: ", ".join(c.name for c in st.metadata.tables[n].columns) for n in names}
            t0 = time.perf_counter()
            for batch in batches:
                with con.transaction(), con.cursor() as cur:
                    for name, scratch in names.items():
                        with cur.copy(f"COPY {scratch} ({cols[name]}) FROM STDIN") as copy:
                            for row in batch[name]:
                                copy.write_row(row)
            elapsed = time.perf_counter() - t0
            with con.transaction():
                for scratch in names.values():
                    con.execute(f"DROP TABLE {scratch}")
        finally:
            con.close()
        return elapsed
    from common import PRAGMAS, raw_sqlite

    with engine.connect() as c:
        raw = c.connection.dbapi_connection
        pragmas = {n: raw.execute(f"PRAGMA {n}").fetchone()[0] for n in PRAGMAS}
        schema = {n: raw.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? "
                                 "AND sql IS NOT NULL ORDER BY type DESC", (n,)).fetchall()
                  for n in names}
    con = raw_sqlite(engine.url.database, pragmas)
    try:
        for name, scratch in names.items():
            for kind, obj, sql in schema[name]:  # the table, then its indexes
                head, _, rest = sql.partition("(")
                if kind == "table":
                    head = f"CREATE TABLE {scratch} "
                else:  # CREATE [UNIQUE] INDEX name ON table
                    head = head.split(" ON ")[0].replace(obj, f"bench_{obj}") + f" ON {scratch} "
                con.execute(f"{head}({rest}")
        sql = {n: f"INSERT INTO {s} VALUES ({', '.join('?' * len(st.metadata.tables[n].columns))})"
               for n, s in names.items()}
        t0 = time.perf_counter()
        for batch in batches:
            con.execute("BEGIN IMMEDIATE")
            for name in names:
                con.executemany(sql[name], batch[name])
            con.execute("COMMIT")
        elapsed = time.perf_counter() - t0
        for scratch in names.values():
            con.execute(f"DROP TABLE {scratch}")
    finally:
        con.close()
    return elapsed


def main() -> int:
    from sqlalchemy import text

    from pos.store import Store
    from sync import client
    from sync.server import service
    from sync.server.db import make_engine, migrate
    from tests.sync.conftest import _drop_postgres, _free_port, _postgres_url
    from tests.sync.test_sync_crashes import start_server

    ap = parser(__doc__)
    ap.add_argument("--sales", type=int, default=100_000)
    ap.add_argument("--devices", type=int, default=20)
    ap.add_argument("--products", type=int, default=10_000, help="in the pulled catalog")
    ap.add_argument("--sqlite", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.sales, args.devices, args.products = 2000, 4, 1000
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
            rss0 = rss_mb(proc.pid)
            samples: list[float] = []
            sampling = threading.Event()

            def sample():  # the server's memory every 0.2 s while the one device pushes
                while not sampling.wait(0.2):
                    samples.append(rss_mb(proc.pid))

            sampler = threading.Thread(target=sample)
            sampler.start()
            t0 = time.perf_counter()
            client.sync_now(till)
            elapsed = time.perf_counter() - t0
            sampling.set()
            sampler.join()
            push_rate = args.sales / elapsed

            # the anchor: the rows the server stored for those sales, written by COPY
            with till.unit_of_work(write=False) as uow:
                device_id = client.settings(uow)["device_id"]
            batches = stored_batches(engine, device_id, client.BATCH)
            copied = copy_anchor(engine, pg, batches)
            rows = sum(len(v) for b in batches for v in b.values())
            ok &= report(f"push {args.sales} sales, one device", push_rate, "sales/s",
                         args.sales / copied, ratio=0.40, higher_is_better=True)
            note(f"anchor: {'COPY' if pg else 'executemany'} of the {rows:,} rows the server "
                 f"stored ({', '.join(_STORED)}) in {len(batches)} transactions of "
                 f"{client.BATCH} events")
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
                         push_rate, ratio=3.0, higher_is_better=True)
            note("anchor: the push above")
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
            for e in errors[:3]:
                note(e)
            for s in tills:
                s.close()
            report("server memory growth, whole run",
                   rss_mb(proc.pid) - rss0, "MB")
            # a stall with a big catalog, pulled by a new till
            from sync import protocol as p

            with engine.begin() as c:
                stall = service.create_stall(c, event_id=event, name="big catalog")
                for k in range(args.products):
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
            pulled = time.perf_counter() - t0
            fresh.close()
            t0 = time.perf_counter()
            with engine.connect() as c:
                after, got = 0, 0
                while True:
                    page = c.execute(text(
                        "SELECT version, body FROM catalog WHERE stall_id = :s AND version > :a "
                        "ORDER BY version LIMIT 5001"), {"s": stall, "a": after}).all()
                    got += len(page[:5000])
                    if len(page) <= 5000:
                        break
                    after = page[4999][0]
            selected = time.perf_counter() - t0
            assert got == args.products, got
            ok &= report(f"pull a {args.products:,}-product catalog", pulled, "s", selected,
                         limit=1.0 if args.products == 10_000 else None)
            note("anchor: SELECT of the same rows in the same pages of 5,000")
        finally:
            proc.kill()
            proc.wait(10)
            engine.dispose()
            if pg:
                _drop_postgres(pg)
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
