"""Loading a long replay file costs about one typed copy of its columns (issue 17).

A 1,000,000-row file used to peak at ~370 MB while loading (the raw table, a typed copy, a copy
per check, a hash group-by of every timestamp); ``python -m benchmarks`` measures that size. Here
a 300,000-row one-symbol CSV file is loaded in a fresh process (``ReplayMarket.from_file``,
``check_fit``, ``warmup``, the first bar) and the growth of its peak resident memory over the
imports is held under a bound per row that the old loading path broke by far (measured here:
~410-460 bytes per row before, ~65-90 now).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

ROWS = 300_000
BYTES_PER_ROW = 200
"""The bound: about twice today's figure, half the old one."""

_LOAD = """
import json, resource, sys
from pathlib import Path
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

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
    """The file loads whole and in order, and its peak memory grows by under 200 bytes a row."""
    path = _write_file(tmp_path / "bars.csv")
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, str(path)], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout)
    assert out["steps"] == ROWS and out["warm"] == 390
    assert out["first"] == ["S0"]
    grew = out["peak"] - out["base"]
    assert grew < BYTES_PER_ROW * ROWS, f"loading grew {grew / ROWS:.0f} bytes a row"
