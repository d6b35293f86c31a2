"""Replay files: good files replay in order; bad files stop with the file and the problem named."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market import MarketDataError
from tui_trader.market.replay import ReplayMarket

HEADER = "timestamp,symbol,open,high,low,close,volume\n"


def _write(tmp_path: Path, rows: list[str], name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _good_rows(days: int = 5) -> list[str]:
    rows = []
    for d in range(days):
        for sym, px in (("SPY", 100 + d), ("QQQ", 200 + d)):
            rows.append(
                f"2024-01-{d + 2:02d}T14:30:00Z,{sym},{px},{px + 1},{px - 1},{px + 0.5},1000"
            )
    return rows


def test_replay_serves_each_timestamp_then_ends(tmp_path: Path) -> None:
    """Warm-up takes the first period; next_bars hands out the rest, then None."""
    market = ReplayMarket.from_file(
        _write(tmp_path, _good_rows(5)), None, parse_interval("1d"), parse_period("2d")
    )
    assert market.symbols == ("QQQ", "SPY")
    warm = market.warmup()
    assert [b.close for b in warm["SPY"]] == [100.5, 101.5]
    closes = []
    while (bars := market.next_bars()) is not None:
        closes.append(bars["SPY"].close)
    assert closes == [102.5, 103.5, 104.5]


def test_replayed_bars_hold_every_column_of_their_row(tmp_path: Path) -> None:
    """Each bar (built slot by slot for speed) equals the ``Bar`` of its row: symbol, time,
    open, high, low, close and volume each in its own field, warm-up and trading alike."""
    rows = [
        "2024-01-02T14:30:00Z,SPY,100,104,97,101,1000",
        "2024-01-03T14:30:00Z,SPY,101,105,98,102,2000",
        "2024-01-04T14:30:00Z,SPY,102,106,99,103,3000",
    ]
    market = ReplayMarket.from_file(
        _write(tmp_path, rows), None, parse_interval("1d"), parse_period("1d")
    )
    seen = market.warmup()["SPY"]
    while (bars := market.next_bars()) is not None:
        assert list(bars) == ["SPY"]
        seen.append(bars["SPY"])
    assert seen == [
        Bar("SPY", datetime(2024, 1, d, 14, 30, tzinfo=UTC), o, o + 4, o - 3, o + 1, v)
        for d, o, v in ((2, 100.0, 1000.0), (3, 101.0, 2000.0), (4, 102.0, 3000.0))
    ]
    assert hash(seen[0]) == hash(Bar(*(getattr(seen[0], f) for f in Bar.__slots__)))


def test_parquet_replays_like_csv(tmp_path: Path) -> None:
    """The same bars from Parquet replay the same way."""
    csv = _write(tmp_path, _good_rows(4))
    pq = tmp_path / "bars.parquet"
    pl.read_csv(csv).write_parquet(pq)
    a = ReplayMarket.from_file(csv, ("SPY",), parse_interval("1d"), parse_period("1d"))
    b = ReplayMarket.from_file(pq, ("SPY",), parse_interval("1d"), parse_period("1d"))
    a.warmup()
    b.warmup()
    assert [a.next_bars() for _ in range(3)] == [b.next_bars() for _ in range(3)]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (["2024-01-02T14:30:00Z,SPY,100,101,99,nan,10"], "NaN, infinite or non-positive close"),
        (["2024-01-02T14:30:00Z,SPY,100,inf,99,100,10"], "NaN, infinite or non-positive high"),
        (["2024-01-02T14:30:00Z,SPY,0,101,0,100,10"], "non-positive open"),
        (["2024-01-02T14:30:00Z,SPY,-5,101,99,100,10"], "non-positive open"),
        (
            [
                "2024-01-02T14:30:00Z,SPY,100,101,99,100,10",
                "2024-01-04T14:30:00Z,SPY,100,101,99,100,10",
                "2024-01-03T14:30:00Z,SPY,100,101,99,100,10",
            ],
            "not sorted",
        ),
        (
            [
                "2024-01-02T14:30:00Z,SPY,100,101,99,100,10",
                "2024-01-02T14:30:00Z,SPY,100,101,99,100,10",
            ],
            "duplicated timestamp",
        ),
        (["not-a-date,SPY,100,101,99,100,10"], "unreadable timestamp"),
        (["2024-01-02T14:30:00Z,SPY,100,99,98,100,10"], "high is below"),
        (["2024-01-02T14:30:00Z,SPY,100,101,99,100,-1"], "negative volume"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(
    tmp_path: Path, rows: list[str], problem: str
) -> None:
    """Each problem is reported with the file's path before any bar is used."""
    path = _write(tmp_path, rows)
    with pytest.raises(MarketDataError) as err:
        ReplayMarket.from_file(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    """A file without a close says so, and which columns it has (volume is optional)."""
    path = tmp_path / "bars.csv"
    path.write_text("timestamp,symbol,open,high,low\n2024-01-02,SPY,1,2,1\n")
    with pytest.raises(MarketDataError, match=r"missing column\(s\) close \(it has 'timestamp'"):
        ReplayMarket.from_file(path)


def test_missing_file_and_unknown_symbol(tmp_path: Path) -> None:
    """No file, or a symbol the file lacks, are clear errors."""
    with pytest.raises(MarketDataError, match="no such file"):
        ReplayMarket.from_file(tmp_path / "nope.csv")
    with pytest.raises(MarketDataError, match="no bars for IWM"):
        ReplayMarket.from_file(_write(tmp_path, _good_rows(3)), ("SPY", "IWM"))


def test_a_folder_or_a_device_is_named_for_what_it_is(tmp_path: Path) -> None:
    """A folder or /dev/zero given as the bar file is said to be that, not to be missing."""
    with pytest.raises(MarketDataError, match="is a folder, not a bar file"):
        ReplayMarket.from_file(tmp_path)
    with pytest.raises(MarketDataError, match="not a regular file"):
        ReplayMarket.from_file(Path("/dev/zero"))


def _wide(symbols: int, days: int = 2) -> list[str]:
    """Rows of ``symbols`` symbols over ``days`` days, time after time (as a screener exports)."""
    return [f"2024-01-{d + 2:02d},S{i},10,10,10,10,1" for d in range(days) for i in range(symbols)]


def test_a_file_of_many_symbols_loads_in_seconds(tmp_path: Path) -> None:
    """40,000 symbols of two bars took 48 s to load: the time order was checked one symbol at a
    time over the whole file, and each symbol asked for was looked up in a list of all (a
    file of 500 symbols of 6,000 bars: 31 s; 100,000 symbols: 90 s). Now about a second."""
    import time

    path = _write(tmp_path, _wide(40_000))
    started = time.perf_counter()
    market = ReplayMarket.from_file(path, None, parse_interval("1d"), parse_period("1d"))
    took = time.perf_counter() - started
    assert len(market.symbols) == 40_000 and market.total_steps == 2
    assert took < 15, f"loading took {took:.1f} s"


def test_many_symbols_still_have_their_repeats_and_disorder_found(tmp_path: Path) -> None:
    """The check that reads every symbol at once finds what the one-symbol-at-a-time one did."""
    rows = _wide(40, days=3)
    repeated = _write(tmp_path, [*rows, rows[-1]], "repeated.csv")
    with pytest.raises(MarketDataError, match=r"1 duplicated timestamp\(s\) within a symbol"):
        ReplayMarket.from_file(repeated, None, parse_interval("1d"), parse_period("1d"))
    back = _write(tmp_path, [*rows, "2024-01-02,S7,10,10,10,10,1"], "back.csv")
    with pytest.raises(MarketDataError, match=r"not sorted \(1 step\(s\) go back\)"):
        ReplayMarket.from_file(back, None, parse_interval("1d"), parse_period("1d"))
