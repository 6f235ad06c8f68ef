"""`jangteo demo --sales 10000` from an empty data directory, each sale committed on its own,
against the raw engine committing the same documents as durably.

Figure: the whole command, process start to exit (imports, migrations, the demo catalog, then
every sale, void and refund in its own transaction).
Anchor: stdlib sqlite3, with the store's pragmas, writing the very rows the demo left behind —
each document's sale, lines, payments, VAT parts, outbox entry and whatever else points at it
— one `BEGIN IMMEDIATE … COMMIT` per document, in the demo's order, into a copy of the demo's
file emptied of its documents (the catalog and shift are put there first, untimed; the rows
are read before the clock starts).
Target: ≤ 4 × the raw transactions (a sale's commit is held to 3 × raw; the demo also makes
up every cart and pays for its process start).

    uv run python bench/bench_demo.py [--sales 10000] [--quick]
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, columns, finish, insert_sql, note, parser, raw_sqlite,  # noqa: E402
                    report, store_pragmas, user_tables)


def document_tables(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, the column naming the document) for every table with rows per document, in
    insert order: `sales` by its id, the others by `sale_id` or `document_id`."""
    out = []
    for table in user_tables(con):
        names = [c[0] for c in columns(con, table)]
        if table == "sales":
            out.append((table, "id"))
        elif "sale_id" in names:
            out.append((table, "sale_id"))
        elif "document_id" in names:
            out.append((table, "document_id"))
    return out


def documents(db: Path) -> tuple[list[tuple[str, str]], list[list[tuple[str, list[tuple]]]]]:
    """The tables that hold the demo's documents, and the documents in outbox order, each as
    its rows table by table."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = document_tables(con)
        by_doc: dict[str, list[tuple[str, list[tuple]]]] = {}
        for table, key in tables:
            names = [c[0] for c in columns(con, table)]
            sql = insert_sql(table, names)
            k = names.index(key)
            grouped: dict[str, list[tuple]] = {}
            for row in con.execute(f"SELECT {', '.join(names)} FROM {table} "
                                   f"WHERE {key} IS NOT NULL ORDER BY rowid"):
                grouped.setdefault(row[k], []).append(row)
            for doc_id, rows in grouped.items():
                by_doc.setdefault(doc_id, []).append((sql, rows))
        order = [r[0] for r in con.execute(
            "SELECT s.id FROM sales s JOIN outbox o ON o.document_id = s.id ORDER BY o.seq")]
    finally:
        con.close()
    return tables, [by_doc[d] for d in order]


def emptied_copy(db: Path, dest: Path, tables: list[tuple[str, str]]) -> None:
    """The demo's file without its documents (their outbox entries included): the catalog,
    settings, shift and the other events stay."""
    src = sqlite3.connect(db)
    try:
        out = sqlite3.connect(dest)
        src.backup(out)
    finally:
        src.close()
    out.execute("PRAGMA foreign_keys=OFF")
    for table, key in reversed(tables):
        out.execute(f"DELETE FROM {table} WHERE {key} IS NOT NULL")
    out.commit()
    out.execute("VACUUM")
    out.close()


def main() -> int:
    from pos.store import Store

    ap = parser(__doc__)
    ap.add_argument("--sales", type=int, default=10_000)
    args = ap.parse_args()
    if args.quick:
        args.sales = 300
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", str(data),
                              "--lang", "en", "demo", "--sales", str(args.sales)], cwd=ROOT,
                             capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            raise RuntimeError(f"jangteo demo exited with {out.returncode}")
        note(out.stdout.strip())
        db = data / "jangteo.db"
        size = db.stat().st_size + (Path(str(db) + "-wal").stat().st_size
                                    if Path(str(db) + "-wal").exists() else 0)
        with Store(data) as store:
            pragmas = store_pragmas(store)
        tables, docs = documents(db)
        raw_dir = Path(tmp) / "raw"
        raw_dir.mkdir()
        emptied_copy(db, raw_dir / "jangteo.db", tables)
        con = raw_sqlite(raw_dir / "jangteo.db", pragmas)
        try:
            t0 = time.perf_counter()
            for doc in docs:
                con.execute("BEGIN IMMEDIATE")
                for sql, rows in doc:
                    con.executemany(sql, rows)
                con.execute("COMMIT")
            raw_elapsed = time.perf_counter() - t0
            count = con.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
        finally:
            con.close()
        assert count == len(docs), (count, len(docs))
    used = sorted({sql.split()[2] for doc in docs for sql, _rows in doc})
    note(f"anchor: {len(docs)} documents ({', '.join(used)}) in as many raw transactions")
    ok = report(f"jangteo demo --sales {args.sales}", elapsed, "s", raw_elapsed, ratio=4.0)
    report("database size per sale", size / args.sales / 1024, "KiB")
    return finish(ok)


if __name__ == "__main__":
    sys.exit(main())
