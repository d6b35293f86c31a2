"""``python -m benchmarks``: every benchmark of issue 8, one table, and ``benchmarks/results.json``.

Figures are medians of ``--runs`` runs (5 by default) with their min and max; ratios are taken
within each run and their median reported, because the machine may be shared and noisy.
``--quick`` runs everything at a tiny size (the smoke test uses it); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.harness import ROOT, Stat

SECTIONS = ("replay", "latency", "audit", "pg", "tui", "footprint", "startup")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, print the table, write the results file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 5)")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    sections = args.only or list(SECTIONS)
    started = time.perf_counter()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "quick": args.quick,
        "runs": runs,
    }
    for name in sections:
        log(f"{name} ...")
        module = __import__(f"benchmarks.{name}_bench", fromlist=["run"])
        results[name] = module.run(args.quick, runs, log)
    results["wall_seconds"] = time.perf_counter() - started
    print(report.render(results))
    args.out.write_text(json.dumps(results, default=_plain, indent=1))
    log(f"wrote {args.out} ({results['wall_seconds']:.0f} s)")
    return 0


def _machine() -> dict[str, Any]:
    """Cores, memory and Python of this machine."""
    with open("/proc/meminfo") as f:
        total_kb = int(f.readline().split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _plain(value: object) -> object:
    """JSON for the stats."""
    if isinstance(value, Stat):
        return value.as_dict()
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
