"""`jangteo demo --sales 10000` from an empty data directory, each sale committed on its own.

Target on the reference machine (2 cores): ≤ 30 s.

    uv run python bench/bench_demo.py [--sales 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pos.cli", "--data-dir", tmp, "--lang", "en",
                              "demo", "--sales", str(args.sales)], cwd=ROOT, capture_output=True,
                             text=True)
        elapsed = time.perf_counter() - t0
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        print(out.stdout.strip())
        db = Path(tmp) / "jangteo.db"
        size = db.stat().st_size + (Path(str(db) + "-wal").stat().st_size
                                    if Path(str(db) + "-wal").exists() else 0)
    ok = report(f"jangteo demo --sales {args.sales}", elapsed, "s",
                limit=30.0 if args.sales == 10_000 else None)
    report("database size per sale", size / args.sales / 1024, "KiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
