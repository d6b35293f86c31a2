"""A trading session takes at most ``MAX_SESSION_SYMBOLS`` symbols, however they are given.

A pasted universe of 5,000 symbols ran ``paper --data sim --iterations 3`` for 8.5 s and
could not trade (each position $20: less than one share, one note per symbol and no order). Now
``--symbols``, a settings file, the desk's setup form and a replay file of more symbols than the
bound are refused at once, in one line that says the bound.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.core.symbols import MAX_SESSION_SYMBOLS

OVER = [f"S{i:04d}" for i in range(MAX_SESSION_SYMBOLS + 1)]
WORDS = f"{len(OVER):,} symbols: a session trades at most {MAX_SESSION_SYMBOLS:,}"


@pytest.mark.parametrize("command", [["paper", "--data", "sim"], ["live", "paper"]])
def test_more_symbols_than_a_session_takes_are_refused_at_once(
    place: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """One line naming the count and the bound, exit 2, before any warm-up."""
    argv = [*command, "--symbols", ",".join(OVER), "--iterations", "3", "--db", "a.db"]
    code, out, err, seconds = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, WORDS, place)
    assert seconds < 5, seconds
    assert not (place / "a.db").exists()


def test_the_bound_is_said_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err, _ = run_main(["paper", "--help"], capsys)
    assert code == 0 and f"at most {MAX_SESSION_SYMBOLS:,}" in " ".join(out.split())


def test_a_session_of_as_many_symbols_as_the_bound_runs(tmp_path: Path) -> None:
    argv = ["paper", "--symbols", ",".join(OVER[:-1]), "--iterations", "1", "--db", "a.db"]
    done = run_cli(tmp_path, *argv)
    assert done.returncode == 0, done.stderr
    assert f"regimes of {MAX_SESSION_SYMBOLS:,} symbols" in done.stdout


def test_a_settings_file_of_more_symbols_is_refused_naming_it(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = ", ".join(f'"{s}"' for s in OVER)
    (place / "tui-trader.toml").write_text(f"symbols = [{listed}]\n")
    code, out, err, _ = run_main(["paper", "--iterations", "1", "--db", "a.db"], capsys)
    assert_one_line_exit_2(code, out, err, WORDS, place)
    assert "tui-trader.toml" in err and "symbols" in err


def test_the_desks_setup_form_refuses_more_symbols() -> None:
    from tui_trader.tui.setup_form import DEFAULTS, validate

    result = validate(dict(DEFAULTS, db="desk.db", symbols=",".join(OVER)))
    assert result.plan is None and WORDS in result.errors["symbols"], result.errors


def test_a_replay_file_of_more_symbols_is_refused_naming_it(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--symbols`` a replay trades every symbol its file holds: the same bound."""
    start = datetime(2020, 1, 1, 14, 30, tzinfo=UTC)
    days = 10
    pl.DataFrame(
        {
            "timestamp": [start + timedelta(days=d) for _s in OVER for d in range(days)],
            "symbol": [s for s in OVER for _d in range(days)],
            "open": 100.0,
            "high": 101.0,
            "low": 99.0,
            "close": 100.0,
            "volume": 1000.0,
        }
    ).write_parquet(place / "wide.parquet")
    argv = ["paper", "--data", "replay:wide.parquet", "--period", "5d", "--iterations", "1"]
    code, out, err, _ = run_main([*argv, "--db", "a.db"], capsys)
    assert_one_line_exit_2(code, out, err, f"wide.parquet holds {WORDS}", place)
