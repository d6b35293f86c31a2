"""A halt acted on again says what its pass did (``HaltMixin._halt_retry_note``): an order the
pass found *replaced* at the broker (Alpaca's ``replaced``, kept as ``canceled`` with
``replaced_by``) ended by its replace, not by the halt, and its replacement is an order of its
own. Before, the note counted it among the orders cancelled ("cancelled 2 open order(s)" for
one cancel and one replace); now it is said apart and the count is the halt's own cancels."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.core.orders import Order, OrderStatus, OrderType, Side


def _ended(cid: str, order_type: OrderType, replaced_by: str | None = None) -> Order:
    """An order of SPY the pass saw end unfilled (``replaced_by``: replaced, not cancelled)."""
    return Order(
        cid, "SPY", Side.SELL, 10.0, order_type, OrderStatus.CANCELED, replaced_by=replaced_by
    )


def test_a_replaced_order_is_not_counted_as_cancelled_by_the_halt(db_path: Path) -> None:
    session = make_session(db_path)
    session._halt_said = session._halt_left = ""
    before = len(session._cycle_orders)
    session._cycle_orders += [
        _ended("tt-limit", OrderType.LIMIT),
        _ended("tt-stop", OrderType.STOP, replaced_by="b-new"),
    ]
    note = session._halt_retry_note(before)
    assert note is not None
    assert note.startswith("the halt acted again: cancelled 1 open order(s)"), note
    assert "found 1 replaced (not cancelled" in note, note


def test_only_cancels_are_counted_when_nothing_was_replaced(db_path: Path) -> None:
    session = make_session(db_path)
    session._halt_said = session._halt_left = ""
    session._cycle_orders += [_ended("tt-a", OrderType.LIMIT), _ended("tt-b", OrderType.STOP)]
    note = session._halt_retry_note(0)
    assert note == "the halt acted again: cancelled 2 open order(s)", note
