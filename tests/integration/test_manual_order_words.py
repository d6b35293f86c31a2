"""A hand order's words in the audit trail carry its numbers exactly, as its ticket asked.

The ticket's confirmation writes every number as the order sends it (``review28e``); the words
the session then records with the order (its rationale, the gate's reduction, a refusal) used
``:g``, six significant digits: a ticket for 1,234,567 shares was recorded as "manual ticket:
1.23457e+06 sh" beside a quantity column that was exact, and a limit of 150.1249 as "@ 150.125".
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tests.integration.test_manual_orders import Flat
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.store.models import LiveOrder, RiskEventRow


def test_a_big_limit_ticket_is_recorded_in_exact_words(db_path: Path) -> None:
    """1,234,567 shares at a limit of 150.1249: the row's words say both as typed, and the
    position limit's cut names the size asked for as the ticket wrote it."""
    session = make_session(db_path, strategies=[Flat()])
    session.run_iteration()
    ticket = ManualOrder(
        "SPY", Side.BUY, qty=1_234_567, order_type=OrderType.LIMIT, limit_price=150.1249
    )
    session.request_manual_order(ticket)
    [order] = session.apply_kill_requests().orders
    rationale = LiveOrder.get(LiveOrder.client_order_id == order.client_order_id).rationale
    assert rationale.startswith("manual ticket: 1,234,567 sh limit @ 150.1249"), rationale
    assert "reduced from 1,234,567 to " in rationale, rationale
    assert "e+06" not in rationale and "150.125" not in rationale
    session.finish("stopped")


def test_a_refused_big_sell_is_recorded_in_exact_words(db_path: Path) -> None:
    """A sell of 1,000,001 shares with none held is refused (no short selling): the refusal
    names 1,000,001, not "1e+06" (the million the trader may have meant to type)."""
    session = make_session(db_path, strategies=[Flat()])
    session.run_iteration()
    session.request_manual_order(ManualOrder("SPY", Side.SELL, qty=1_000_001))
    session.apply_kill_requests()
    said = " ".join(f"{e.detail} {e.action_taken}" for e in RiskEventRow.select())
    assert "1,000,001 SPY" in said, said
    assert "1e+06" not in said
    session.finish("stopped")
