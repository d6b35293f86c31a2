"""The desk's Alpaca paper mode, started from the setup screen, against the local sandbox."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, Select
from tui_helpers import scalar, wait_for

from tests.integration.alpaca_helpers import sandbox_env
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.tui.app import make_app

SIZE = (120, 36)


async def test_alpaca_paper_from_setup_trades_on_the_sandbox_and_ctrl_k_halts(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials found, mode Alpaca paper, Start: cycles are recorded as a paper session on
    an Alpaca account; ctrl+k halts it and the halt is recorded."""
    with running_sandbox(speed=600) as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, iterations=0, every=0.05)
        async with app.run_test(size=SIZE) as pilot:
            setup = app.screen
            setup.query_one("#mode", Select).value = "paper"
            status = setup.query_one("#alpaca-status")
            await wait_for(
                pilot, lambda: "credentials found" in str(status.render()), "the keys found"
            )
            assert setup.query_one("#interval", Input).value == "1m", "Alpaca's default bars"
            assert setup.query_one("#period", Input).value == "5d"
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start to be enabled")
            await pilot.click("#start")
            snapshots = "SELECT COUNT(*) FROM live_account_snapshots"
            await wait_for(
                pilot,
                lambda: (scalar(db_path, snapshots) or 0) >= 3 or app.last_error,
                "3 cycles",
            )
            assert not app.last_error
            mode, account = (
                scalar(db_path, "SELECT mode FROM sessions"),
                scalar(db_path, "SELECT account_key FROM sessions"),
            )
            assert mode == "paper" and account.startswith("alpaca:")
            await pilot.press("ctrl+k")
            kills = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'manual_kill'"
            await wait_for(pilot, lambda: scalar(db_path, kills) == 1, "the manual kill")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.halted, "the app to show HALTED")
            app.exit()
