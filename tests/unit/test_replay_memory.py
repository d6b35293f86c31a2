"""Loading a long replay file costs about one typed copy of its columns (issue 17).

A 1,000,000-row file used to peak at ~370 MB while loading (the raw table, a typed copy, a copy
per check, a hash group-by of every timestamp); ``python -m benchmarks`` measures that size. Here
a 300,000-row one-symbol CSV file is loaded in a fresh process (``ReplayMarket.from_file``,
``check_fit``, ``warmup``, the first bar) and the growth of its peak resident memory over the
imports is held under a bound per row. Measured as the child's own high-water mark (``VmHWM``):
``ru_maxrss`` starts at the parent's peak across fork + exec, which hid most of the growth (the
bound once read ~65-90 bytes a row; the true figure was ~365). Now ~255: polars' allocator gives
freed pages back at once (``tui_trader/__init__``); ~150 of it is the mapped file and the
table itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROWS = 300_000
BYTES_PER_ROW = 310
"""The bound: between today's ~255 and the ~365 of polars' default allocator settings."""

_LOAD = """
import json, sys
from pathlib import Path
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket

def peak():  # VmHWM: ru_maxrss would start at the test process's own peak (fork + exec)
    lines = open("/proc/self/status").read().splitlines()
    return next(int(l.split()[1]) for l in lines if l.startswith("VmHWM:")) * 1024

base = peak()
market = ReplayMarket.from_file(
    Path(sys.argv[1]), interval=parse_interval("1m"), period=parse_period("1d")
)
market.check_fit()
history = market.warmup()
first = market.next_bars()
print(json.dumps({"base": base, "peak": peak(), "steps": market.total_steps,
                  "warm": sum(len(v) for v in history.values()), "first": sorted(first)}))
"""


def _write_file(path: Path, symbols: int = 1) -> Path:
    """A valid CSV of ``ROWS`` one-minute bars over ``symbols`` symbols, sorted by time."""
    steps = ROWS // symbols
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    frame = (
        pl.DataFrame({"step": pl.int_range(0, steps, eager=True)})
        .join(pl.DataFrame({"symbol": [f"S{i}" for i in range(symbols)]}), how="cross")
        .with_columns(
            (pl.lit(start) + pl.duration(minutes=pl.col("step"))).alias("timestamp"),
            (100.0 + (pl.col("step") % 97) / 100.0).alias("close"),
        )
        .with_columns(
            pl.col("close").alias("open"),
            (pl.col("close") + 0.05).alias("high"),
            (pl.col("close") - 0.05).alias("low"),
            pl.lit(1_000.0).alias("volume"),
        )
        .select("timestamp", "symbol", "open", "high", "low", "close", "volume")
    )
    frame.write_csv(path)
    return path


def test_loading_a_long_replay_file_stays_lean(tmp_path: Path) -> None:
    """The file loads whole and in order, and its peak memory grows by under 310 bytes a row."""
    path = _write_file(tmp_path / "bars.csv")
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}  # as from a shell
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    out = json.loads(done.stdout)
    assert out["steps"] == ROWS and out["warm"] == 390
    assert out["first"] == ["S0"]
    grew = out["peak"] - out["base"]
    assert grew < BYTES_PER_ROW * ROWS, f"loading grew {grew / ROWS:.0f} bytes a row"
