"""TUI cost: the Textual app's rows come from its own load benchmark (``tui_load.py``).

When ``tui_trader/tui/`` exists and tmux is installed, the dashboard's UI-thread time per update
and ctrl+k → HALTED are measured by ``benchmarks.tui_load`` (50 symbols). Process start → CLI
ready (``python -m tui_trader --help``) is always measured; with tmux, so is process start → the
setup screen on the terminal.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from typing import Any

from benchmarks.harness import ROOT, Stat, compile_package

WAITING = "not measured (waits for the TUI merge, or no benchmark for it yet)"


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """The rows we can measure now, and say which wait. The package's bytecode is compiled
    first, as ``pip install`` leaves it: a start that compiles our modules is not what a user
    waits for after the first run (and ``PYTHONDONTWRITEBYTECODE`` would make every start do it)."""
    compile_package()
    rows = []
    if importlib.util.find_spec("tui_trader.tui") is not None:
        rows.extend(_tui_rows(quick, runs, log))
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


def _tui_rows(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """The Textual app's own load benchmark (``benchmarks/tui_load.py`` in tmux): redraw cost at
    3, 50 and 200 symbols, ctrl+k at 50, and the first screen."""
    import shutil

    if quick or shutil.which("tmux") is None:
        why = "skipped in --quick" if quick else "needs tmux"
        return [_waiting(f"dashboard update and ctrl+k, 50 symbols ({why})", "—")]
    from benchmarks import tui_load

    rows = []
    for count in (3, 200):  # the redraw cost at other sizes: three runs each
        sized = [tui_load.one_run(1.0, i, count) for i in range(min(runs, 3))]
        redraw = Stat.of([1000 * r["redraw"] for r in sized])
        cpu = Stat.of([1000 * r["cpu"] for r in sized])
        log(f"  {count} symbols: redraw {redraw.fmt('.1f')} ms")
        rows.append(
            {
                "measure": f"dashboard redraw, UI-thread ms per update, {count} symbols, "
                "a bar a second",
                "figure": f"{redraw.fmt('.1f')} (UI-thread CPU per update {cpu.fmt('.1f')})",
                "target": "—",
                "met": "—",
            }
        )
    results = []
    for i in range(runs):
        results.append(tui_load.one_run(1.0, i))
        log(f"  tui run {i + 1}: ctrl+k {1000 * results[-1]['latency']:.0f} ms")

    def ms(key: str) -> Stat:
        return Stat.of([1000 * r[key] for r in results])

    firsts = []
    for i in range(runs):
        firsts.append(tui_load.first_screen(i))
        log(f"  first screen run {i + 1}: {firsts[-1]:.2f} s")
    first = Stat.of(firsts)
    redraw, cpu, kill = ms("redraw"), ms("cpu"), ms("latency")
    return [
        rows[0],
        {
            "measure": "dashboard redraw, UI-thread ms per update, 50 symbols, a bar a second",
            "figure": f"{redraw.fmt('.1f')} (UI-thread CPU per update {cpu.fmt('.1f')})",
            "target": "< 10 ms at 50",
            "met": "yes" if redraw.median < 10 else "NO",
        },
        rows[1],
        {
            "measure": "ctrl+k → HALTED on the terminal (tmux), 50 symbols, ms",
            "figure": kill.fmt(".0f"),
            "target": "< 100 ms",
            "met": "yes" if kill.median < 100 else "NO",
        },
        {
            "measure": "process start → setup screen on the terminal (tmux), s",
            "figure": first.fmt(".2f"),
            "target": "< 1 s",
            "met": "yes" if first.median < 1 else "NO",
        },
    ]


def _waiting(what: str, target: str = "—") -> dict[str, Any]:
    """A row that cannot be measured yet."""
    return {"measure": what, "figure": WAITING, "target": target, "met": "not measured"}
