"""An ended desk's filled order that two desks found at the broker: its fill is recorded once.

A desk's start asks the broker about every order the store's ended sessions left open; one the
broker does not find yet (the request may still be on its way) stays in doubt and is asked
again at the desk's cycles (``engine.settlement``), its fill then recorded with its row. In the
``crash28b`` campaign (PostgreSQL, a restart of the server ending every desk, all started again
together) desk A's start did not find the buy its ended session had sent, desk B's start found
it filled and recorded the fill, and desk A's next cycle found it filled too and recorded the
same fill again: 6 shares recorded for a 3-share buy. A found fill is now recorded only if its
row still records what the desk read (its filled quantity), in the statement that brings the
row up to the broker: a fill already recorded by any desk is not recorded again, and the desk's
settlement event says so instead of "recorded from the broker". The same write serves two starts
that both read the row open before either recorded the fill (each fill's key is the recording
session's own, so the store's unique key never caught the second).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import (
    alpaca_session,
    filled_by_order,
    open_rows,
    sandbox_orders,
)
from tests.integration.ended_stop import RALLY
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.engine.waits import ALREADY_RECORDED
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.audit import AuditLog
from tui_trader.store.models import LiveOrder, RiskEventRow
from tui_trader.store.pg_url import PgUrl

MOMENTUM = LearningSettings("momentum")
"""Every desk follows momentum alone."""


def test_a_fill_found_by_two_starts_is_recorded_once(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desk one stops with its buy sent and not filled; the buy fills. Desk A's start does not
    find it, desk B's start records its fill, desk A's cycle finds it filled: the fills recorded
    for the buy add up to what the broker filled (a SQLite file, then PostgreSQL: the store of
    the campaign)."""
    db: Any = store
    buy, filled = _ended_desks_filled_buy(sandbox, trading, db)
    found = AlpacaBroker.get_order
    monkeypatch.setattr(
        AlpacaBroker, "get_order", lambda self, cid: None if cid == buy else found(self, cid)
    )
    desk_a = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    desk_b = None
    try:
        monkeypatch.setattr(AlpacaBroker, "get_order", found)
        assert filled_by_order().get(buy) is None  # desk A's start left the buy in doubt
        desk_b = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
        assert filled_by_order().get(buy) == filled  # desk B's start recorded its fill
        assert desk_a.unsettled  # desk A follows the buy in doubt
        sandbox.admin.step()
        desk_a.run_iteration()  # desk A asks again: filled
        assert not desk_a.unsettled
        assert filled_by_order().get(buy) == filled
        session = desk_a.audit.session
        assert session is not None
        [said] = [
            e.action_taken
            for e in RiskEventRow.select().where(RiskEventRow.session == session.id)
            if e.detail.startswith(f"order {buy}:")
        ]
        assert said == ALREADY_RECORDED  # not "recorded from the broker": desk B recorded it
    finally:
        for desk in (desk_a, desk_b):
            if desk is not None:
                desk.finish("stopped")
                desk.broker.close()


def test_a_fill_two_starts_read_open_is_recorded_once(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two desks start together: both read the ended desk's buy row still open, desk A's start
    records the buy's fill, then desk B's start (its read from before) finds it filled too: the
    fills recorded for the buy add up to what the broker filled."""
    db: Any = store
    buy, filled = _ended_desks_filled_buy(sandbox, trading, db)
    read = AuditLog.open_orders_of_account
    first: list[Any] = []

    def together(self: AuditLog, account_key: str) -> Any:
        """Every start reads what the first read: the two reads came before either write."""
        if not first:
            first.append(read(self, account_key))
        return first[0]

    monkeypatch.setattr(AuditLog, "open_orders_of_account", together)
    desks = []
    try:
        desks.append(alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM))
        assert filled_by_order().get(buy) == filled  # desk A's start recorded the fill
        desks.append(alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM))
        assert [r.client_order_id for r in first[0]] == [buy]  # desk B's read: still open
        assert filled_by_order().get(buy) == filled
    finally:
        for desk in desks:
            desk.finish("stopped")
            desk.broker.close()


def _ended_desks_filled_buy(sandbox: SandboxHandle, trading: Any, db: Any) -> tuple[str, float]:
    """Desk one buys SPY in a rally and stops with its buy sent, not filled; the buy then fills
    at the broker while no desk runs. Its client id and the quantity filled."""
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    for _ in range(12):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
        if open_rows():
            break
    [buy] = [o.client_order_id for o in LiveOrder.select() if o.status != "filled"]
    one.finish("stopped")
    one.broker.close()
    sandbox.admin.step()  # the buy fills at the broker, no desk running
    [filled] = [float(o.filled_qty) for o in sandbox_orders(trading) if o.client_order_id == buy]
    assert filled > 0
    return buy, filled
