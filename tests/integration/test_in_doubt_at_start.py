"""An ended desk's order that a start could not find yet: its symbol is not judged until it settles.

A desk's start asks the broker for every order its store's ended sessions left open, by client
order id; one the broker does not know yet stays in doubt and is asked again at each cycle
(``engine.settlement``). That happens for real: the ended desk's request was still on its way
(a desk ended by a store restart, or killed, while its buy was being sent), and Alpaca answers
404 until it has taken the order, which may fill a moment later. The start's comparison of the
broker's positions with the account's recorded fills (``engine.outside_changes``) did not count
such an order as "ours, maybe still filling": the broker held the buy's shares, the record not
yet, and the start called them a change made outside the session. The desk left the symbol
alone for its whole run (no order in it, a protective exit covering none of those shares) and
recorded an ``outside_change`` event, although its next cycle found and recorded the buy.

When another desk of the account recorded that fill first (``fills28``: the fill is then not
recorded twice), this desk's expectation of the symbol did not take the fill either: it held the
symbol's orders for a cycle ("looking again next cycle") until the account's record was asked.
A fill that another desk recorded is the account's all the same: the expectation takes it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order
from tests.integration.test_unsettled_fill_once import MOMENTUM, _ended_desks_filled_buy
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow


def _outside_events() -> list[str]:
    """Every ``outside_change`` event the store holds, by its detail."""
    return [e.detail for e in RiskEventRow.select() if e.event_type == OUTSIDE_CHANGE]


@pytest.mark.parametrize("other_desk", [False, True], ids=["alone", "another-desk-records-it"])
def test_a_start_leaves_the_symbol_of_an_order_in_doubt_to_the_cycles(
    sandbox: SandboxHandle,
    trading: Any,
    store: Any,
    monkeypatch: pytest.MonkeyPatch,
    other_desk: bool,
) -> None:
    """The ended desk's buy has filled at the broker; desk A's start does not find it (404).
    Desk A does not call the buy's shares a change made outside and keeps trading the symbol;
    once its cycle finds the buy filled (recorded by itself, or by desk B's start before it),
    the symbol trades on at once: no hold, no event."""
    db: Any = store
    buy, filled = _ended_desks_filled_buy(sandbox, trading, db)
    found = AlpacaBroker.get_order
    monkeypatch.setattr(
        AlpacaBroker, "get_order", lambda self, cid: None if cid == buy else found(self, cid)
    )
    desk_a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    monkeypatch.setattr(AlpacaBroker, "get_order", found)
    try:
        assert desk_a.unsettled  # the start left the buy in doubt
        assert _outside_events() == []
        assert "SPY" not in desk_a.outside.holds
        if other_desk:
            desk_b = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
            desk_b.finish("stopped")
            desk_b.broker.close()
            assert filled_by_order().get(buy) == filled  # desk B's start recorded the fill
        notes: list[str] = []
        for _ in range(3):
            sandbox.admin.step()
            notes += desk_a.run_iteration().notes
            assert "SPY" not in desk_a.outside.holds, desk_a.outside.holds
        assert not desk_a.unsettled
        assert filled_by_order().get(buy) == filled  # once, whoever recorded it
        assert not [n for n in notes if "looking again next cycle" in n], notes
        assert _outside_events() == []
        held = {s: p.qty for s, p in desk_a.broker.positions().items()}
        assert desk_a.outside.fills_make("SPY") == held["SPY"]
    finally:
        desk_a.finish("stopped")
        desk_a.broker.close()
