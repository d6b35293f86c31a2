"""Order routing for a trading session: blended targets become sized orders, each passing the
risk gate and written to the audit trail before the broker sees it.

A mixin of ``TradingSession`` (kept apart so that the engine module stays one screenful of
decision cycle); it uses the session's config, broker, allocator, risk manager and audit log.
Each symbol's move is sent by ``engine.order_legs`` (a mixin of this): its legs gated, claimed,
recorded and sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, unseen
from tui_trader.core.domain import Account, Position, RiskEvent, Signal
from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import Order, Side
from tui_trader.engine.manual_book import sold_words
from tui_trader.engine.order_legs import Move, OrderLegs
from tui_trader.engine.whole_shares import below_one_share
from tui_trader.risk.gate import ORDER_RATE
from tui_trader.risk.holdings import NOTHING, holdings, less_sales_filled

_trunc = math.trunc
_BUY, _SELL = Side.BUY, Side.SELL
_SOLD = "sold"
"""The hold of a sale beside others' sales filled in part (``less_sales_filled``), in
``crossing``: said at its onset, as the other holds are (before, every cycle said it again)."""
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
these are named for every symbol the rebalance passes."""

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.exit_holds import ExitHolds
    from tui_trader.engine.hand_holds import HandHolds
    from tui_trader.engine.kill_switch import _KillRequest
    from tui_trader.engine.outside_changes import OutsideChanges
    from tui_trader.engine.rate_refusals import RateRefusals
    from tui_trader.engine.said_once import SaidOnce
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog
    from tui_trader.strategies import Allocator


class OrderRouting(OrderLegs):
    """Sizing, the pre-trade gate and sending; the session supplies the state it works on."""

    config: SessionConfig
    broker: Broker
    allocator: Allocator
    audit: AuditLog
    risk: RiskManager
    iteration: int
    last_prices: dict[str, float]
    clock: Clock
    unsettled: Unsettled
    outside: OutsideChanges
    rate_refusals: RateRefusals
    exit_holds: ExitHolds
    hand_holds: HandHolds
    crossing: SaidOnce
    """Symbols whose rebalance waits for an order of ours working the other way, or a sale for
    others' sales filled in part (``_SOLD``): said once per onset."""
    under_share: SaidOnce
    """Symbols whose target is less than one whole share (said once, ``whole_shares``)."""
    _manual_count: int
    """Manual orders this session sent (``ManualOrders``): none, no hand order can work
    at a broker only this session reaches."""
    _kill: _KillRequest | None
    """A kill-switch press not taken yet (``SessionHalts``): no order of the cycle after it."""
    _watch_outside: bool
    """Whether anything but this session can reach the account (then a hand order placed
    elsewhere may work at any time)."""
    _cycle_orders: list[Order]
    _exits_not_kept: Callable[[list[Order] | None], dict[str, str]]
    """Why no order goes out in a symbol whose exit this session does not keep."""
    droppable: dict[str, Side]
    """Symbols where an order on this side cancels an ended session's exit first."""
    stop_events: list[RiskEvent]
    take_stop_events: Callable[[], list[RiskEvent]]
    _beside_close: Callable[[str, Side], str | None]
    """Why a sale waits beside another desk's flatten close (``engine.stop_release``)."""
    """Exits taken over or dropped before an order (``engine.stop_takeover``)."""

    def _rebalance(
        self,
        signals: dict[str, dict[str, Signal]],
        account: Account,
        positions: dict[str, Position],
        market_time: datetime,
        events: list[RiskEvent],
        notes: list[str],
    ) -> tuple[int, int]:
        """Turn targets into orders; each passes the risk gate and the audit before the broker.
        How many were sent and refused; what it has to say goes into the cycle's ``events``
        and ``notes`` as it comes, so that a failure part way (the broker silent, an answer
        that cannot be read) leaves the cycle holding the refusals decided before it, to
        write as it fails. Before, they were in this step's own list, lost with it."""
        cfg = self.config
        equity = account.equity
        working = self.broker.open_orders()
        if unseen(working):  # the position limit counts working orders: not on a partial view
            notes.append(f"no new orders: {unseen(working)}")
            return 0, 0
        book = holdings(positions, working, self.unsettled.in_doubt() if self.unsettled else ())
        listed = book  # others' sales filled in part: the positions may lag them
        if working:
            session = self.audit.session
            book = less_sales_filled(book, working, session.key if session else None)
        exits = self._exits_not_kept(working)  # once a cycle; such a symbol gets no order
        self.exit_holds.still(exits)  # an exit gone or changed: its next hold is said again
        left_alone = exits
        if self.outside.holds:  # changed outside the session: never traded against
            left_alone = exits | self.outside.holds
        sent = refused = 0
        hand: dict[str, str] = {}
        against: dict[str, str] | None = None
        small: dict[str, str] | None = None
        if self._manual_count or self._watch_outside:  # a hand order may work: none in a replay
            hand = self.hand_holds.holds(working)
            notes += self.hand_holds.onsets(hand, signals)
            if hand:  # the strategies wait there (an exit's or outside hold keeps its own word)
                left_alone = hand | left_alone
        if equity <= 0:
            return sent, refused
        # The same for every symbol of the cycle: worked out once.
        budget = min(equity, cfg.capital) if cfg.capital else equity
        allocation = cfg.allocation
        full_position = budget * allocation
        min_value = cfg.min_trade_pct / 100.0 * full_position
        round_qty = self._round_qty if cfg.fractional else None  # None: whole shares, inline
        allocate = self.allocator.allocate
        prices = self.last_prices
        # None when nothing is unsettled now: an order of this loop that becomes unsettled
        # blocks only its own symbol, which the loop has passed (one test a cycle, not a call
        # of Unsettled.__len__ a symbol).
        blocking = self.unsettled.blocking if self.unsettled else None
        for symbol in sorted(signals):
            if self._kill is not None or self._kill_seen is not None:  # it halts at the next
                # pass: ctrl+k pressed meanwhile, or a monitor's request found before an order
                notes.append("kill switch pressed: this cycle's other orders not sent")
                break
            price = prices.get(symbol)
            if not price:
                continue
            if blocking is not None:
                blocked = blocking(symbol)
                if blocked:
                    notes.append(blocked)
                    continue
            target = allocate(symbol, signals[symbol])
            qty = target.target * budget * allocation / price
            desired = float(_trunc(qty)) if round_qty is None else round_qty(qty)
            held = book.get(symbol, NOTHING)
            delta = desired - held.committed
            if abs(delta) < 1e-9:
                if desired == 0 and qty and price > full_position and round_qty is None:
                    small = small or {}
                    small[symbol] = "under one share"
                    if self.under_share.first(symbol, small[symbol]):
                        notes.append(
                            below_one_share(symbol, target.target, qty, price, full_position)
                        )
                continue
            if abs(delta) * price < min_value and desired != 0:
                continue
            if symbol in left_alone and not (  # a sell cancels an ended session's exit first
                self.droppable.get(symbol) is (_BUY if delta > 0 else _SELL)
                and exits.get(symbol) == left_alone[symbol]
            ):  # before the gate counts an order: none is sent
                reason = left_alone[symbol]
                if hand.get(symbol) == reason:  # said at its onset (``onsets``)
                    continue
                side = Side.BUY if delta > 0 else Side.SELL
                note = f"{side} {abs(delta):g} {symbol} not sent: {reason}"
                if exits.get(symbol) == reason:  # an exit's hold: said at its onset only
                    said = self.exit_holds.hold(symbol, reason, note)
                    if said is None:
                        continue
                    events.append(said)
                elif not self.outside.first_said(symbol, reason):  # so is a change's hold
                    continue
                notes.append(note)
                continue
            moved = positions.get(symbol)
            pending = held.committed - (moved.qty if moved is not None else 0.0)
            if pending * delta < -1e-12:  # an order of ours still works the other way
                against = against or {}
                against[symbol] = self._against(symbol, desired, pending, notes)
                continue
            if delta < 0 and held is not listed.get(symbol, NOTHING) and -delta > held.sellable:
                said = self._beside_close(symbol, _SELL)
                if said is None:  # others' sales filled in part: said at its onset only
                    against = against or {}
                    against[symbol] = _SOLD
                    if not self.crossing.first(symbol, _SOLD):
                        continue
                    said = sold_words(symbol, listed[symbol], held)
                notes.append(f"sell {-delta:g} {symbol} waits for the next cycle: {said}")
                continue
            move = Move(symbol, target, desired, price, equity, market_time)
            outcome = self._route(move, delta, held, events, notes)
            if outcome is None:
                break
            if outcome:
                sent += 1
            else:
                refused += 1
        if against is not None or self.crossing:  # a wait that ended is said again next time
            self.crossing.still(against or {})
        if small is not None or self.under_share:
            self.under_share.still(small or {})
        if refused:
            limited = self.rate_refusals.note()
            if limited:
                notes.append(limited)
        if self.stop_events:  # exits taken over or dropped before an order
            events += self.take_stop_events()
        return sent, refused

    def _against(self, symbol: str, desired: float, pending: float, notes: list[str]) -> str:
        """A rebalance that would go against an order of the desk still working in the symbol
        (a buy resting or partly filled when the target now sells, or the other way): it waits
        until that order ends, said once per onset. Sent now, a sell would count the unfilled
        buy as shares held (refused as a short sale every bar while it works, or selling shares
        the account does not own should it be cancelled), and Alpaca refuses an order that could
        trade against the account's own working one (a wash trade). The hold's reason."""
        way = "buy" if pending > 0 else "sell"
        if self.crossing.first(symbol, way):
            notes.append(
                f"{symbol}: the strategies' move to {desired:g} sh waits while a {way} of "
                f"{abs(pending):g} sent earlier still works; it goes once that order ends"
            )
        return way

    def _refusal(self, event: RiskEvent, events: list[RiskEvent]) -> None:
        """Add a rebalance's refusal to the cycle's events; a refusal by the day's order limit
        only the first time that day for its symbol (``RateRefusals`` counts the rest)."""
        if event.event_type == ORDER_RATE:
            said = self.rate_refusals.refuse(event, self.risk.state.day)
            if said is not None:
                events.append(said)
        else:
            events.append(event)

    def _round_qty(self, qty: float) -> float:
        """Whole shares toward zero, or fractional to nine decimals."""
        if self.config.fractional:
            return math.trunc(qty * 1e9) / 1e9
        return float(math.trunc(qty))

    def _order_id(self, symbol: str, leg: str) -> str:
        """Deterministic client order id: session, iteration, symbol, leg."""
        return make_order_id(self.audit.session.key, self.iteration, symbol, leg)
