"""An order whose answer was lost counts as held while it is in doubt, over real HTTP.

The broker does not know the order yet, but it may still arrive and fill (a slow gateway), so
the risk gate counts it as filled wherever that is the stricter reading (``risk.holdings``): a
hand-placed buy beside a buy in doubt is measured against both, and a close beside a sell in
doubt does not sell the same shares twice. Once the order settles, the numbers are the broker's
alone again (counted once, not twice).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import DROP, RALLY, assert_books_agree, client_for
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import NO_SHORT
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox, wait_until
from tui_trader.store.models import LiveOrder

LIMIT = 0.10
"""The default position limit: 10% of equity a symbol."""


def _lose_the_next_order(sb: SandboxHandle, session: TradingSession, shock: dict) -> LiveOrder:
    """Move the market by ``shock`` until the strategies send an order whose submissions all
    fail before reaching the broker (so it is in doubt: unknown, not found yet); the first
    such order's row. The faults are cleared before returning."""
    sb.admin.set_faults(order_fail_rate=1.0, error_status=503)
    for _ in range(8):
        sb.admin.step(shock=shock)
        if session.run_iteration().orders_sent:
            break
    sb.admin.clear_faults()
    assert not session.risk.state.halted, "an answer lost is not a reason to halt"
    return LiveOrder.select().where(LiveOrder.status == "unknown").order_by(LiveOrder.id).get()


def _arrives_late(sb: SandboxHandle, row: LiveOrder) -> None:
    """The lost request reaches the broker after all (a slow gateway): the same client id,
    sent from another client; returns once the sandbox answered."""
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

    request = MarketOrderRequest(
        symbol=row.symbol,
        qty=row.quantity,
        side=OrderSide(row.side),
        time_in_force=TimeInForce.DAY,
        client_order_id=row.client_order_id,
    )
    thread = threading.Thread(target=client_for(sb).submit_order, args=(request,), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the sandbox answered the late order"


def _manual_buy(session: TradingSession, symbol: str, qty: float) -> float:
    """Place a buy by hand between bars; the shares that went out (0 if refused)."""
    session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=qty))
    report = session.apply_kill_requests()
    assert report is not None
    return sum(o.qty for o in report.orders if o.symbol == symbol and o.side == Side.BUY)


def test_a_buy_in_doubt_counts_toward_the_position_limit_until_it_settles(
    tmp_path: Path,
) -> None:
    """The strategies' buy is in doubt; a hand buy of as many shares would pass the limit if
    both filled, so the gate cuts it to the room the limit leaves beside the first (none
    here). Before, it went out whole and, once the first arrived, the position was twice the
    limit."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "doubt.db")
        try:
            doubt = _lose_the_next_order(sb, session, RALLY)
            symbol, first = doubt.symbol, doubt.quantity
            assert doubt.side == "buy"
            price = session.last_prices[symbol]
            equity = session.broker.account().equity
            room = LIMIT * equity / price - first
            assert first * price > LIMIT * equity / 2, "the first buy takes most of the limit"

            sent = _manual_buy(session, symbol, first)
            assert sent <= max(room, 0.0) + 1e-9, (
                f"a hand buy of {sent:g} beside {first:g} in doubt passes the position limit"
            )

            _arrives_late(sb, doubt)
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.id == doubt.id).status == "filled"
                ),
                what="the late order recorded as filled",
            )
            assert session.unsettled.blocking(symbol) is None, "settled: no longer in doubt"
            held = session.broker.positions()[symbol].qty
            assert held == first + sent
            assert held * price <= LIMIT * equity + 1e-6, "both filled: within the limit"
            settle(sb, session)
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_a_close_beside_a_sell_in_doubt_waits_until_the_sell_is_not_received(
    tmp_path: Path,
) -> None:
    """The strategies' sell of a whole position is in doubt; closing the position by hand
    would sell the same shares again (short once both arrive, with short selling off), so
    the gate refuses it and says why (before, it went out). Once the sell is ``not_received``
    (absent past its window), the shares are the position's alone again and the close sells
    them."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "close.db", settle_window=0.5)
        try:
            for _ in range(8):  # rally until the strategies hold shares
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                if session.broker.positions():
                    break
            settle(sb, session)
            doubt = _lose_the_next_order(sb, session, DROP)
            symbol = doubt.symbol
            assert doubt.side == "sell"
            held = session.broker.positions()[symbol].qty
            assert doubt.quantity == held, "the strategies sell the whole position"

            # nothing settles an order between bars but a look-up (``sync_orders``): the
            # close is decided with the sell still in doubt, however long this takes
            session.request_close(symbol)
            report = session.apply_kill_requests()
            assert report is not None
            assert not [o for o in report.orders if o.symbol == symbol], "sold twice"
            [refusal] = [e for e in report.risk_events if e.symbol == symbol]
            assert refusal.event_type == NO_SHORT
            assert "short selling is off" in refusal.action_taken
            assert session.broker.positions()[symbol].qty == held

            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.id == doubt.id).status == "not_received"
                ),
                timeout=10,
                what="the lost sell settled as not received",
            )
            session.request_close(symbol)
            report = session.apply_kill_requests()
            assert report is not None
            [close] = [o for o in report.orders if o.symbol == symbol]
            assert (close.side, close.qty) == (Side.SELL, held), "the shares are held again"
            settle(sb, session)
            assert symbol not in session.broker.positions()
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_a_hand_order_whose_answer_was_lost_is_followed_until_it_settles(tmp_path: Path) -> None:
    """A buy placed by hand whose submissions all fail before reaching the broker is in doubt
    like the strategies' orders: its symbol waits, and once it is absent past its window it is
    ``not_received`` (before, nothing looked it up again: its row stayed ``unknown`` for good
    and the strategies traded its symbol beside it)."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "hand.db", settle_window=0.5)
        try:
            sb.admin.step()
            session.run_iteration()  # prices known
            sb.admin.set_faults(order_fail_rate=1.0, error_status=503)
            session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=3))
            assert session.apply_kill_requests() is not None
            sb.admin.clear_faults()
            row = LiveOrder.get(LiveOrder.symbol == "SPY")
            assert row.status == "unknown"
            sb.admin.step(shock=RALLY)
            report = session.run_iteration()
            assert any(
                f"no new orders for SPY: order {row.client_order_id}" in n for n in report.notes
            )
            sent = [o.client_order_id for o in report.orders if o.symbol == "SPY"]
            assert set(sent) <= {row.client_order_id}, "the strategies bought SPY beside it"
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.id == row.id).status == "not_received"
                ),
                timeout=10,
                what="the lost hand order settled as not received",
            )
            settle(sb, session)
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_a_flatten_beside_a_sell_in_doubt_waits_until_the_sell_settles(tmp_path: Path) -> None:
    """The kill switch with flatten while the strategies' sell of a whole position is in
    doubt: the flatten leaves that position for later and says why (before, it sold the same
    shares again: short once the lost sell arrived). Once the sell is ``not_received``, the
    halt's next pass closes the position."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "flat.db", settle_window=0.5)
        try:
            for _ in range(8):  # rally until the strategies hold shares
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                if session.broker.positions():
                    break
            settle(sb, session)
            doubt = _lose_the_next_order(sb, session, DROP)
            symbol = doubt.symbol
            held = session.broker.positions()[symbol].qty
            assert doubt.side == "sell" and doubt.quantity == held

            session.request_kill(reason="test", flatten=True)
            report = session.apply_kill_requests()
            assert report is not None
            assert not [o for o in report.orders if o.symbol == symbol], "sold twice"
            [halt] = [e for e in report.risk_events if "flattening" in e.action_taken]
            assert f"NOT closed: {held:g} {symbol} (an order there may still fill)" in (
                halt.action_taken
            )
            assert session.broker.positions()[symbol].qty == held

            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.id == doubt.id).status == "not_received"
                ),
                timeout=10,
                what="the lost sell settled as not received",
            )
            again = session.apply_kill_requests()
            assert again is not None
            [close] = [o for o in again.orders if o.symbol == symbol]
            assert (close.side, close.qty) == (Side.SELL, held)
            settle(sb, session)
            assert symbol not in session.broker.positions()
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_a_flatten_whose_own_close_is_in_doubt_closes_the_position_once_it_is_not_received(
    tmp_path: Path,
) -> None:
    """The kill switch with flatten; the close's answer and its look-up both fail (its fate
    unknown: followed as unsettled). Before, the halt counted that close neither as sent nor
    as not closed: 'flattening 0 position(s)', the flatten taken as done, and once the close
    settled ``not_received`` nothing closed the position. Now the halt says it is not closed
    yet and its next pass, once the close has settled, closes it."""
    from tui_trader.brokers import BrokerError

    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "own.db", symbols=("SPY",), settle_window=0.5)
        try:
            for _ in range(12):  # rally until the strategies hold shares
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                if session.broker.positions():
                    break
            settle(sb, session)
            held = session.broker.positions()["SPY"].qty
            submit = session.broker.submit
            lost: list[str] = []

            def lose_the_close(request: Any) -> Any:
                """The close never reaches the sandbox; its answer and look-up both fail."""
                if request.client_order_id.endswith("-flat"):
                    lost.append(request.client_order_id)
                    raise BrokerError("answer and look-up both failed (test)")
                return submit(request)

            session.broker.submit = lose_the_close  # type: ignore[method-assign]
            session.request_kill(reason="test", flatten=True)
            report = session.apply_kill_requests()
            assert report is not None and lost
            [halt] = [e for e in report.risk_events if "flattening" in e.action_taken]
            assert f"NOT closed: {held:g} SPY" in halt.action_taken, halt.action_taken
            assert "not closed yet: retrying" in session.halt_line()
            session.broker.submit = submit  # type: ignore[method-assign]
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.client_order_id == lost[0]).status == "not_received"
                ),
                timeout=10,
                what="the lost close settled as not received",
            )
            sb.admin.step()
            report = session.run_iteration()
            [close] = [o for o in report.orders if o.symbol == "SPY"]
            assert (close.side, close.qty) == (Side.SELL, held)
            settle(sb, session)
            assert "SPY" not in session.broker.positions()
        finally:
            session.broker.close()
        assert_books_agree(sb)
