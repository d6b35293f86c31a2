"""The desk's Alpaca paper mode, started from the setup screen, against the local sandbox."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Select
from tui_helpers import desk_threads_done, fast_desk_defaults, scalar, wait_for

from tests.integration.alpaca_helpers import sandbox_env
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.confirm import ConfirmScreen

SIZE = (120, 36)
FAST = fast_desk_defaults()
"""The form as a settings file's ``requests-per-minute`` leaves it: the sessions below cycle
without the desk's request budget holding them (none of them checks the budget)."""


async def test_alpaca_paper_from_setup_trades_on_the_sandbox_and_ctrl_k_halts(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials found, mode Alpaca paper, Start: cycles are recorded as a paper session on
    an Alpaca account; ctrl+k halts it and the halt is recorded."""
    with running_sandbox(speed=600) as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, iterations=0, every=0.05, setup_defaults=FAST)
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
        await desk_threads_done()


def _bought_by_hand(sb, symbol: str, qty: int) -> None:
    """Buy ``qty`` shares on the sandbox account as a person would in Alpaca's dashboard, and
    wait until they are held."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import MarketOrderRequest

    from tui_trader.sandbox.testing import make_fast, wait_until

    hand = make_fast(TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url))
    hand.submit_order(MarketOrderRequest(symbol=symbol, qty=qty, side="buy", time_in_force="day"))
    sb.admin.step()  # the hand's order fills with the bar
    wait_until(
        lambda: [(p.symbol, float(p.qty)) for p in hand.get_all_positions()] == [(symbol, qty)],
        what="the hand's shares",
    )


async def test_adopt_positions_chosen_on_the_form_reaches_the_session_and_adopts(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account holds 12 SPY bought by hand and the desk's database has no session on it,
    so a session would leave them alone (``outside_change``). With "Adopt positions" ticked
    (offered for Alpaca modes only, off by default) and the question answered, the session the
    desk starts takes them as its own: one ``positions_adopted`` event, no ``outside_change``.
    Before, the form had no such choice and desk sessions never adopted."""
    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        _bought_by_hand(sb, "SPY", 12)
        app = make_app(db_path, iterations=0, every=0.05, setup_defaults=FAST)
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
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, ConfirmScreen) and app.screen.focused is not None,
                "the question, mounted",
            )
            question = app.screen
            assert "may sell them" in str(question.query_one(".dialog-text").render())
            go_back, yes = question.query_one("#no", Button), question.query_one("#yes", Button)
            assert go_back.has_focus, "the safe answer first"
            await pilot.press("tab")  # the keys a trader uses: Enter alone would go back
            await wait_for(pilot, lambda: yes.has_focus, "the focus on 'Start and adopt'")
            await pilot.press("enter")
            adopted = "SELECT value FROM live_risk_events WHERE event_type = 'positions_adopted'"
            await wait_for(
                pilot, lambda: scalar(db_path, adopted) or app.last_error, "the adoption"
            )
            assert not app.last_error
            assert scalar(db_path, adopted) == 12
            left = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'outside_change'"
            assert scalar(db_path, left) == 0
            app.exit()
        await desk_threads_done()


async def test_a_symbol_left_alone_is_labelled_with_the_shares_this_desk_did_not_trade(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 SPY bought by hand, a desk database with no session on the account: the session
    leaves SPY alone, and the positions table shows the broker's whole position and its P&L.
    Before, nothing told that row's P&L apart from the desk's own; now the row is marked and a
    line under the table says how many of its shares this desk did not trade."""
    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        _bought_by_hand(sb, "SPY", 12)
        app = make_app(db_path, iterations=0, every=0.05, setup_defaults=FAST)
        async with app.run_test(size=SIZE) as pilot:
            setup = app.screen
            setup.query_one("#mode", Select).value = "paper"
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start to be enabled")
            await pilot.click("#start")
            sb.admin.set_speed(600)  # bars come: the session reports its cycles
            dashboard = app.dashboard
            await wait_for(pilot, lambda: app.screen is dashboard, "the dashboard")
            await wait_for(pilot, lambda: dashboard.query("#positions-note"), "its positions")
            note = dashboard.query_one("#positions-note")
            await wait_for(
                pilot,
                lambda: "left alone" in str(note.render()) or app.last_error,
                "the note under the positions",
            )
            assert note.display
            assert not app.last_error
            assert (
                str(note.render()) == "* SPY left alone: includes 12 shares not traded by this desk"
            )
            table = app.dashboard.query_one("#positions", DataTable)
            symbols = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert "SPY*" in symbols, symbols
            app.exit()
        await desk_threads_done()


CAP = 2500.0
"""The cash field's cap for an Alpaca session: far below the sandbox account's 100,000."""
FILLS = "SELECT symbol, side, filled_qty, filled_price FROM live_orders WHERE filled_qty > 0"
RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}


def _most_held(db) -> float:
    """The largest value the session's filled orders ever held at once (their fill prices)."""
    import sqlite3

    with sqlite3.connect(db) as con:
        rows = con.execute(FILLS + " ORDER BY id").fetchall()
    held: dict[str, float] = {}
    most = 0.0
    for symbol, side, qty, price in rows:
        held[symbol] = held.get(symbol, 0.0) + (qty if side == "buy" else -qty) * price
        most = max(most, sum(held.values()))
    return most


async def test_the_cash_field_caps_an_alpaca_paper_session_as_start_cash_does(
    db_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setup form's cash field served only a local session: an Alpaca session from the
    desk always traded the account's whole equity (100,000 here), whatever the trader typed.
    Now, with an Alpaca mode chosen, it is ``live paper --start-cash``: labelled so, empty by
    default (the whole equity), a bad value refused beside the field, and a cap of 2,500 keeps
    what the session holds within it (5% for the rally between an order and its fill) through
    a rally that makes it buy."""
    from textual.widgets import Label, Static

    with running_sandbox() as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        app = make_app(db_path, iterations=0, every=0.05, setup_defaults=FAST)
        async with app.run_test(size=SIZE) as pilot:
            setup = app.screen
            cash = setup.query_one("#start_cash", Input)
            label = setup.query_one("#start_cash-row Label", Label)
            assert cash.value == "100000" and "local" in str(label.render())
            setup.query_one("#mode", Select).value = "paper"
            await wait_for(pilot, lambda: "Alpaca" in str(label.render()), "Alpaca's label")
            assert cash.value == "" and "empty = all" in cash.placeholder
            start = setup.query_one("#start", Button)
            await wait_for(pilot, lambda: not start.disabled, "Start with the whole equity")
            cash.value = "lots"
            error = setup.query_one("#start_cash-error", Static)
            await wait_for(pilot, lambda: start.disabled and str(error.render()), "the refusal")
            cash.value = f"{CAP:g}"
            setup.query_one("#weights", Select).value = "trend"  # a rally makes it buy
            await wait_for(pilot, lambda: not start.disabled, "Start enabled again")
            await pilot.click("#start")
            cycles = "SELECT COUNT(*) FROM live_account_snapshots"
            polls = iter(range(1_000_000))

            def first_cycle() -> bool:
                """The session's first cycle, on a bar after its warm-up (a flat bar every
                25th look: the market is paused, and a bar stepped during the warm-up is
                history to it)."""
                if next(polls) % 25 == 24:
                    sb.admin.step()
                return bool(scalar(db_path, cycles)) or bool(app.last_error)

            await wait_for(pilot, first_cycle, "the first cycle")
            for n in range(12):  # a bar, then its cycle: 8 bars of rally, then 4 flat
                done = scalar(db_path, cycles) or 0
                sb.admin.step(shock=RALLY if n < 8 else None)
                await wait_for(
                    pilot,
                    lambda done=done: (scalar(db_path, cycles) or 0) > done or app.last_error,
                    f"cycle {n}",
                )
            assert not app.last_error
            app.exit()
        await desk_threads_done()
    assert 0 < _most_held(db_path) <= CAP * 1.05  # whole equity: ~30,000 in the same rally
