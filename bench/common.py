"""Helpers shared by the benchmarks.

Every figure is printed beside an ANCHOR measured in the same run on the same machine (the raw
engine doing the same work: sqlite3 writing the same rows, PostgreSQL COPY of the same rows,
Pillow drawing the same text, a bare Qt window with as many widgets...), and its target is a
ratio to that anchor: what the till is judged on is its own overhead over the engine it runs
on, which travels from one machine to the next where milliseconds do not.

One line per figure, from `report`:

    name                               figure       anchor       ratio    target    ok/MISSED

Exit codes of every benchmark (what `run_all.py` reads):
    0           every target met
    3           EXIT_MISSED: it ran to the end and at least one target was missed
    other       it crashed (1 is Python's own code for an uncaught exception, 2 argparse's)
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
from pathlib import Path

EXIT_MISSED = 3

# the stores a benchmark makes keep their receipt marks (pos.marks) in a temporary folder, not
# in the user's state folder
if "JANGTEO_STATE_DIR" not in os.environ:
    import tempfile

    os.environ["JANGTEO_STATE_DIR"] = tempfile.mkdtemp(prefix="jangteo-bench-state-")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_HEAD = f"{'':<46} {'figure':>15} {'anchor':>15} {'ratio':>8}  {'target':<10} "
_printed_head = False


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def _num(value: float) -> str:
    if value != value:  # nan
        return "nan"
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a >= 1 or a == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def report(name: str, figure: float, unit: str, anchor: float | None = None, *,
           ratio: float | None = None, limit: float | None = None,
           higher_is_better: bool = False) -> bool:
    """Print `name  figure  anchor  ratio  target  ok/MISSED`; return whether the target is met.

    `anchor`: the same work done by the raw engine in this run (same unit as `figure`), or None
    where there is no honest one. `ratio`: the target as figure / anchor (≤, or ≥ with
    `higher_is_better`). `limit`: a target on the figure itself, kept only where the figure
    does not depend on the machine (an error count, megabytes of growth). Neither: the figure
    is reported, with no target."""
    global _printed_head
    if not _printed_head:
        print(_HEAD + "ok/MISSED")
        _printed_head = True
    sign = "≥" if higher_is_better else "≤"
    r = figure / anchor if anchor else None
    if ratio is not None:
        if r is None:
            raise ValueError(f"{name}: a ratio target needs an anchor")
        ok = r >= ratio if higher_is_better else r <= ratio
        target = f"{sign} {ratio:g}×"
    elif limit is not None:
        ok = figure >= limit if higher_is_better else figure <= limit
        target = f"{sign} {limit:g} {unit}"
    else:
        ok, target = True, "reported"
    status = "" if target == "reported" else ("ok" if ok else "MISSED")
    fig = f"{_num(figure)} {unit}"
    anc = f"{_num(anchor)} {unit}" if anchor is not None else "—"
    rat = f"{r:.2f}×" if r is not None else "—"
    print(f"{name:<46} {fig:>15} {anc:>15} {rat:>8}  {target:<10} {status}".rstrip(),
          flush=True)
    return ok


def note(text: str) -> None:
    """A line of context under the figures (sizes, what the anchor was)."""
    print(f"  {text}", flush=True)


def finish(ok: bool) -> int:
    """The benchmark's exit code: 0, or EXIT_MISSED when a target was missed."""
    return 0 if ok else EXIT_MISSED


def parser(doc: str | None) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and few samples: proves it runs, the figures mean little")
    return ap


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or os.getpid()}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bytecode_note() -> str:
    """Whether Python may write its bytecode cache: with PYTHONDONTWRITEBYTECODE set and no
    .pyc files installed, every start compiles every module it imports again."""
    env = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return (f"PYTHONDONTWRITEBYTECODE={'set (' + repr(env) + ')' if env else 'not set'}, "
            f"sys.dont_write_bytecode={sys.dont_write_bytecode}")


# -- SQLite: the raw engine under the till ------------------------------------------------------

# What a connection of the store is set to; read from the store's own connection (never copied
# by hand) so the raw anchor runs with the same settings if the store changes them.
PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size",
           "temp_store", "mmap_size", "wal_autocheckpoint", "locking_mode", "secure_delete")


def store_pragmas(store) -> dict[str, object]:
    """The pragmas of a live connection of `store` (a `pos.store.Store`)."""
    with store.unit_of_work(write=False) as uow:
        raw = uow.conn.connection.dbapi_connection
        return {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}


def raw_sqlite(path: Path | str, pragmas: dict[str, object]) -> sqlite3.Connection:
    """A stdlib sqlite3 connection with `pragmas`, in autocommit mode (BEGIN is ours, as in
    the store)."""
    con = sqlite3.connect(str(path), isolation_level=None)
    for name in ("busy_timeout", "journal_mode", *[p for p in PRAGMAS
                                                   if p not in ("busy_timeout", "journal_mode")]):
        if name in pragmas:
            con.execute(f"PRAGMA {name}={pragmas[name]}")
    got = {name: con.execute(f"PRAGMA {name}").fetchone()[0] for name in pragmas}
    if got != pragmas:
        raise RuntimeError(f"raw connection pragmas {got} differ from the store's {pragmas}")
    return con


def user_tables(con: sqlite3.Connection) -> list[str]:
    """The file's tables, each after the tables its foreign keys point to (the order to insert
    in), else by name."""
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'alembic_version' ORDER BY name")]
    parents = {t: {r[2] for r in con.execute(f"PRAGMA foreign_key_list({t})")} - {t}
               for t in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [t for t in names if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle: the rest by name
            ready = [t for t in names if t not in ordered]
        ordered.append(ready[0])
    return ordered


def columns(con: sqlite3.Connection, table: str) -> list[tuple[str, str, int]]:
    """(name, declared type, position in the primary key) of each column, from the file."""
    return [(r[1], (r[2] or "").upper(), r[5])
            for r in con.execute(f"PRAGMA table_info({table})")]


def rowid_alias(con: sqlite3.Connection, table: str) -> str | None:
    """The INTEGER PRIMARY KEY column (SQLite numbers it) of `table`, if it has one."""
    cols = columns(con, table)
    pk = [c for c in cols if c[2]]
    return pk[0][0] if len(pk) == 1 and pk[0][1] == "INTEGER" else None


def unique_sets(con: sqlite3.Connection, table: str) -> list[list[str]]:
    """The column sets that must be unique in `table` (primary key and unique indexes)."""
    out = []
    for row in con.execute(f"PRAGMA index_list({table})"):
        if row[2]:  # unique
            out.append([r[2] for r in con.execute(f"PRAGMA index_info({row[1]})")])
    pk = [c[0] for c in sorted(columns(con, table), key=lambda c: c[2]) if c[2]]
    if pk and pk not in out:
        out.append(pk)
    return out


def max_rowids(con: sqlite3.Connection) -> dict[str, int]:
    """Each table's largest rowid: rows inserted later have larger ones."""
    return {t: con.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[0]
            for t in user_tables(con)}


def new_rows(con: sqlite3.Connection, before: dict[str, int]) -> dict[str, tuple[list[str], list]]:
    """Every row inserted since `before` (from `max_rowids`), table by table, with its column
    names: whatever tables a use case writes, without listing them."""
    out = {}
    for table in user_tables(con):
        names = [c[0] for c in columns(con, table)]
        rows = con.execute(f"SELECT {', '.join(names)} FROM {table} WHERE rowid > ? "
                           "ORDER BY rowid", (before.get(table, 0),)).fetchall()
        if rows:
            out[table] = (names, rows)
    return out


def insert_sql(table: str, names: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


__all__ = ["EXIT_MISSED", "PRAGMAS", "ROOT", "bytecode_note", "columns", "finish",
           "insert_sql", "max_rowids", "new_rows", "note", "parser", "percentile", "raw_sqlite",
           "report", "rowid_alias", "rss_mb", "statistics", "store_pragmas", "unique_sets",
           "user_tables"]
