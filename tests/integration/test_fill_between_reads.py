"""A fill that lands between a cycle's positions read and its listing of open orders.

A cycle reads the positions, then lists the working orders: the rebalance counts what it has
committed as the position plus what those orders will still add. Alpaca's listing (read afresh
every 30 s while the stream is up) could show a fill the positions read had not: 10 of a
20-share buy filled before the positions were read, the other 10 right after. The position said
10, the listing "nothing left": committed 10, and the desk bought the 10 again. Now the desk's
own orders in a listing are as the stream told them (what the session recorded), so the
position and the working order agree with each other; where the position and the session's
fills disagree, the symbol waits (``test_position_lag``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, settle
from tui_trader.brokers import alpaca_reads
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder


def _buys() -> list[str]:
    """The desk's SPY buys' client ids, oldest first."""
    rows = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "buy"))
    return [row.client_order_id for row in rows.order_by(LiveOrder.id)]


def test_a_fill_between_the_positions_read_and_the_listing_is_not_bought_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alpaca_reads, "OPEN_ORDERS_TTL", 0.0)  # each listing afresh (30 s on)
    with running_sandbox(faults="partial_rate=1,partial_bars=2") as sb:
        session = alpaca_session(sb, tmp_path / "reads.db", symbols=("SPY",))
        broker: Any = session.broker
        try:
            for _ in range(12):  # a rally: the crossover buys; half fills at once
                sb.admin.step(shock={"SPY": 1.0})
                if session.run_iteration().orders_sent:
                    break
            [first] = _buys()
            settle(sb, session)
            assert 0 < filled_by_order()[first] < LiveOrder.get().quantity
            read = broker.positions

            def then_the_rest_fills() -> Any:
                """The positions as read, then the buy's rest fills at the exchange."""
                positions = read()
                broker.positions = read  # once
                sb.admin.step()  # its fill arrives after the read, before the listing
                return positions

            sb.admin.step()  # a calm bar: the rest still waits
            broker.positions = then_the_rest_fills
            session.run_iteration()
            assert _buys() == [first], "the filled rest was bought again"
            settle(sb, session)
            sb.admin.step()
            session.run_iteration()
            assert _buys() == [first]
            assert sb.admin.state()["positions"]["SPY"] == LiveOrder.get().quantity
        finally:
            session.broker.close()
