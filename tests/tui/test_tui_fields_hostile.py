"""Hostile text typed into the desk's own fields: refused where it was typed, never an order.

The setup screen refuses every value the command line refuses. Before: the Seconds field
(``--every``) took any finite number, ``1e12`` included, where ``tui-trader paper --every 1e12``
says "at most 86400 seconds": the desk started, ran one cycle and then waited 31,000 years for
the next without a word. And the order ticket dropped every comma, so ``1,5`` shares (one and a
half, written the European way) went to the session as 15.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from textual.widgets import Button, Input, Static
from tui_helpers import capped_factory, scalar, wait_for

from tui_trader.cli import build_parser
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.setup_form import DEFAULTS, validate

SIZE = (120, 36)

OPTIONS = {
    "symbols": "--symbols",
    "interval": "--interval",
    "period": "--period",
    "iterations": "--iterations",
    "every": "--every",
    "start_cash": "--start-cash",
    "seed": "--seed",
    "learning_rate": "--learning-rate",
    "weight_floor": "--weight-floor",
    "db": "--db",
    "max_drawdown": "--max-drawdown",
    "max_daily_loss": "--max-daily-loss",
    "max_position": "--max-position",
    "max_orders": "--max-orders-per-day",
    "stop_loss": "--stop-loss",
    "take_profit": "--take-profit",
    "alerts": "--alert",
    "backup_every": "--backup-every",
    "backup_keep": "--backup-keep",
}
"""Each setup field and the ``paper`` option it stands for."""

HOSTILE = [
    *("nan", "inf", "-inf", "-0", "0", "-5", "0.0000001", "1e-320", "1e308", "1e309"),
    *("9" * 30, "86401", "1e10", "1e12", "1e13", "100", "101", "5.5", "5%", "+5", "1_000"),
    *("0x10", "5 5", "\u202e5", "\u0665", "\uff15", "\uff11d", "5\x00", "5\x1b[2J", "x" * 300),
    *("1M", "0d", "1000000d", "999999999999d", "atr:nan", "atr:1e309", "atr:-1", "atr:0"),
    *("\u00df", "spy", "SPY,,QQQ", "db\x7f.db"),
]
"""Empty-ish, non-finite, huge, negative, tiny, Unicode digits, right-to-left marks, control
characters, a long paste and each option's own odd forms (``1M``, ``atr:N``)."""


def _cli_refuses(option: str, value: str) -> bool:
    """Whether ``tui-trader paper OPTION=VALUE`` is refused while its arguments are read."""
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(["paper", f"{option}={value}"])
        except SystemExit:
            return True
    return False


@pytest.mark.parametrize("field", sorted(OPTIONS))
def test_a_value_the_command_line_refuses_is_refused_on_the_setup_screen(field: str) -> None:
    """One rule per value: the form never starts a session on what ``paper`` refuses."""
    taken = []
    for value in HOSTILE:
        if not _cli_refuses(OPTIONS[field], value):
            continue
        result = validate(dict(DEFAULTS, db="desk.db") | {field: value})
        if result.plan is not None or field not in result.errors:
            taken.append(value)
    assert taken == [], f"the {field} field took what the command line refuses"


async def test_a_pace_of_a_trillion_seconds_is_refused_beside_its_field(db_path) -> None:
    """Typed in the Seconds field, ``1e12`` is the command line's reason there, Start stays
    off and Enter starts nothing."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#every", Input).value = "1e12"
        error = setup.query_one("#every-error", Static)
        await wait_for(pilot, lambda: "at most 86400 seconds" in str(error.render()), "reason")
        assert setup.query_one("#start", Button).disabled
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen) and not app.running


async def test_backups_a_trillion_minutes_apart_are_refused_beside_their_field(db_path) -> None:
    """``1e12`` in "Backup every (min)" was taken: the session started and its backup thread
    died at its first wait (``OverflowError``), no backup ever; now the command line's reason
    is shown beside the field and Enter starts nothing (hostile28c)."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        setup = app.screen
        setup.query_one("#backup_every", Input).value = "1e12"
        error = setup.query_one("#backup_every-error", Static)
        await wait_for(pilot, lambda: "at most 10,080 minutes" in str(error.render()), "reason")
        assert setup.query_one("#start", Button).disabled
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen) and not app.running


def _manual_rows(db_path) -> int:
    """Orders the audit trail holds with a manual rationale."""
    return scalar(db_path, "SELECT COUNT(*) FROM live_orders WHERE rationale LIKE 'manual%'")


async def test_a_decimal_comma_on_the_ticket_is_refused_not_read_as_ten_times(
    db_path, paced
) -> None:
    """``1,5`` shares on a LOCAL ticket (sent without a question) went to the session as 15;
    it is refused on the ticket, and the mended ``1,500`` is sent as 1,500."""
    app = make_app(
        db_path,
        clock=paced,
        every=0.05,
        iterations=0,
        session_factory=capped_factory(db_path, paced, 3),
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == 3, "bars")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        ticket = app.screen
        await pilot.press("1", ",", "5", "enter")
        error = ticket.query_one("#ticket-error", Static)
        await wait_for(pilot, lambda: "commas only between" in str(error.render()), "refusal")
        assert app.screen is ticket and _manual_rows(db_path) == 0
        await pilot.press("0", "0", "enter")
        await wait_for(pilot, lambda: _manual_rows(db_path) == 1, "the mended order")
        rationale = "SELECT rationale FROM live_orders WHERE rationale LIKE 'manual%'"
        assert scalar(db_path, rationale).startswith("manual ticket: 1,500 sh market")
        app.handle.stop()
