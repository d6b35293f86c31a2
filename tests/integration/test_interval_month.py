"""``--interval 1M`` is refused as ambiguous, not read as one minute.

Capital M is a month in pandas, TradingView and Alpaca's own timeframes; the interval reader
lower-cased it to ``1m``: ``paper --interval 1M`` traded a session of one-minute bars (exit 0)
for a user who meant months, and ``data fetch`` asked Yahoo for minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.cli import main

WORDS = "argument --interval: interval '1M' is ambiguous: capital M is a month in many tools"


def test_paper_refuses_an_interval_in_capital_m(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run in the main thread: a session that starts installs its signal handlers."""
    argv = ["paper", "--db", "desk.db", "--iterations", "1", "--interval", "1M"]
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    assert_one_line_exit_2(int(done.value.code), out, err, WORDS, place)
    assert "write 1m for minutes" in err
    assert not (place / "desk.db").exists(), "a session ran"


def test_data_fetch_refuses_an_interval_in_capital_m(
    place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["data", "fetch", "--symbols", "SPY", "--interval", "1M", "--timeout", "1"]
    code, out, err, _ = run_main(argv, capsys)
    assert_one_line_exit_2(code, out, err, WORDS, place)


def test_a_lower_case_m_is_still_minutes(place: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = run_main(["config", "show", "--interval", "5m"], capsys)
    assert code == 0, err
    assert any(line.split()[:2] == ["interval", "5m"] for line in out.splitlines()), out
