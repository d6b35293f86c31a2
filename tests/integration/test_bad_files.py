"""Files handed to ``learn evaluate --data`` and ``paper --data replay:`` work, or are refused in
one line (exit 2, no traceback, no hang), before anything runs.

Uses the real ``main()`` under a deadline (``test_bad_input``'s harness). The files are tiny and
written here; nothing reaches the network.
"""

from __future__ import annotations

import gzip
import math
import statistics
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.learning.evaluate import EvalSettings, file_market, run_config, signals_for
from tui_trader.market.replay import read_bar_file


def _series(path: Path, days: int, step_days: int = 1, newest_first: bool = False) -> Path:
    """A one-symbol ``Date,Open,High,Low,Close,Volume`` file, a bar every ``step_days``."""
    rows = []
    for i in range(days):
        close = 100 * math.exp(0.002 * i + 0.05 * math.sin(i / 3))
        day = date(2015, 1, 1) + timedelta(days=step_days * i)
        rows.append(f"{day},{close:.4f},{close * 1.01:.4f},{close * 0.99:.4f},{close:.4f},1000")
    if newest_first:
        rows.reverse()
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


def _monthly(path: Path, months: int = 80) -> Path:
    """Month-end bars, as backtesting's BTCUSD.csv holds."""
    rows = []
    for i in range(months):
        year, month = 2012 + i // 12, 1 + i % 12
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        close = 10 * math.exp(0.03 * i + 0.2 * math.sin(i / 2))
        rows.append(f"{nxt - timedelta(days=1)},{close:.4f},{close * 1.2:.4f},"
                    f"{close * 0.8:.4f},{close:.4f},5")  # fmt: skip
    path.write_text(",Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


def _hourly(path: Path, hours: int = 200) -> Path:
    """Hourly bars round the clock, as backtesting's EURUSD.csv holds."""
    rows = []
    for i in range(hours):
        day, hour = divmod(i, 24)
        rows.append(f"2017-05-{1 + day:02d} {hour:02d}:00:00,1.07,1.08,1.06,1.07,10")
    path.write_text(",Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


BAD_FILES = {
    "binary.csv": bytes(range(256)) * 8,
    "empty.csv": b"",
    "one.csv": b"Date,Close\n2020-01-02,10\n",
    "five.csv": b"Date,Close\n" + b"".join(f"2020-01-0{d},10\n".encode() for d in range(2, 7)),
    "infinite.csv": b"Date,Close\n2020-01-02,10\n2020-01-03,inf\n",
    # 50 MB on one line in 50 KB: read whole before (seconds and ~250 MB to say no column)
    "one-line.csv.gz": gzip.compress(b"0" * 50_000_000),
}
WORDS = {
    "binary.csv": "is a binary file",
    "empty.csv": "is empty",
    "one.csv": "1 bar time(s); learn evaluate needs at least 60 per file",
    "five.csv": "5 bar time(s); learn evaluate needs at least 60 per file",
    "infinite.csv": "infinite or non-positive close",
    "one-line.csv.gz": "one-line.csv.gz: its first line is longer than 65,536 bytes",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_learn_evaluate_refuses_a_bad_file_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (place / name).write_bytes(BAD_FILES[name])
    code, out, err, _ = run_main(["learn", "evaluate", "--data", name], capsys)
    assert_one_line_exit_2(code, out, err, WORDS[name], place)


def test_a_folder_given_as_the_file_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder named like a 2 GB export is said to be a folder, by both commands."""
    (place / "prices_2GB.csv").mkdir()
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "prices_2GB.csv"], capsys)
    assert_one_line_exit_2(code, out, err, "prices_2GB.csv: is a folder", place)
    code, out, err, _ = run_main(["paper", "--data", "replay:prices_2GB.csv"], capsys)
    assert_one_line_exit_2(code, out, err, "prices_2GB.csv: is a folder", place)


def test_a_file_name_the_system_cannot_open_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name longer than the file system allows (a pasted blob, a runaway shell variable)
    made both commands crash with exit 1 ("File name too long") and print all 5,000
    characters; now it is one short line, exit 2, for ``--data`` and ``--config`` alike, and
    for the FILE of ``db verify`` and ``db restore`` (which crashed the same way)."""
    name = "x" * 5000 + ".csv"
    for args in (
        ["learn", "evaluate", "--data", name],
        ["paper", "--data", f"replay:{name}"],
        ["config", "show", "--config", name],
        ["db", "verify", name],
        ["db", "restore", name, "--db", "a.db"],
    ):
        code, out, err, _ = run_main(args, capsys)
        assert_one_line_exit_2(code, out, err, "name too long", place)


def test_a_loop_of_links_given_as_the_file_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``learn evaluate --data`` met a link that leads back to itself with a crash line
    ("RuntimeError: Symlink loop from ...", exit 1); replay called it "no such file"."""
    (place / "prices.csv").symlink_to(place / "prices.csv")
    for args in (
        ["learn", "evaluate", "--data", "prices.csv"],
        ["paper", "--data", "replay:prices.csv"],
    ):
        code, out, err, _ = run_main(args, capsys)
        assert_one_line_exit_2(code, out, err, "prices.csv: is a link to no file", place)


def test_one_bad_file_among_several_stops_all_before_anything_runs(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad file is named, even after a good one; no table is printed for the good one."""
    _series(place / "good.csv", 120)
    (place / "bad.csv").write_bytes(BAD_FILES["infinite.csv"])
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "good.csv", "bad.csv"], capsys)
    assert_one_line_exit_2(code, out, err, "bad.csv: 1 row(s) with a NaN, infinite", place)


def test_learn_evaluate_says_what_it_changed_reading_a_file(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newest-first file is scored in time order, and the header says it was reversed."""
    _series(place / "new.csv", 120, newest_first=True)
    _series(place / "old.csv", 120)
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "new.csv", "old.csv"], capsys)
    assert code == 0, err
    assert "note: new.csv: newest bar first; read in time order" in out
    tables = out.split("new.csv\n", 1)[1].split("mean over", 1)[0]
    new_table, old_table = tables.split("old.csv\n")
    assert new_table.strip() == old_table.strip()  # the same bars: the same figures


def test_a_monthly_file_is_annualised_by_twelve(tmp_path: Path) -> None:
    """Month-end bars: 12 bars a year, and the Sharpe is the monthly returns' times sqrt(12)."""
    frame = read_bar_file(_monthly(tmp_path / "MONTHLY.csv"))
    market = file_market(frame, "MONTHLY.csv", 40)
    assert market.bars_per_year == pytest.approx(12, abs=0.05)
    result = run_config("hold", market, signals_for(market), EvalSettings(0.95, 10.0, 100.0))
    equity = [1.0, *result.equity]
    returns = [b / a - 1 for a, b in pairwise(equity)]
    hand = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(12)
    assert result.sharpe == pytest.approx(hand, rel=1e-3)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            _monthly,
            "its bars are 31 days apart, but --interval is 1d: sessions replay bars of a "
            "day or shorter; weekly or monthly bars can be scored with",
        ),
        (_hourly, "its bars are 1 hour(s) apart, but --interval is 1d: pass --interval 1h"),
    ],
)
def test_paper_says_which_interval_a_file_needs(
    place: Path, capsys: pytest.CaptureFixture[str], make, words: str
) -> None:
    make(place / "X.csv")
    argv = ["paper", "--data", "replay:X.csv", "--iterations", "0", "--batch", "--db", "a.db"]
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, words, place)


def _rally(path: Path, bars: int = 120, change: dict[int, tuple[str, str]] | None = None) -> Path:
    """A steady rally of daily SPY bars in our own layout (the strategies buy into it), with
    ``change`` replacing a row's timestamp and prices: ``{row: (timestamp, price)}`` (open,
    high, low and close all at that price)."""
    rows = []
    for i in range(bars):
        close = 100 * math.exp(0.004 * i + 0.01 * math.sin(i))
        prices = f"{close:.4f},{close * 1.01:.4f},{close * 0.99:.4f},{close:.4f}"
        stamp = f"{date(2024, 1, 1) + timedelta(days=i)}T20:00:00Z"
        if i in (change or {}):
            stamp, price = (change or {})[i]
            prices = ",".join([price] * 4)
        rows.append(f"{stamp},SPY,{prices},1000")
    path.write_text("timestamp,symbol,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {100: ("2024-04-10T20:00:00Z", "1e308")},
            "1 row(s) with a close below 1e-08 or above 1e+12",
        ),
        (
            {0: ("2024-01-01T20:00:00Z", "1e-300")},
            "1 row(s) with a close below 1e-08 or above 1e+12",
        ),
        ({119: ("9999-12-31T20:00:00Z", "150")}, "1 row(s) timed before 1800 or from 2200 on"),
    ],
    ids=["close-1e308", "close-1e-300", "year-9999"],
)
def test_prices_and_times_out_of_range_are_refused_before_anything_runs(
    place: Path, capsys: pytest.CaptureFixture[str], change: dict[int, tuple[str, str]], words: str
) -> None:
    """A close of 1e308 (a held position worth infinity), one of 1e-300 (orders for ~1e305
    shares; an infinite number with --start-cash 1e12) and a bar of 9999-12-31 (past the last
    date Python can step to) passed the file's checks: the session traded up to that bar, then
    stopped with exit 1 ("ValueError: cannot convert float NaN to integer", "OverflowError:
    date value out of range"), or ran on with every order refused. Now the file is refused
    whole, before the first bar, by both commands that read bar files."""
    _rally(place / "SPY.csv", change=change)
    argv = ["paper", "--data", "replay:SPY.csv", "--iterations", "0", "--period", "20d"]
    done = run_cli(place, *argv, "--db", "a.db")  # a child process: a session sets signals
    assert_one_line_exit_2(done.returncode, done.stdout, done.stderr, f"SPY.csv: {words}", place)
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "SPY.csv"], capsys)
    assert_one_line_exit_2(code, out, err, f"SPY.csv: {words}", place)


def test_a_rally_within_the_price_range_still_runs(tmp_path: Path) -> None:
    """The same rally with a bar at each edge of the range (2e-8 and 9e11) is traded to its
    end (in a child process: a session sets signal handlers)."""
    for price in ("2e-8", "9e11"):
        _rally(tmp_path / "SPY.csv", change={100: ("2024-04-10T20:00:00Z", price)})
        argv = ["--data", "replay:SPY.csv", "--iterations", "0", "--period", "20d"]
        done = run_cli(tmp_path, "paper", *argv, "--fractional", "--db", "a.db")
        assert done.returncode == 0, done.stderr
        assert "Session end_of_data: 100 iterations" in done.stdout


def test_a_parquet_file_timed_past_the_year_9999_is_refused_in_one_line(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Parquet bar file whose int64 times lie far past the year 9999 (flipped bits, another
    program's numbers): its column is a proper time column, so it passed the file's checks and
    ``paper --data replay:`` ended in ``OverflowError: date value out of range`` (exit 1, a
    crash.log) as the first time was handed to Python. Now both commands refuse it whole."""
    import polars as pl

    days = 40
    far = pl.Series([2**62 + d * 86_400_000_000 for d in range(days)])
    pl.DataFrame(
        {
            "timestamp": far.cast(pl.Datetime("us", "UTC")),
            "symbol": ["SPY"] * days,
            **{c: [100.0 + d for d in range(days)] for c in ("open", "high", "low", "close")},
            "volume": [1000.0] * days,
        }
    ).write_parquet(place / "far.parquet")
    words = "far.parquet: time stamps outside the years 1 to 9999"
    argv = ["paper", "--data", "replay:far.parquet", "--iterations", "0", "--period", "20d"]
    done = run_cli(place, *argv, "--db", "a.db")
    assert_one_line_exit_2(done.returncode, done.stdout, done.stderr, words, place)
    code, out, err, _ = run_main(["learn", "evaluate", "--data", "far.parquet"], capsys)
    assert_one_line_exit_2(code, out, err, words, place)
