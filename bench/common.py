"""Helpers shared by the benchmarks: figures printed beside their targets."""

from __future__ import annotations

import sqlite3
import statistics


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, value: float, unit: str, target: float | None, *, lower_is_better=True) -> bool:
    """Print one figure and its target; return whether it meets it."""
    if target is None:
        print(f"{name:<48} {value:>10.2f} {unit:<6} (reported, no target)")
        return True
    ok = value <= target if lower_is_better else value >= target
    mark = "ok" if ok else "MISSED"
    sign = "≤" if lower_is_better else "≥"
    print(f"{name:<48} {value:>10.2f} {unit:<6} target {sign} {target:g} {unit}  {mark}")
    return ok


# -- SQLite: what the file itself says about its tables ----------------------------------------

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


__all__ = ["columns", "percentile", "report", "rowid_alias", "statistics", "unique_sets",
           "user_tables"]
