"""TUI cost: the Textual app's rows come from its own benchmark helpers once it is merged.

Until ``tui_trader/tui/`` exists on this branch only process start → CLI ready is measured
(``python -m tui_trader --help``: the interpreter, the CLI's imports, argparse), and the table
says that the dashboard, ``ctrl+k`` and first-screen rows wait for the TUI merge.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from typing import Any

from benchmarks.harness import ROOT, Stat

WAITING = "waits for the TUI merge (tui_trader/tui/ is not on this branch)"


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """The rows we can measure now, and say which wait."""
    rows = []
    if importlib.util.find_spec("tui_trader.tui") is not None:
        try:
            from benchmarks import tui_load  # type: ignore[attr-defined]

            rows.extend(tui_load.rows(quick, runs))  # type: ignore[attr-defined]
        except (ImportError, AttributeError) as exc:
            rows.append(_waiting(f"TUI rows: benchmarks.tui_load has no rows() ({exc})"))
    else:
        for what, target in (
            ("dashboard update, UI-thread ms, 3/50/200 symbols", "< 10 ms at 50"),
            ("ctrl+k → halted while updates flood in", "< 100 ms"),
            ("process start → first screen", "< 1 s"),
        ):
            rows.append(_waiting(what, target))
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui_trader", "--help"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
    stat = Stat.of(walls)
    log(f"  cli start: {stat.fmt('.3f')} s")
    rows.append(
        {
            "measure": "process start → `tui-trader --help` printed (CLI imports), s",
            "figure": stat.fmt(".3f"),
            "target": "(first screen < 1 s)",
            "met": "—",
        }
    )
    return rows


def _waiting(what: str, target: str = "—") -> dict[str, Any]:
    """A row that cannot be measured yet."""
    return {"measure": what, "figure": WAITING, "target": target, "met": "not measured"}
