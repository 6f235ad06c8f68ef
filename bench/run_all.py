"""Run every benchmark in bench/, one after the other, each printing its figures beside the
anchors measured in the same run and its targets as ratios to them.

    uv run python bench/run_all.py            # full sizes; exit 1 if a target was missed
    uv run python bench/run_all.py --quick    # small sizes, a minute or two; exit non-zero
                                              # only if a benchmark crashed (CI runs this)

A benchmark exits 0 when every target is met, 3 (`common.EXIT_MISSED`) when it ran to the end
and missed one, anything else when it crashed (a traceback is 1). Exit codes of run_all:
    0   every benchmark ran (and, without --quick, met every target)
    1   without --quick: a target was missed, none crashed
    2   a benchmark crashed (or ran past --timeout)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import EXIT_MISSED  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and few samples; fail only on a crash")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds one benchmark may take (default: 600 with --quick, none)")
    ap.add_argument("only", nargs="*", help="run only these (e.g. sale_commit gui)")
    args = ap.parse_args()
    timeout = args.timeout or (600 if args.quick else None)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only
                   or s.stem in args.only]
    missed, crashed = [], []
    started = time.perf_counter()
    for script in scripts:
        print(f"\n## {script.name}{' --quick' if args.quick else ''}", flush=True)
        t0 = time.perf_counter()
        try:
            code = subprocess.run([sys.executable, str(script)] + (["--quick"] if args.quick
                                                                  else []),
                                  cwd=HERE.parent, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            print(f"{script.name} ran longer than {timeout:g} s", flush=True)
            code = None
        took = time.perf_counter() - t0
        if code == 0:
            verdict = "targets met"
        elif code == EXIT_MISSED:
            verdict = "target MISSED"
            missed.append(script.name)
        else:
            verdict = f"CRASHED (exit {code})" if code is not None else "CRASHED (timeout)"
            crashed.append(script.name)
        print(f"-- {script.name}: {verdict}, {took:.1f} s", flush=True)
    print(f"\n{len(scripts)} benchmarks in {time.perf_counter() - started:.0f} s"
          f"{' (quick sizes: the figures prove they run, not how fast)' if args.quick else ''}")
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
    if missed:
        print(f"targets missed in: {', '.join(missed)}")
    if not crashed and not missed:
        print("all targets met")
    if crashed:
        return 2
    if missed and not args.quick:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
