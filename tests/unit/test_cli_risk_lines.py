"""The CLI's ``[RISK]`` lines name the unit of the measure, as the desk does."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tui_trader.cli.session_output import event_line
from tui_trader.core.domain import RiskEvent


def printed(event: RiskEvent) -> str:
    """The line as a terminal shows it (markup rendered, no colour)."""
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(event_line(event))
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (
            RiskEvent("position_size_limit", 410.44, 10.0, "reduced from 1000 to 24"),
            "[RISK] position_size_limit: 410.44% (limit 10.00%) -> reduced from 1000 to 24",
        ),
        (
            RiskEvent("daily_loss_limit", 2.31, 2.0, "halted trading until the next trading day"),
            "[RISK] daily_loss_limit: 2.31% (limit 2.00%) -> halted trading until the next "
            "trading day",
        ),
        (
            RiskEvent("order_rate_limit", 100.0, 100.0, "refused buy 3 SPY: 100 orders sent"),
            "[RISK] order_rate_limit: 100 orders (limit 100) -> refused buy 3 SPY: 100 orders sent",
        ),
        (
            RiskEvent("position_size_limit", 7.0, 3.0, "refused protective sell 10"),
            "[RISK] position_size_limit: would leave 7 shares (held 3) -> refused protective "
            "sell 10",
        ),
    ],
)
def test_the_cli_risk_line_names_the_unit_of_its_measure(event: RiskEvent, shown: str) -> None:
    assert printed(event) == shown


def test_a_stored_halt_detail_in_a_risk_line_is_shown_as_written() -> None:
    """A halt restored from a shared store carries its detail as any writer put it: ``[/bold]``
    raised MarkupError out of the session's first line, and ``[red]`` coloured the rest."""
    event = RiskEvent("manual", 0.0, 0.0, "halted [red]trading", detail="[/bold] x [red]y")
    assert printed(event) == "[RISK] manual: -> halted [red]trading ([/bold] x [red]y)"
