"""Damaged files in the Yahoo bar cache: ``data list`` shows them, ``data clear`` removes them.

A cache file is written by a rename, but a disk, a sync tool or a hand can still leave
``bars/1d/SPY.parquet`` as garbage, empty, cut short, another program's table, a folder, a loop
of links or a named pipe. Reading one, ``paper`` and ``data export`` said
``damaged cache file ...; remove it with 'tui-trader data clear --symbols SPY'``, but ``data
clear`` and ``data list`` read every file first and crashed on the same file (exit 1,
``ComputeError`` and a crash.log, the file left in place), and waited for ever on a named pipe.
A table that is Parquet but not the cache's columns (no ``timestamp``, prices as text, times
without a zone) crashed ``paper`` (``ColumnNotFoundError``, ``TypeError``). Runs the real
command line in a child process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.integration.cli_helpers import run_cli


def _bars(days: int = 300) -> pl.DataFrame:
    """A good cache table of SPY daily bars."""
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "timestamp": [first + timedelta(days=d) for d in range(days)],
            "symbol": ["SPY"] * days,
            **{c: [100.0 + d % 7 for d in range(days)] for c in ("open", "close", "adj_close")},
            "high": [102.0 + d % 7 for d in range(days)],
            "low": [99.0 + d % 7 for d in range(days)],
            "volume": [1000.0] * days,
        }
    )


def _cut(path: Path) -> None:
    _bars().write_parquet(path)
    path.write_bytes(path.read_bytes()[:-200])


def _far() -> pl.DataFrame:
    """The cache's table whose times are far past the year 9999 (a disk's or a tool's flipped
    bits in the int64 of each time stamp): a Parquet file of the cache's columns and types,
    whose times polars cannot hand to Python (it panicked: exit 1, a Rust backtrace)."""
    far = pl.Series([2**62 + d for d in range(300)]).cast(pl.Datetime("us", "UTC"))
    return _bars().with_columns(far.alias("timestamp"))


DAMAGE: dict[str, Callable[[Path], object]] = {
    "garbage": lambda p: p.write_bytes(b"not parquet " * 20),
    "empty": lambda p: p.write_bytes(b""),
    "cut short": _cut,
    "another table": lambda p: pl.DataFrame({"a": [1, 2]}).write_parquet(p),
    "a named pipe": lambda p: os.mkfifo(p),
    "a loop of links": lambda p: (
        os.symlink(p.with_name("b"), p.with_name("a")),
        os.symlink(p.with_name("a"), p.with_name("b")),
        os.symlink(p.with_name("a"), p),
    ),
    "times past the year 9999": lambda p: _far().write_parquet(p),
}


def _cache(tmp_path: Path, damage: Callable[[Path], object]) -> Path:
    """A cache folder holding a good QQQ file and a damaged SPY file (1d)."""
    folder = tmp_path / "cache" / "bars" / "1d"
    folder.mkdir(parents=True)
    _bars().with_columns(pl.lit("QQQ").alias("symbol")).write_parquet(folder / "QQQ.parquet")
    damage(folder / "SPY.parquet")
    return tmp_path / "cache"


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_data_list_shows_a_damaged_file_and_data_clear_removes_it(
    tmp_path: Path, kind: str
) -> None:
    cache = _cache(tmp_path, DAMAGE[kind])
    listed = run_cli(tmp_path, "data", "list", "--cache-dir", str(cache), timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr and "crash.log" not in listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "300" in lines["QQQ"], listed.stdout  # the good file is listed as before
    assert "damaged" in lines["SPY"], listed.stdout
    cleared = run_cli(
        tmp_path, "data", "clear", "--symbols", "SPY", "--cache-dir", str(cache), timeout=60
    )
    assert cleared.returncode == 0, cleared.stderr
    assert "removed 1 cached file(s)" in cleared.stdout
    spy = cache / "bars" / "1d" / "SPY.parquet"
    assert not spy.exists() and not spy.is_symlink()
    assert (cache / "bars" / "1d" / "QQQ.parquet").is_file()


@pytest.mark.parametrize(
    "frame",
    [
        pl.DataFrame({"a": [1, 2]}),
        _bars().with_columns(pl.col("close").cast(pl.Utf8)),
        _bars().with_columns(pl.col("timestamp").dt.replace_time_zone(None)),
        _far(),
    ],
    ids=["no timestamp", "prices as text", "times without a zone", "times past 9999"],
)
def test_paper_calls_a_table_that_is_not_the_caches_a_damaged_file(
    tmp_path: Path, frame: pl.DataFrame
) -> None:
    cache = _cache(tmp_path, frame.write_parquet)
    done = run_cli(
        tmp_path, "paper", "--iterations", "3", "--db", str(tmp_path / "desk.db"), "--data",
        "yahoo", "--offline", "--symbols", "SPY", "--interval", "1d", "--period", "6mo",
        "--cache-dir", str(cache),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "damaged cache file" in lines[0], done.stderr
    assert "data clear --symbols SPY" in lines[0]


def test_a_cache_file_of_only_bad_rows_says_no_bar_is_left(tmp_path: Path) -> None:
    """Every cached close NaN (each row dropped, as the note says): the refusal ended in
    ``no bars for SPY (the file has )``, a sentence cut off. It says no bar is left now."""
    bad = _bars().with_columns(pl.lit(float("nan")).alias("close"))
    cache = _cache(tmp_path, bad.write_parquet)
    done = run_cli(
        tmp_path, "paper", "--iterations", "3", "--db", str(tmp_path / "desk.db"), "--data",
        "yahoo", "--offline", "--symbols", "SPY", "--interval", "1d", "--period", "6mo",
        "--cache-dir", str(cache),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "dropped" in done.stdout  # the note says why
    assert done.stderr.strip().endswith("no bars for SPY (no bar is left to trade on)")


def test_data_list_and_clear_say_a_folder_under_a_cached_files_name(tmp_path: Path) -> None:
    """A folder ``bars/1d/SPY.parquet`` (made by hand, a sync tool): ``data list`` and ``data
    clear`` passed over it without a word (SPY looked uncached; clearing left it). Now each
    says it in one warning line and leaves it; the good file beside it is listed, cleared."""
    cache = _cache(tmp_path, lambda p: (p.mkdir(), (p / "part-0.parquet").write_bytes(b"x")))
    spy = cache / "bars" / "1d" / "SPY.parquet"
    listed = run_cli(tmp_path, "data", "list", "--cache-dir", str(cache), timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:-1]] == ["QQQ"]
    [warning] = listed.stderr.splitlines()
    assert warning.startswith("tui-trader: warning: skipped ") and "SPY.parquet" in warning
    assert "a folder, not a file the cache wrote" in warning, warning
    cleared = run_cli(tmp_path, "data", "clear", "--yes", "--cache-dir", str(cache), timeout=60)
    assert cleared.returncode == 0, cleared.stderr
    assert "removed 1 cached file(s)" in cleared.stdout
    [warning] = cleared.stderr.splitlines()
    assert "SPY.parquet" in warning and "left as it is" in warning, warning
    assert spy.is_dir() and (spy / "part-0.parquet").exists()
    assert not (cache / "bars" / "1d" / "QQQ.parquet").exists()
