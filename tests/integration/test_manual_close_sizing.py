"""A close or a ticket by hand is sized on what is really held, over the sandbox's HTTP.

Two ways the desk's view of a symbol can be behind the account's:

- A close (``c``) cancels the symbol's working orders first, but Alpaca cancels
  asynchronously: its 204 says the cancel was accepted, and the order can still fill before
  the cancel reaches the exchange. While the trade-updates stream is up, such an order is no
  longer among the working orders the gate counts, so the close was sized as if it could not
  fill: a close of a long beside a sell still working turned the account short once the sell
  filled too. It is now counted as working until its end is confirmed: the close takes only
  what can never flip the position, and says what may be left and what to do.
- Alpaca's positions can lag the fills of an order still working. The strategies do not trade
  on such a read (``engine.outside_changes``); a sell by hand did, and sold again what the
  working sell had already sold.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.core.orders import OrderStatus, OrderType, Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.models import RiskEventRow

HELD = 10
"""Shares of SPY bought by hand before each test's close."""


def _held(sb: SandboxHandle) -> float:
    """SPY the sandbox account really holds (its books, not a position read)."""
    return float(sb.admin.state()["positions"].get("SPY", 0.0))


def _hand_order(session: TradingSession, ticket: ManualOrder) -> list[float]:
    """Place ``ticket`` between bars; the quantities of the orders that went out."""
    session.request_manual_order(ticket)
    report = session.apply_kill_requests()
    assert report is not None
    return [o.qty for o in report.orders]


def _long_with_a_limit(sb: SandboxHandle, tmp_path: Path, side: Side, qty: float, away: float):
    """A session holding ``HELD`` SPY bought by hand, with a ``side`` limit for ``qty`` shares
    working ``away`` (a share of the price, signed) from the market, whose cancel will never
    reach the exchange (Alpaca answers 204 and the order keeps working)."""
    session = alpaca_session(sb, tmp_path / "close.db", symbols=("SPY",))
    sb.admin.step()
    session.run_iteration()  # a calm bar: prices known, the desk's day open
    assert _hand_order(session, ManualOrder("SPY", Side.BUY, qty=HELD)) == [HELD]
    settle(sb, session)
    assert _held(sb) == HELD
    price = float(sb.admin.state()["prices"]["SPY"])
    limit = ManualOrder(
        "SPY", side, qty=qty, order_type=OrderType.LIMIT, limit_price=round(price * (1 + away), 2)
    )
    assert _hand_order(session, limit) == [qty]
    settle(sb, session)
    session.broker.client.cancel_order_by_id = lambda order_id: None  # 204, never cancelled
    return session


def _close(session: TradingSession) -> tuple[list[float], list[str]]:
    """Press ``c`` on SPY: the closing orders sent (their quantities) and the desk's notes."""
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert report is not None
    closes = [o.qty for o in report.orders if o.status is not OrderStatus.CANCELED]
    return closes, list(report.notes)


def test_a_close_beside_a_sell_whose_cancel_is_not_confirmed_sells_only_what_it_leaves(
    tmp_path: Path,
) -> None:
    """Long 10 with a sell of 4 working above the market; the close's cancel of it is only
    accepted. The close was sized from the position alone (the sell no longer counted as
    working): a sell of 10, which Alpaca rejects while 4 are held for the sell ("insufficient
    qty"), and had it gone out, the sell's fill would have turned the account short. It now
    sells the 6 the working sell leaves, says so (a second press sells nothing while the
    cancel is still unconfirmed), and the account ends flat once the sell fills before its
    cancel reaches the exchange."""
    with running_sandbox() as sb:
        session = _long_with_a_limit(sb, tmp_path, Side.SELL, 4, away=0.03)
        try:
            closes, notes = _close(session)
            settle(sb, session)
            said = " | ".join(notes)
            assert closes == [6] and _held(sb) == 4, said
            assert (
                "6 SPY sent to close; 4 are left to a sell whose cancel is not confirmed yet "
                "(it may still fill): press c again once it ends"
            ) in said, said
            again, _ = _close(session)  # pressed again while the cancel is still unconfirmed
            assert again == [] and _held(sb) == 4, "a second close sold the working sell's shares"
            refused = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_REFUSED)
            assert "close SPY: no SPY sent; 4 are left to a sell" in refused.get().detail
            sb.admin.step(shock={"SPY": 5.0})  # the sell fills before its cancel reaches
            settle(sb, session)
            assert _held(sb) == 0
        finally:
            session.broker.close()


def test_a_sell_by_hand_against_a_position_read_lagging_a_fill_does_not_sell_again(
    tmp_path: Path,
) -> None:
    """Long 10; a sell of 10 by hand fills 5 at once, the rest bars later, and the position
    read still shows 10. A second sell of 5 ("the rest") was measured against that read (10
    held, 5 still to sell): it went out, and the account ended short 5. It is now measured
    against the desk's own fills (5 held, 5 still to sell) and refused."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "lag.db", symbols=("SPY",))
        try:
            sb.admin.step()
            session.run_iteration()
            assert _hand_order(session, ManualOrder("SPY", Side.BUY, qty=HELD)) == [HELD]
            settle(sb, session)
            sb.admin.set_faults(partial_rate=1, partial_bars=3, position_lag=1)
            assert _hand_order(session, ManualOrder("SPY", Side.SELL, qty=HELD)) == [HELD]
            settle(sb, session)
            assert 0 < _held(sb) < HELD  # part of the sell filled
            assert session.broker.positions()["SPY"].qty == HELD, "the read lags"
            sent = _hand_order(session, ManualOrder("SPY", Side.SELL, qty=HELD - _held(sb)))
            assert sent == [], "a sell measured against a read lagging a fill went out"
            sb.admin.clear_faults()
            for _ in range(4):  # the first sell's rest fills
                sb.admin.step()
                session.run_iteration()
            settle(sb, session)
            assert _held(sb) == 0
        finally:
            session.broker.close()
