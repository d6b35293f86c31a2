"""Footprint: RSS at start and over a simulated 24-hour session of 1-second bars for 50 symbols.

The market is generated on the fly (a seeded random walk per symbol, one bar per second), so
the only memory that can grow is the engine's: bounded strategy windows, the broker, the audit
trail's buffers. The session runs the crossover rule with the replay settings, the fastest
honest configuration. If the whole day would not fit the time budget, a shorter span is run and
the wall time for 24 hours extrapolated (the table says so).
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import engines
from benchmarks.harness import rss_mb
from benchmarks.replay_bench import REPLAY

SYMBOLS = 50
DAY = 86_400


class SecondBars:
    """A MarketData of 1-second bars, generated as they are asked for."""

    def __init__(self, symbols: int, seed: int = 11) -> None:
        from tui_trader.core.timeframes import parse_interval, parse_period

        self.symbols = tuple(f"S{i:03d}" for i in range(symbols))
        self.interval = parse_interval("1m")
        self.period = parse_period("1d")
        self._rng = random.Random(seed)
        self._closes = [100.0] * symbols
        self._t = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)

    def warmup(self) -> dict[str, list[Any]]:
        """Sixty seconds of history per symbol."""
        history: dict[str, list[Any]] = {s: [] for s in self.symbols}
        for _ in range(60):
            for bar in self._step().values():
                history[bar.symbol].append(bar)
        return history

    def next_bars(self) -> dict[str, Any]:
        """The next second's bars."""
        return self._step()

    def close(self) -> None:
        """Nothing to release."""

    def _step(self) -> dict[str, Any]:
        """One bar per symbol, opening at the previous close."""
        from tui_trader.core.domain import Bar

        out = {}
        gauss = self._rng.gauss
        for k, symbol in enumerate(self.symbols):
            prev = self._closes[k]
            close = round(max(prev * (1 + gauss(0.0, 0.0004)), 0.01), 2)
            self._closes[k] = close
            out[symbol] = Bar(symbol, self._t, prev, max(prev, close), min(prev, close), close, 100)
        self._t += timedelta(seconds=1)
        return out


def run(quick: bool, runs: int, log: Any) -> list[dict[str, Any]]:
    """One long session in a fresh process (not repeated: it is the longest benchmark)."""
    import json
    import os
    import subprocess
    import sys

    from benchmarks.harness import ROOT

    args = [sys.executable, "-m", "benchmarks.footprint_bench"] + (["--quick"] if quick else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"footprint failed:\n{out.stderr[-3000:]}")
    for line in out.stderr.splitlines():
        log(line)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(quick: bool, log: Any) -> list[dict[str, Any]]:
    """The session, RSS along the way, in this process."""
    budget_s = 5.0 if quick else 150.0
    hour, day = (300, 600) if quick else (3_600, DAY)
    with tempfile.TemporaryDirectory() as tmp:
        market = SecondBars(SYMBOLS)
        session = engines.build_session(market, Path(tmp) / "fp.db", **REPLAY)
        rss_start = rss_mb()
        t0 = time.perf_counter()
        rss_hour = None
        done = 0
        marks = []
        while done < day:
            session.run_iteration()
            done += 1
            if done == hour:
                rss_hour = rss_mb()
                log(f"  1 h simulated: {time.perf_counter() - t0:.1f} s, {rss_hour:.1f} MB")
            if done % hour == 0:
                marks.append((done, rss_mb()))
                if time.perf_counter() - t0 > budget_s:
                    break
        wall = time.perf_counter() - t0
        session.finish("completed")
        session.audit.db.close()
    rss_end = rss_mb()
    rss_hour = rss_hour or rss_end
    full = done >= day
    growth = 100.0 * (rss_end - rss_hour) / rss_hour
    span = f"{done / 3600:.1f} h simulated ({done * SYMBOLS:,} symbol-bars)"
    wall_text = (
        f"{wall:.1f} s"
        if full
        else f"{wall:.1f} s for {done / 3600:.1f} h; 24 h ≈ "
        f"{wall * DAY / done:.0f} s (extrapolated)"
    )
    return [
        {"measure": "RSS after start, MB", "figure": f"{rss_start:.1f}", "target": "—", "met": "—"},
        {
            "measure": "RSS after 1 simulated hour, MB",
            "figure": f"{rss_hour:.1f}",
            "target": "—",
            "met": "—",
        },
        {
            "measure": f"RSS after {span}, MB",
            "figure": f"{rss_end:.1f} ({growth:+.1f}% vs 1 h)",
            "target": "within 10% of 1 h",
            "met": ("yes" if abs(growth) <= 10 else "NO") + ("" if full else " (partial span)"),
        },
        {
            "measure": "wall time, 50 symbols × 1-second bars, 24 h",
            "figure": wall_text,
            "target": "—",
            "met": "—",
        },
        {
            "measure": "RSS every simulated hour, MB",
            "figure": ", ".join(f"{m:.0f}" for _, m in marks),
            "target": "flat",
            "met": "—",
        },
    ]


if __name__ == "__main__":
    import json
    import sys

    def _log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    print(json.dumps(measure("--quick" in sys.argv, _log)))
