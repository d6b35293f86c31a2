"""What a trading session writes down: fills, order changes, risk events, snapshots, reports.

A mixin of ``TradingSession`` (kept apart so that ``engine/session`` stays the decision cycle).
A fill is written once (the audit trail refuses a repeat) and booked as round trips for the
realized PnL; every order change goes to the audit trail; risk events are written with their
account and told to ``notify`` (a fill whose broker time could not be taken as said, a
``fill_time`` event, is written with it); a snapshot records the account as of a market time; the
cycle's ``IterationReport`` is what the front ends show.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.core.domain import Account, IterationReport, Position, RiskEvent
from tui_trader.core.ledger import TradeLedger
from tui_trader.core.orders import CLOCK_AHEAD, Fill, Order, OrderUpdate
from tui_trader.core.prices import exact_text
from tui_trader.engine.halts import RESUME_REFUSED
from tui_trader.engine.ledger_beside import LedgerBeside, Lot
from tui_trader.engine.outside_changes import OutsideChanges
from tui_trader.engine.realized_line import RealizedLine
from tui_trader.engine.recorded_elsewhere import RecordedElsewhere
from tui_trader.risk.gate import RESET, RiskManager
from tui_trader.strategies import LearningAllocator

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog

FILL_TIME = "fill_time"
"""Risk event type of a fill whose broker time could not be taken as said (in the future, or
before its order was submitted: ``core.orders.fill_time``); trading goes on."""


def cancel_refused_words(order: Order) -> str:
    """The words for a cancel by hand the broker answered 204 to and refused afterwards
    (Alpaca's ``order_cancel_rejected``): before, nothing said it, and the order the user had
    cancelled worked on, its row back to working, able to fill."""
    return (
        f"the broker refused the cancel of order {order.client_order_id} ({order.side} "
        f"{exact_text(order.remaining_qty)} {order.symbol}) after accepting it: the order works "
        "on, able to fill (cancel it again, or at the broker)"
    )


class SessionRecords(RecordedElsewhere, LedgerBeside):
    """The session's writing to the audit trail and its reports; the session supplies its state."""

    audit: AuditLog
    risk: RiskManager
    _halt_unfinished: bool
    _cancels_refused: frozenset[str]
    stop_notes: list[str]
    """Notes said with the next cycle's or pass's (``StopTakeover``): a hand cancel refused."""
    ledger: TradeLedger
    outside: OutsideChanges
    learning: LearningAllocator | None
    iteration: int
    account_key: str
    realized_pnl: float
    realized_by_symbol: dict[str, float]
    _realized_line: RealizedLine | None = None
    """The account's round trips this session closed, once read (a broker-backed desk)."""
    last_prices: dict[str, float]
    slippage_alert_bps: float | None
    _unsnapped: datetime | None
    _cycle_orders: list[Order]
    _cycle_fills: list[Fill]
    _clock_ahead_said: bool
    _kills_taken: list[int]
    _check_slippage: Callable[[Fill], None]
    _tell_events: Callable[[list[RiskEvent]], None]
    halt_line: Callable[[], str]
    kill_pressed: Callable[[], bool]
    """The halt as the desk shows it (``SessionHalts``)."""

    # -- the audit trail -----------------------------------------------------------------------

    def _record_with_row(self, order: Order | None, fill: Fill) -> bool:
        """Write ``order``'s row (its state with ``fill``, if given) and the fill in one
        commit, as ``_apply_updates`` does for the stream's news: a fill found at start or by
        a settlement look-up, whose row written first and the process killed before the fill
        left the row final without it, and no later start looked at it again. The row is
        written only while it still records what the fill starts from, in the same statement
        (``AuditLog.order_update_found``): another desk that found the same fill first (two
        desks started together, one of them had not found the order yet) moved the row on, and
        the fill is not recorded a second time (``fills28``: 6 shares for a 3-share buy); the
        row, never moved back, then goes to the broker's view, and the fill takes the path the
        stream's refused fills take (``_record_elsewhere``: what no desk recorded is recorded,
        review29e; what another desk did is accounted for)."""
        lot = self._lot_beside(fill)  # (asked before the transaction: it may ask the broker)
        with self.audit.together():
            if order is None or self.audit.order_update_found(order, order.filled_qty - fill.qty):
                return self._record_fill(fill, None, lot)
            if self._others(order):
                self.audit.order_update_found(order, order.filled_qty)
            return self._record_elsewhere(order, fill, lot)

    def _record_fill(
        self, fill: Fill, upto: float | None = None, lot: Lot | bool | None = True
    ) -> bool:
        """Write a fill once and book its round trips (one commit with the fill); False if it
        was already recorded (``upto``: ``AuditLog.fill``'s). ``lot``: the shares the ledger
        takes first (``LedgerBeside._lot_beside``), asked here unless the caller did."""
        if lot is True:  # (outside a transaction only: it may ask the broker)
            lot = self._lot_beside(fill)
        with self.audit.together():
            kept = {} if upto is None else {"upto": upto}
            if not self.audit.fill(fill, fill.timestamp, **kept):
                return False
            note = fill.time_note
            if note and self._fill_time_said(note):  # what cannot be: said, not hidden
                if CLOCK_AHEAD in note:
                    note += (
                        "; later fills stamped ahead are recorded the same way, not said "
                        "again this session"
                    )
                event = RiskEvent(
                    FILL_TIME,
                    1.0,
                    0.0,
                    f"fill recorded at {fill.timestamp:%Y-%m-%d %H:%M:%S} UTC",
                    symbol=fill.symbol,
                    detail=note,
                )
                self.audit.risk_event(event, self.account_key, fill.timestamp)
            if isinstance(lot, tuple):
                self.ledger.top_up(fill.symbol, lot[0], lot[1], fill.timestamp)
            trades = self.ledger.on_fill(fill)
            for trade in trades:
                self.audit.trade(trade)
        self._cycle_fills.append(fill)
        self.outside.on_fill(fill)
        if self.slippage_alert_bps is not None:
            self._check_slippage(fill)
        for trade in trades:
            self._realize(trade.symbol, trade.pnl)
        return True

    def _fill_time_said(self, note: str) -> bool:
        """Whether a fill's clamped time is to be written as a ``fill_time`` event: a broker
        clock running ahead (a sandbox sped up, this machine's clock behind) is said at its first
        fill of the session only, or every fill would add the same event; a time before the
        order's own submission is said for each fill it touches."""
        if CLOCK_AHEAD not in note:
            return True
        if self._clock_ahead_said:
            return False
        self._clock_ahead_said = True
        return True

    def _apply_updates(self, updates: list[OrderUpdate], listed: bool = False) -> int:
        """Record order changes and new fills; return how many new fills there were.
        ``listed``: the changed orders are already in the cycle's list (``_cycle`` put them
        there before deciding, and records them after its orders have gone out)."""
        fills = 0
        cycle_orders = self._cycle_orders
        audit = self.audit
        for update in updates:
            if update.cancel_refused and self.risk.state.halted:
                # a cancel of the halt's that the broker refused after accepting it: the order
                # works on, so the halt is acted on again (before, it said "cancelled" for good)
                self._halt_unfinished = True
                self._cancels_refused = self._cancels_refused | {update.order.client_order_id}
            elif update.cancel_refused:  # a cancel by hand (a trading desk's others confirm)
                self.stop_notes.append(cancel_refused_words(update.order))
            lot = self._lot_beside(update.fill) if update.fill is not None else None
            # An order's change, its fill and the round trips it closes commit as one: on a
            # remote broker's session a kill between them left the order recorded filled
            # without its fill, or the fill without its trade, and the restart, finding them
            # recorded, never wrote the rest.
            with audit.together():
                fill, order = update.fill, update.order
                others = self._others(order)
                if others:
                    # Never back: a desk whose stream lags another's wrote the row back to an
                    # earlier filled quantity, and a later start's reconciliation, reading
                    # the row as what was recorded, recorded the difference again (review29d).
                    audit.order_update_found(order, order.filled_qty)
                else:
                    audit.order_update(order)
                upto = order.filled_qty if fill and others else None
                if fill is not None and self._record_fill(fill, upto, lot):
                    fills += 1
                elif fill is not None and self._record_elsewhere(order, fill, lot):
                    fills += 1  # the part no desk recorded (another desk's: accounted for)
            if not listed:
                cycle_orders.append(update.order)
        return fills

    def realized_now(self) -> float:
        """The realized PnL shown, read again (the closing line: fills after the last cycle)."""
        self._account_realized()
        return self.realized_pnl

    def _account_realized(self) -> None:
        """On a broker-backed desk (an account others may trade), the realized PnL shown is
        the account's round trips this session closed (``engine.realized_line``)."""
        session = self.audit.session
        if not self.audit.commit_before_send or session is None:
            return
        if self._realized_line is None:
            self._realized_line = RealizedLine(session.id, stop=self.kill_pressed)
        read = self._realized_line.read()
        if read is not None:
            self.realized_pnl, self.realized_by_symbol = read

    def _realize(self, symbol: str, pnl: float) -> None:
        """Add a closed trade's PnL to the session's and its symbol's totals."""
        self.realized_pnl += pnl
        self.realized_by_symbol[symbol] = self.realized_by_symbol.get(symbol, 0.0) + pnl

    def _snapshot(
        self,
        account: Account,
        positions: dict[str, Position],
        market_time: datetime,
        marker: object = None,
    ) -> None:
        """Record the account as of ``market_time``, and what the learning system knows;
        ``marker``: ``fills_marker`` as read just before ``positions`` were."""
        self._unsnapped = None
        self.audit.snapshot(
            self.iteration,
            account,
            positions,
            self.risk.drawdown_pct(account.equity),
            self.risk.daily_pnl(account.equity),
            self.risk.state.state,
            market_time,
            marker,
        )
        if self.learning is not None:
            self.learning.end_cycle(self.iteration, market_time)

    def fills_marker(self) -> object:
        """On a broker-backed session (whose broker's positions a later session reconciles
        with: they may hold fills whose news comes after the snapshot), what the audit trail
        has recorded, read just before the broker's positions are (``AuditLog.fills_marker``);
        ``None`` elsewhere (a local account is never reconciled: the replay's snapshots stay
        one statement)."""
        return self.audit.fills_marker() if self.audit.commit_before_send else None

    def _record_events(self, events: list[RiskEvent], market_time: datetime) -> None:
        """Write every risk event with the account it belongs to, and the risk state they
        leave, as one commit; a halt's durably (on a broker that outlives the process its row
        must survive a power loss, like the halt). Apart, on a session whose rows commit one by
        one, a process killed between the two left the halt's event row with the account
        still active: the next session on it traded. The monitor's kill requests a halt acted
        on are marked taken in the same commit (``store.kill_requests``)."""
        if not events:
            return
        halts = any(event.halts for event in events)
        lifting = not self.risk.state.halted and any(e.event_type == RESET for e in events)
        taken = self._kills_taken if self.risk.state.halted else []
        with self.audit.db.durably() if halts else nullcontext(), self.audit.together():
            for event in events:
                self.audit.risk_event(event, self.account_key, market_time, event.halts)
            self.risk.state = self.audit.save_risk_state(self.risk.state)
            if taken:
                self.audit.mark_handled(taken)
        if taken:
            self._kills_taken = []
        self._tell_events(events)
        if lifting and self.risk.state.halted:
            # the row held another halt than the one this resume lifted (``risk.merge``: by
            # its identity), written after this session read it: it stands; said, and added
            # to the caller's events (its report shows it)
            state = self.risk.state
            events.append(
                RiskEvent(
                    RESUME_REFUSED,
                    0.0,
                    0.0,
                    "resume not taken: the account was halted again by another process "
                    f"({state.halt_reason}) after this session read the halt it lifted; the "
                    "new halt stands until it is reset",
                    detail=state.halt_detail,
                )
            )
            self._record_events(events[-1:], market_time)

    # -- reports -------------------------------------------------------------------------------

    def _report(
        self,
        account: Account,
        positions: dict[str, Position],
        market_time: datetime,
        fills: int,
        sent: int,
        refused: int,
        events: list[RiskEvent],
        notes: list[str] | tuple[str, ...],
    ) -> IterationReport:
        """Summarize the cycle for the front ends."""
        self._account_realized()
        return IterationReport(
            iteration=self.iteration,
            market_time=market_time,
            cash=account.cash,
            equity=account.equity,
            buying_power=account.buying_power,
            fills=fills,
            orders_sent=sent,
            orders_refused=refused,
            state=self.risk.state.state,
            drawdown_pct=self.risk.drawdown_pct(account.equity),
            daily_pnl=self.risk.daily_pnl(account.equity),
            positions=tuple(positions[s] for s in sorted(positions)),
            prices=dict(self.last_prices),
            risk_events=tuple(events),
            notes=tuple(notes),
            orders=tuple(self._cycle_orders),
            new_fills=tuple(self._cycle_fills),
            orders_today=self.risk.state.orders_today,
            realized_pnl=self.realized_pnl,
            realized_by_symbol=dict(self.realized_by_symbol),
            not_desks=self.outside.not_ours(positions),
            regimes=self.learning.regimes() if self.learning is not None else {},
            weights=self.learning.current_weights() if self.learning is not None else {},
            exposure=self.learning.risk_scale if self.learning is not None else 1.0,
            exposure_note=self.learning.risk_note if self.learning is not None else "",
            halt=self.halt_line(),
        )
