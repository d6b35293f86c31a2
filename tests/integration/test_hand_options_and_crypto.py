"""Options and crypto bought by hand on the Alpaca account a desk trades (the sandbox's
``/admin/outside_position``): two call contracts at $4.10 and 0.25 BTC at $60,000, and two
limit orders for bitcoin placed by hand (``/admin/coin_order``: ``BTC/USD``, fractional).

Alpaca lists them with the account's positions: the option under its OCC symbol, priced per
share (a contract is 100 shares: its ``market_value`` is qty × price × 100, and Alpaca names
no multiplier), the coin as ``BTCUSD`` (its orders say ``BTC/USD``), fractional. The desk read
every position as shares: the two contracts were worth $8.20 on its positions screen and in
its account snapshots (`report`), where Alpaca counts $820 in the equity. Now a position of
``asset_class`` ``us_option`` carries its multiplier (``core.domain.Position``). What the desk
already did right, and keeps doing: it trades on (the coin orders listed at its start and
heard on the stream), places its stop for its own shares only, and a kill with flatten closes
its own shares, leaves the option and the coin open, said, and keeps the coin orders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import AccountSnapshot
from tui_trader.store.queries import snapshot_positions

CALL = "SPY261218C00500000"
"""A call on SPY: two contracts held by hand."""


def test_a_hand_option_counts_a_hundred_shares_a_contract_and_a_hand_coin_is_left_alone(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    sandbox.admin.outside_position(CALL, "us_option", 2, 4.1)
    sandbox.admin.outside_position("BTC/USD", "crypto", 0.25, 60_000)
    bid = sandbox.admin.coin_order("BTC/USD", "buy", 0.05, 50_000)  # listed at the start
    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE
    )
    try:
        for step in range(6):
            sandbox.admin.step(shock=RALLY)
            desk.run_iteration()
            if step == 1:  # heard on the stream
                offer = sandbox.admin.coin_order("BTC/USD", "sell", 0.125, 70_000)
        settle(sandbox, desk)
        held = desk.broker.positions()
        assert held[CALL].market_value == pytest.approx(820.0), "2 contracts × $4.10 × 100"
        assert held[CALL].cost_basis == pytest.approx(820.0)
        assert held["BTCUSD"].qty == 0.25
        assert held["BTCUSD"].market_value == pytest.approx(15_000.0)
        alpaca = {p.symbol: float(p.market_value) for p in trading.get_all_positions()}
        assert {s: p.market_value for s, p in held.items()} == pytest.approx(alpaca)
        [snapshot] = AccountSnapshot.select().order_by(AccountSnapshot.id.desc()).limit(1)
        stored = {p.symbol: p.market_value for p in snapshot_positions(snapshot)}
        assert stored[CALL] == pytest.approx(820.0), "the report's figure too"
        assert desk.risk.state.state.value == "active"
        stops = {o.symbol for o in sandbox_orders(trading) if o.order_type.value == "stop"}
        assert stops == {"SPY"}, "an exit for the desk's shares only"
        desk.request_kill(reason="leaving for the day", flatten=True)
        [halt] = [e for e in desk.apply_kill_requests().risk_events if e.halts]
        assert f"left open, not the desk's: 0.25 BTCUSD, 2 {CALL}" in halt.action_taken
        settle(sandbox, desk)
        after = {p.symbol: float(p.qty) for p in trading.get_all_positions()}
        assert after == {"BTCUSD": 0.25, CALL: 2.0}
        for coin in (bid, offer):  # the user's, kept by the halt
            assert str(trading.get_order_by_id(coin["id"]).status.value) == "new"
    finally:
        desk.finish("stopped")
        desk.broker.close()
