"""``--slippage-bps`` is at most 5,000 (50%) for the paper broker and the sandbox.

A sell fills at the bar's price times ``1 - slippage``: at 10,000 bps or more that is zero or
less. ``paper --slippage-bps 20000`` started and recorded buys at three times the price.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main


@pytest.mark.parametrize("command", ["paper", "sandbox"])
@pytest.mark.parametrize("bps", ["10000", "20000", "5000.5"])
def test_slippage_that_would_sell_at_or_below_zero_is_refused(
    place: Path, capsys: pytest.CaptureFixture[str], command: str, bps: str
) -> None:
    db = ["--db", "s.db"] if command == "paper" else ["--port", "0"]
    code, out, err, _ = run_main([command, "--slippage-bps", bps, *db], capsys)
    assert_one_line_exit_2(code, out, err, "at most 5,000 bps (50%)", place)
    assert not (place / "s.db").exists()
