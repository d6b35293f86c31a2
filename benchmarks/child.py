"""One replay run in its own process: ``python -m benchmarks.child ENGINE DATA LIMIT EXTRA``.

Prints one JSON line: the engine's outcome, the process's RSS with the data loaded (before the
engine starts) and its peak RSS at the end.
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import engines
from benchmarks.harness import load_universe, peak_rss_mb, rss_mb


def run(engine: str, data: Path, limit: int | None, extra: dict[str, Any]) -> dict[str, Any]:
    """Load the data, run the engine, and report."""
    warnings.filterwarnings("ignore")
    universe = load_universe(data, limit)
    base = rss_mb()
    if engine == "plain":
        outcome = engines.plain_loop(universe)
    elif engine == "ours":
        outcome = engines.ours(universe, **extra)
    elif engine == "backtrader":
        outcome = engines.backtrader_run(universe)
    elif engine == "backtesting":
        outcome = engines.backtesting_run(universe)
    elif engine == "nautilus":
        from benchmarks.peer_nautilus import nautilus_run

        outcome = nautilus_run(universe)
    elif engine == "vectorbt":
        from benchmarks.peer_vectorbt import vectorbt_run

        outcome = vectorbt_run(universe)
    else:
        raise SystemExit(f"unknown engine {engine}")
    return {**asdict(outcome), "base_rss_mb": base, "peak_rss_mb": peak_rss_mb()}


if __name__ == "__main__":
    name, path, cap, more = sys.argv[1:5]
    print(json.dumps(run(name, Path(path), int(cap) or None, json.loads(more))))
