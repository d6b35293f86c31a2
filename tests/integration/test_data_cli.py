"""``tui-trader data fetch|list|clear|export`` against a fake Yahoo, with a temporary cache."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import tui_trader.cli as cli
from tests.integration.fake_yahoo import FakeYahoo, closed_port_url
from tui_trader.core.timeframes import parse_period
from tui_trader.market.replay import ReplayMarket


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeYahoo]:
    """A fake Yahoo serving recent sessions; the cache and Yahoo's origin set by environment."""
    server = FakeYahoo(recent=True)
    monkeypatch.setenv("TUI_TRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TUI_TRADER_YAHOO_URL", server.url)
    yield server
    server.close()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command line; return exit code, stdout, stderr."""
    try:
        code = cli.main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_fetch_list_export_clear(fake: FakeYahoo, tmp_path: Path, capsys) -> None:
    code, out, err = run(["data", "fetch", "--symbols", "SPY,QQQ", "--period", "1mo"], capsys)
    assert (code, err) == (0, "")
    assert "SPY    1d        21 bars" in out and "2 request(s) to Yahoo" in out

    code, out, _ = run(["data", "fetch", "--symbols", "SPY,QQQ", "--period", "1mo"], capsys)
    assert code == 0 and "0 request(s) to Yahoo" in out  # the cache answered

    code, out, _ = run(["data", "list"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SYMBOL", "INT", "FIRST", "LAST", "ROWS", "SIZE", "AGE"]
    assert [line.split()[0] for line in lines[1:3]] == ["QQQ", "SPY"]
    assert "2 file(s)" in lines[-1]

    csv = tmp_path / "spy.csv"
    code, out, _ = run(["data", "export", "--symbol", "SPY", "--out", str(csv)], capsys)
    assert code == 0 and "wrote 21 SPY 1d bars" in out
    market = ReplayMarket.from_file(csv, period=parse_period("5d"))
    assert market.total_steps == 21

    parquet = tmp_path / "spy.parquet"
    first_day = pl.read_csv(csv).get_column("timestamp")[3][:10]
    code, out, _ = run(
        ["data", "export", "--symbol", "SPY", "--out", str(parquet), "--start", first_day],
        capsys,
    )
    assert code == 0 and "wrote 18 SPY 1d bars" in out
    assert ReplayMarket.from_file(parquet).total_steps == 18

    code, out, _ = run(["data", "clear", "--symbols", "SPY"], capsys)
    assert code == 0 and "removed 1 cached file(s)" in out
    code, out, _ = run(["data", "list"], capsys)
    assert "SPY" not in out and "QQQ" in out


class _Terminal(io.StringIO):
    """Standard input at a terminal where the user types ``answer``."""

    def isatty(self) -> bool:
        return True


def test_clearing_every_symbol_asks_first(
    fake: FakeYahoo, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``data clear`` without --symbols empties the whole cache: off a terminal it is refused in
    one line (exit 2) and nothing is deleted; at a terminal a wrong answer deletes nothing and
    'clear' deletes all; --yes skips the question. It emptied the cache without asking."""
    run(["data", "fetch", "--symbols", "SPY,QQQ", "--period", "1mo"], capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run(["data", "clear"], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "refusing to clear every symbol's cached bars without confirmation" in err
    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    code, out, err = run(["data", "clear"], capsys)
    assert code == 2 and "This deletes every symbol's cached bars" in out
    assert "not cleared: nothing was deleted" in err
    assert "SPY" in run(["data", "list"], capsys)[1]
    monkeypatch.setattr("sys.stdin", _Terminal("clear\n"))
    code, out, _ = run(["data", "clear", "--interval", "1d"], capsys)
    assert code == 0 and "removed 2 cached file(s)" in out
    run(["data", "fetch", "--symbols", "SPY", "--period", "1mo"], capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, _ = run(["data", "clear", "--yes"], capsys)
    assert code == 0 and "removed 1 cached file(s)" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["data", "fetch", "--symbols", "SPY", "--interval", "7x"], "unknown interval"),
        (["data", "fetch", "--symbols", "SPY", "--interval", "3m"], "Yahoo Finance has no 3m bars"),
        (
            ["data", "fetch", "--symbols", "SPY", "--interval", "1m", "--period", "60d"],
            "Yahoo keeps 1m bars for the last 30 days only",
        ),
        (["data", "fetch", "--symbols", "SPY", "--timeout", "0"], "greater than zero"),
        (["data", "export", "--symbol", "SPY", "--out", "x.csv"], "nothing cached for SPY"),
        (["data", "export", "--symbol", "SPY", "--out", "x.txt"], "use a .csv or .parquet"),
        (
            ["data", "export", "--symbol", "SPY", "--out", "x.csv", "--start", "2025-13-01"],
            "not a date",
        ),
        (["data"], "data needs an action"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(fake, args, words, capsys) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_fetch_offline_with_an_empty_cache_is_one_line(
    fake, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("TUI_TRADER_YAHOO_URL", closed_port_url())
    code, _, err = run(["data", "fetch", "--symbols", "SPY,QQQ", "--period", "5d"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "not updated: SPY, QQQ (nothing cached)" in err


def test_session_options_for_yahoo(tmp_path: Path) -> None:
    import argparse

    from tui_trader.cli.yahoo_options import add_yahoo_options, yahoo_options

    parser = argparse.ArgumentParser()
    add_yahoo_options(parser)
    args = parser.parse_args(
        ["--timeout", "2.5", "--cache-dir", str(tmp_path), "--adjusted", "--offline"]
    )
    opts = yahoo_options(args)
    assert (opts.timeout, opts.cache_dir, opts.adjusted, opts.offline) == (
        2.5,
        tmp_path,
        True,
        True,
    )


def test_a_paper_session_trades_on_yahoo_bars_then_on_the_cache_alone(
    fake: FakeYahoo, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``paper --data yahoo`` downloads, warms up and trades; a second run with Yahoo
    unreachable needs no request at all, because the cache already covers it."""
    db = str(tmp_path / "y.db")
    args = [
        "paper",
        "--data",
        "yahoo",
        "--symbols",
        "SPY",
        "--period",
        "10d",
        "--iterations",
        "8",
        "--db",
        db,
    ]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.startswith("iter=")]) == 8
    assert "Data: yahoo" in out
    asked = len(fake.chart_requests())
    monkeypatch.setenv("TUI_TRADER_YAHOO_URL", closed_port_url())
    code, out, err = run([*args, "--timeout", "1"], capsys)
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.startswith("iter=")]) == 8
    assert len(fake.chart_requests()) == asked


def test_ctrl_c_at_the_clear_question_ends_it(tmp_path: Path) -> None:
    """Ctrl+C at ``data clear``'s question ends the command: 'interrupted', exit 130, nothing
    deleted. polars replaces the SIGINT handler when it loads with one that restarts a
    blocked read, and the question ignored Ctrl+C for good (a hang; only kill ended it)."""
    import os
    import signal
    import subprocess

    from tests.integration.cli_helpers import read_until, start_cli_on_terminal, stuck_at

    cache = tmp_path / "cache"
    (cache / "1d").mkdir(parents=True)
    kept = cache / "1d" / "SPY.parquet"
    kept.write_bytes(b"bars")
    proc, master = start_cli_on_terminal(tmp_path, "data", "clear", "--cache-dir", str(cache))
    try:
        read_until(proc, b"to delete them: ")
        proc.send_signal(signal.SIGINT)  # what Ctrl+C sends
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"Ctrl+C did not end the question: {stuck_at(proc)}") from None
    finally:
        os.close(master)
    assert proc.returncode == 130 and err.decode().strip() == "interrupted"
    assert kept.exists()
