"""A bar file's symbol column is checked alike by ``learn evaluate --data`` and ``paper --data
replay:``: text, no row without a symbol, every symbol a ticker, or one line and exit 2.

Before, ``learn evaluate`` scored a Parquet file whose symbol column held numbers, booleans,
nulls or ``'SPY\\x1b[31m'`` as if nothing were wrong (exit 0), a replay read a boolean column
as the symbol ``TRUE`` and traded it, and a replay with one null symbol crashed (exit 1,
``TypeError``). ``learn evaluate`` also scored a file whose two symbols never shared a time as
one market switching symbols (a table of zeros, exit 0).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

DAYS = 120


def _bars(symbols: list[object], dtype: pl.DataType | None = None, every: int = 1) -> pl.DataFrame:
    """Daily rising bars, one row per entry of ``symbols`` (each a row's symbol), ``every``
    days apart."""
    n = len(symbols)
    start = datetime(2020, 1, 1, 14, 30, tzinfo=UTC)
    close = [100.0 + i * 0.1 for i in range(n)]
    return pl.DataFrame(
        {
            "timestamp": [start + timedelta(days=every * i) for i in range(n)],
            "symbol": pl.Series(symbols, dtype=dtype),
            "open": close,
            "high": [c + 1 for c in close],
            "low": [c - 1 for c in close],
            "close": close,
            "volume": [1000.0] * n,
        }
    )


FILES: dict[str, tuple[pl.DataFrame, str]] = {
    "numbers": (_bars([1] * DAYS), "the symbol column holds Int64 values, not ticker symbols"),
    "booleans": (_bars([True] * DAYS), "the symbol column holds Boolean values"),
    "all-null": (_bars([None] * DAYS, pl.String()), f"{DAYS} row(s) without a symbol"),
    "one-null": (_bars(["SPY"] * (DAYS - 1) + [None]), "1 row(s) without a symbol"),
    "one-blank": (_bars(["SPY"] * (DAYS - 1) + [""]), "1 row(s) without a symbol"),
    "escape": (_bars(["SPY\x1b[31m"] * DAYS), "'SPY\\x1b[31M' is not a ticker symbol"),
    "space": (_bars(["spy y"] * DAYS), "'SPY Y' is not a ticker symbol"),
    "eszett": (_bars(["ßpy"] * DAYS), "'ßpy' is not a ticker symbol"),  # was traded as SSPY
    "dotless-i": (_bars(["ıwm"] * DAYS), "'ıwm' is not a ticker symbol"),  # was traded as IWM
}


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("command", ["learn", "replay"])
def test_a_bad_symbol_column_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str], name: str, command: str
) -> None:
    frame, words = FILES[name]
    frame.write_parquet(place / f"{name}.parquet")
    argv = (
        ["learn", "evaluate", "--data", f"{name}.parquet"]
        if command == "learn"
        else ["paper", "--data", f"replay:{name}.parquet", "--period", "5d", "--iterations", "1"]
    )
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, f"{name}.parquet: {words}", place)


def test_symbols_that_never_share_a_time_are_refused_by_learn_evaluate(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _bars(["SPY", "QQQ"] * (DAYS // 2)).write_parquet(place / "alternate.parquet")
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "alternate.parquet"], capsys)
    assert_one_line_exit_2(code, out, err, "never have a bar at the same time", place)


def test_a_csv_ticker_that_reads_as_a_boolean_stays_a_ticker(place: Path) -> None:
    """TrueCar trades as TRUE: a CSV column of ``TRUE`` is text, not a boolean column."""
    from tui_trader.market.replay import read_bar_file

    rows = "".join(f"2020-01-{d:02d},TRUE,10,11,9,10,100\n" for d in range(1, 29))
    (place / "truecar.csv").write_text("date,symbol,open,high,low,close,volume\n" + rows)
    frame = read_bar_file(place / "truecar.csv")
    assert frame.get_column("symbol").unique().to_list() == ["TRUE"]


def test_symbols_the_file_lacks_are_named_by_learn_evaluate(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was "0 bar time(s); learn evaluate needs at least 60 per file", as if it were short."""
    _bars(["SPY"] * DAYS).write_parquet(place / "spy.parquet")
    argv = ["learn", "evaluate", "--data", "spy.parquet", "--symbols", "XYZ,SPY"]
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, "spy.parquet: no bars for XYZ (the file has SPY)", place)
