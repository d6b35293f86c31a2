"""The desk's Alpaca paper mode, started from the setup screen, against the local sandbox."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Checkbox, Input, Select
from tui_helpers import scalar, wait_for

from tests.integration.alpaca_helpers import sandbox_env
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.confirm import ConfirmScreen

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


async def test_adopt_positions_chosen_on_the_form_reaches_the_session_and_adopts(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account holds 12 SPY bought by hand and the desk's database has no session on it,
    so a session would leave them alone (``outside_change``). With "Adopt positions" ticked
    (offered for Alpaca modes only, off by default) and the question answered, the session the
    desk starts takes them as its own: one ``positions_adopted`` event, no ``outside_change``.
    Before, the form had no such choice and desk sessions never adopted."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import MarketOrderRequest

    from tui_trader.sandbox.testing import make_fast

    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        hand = make_fast(TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url))
        hand.submit_order(MarketOrderRequest(symbol="SPY", qty=12, side="buy", time_in_force="day"))
        sb.admin.step()  # the hand's order fills with the bar
        assert [float(p.qty) for p in hand.get_all_positions()] == [12.0]
        app = make_app(db_path, iterations=0, every=0.05)
        async with app.run_test(size=SIZE) as pilot:
            setup = app.screen
            adopt = setup.query_one("#adopt", Checkbox)
            assert not adopt.value, "off by default"
            assert not setup.query_one("#adopt-row").display, "no such choice for local"
            setup.query_one("#mode", Select).value = "paper"
            await wait_for(pilot, lambda: setup.query_one("#adopt-row").display, "the switch")
            adopt.value = True
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start to be enabled")
            await pilot.click("#start")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
            assert "may sell them" in str(app.screen.query_one(".dialog-text").render())
            await pilot.click("#yes")
            adopted = "SELECT value FROM live_risk_events WHERE event_type = 'positions_adopted'"
            await wait_for(
                pilot, lambda: scalar(db_path, adopted) or app.last_error, "the adoption"
            )
            assert not app.last_error
            assert scalar(db_path, adopted) == 12
            left = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'outside_change'"
            assert scalar(db_path, left) == 0
            app.exit()
