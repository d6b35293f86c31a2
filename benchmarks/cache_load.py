"""How fast the bar cache loads: 5 years of daily bars for 100 symbols.

Generates the bars with the simulated market into a temporary cache directory, then times
(a) reading every symbol's Parquet file into one table (``BarCache.load``), and (b) the whole
Yahoo cache-hit path a session takes (``load_history``: coverage check per symbol, read, filter;
no network). Prints the median of several runs and the cache's size on disk. The target is
"well under a second".

    python benchmarks/cache_load.py [--symbols 100] [--years 5] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.cache import BarCache, Coverage
from tui_trader.market.sim import SimMarket


def generate(cache: BarCache, symbols: list[str], years: int) -> tuple[datetime, datetime]:
    """Write ``years`` of simulated daily bars per symbol; return the first and last timestamp."""
    interval = parse_interval("1d")
    market = SimMarket(symbols, interval, parse_period("5d"), seed=3, start=date(2019, 1, 2))
    rows: dict[str, list[tuple]] = {s: [] for s in symbols}
    for _ in range(252 * years):
        for bar in market.next_bars().values():
            rows[bar.symbol].append(
                (
                    bar.timestamp,
                    bar.symbol,
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.close,
                    bar.volume,
                )
            )
    columns = ["timestamp", "symbol", "open", "high", "low", "close", "adj_close", "volume"]
    first = rows[symbols[0]][0][0]
    last = rows[symbols[0]][-1][0]
    covered = Coverage(first - timedelta(days=1), last + timedelta(hours=8), datetime.now(UTC))
    for symbol, data in rows.items():
        frame = pl.DataFrame(data, schema=columns, orient="row").with_columns(
            pl.col("timestamp").dt.cast_time_unit("us")
        )
        cache.write(symbol, "1d", frame, covered)
    return first, last


def median_seconds(func, runs: int) -> tuple[float, float]:
    """Median and best wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times), min(times)


def main() -> None:
    """Generate, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from tui_trader.market.calendar import us_equity_calendar
    from tui_trader.market.yahoo import YahooOptions, load_history

    symbols = [f"S{i:03d}" for i in range(args.symbols)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = BarCache(root)
        began = time.perf_counter()
        first, last = generate(cache, symbols, args.years)
        generated = time.perf_counter() - began
        files = [f for f in (root / "bars").rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        parquet = sum(1 for f in files if f.suffix == ".parquet")
        rows = cache.load(symbols, "1d").height

        raw_median, raw_best = median_seconds(lambda: cache.load(symbols, "1d"), args.runs)

        began = time.perf_counter()
        us_equity_calendar()
        calendar_load = time.perf_counter() - began
        options = YahooOptions(cache_dir=root, offline=True, now=lambda: last + timedelta(hours=8))
        interval = parse_interval("1d")

        def session_path() -> None:
            history = load_history(symbols, interval, first, options)
            assert history.requests == 0 and not history.stale and history.frame.height == rows

        hit_median, hit_best = median_seconds(session_path, args.runs)

    print(f"cache: {args.symbols} symbols x {args.years} y of 1d bars = {rows:,} rows")
    print(
        f"size on disk: {size / 1024**2:.2f} MB "
        f"({parquet} Parquet files + {len(files) - parquet} JSON sidecars)"
    )
    print(f"generated in {generated:.1f} s (not part of the measurement)")
    print(
        f"BarCache.load, all symbols:       median {raw_median * 1000:.0f} ms"
        f" (best {raw_best * 1000:.0f} ms, {args.runs} runs)"
    )
    print(
        f"load_history cache hit (no net):  median {hit_median * 1000:.0f} ms"
        f" (best {hit_best * 1000:.0f} ms, {args.runs} runs)"
    )
    print(f"exchange calendar, loaded once per process: {calendar_load * 1000:.0f} ms")


if __name__ == "__main__":
    main()
