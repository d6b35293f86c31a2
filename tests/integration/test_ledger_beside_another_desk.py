"""A desk's sale of shares another desk of the account bought is booked as a round trip, not a
phantom short in its ledger.

Each desk books round trips (``tui-trader report``, the history, the desk's realized PnL) from
its own fills, its ledger seeded at its start from the broker's positions. Desk B started flat;
desk A then bought SPY; B sold the SPY the broker held (by hand here; a halt's flatten, a stop
B keeps over A's shares or a takeover of the symbol do the same). B's ledger had bought
nothing: the sale booked no round trip and opened a short of every share in the ledger, which
B's next buy "closed" with a made-up profit. Now a fill that closes more than the ledger holds
of a position the broker held at the desk's last read books what the broker held first (at its
average entry price), as a start seeds it.
"""

from __future__ import annotations

from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY
from tests.integration.test_late_fill_ledger import _by_hand, _round_trips
from tests.integration.test_unsettled_fill_once import MOMENTUM
from tui_trader.core.orders import Side
from tui_trader.sandbox.testing import SandboxHandle


def test_selling_what_another_desk_bought_books_a_round_trip(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    db: Any = store
    b = alpaca_session(sandbox, db, symbols=("SPY",))  # flat: its ledger holds nothing
    a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        for _ in range(8):  # the rally: desk A buys SPY
            sandbox.admin.step(shock=RALLY)
            a.run_iteration()
            settle(sandbox, a)
            if "SPY" in a.broker.positions():
                break
        sandbox.admin.step()
        b.run_iteration()  # B reads the account: A's SPY
        position = b.broker.positions()["SPY"]
        held, entry = position.qty, position.avg_entry_price
        assert held > 0 and b.ledger.held("SPY") == 0
        _by_hand(sandbox, b, Side.SELL, held)
        assert "SPY" not in b.broker.positions()
        assert b.ledger.held("SPY") == 0, "a phantom short in desk B's ledger"
        sold = _round_trips(b)
        assert [(side, qty) for side, qty, _ in sold] == [("buy", held)], sold
        assert abs(sold[0][2] - entry) < 1e-6, (sold, entry)
    finally:
        for desk in (a, b):
            desk.finish("stopped")
            desk.broker.close()


def test_selling_own_shares_with_another_desks_books_the_brokers_average(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    """Desk B bought 7 SPY, desk A then 3 at a higher price; A sells all 10: its round trip
    is entered at the broker's average of the 10 (B's 7 at their price beside A's 3), not
    A's 3 beside 7 more at that average (the broker's price of the 7 counted A's 3 in it)."""
    db: Any = store
    b = alpaca_session(sandbox, db, symbols=("SPY",))
    a = alpaca_session(sandbox, db, symbols=("SPY",))
    try:
        sandbox.admin.step()
        for desk in (b, a):
            desk.run_iteration()
        first = _by_hand(sandbox, b, Side.BUY, 7)
        sandbox.admin.step(shock=RALLY)
        second = _by_hand(sandbox, a, Side.BUY, 3)
        assert second > first + 0.01, (first, second)
        sandbox.admin.step()
        a.run_iteration()  # A reads the account: 10 SPY
        entry = a.broker.positions()["SPY"].avg_entry_price
        assert abs(entry - (7 * first + 3 * second) / 10) < 1e-3, (entry, first, second)
        _by_hand(sandbox, a, Side.SELL, 10)
        assert "SPY" not in a.broker.positions() and a.ledger.held("SPY") == 0
        sold = _round_trips(a)
        assert [(side, qty) for side, qty, _ in sold] == [("buy", 10)], sold
        assert abs(sold[0][2] - entry) < 1e-3, (sold, entry, first, second)
    finally:
        for desk in (a, b):
            desk.finish("stopped")
            desk.broker.close()
