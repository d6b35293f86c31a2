"""What a user waits for before anything trades: ``--help``, and the memory a replay file takes.

``tui-trader --help`` and ``tui-trader paper --help`` are timed as whole processes (the installed
``tui-trader`` script, else ``python -m tui_trader``), alternating, with the wall time and the
process's CPU time (user + system, from ``wait4``: on a shared machine the wall time also counts
waiting for a core). The replay file rows load a 1,000,000-row file (one symbol of 1-minute
bars, CSV and Parquet) the way ``tui-trader paper --data replay:FILE`` does, in a fresh process
(``ReplayMarket.from_file``, ``check_fit``, the warm-up and the first bars), and report that
process's own peak RSS (``VmHWM``: ``ru_maxrss`` would start at this benchmark process's
peak). Targets from issue 17: help under 150 ms, the file at most 250 MB.

The help processes run with the package's bytecode compiled (``harness.compile_package`` and
``harness.USER_ENV``), as a user's install has it; the figures before 2026-12-05's last run
compiled our ~30 modules again in every process (~60 ms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, USER_ENV, Stat, compile_package

HELP_TARGET_MS = 150.0
PEAK_TARGET_MB = 250.0

_LOAD = """
import json, sys
from pathlib import Path
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket

market = ReplayMarket.from_file(
    Path(sys.argv[1]), interval=parse_interval("1m"), period=parse_period("1d")
)
market.check_fit()
market.warmup()
market.next_bars()
# VmHWM, not ru_maxrss: the latter starts at the parent's peak (see harness.peak_rss_mb)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({"peak_mb": peak, "steps": market.total_steps}))
"""


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """The help rows, the ``status`` rows and the replay file rows."""
    return [*_help_rows(runs, log), *_status_rows(runs, log), *_replay_file_rows(quick, runs, log)]


def _cli() -> list[str]:
    """The installed ``tui-trader`` script next to this Python, else ``python -m tui_trader``."""
    script = Path(sys.executable).with_name("tui-trader")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui_trader"]


def _timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU milliseconds of one whole process (``env``: else ``USER_ENV``)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or USER_ENV
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000.0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000.0


def _help_rows(runs: int, log: Any) -> list[dict[str, Any]]:
    """``--help`` and ``paper --help``: ten processes a run each, alternating."""
    commands = {"`tui-trader --help`": ["--help"], "`tui-trader paper --help`": ["paper", "--help"]}
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    compile_package()
    for _ in range(runs * 10):
        for name, argv in commands.items():
            wall, cpu = _timed([*_cli(), *argv])
            walls[name].append(wall)
            cpus[name].append(cpu)
    rows = []
    load = os.getloadavg()[0]
    for name in commands:
        wall, cpu = Stat.of(walls[name]), Stat.of(cpus[name])
        met = "yes" if wall.median < HELP_TARGET_MS else "no"
        if met == "no" and cpu.median < HELP_TARGET_MS:
            met = f"no (CPU yes: the processes waited for a core, load average {load:.1f})"
        log(f"  {name}: wall {wall.fmt('.0f')} ms, cpu {cpu.fmt('.0f')} ms")
        rows.append(
            {
                "measure": f"{name}, whole process, ms ({wall.runs} processes)",
                "figure": f"wall {wall.fmt('.0f')}; CPU {cpu.fmt('.0f')}",
                "target": f"< {HELP_TARGET_MS:.0f} ms",
                "met": met,
            }
        )
    return rows


def _status_rows(runs: int, log: Any) -> list[dict[str, Any]]:
    """``tui-trader status`` on a store with one short session: the day's first (no stored
    calendar: it builds and stores it, ``market.calendar_cache``) and a later one (reads it
    back without pandas); five processes a run each, alternating."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "desk.db"
        made = subprocess.run(
            [*_cli(), "paper", "--iterations", "3", "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            env=USER_ENV,
            check=False,
        )
        if made.returncode != 0:
            raise RuntimeError("paper --iterations 3 failed")
        walls: dict[str, list[float]] = {"first": [], "later": []}
        cpus: dict[str, list[float]] = {"first": [], "later": []}
        warm = {**USER_ENV, "TUI_TRADER_CACHE_DIR": str(Path(folder) / "warm")}
        _timed([*_cli(), "status", "--db", str(db)], warm)
        for i in range(runs * 5):
            cold = {**USER_ENV, "TUI_TRADER_CACHE_DIR": str(Path(folder) / f"cold{i}")}
            for name, env in (("first", cold), ("later", warm)):
                wall, cpu = _timed([*_cli(), "status", "--db", str(db)], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    for name, what in (("first", "the day's first"), ("later", "a later one that day")):
        wall, cpu = Stat.of(walls[name]), Stat.of(cpus[name])
        log(f"  status, {what}: wall {wall.fmt('.0f')} ms, cpu {cpu.fmt('.0f')} ms")
        rows.append(
            {
                "measure": f"`tui-trader status`, {what}, whole process, ms "
                f"({wall.runs} processes)",
                "figure": f"wall {wall.fmt('.0f')}; CPU {cpu.fmt('.0f')}",
                "target": "-",
                "met": "-",
            }
        )
    return rows


def _replay_file_rows(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """Peak RSS of a process loading a long replay file, CSV and Parquet."""
    rows_in_file = 20_000 if quick else 1_000_000
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_files(Path(tmp), rows_in_file)
        peaks: dict[str, list[float]] = {kind: [] for kind in files}
        for _ in range(runs):
            for kind, path in files.items():
                peaks[kind].append(_load_peak(path))
        for kind, values in peaks.items():
            stat = Stat.of(values)
            log(f"  replay file {kind}: peak {stat.fmt('.0f')} MB")
            out.append(
                {
                    "measure": f"load a {rows_in_file:,}-row replay file ({kind}), "
                    "peak RSS of the whole process, MB",
                    "figure": stat.fmt(".0f"),
                    "target": f"≤ {PEAK_TARGET_MB:.0f} MB" if not quick else "— (quick size)",
                    "met": ("yes" if stat.median <= PEAK_TARGET_MB else "no") if not quick else "—",
                }
            )
    return out


def _write_files(folder: Path, rows: int) -> dict[str, Path]:
    """One symbol's ``rows`` seeded 1-minute bars as CSV and as Parquet."""
    import polars as pl

    from benchmarks.data import make_series

    s = make_series("S000", rows, 2026)
    frame = pl.DataFrame(
        {
            "timestamp": s.ts_us,
            "symbol": ["S000"] * rows,
            "open": s.open,
            "high": s.high,
            "low": s.low,
            "close": s.close,
            "volume": s.volume,
        }
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
    csv, parquet = folder / "bars.csv", folder / "bars.parquet"
    frame.write_csv(csv)
    frame.write_parquet(parquet)
    return {"CSV": csv, "Parquet": parquet}


def _load_peak(path: Path) -> float:
    """Peak RSS, MB, of a fresh process loading ``path`` as a replay."""
    # As from a shell: polars, imported here, sets its allocator settings in this environment
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loading {path.name} failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"])
