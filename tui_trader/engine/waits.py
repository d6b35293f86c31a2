"""What a session says and does while it cannot simply trade: orders in doubt, no new bar, an
outage.

A mixin of ``TradingSession`` (kept apart so that the engine module stays the decision cycle):
looking up orders the broker does not know yet (``tui_trader.engine.settlement``), the line a cycle
without a new bar prints (market closed, with when it opens), and the halt and report lines of
an outage, built from the last account read because the broker is not answering.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import Account, IterationReport, Position, RiskEvent
from tui_trader.core.order_ids import sent_by_another
from tui_trader.core.orders import Fill, Order
from tui_trader.core.waiting import HeartbeatStop
from tui_trader.store.peewee_names import PeeweeException

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.core.ledger import TradeLedger
    from tui_trader.engine.settlement import Settled, Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.store.audit import AuditLog

ALREADY_RECORDED = (
    "its fill was already in the audit trail (another desk of the account found it first): "
    "not recorded again"
)
"""A settlement event's action when the order's row had moved on before this desk's write (an
order an ended session left: another desk's start found it)."""
RECORDED_OWN = (
    "its fill was already in the audit trail (this desk recorded it from the broker's updates "
    "of the order): not recorded again"
)
"""The same for this session's own order in doubt: the broker follows it too, and its updates
(the stream, a poll) brought the fill first; no other desk takes a live desk's orders
(``AuditLog.open_orders_of_account``), so naming one misled a desk that ran alone
(review29a)."""

BROKER_ERROR = "broker_error"


class SessionWaits:
    """Settlement look-ups, waiting lines and outage halts; the session supplies its state."""

    broker: Broker
    audit: AuditLog
    clock: Clock
    risk: RiskManager
    unsettled: Unsettled
    ledger: TradeLedger
    last_account: Account | None
    last_positions: dict[str, Position]
    _waiting: str | None
    _cycle_orders: list[Order]
    _halt_deferred: Callable[[list[RiskEvent], bool], list[RiskEvent]]
    """Mark a halt entered outside the cycle's halt step as unfinished (``engine.halts``)."""
    _seed_before: Callable[[list[Fill], datetime, dict[str, Position]], None]
    _seed_as_broker: Callable[[set[str], datetime, dict[str, Position]], None]
    _unshown: tuple[RiskEvent, ...] = ()
    """Events a failed cycle wrote before it failed: shown on the next outage line."""
    _unshown_notes: tuple[str, ...] = ()
    """The notes of a cycle the broker's silence failed: shown on the next outage line."""

    iteration: int

    def beat_cycle(self) -> list[RiskEvent]:
        """The cycle's heartbeat, and what the heartbeats since the last cycle found of this
        machine's clock: a hold or a resume, written as risk events (``store.clock_watch``)."""
        self.audit.beat(iterations=self.iteration)
        return self.audit.clock_events()

    def orders_wait(self) -> str | None:
        """Why the strategies' new orders wait now (one plain line), ``None`` to send them: the
        broker's reason (``Broker.trading_ready``), or this machine's clock disagreeing."""
        return self.broker.trading_ready() or self.audit.clock_hold()

    def _record_fill(self, fill: Fill) -> bool:
        """Write a fill once and book its round trips (the session defines it)."""
        raise NotImplementedError

    def _record_with_row(self, order: Order | None, fill: Fill) -> bool:
        """Write an order's row and its fill in one commit (the session defines it)."""
        raise NotImplementedError

    def _record_events(self, events: list[RiskEvent], market_time: datetime) -> None:
        """Write risk events (the session defines it)."""
        raise NotImplementedError

    def sync_orders(self) -> int:
        """Record fills that arrived between bars (the session defines it)."""
        raise NotImplementedError

    def _report(self, *args: object) -> IterationReport:
        """Summarize a cycle (the session defines it)."""
        raise NotImplementedError

    def _settle(self, now: datetime) -> list[RiskEvent]:
        """Look up the orders in doubt; record what the broker now says of them (with fills)
        and those past their window as ``not_received``; return the events to write."""
        if not self.unsettled:
            return []
        found = self.unsettled.check(self.broker, now)
        events = found.events
        fills = {fill.client_order_id: fill for fill in found.fills}  # one an order, at most
        held = self._held_for_ledger(found)
        for order in found.orders:
            fill = fills.pop(order.client_order_id, None)
            squared = held is not None and order.client_order_id in found.seeded
            if fill is not None and squared:
                self._ledger_before(fill, now, held)
            if fill is None:  # never back: a view behind the row (another desk's, this
                # desk's own stream's) wrote it back, and a later start recorded the gap again
                self.audit.order_update_found(order, order.filled_qty)
            elif not self._record_with_row(order, fill):  # the row and its fill in one commit
                key = self.audit.session.key if self.audit.session else None
                said = (
                    ALREADY_RECORDED
                    if sent_by_another(order.client_order_id, key)
                    else RECORDED_OWN
                )
                events = [_recorded_before(event, order, said) for event in events]
            if fill is not None and squared:  # recorded first elsewhere: as the broker holds
                self._seed_as_broker({fill.symbol}, now, held)
            self._cycle_orders.append(order)
        for fill in fills.values():
            self._record_fill(fill)
        return events

    def _held_for_ledger(self, found: Settled) -> dict[str, Position] | None:
        """The broker's positions, read now, when an order the start left in doubt is found
        with a fill: the start seeded the trade ledger from positions that may hold that fill
        already (it filled before they were read) or not (after). Booking it regardless held
        the fill twice (``ledger29``: 40 shares in the ledger against 20 at the broker, the
        next round trip's entry averaged with the phantom lot), and one another desk recorded
        first, not booked, left the ledger a lot short. ``None`` when there is no such fill,
        or the broker does not answer: the fill is then booked as found (the ledger makes
        the realized PnL shown; no risk decision reads it)."""
        if not any(fill.client_order_id in found.seeded for fill in found.fills):
            return None
        try:
            return self.broker.positions()
        except BrokerError:
            return None

    def _ledger_before(self, fill: Fill, now: datetime, held: dict[str, Position]) -> None:
        """Seed the ledger of ``fill``'s symbol with what the broker held before it, unless it
        holds that already: recording the fill then books it once, and the round trip it
        closes (``SessionLifecycle._seed_before``, as for a fill found at the start)."""
        position = held.get(fill.symbol)
        before = (position.qty if position is not None else 0.0) - fill.qty * fill.side.sign
        if abs(self.ledger.held(fill.symbol) - before) > 1e-9:
            self._seed_before([fill], now, held)

    def _waiting_report(self) -> IterationReport | None:
        """No new bar: say why no orders can go out now (market closed, with when it opens),
        once per change of the message (a countdown changes it every minute); else None."""
        why = self.broker.trading_ready()
        if why is None:  # the usual case between bars: nothing to say, nothing to write
            return None
        self.sync_orders()  # fills keep coming between bars (and a reconnect is synced)
        why = self.broker.trading_ready()
        if why is None or why == self._waiting:
            return None
        self._waiting = why
        return self.outage_report([], [f"no new bar: {why}"])

    def halt_for_outage(self, cause: str, seconds: float) -> IterationReport:
        """Halt because the broker or the market data has not answered for ``seconds``; the
        event names the real cause. Orders already sent keep being followed (their fills are
        recorded whenever the stream or a poll brings them); the open ones a halt cancels are
        cancelled once the broker answers (``SessionHalts._halt_deferred``)."""
        detail = f"no answer from the broker or the market data for {seconds:.0f} s: {cause}"
        if self.risk.state.halted:
            action = "trading already halted; fills of orders already sent are still recorded"
            event = RiskEvent(BROKER_ERROR, 0.0, 0.0, action, detail=detail)
        else:
            # Its cancels cannot go out now (nothing answers): due at the first cycle or pass
            # between bars that gets an answer. Before, that cycle saw itself halted already
            # and skipped them: a limit working before the outage kept working, able to fill.
            [event] = self._halt_deferred([self.risk.halt(BROKER_ERROR, 0.0, 0.0, detail)], False)
            event = replace(
                event,
                action_taken=event.action_taken
                + "; orders already sent are still followed and their fills recorded",
            )
        with self.audit.cycle():
            self._record_events([event], self.clock.now())
        return self.outage_report([event], [])

    def _said_before_failing(
        self, events: list[RiskEvent], market_time: datetime, notes: list[str]
    ) -> None:
        """Write the events a cycle gathered before the broker's silence failed it (a halt, a
        refusal of the rebalance or of a hand order, an order not received), and keep them and
        the cycle's notes (an order the broker rejected, a symbol waiting) for the runner's
        outage line, which shows them once. Before, only a halt among them was written: the
        others were lost from the audit trail and the desk's line."""
        self._record_events(events, market_time)
        self._unshown = self._unshown + tuple(events)
        self._unshown_notes = self._unshown_notes + tuple(notes)

    def _kept_before_failing(self, exc: Exception) -> bool:
        """Whether a cycle failing on ``exc``, not the broker's silence (an answer that cannot
        be read, a programming error), writes the events it gathered before it goes: where rows
        commit one by one (its orders' rows are in the store, the orders at the broker), so that
        the refusals decided before the failure are beside them. Not in a local cycle, which
        rolls back whole, nor when the store or this session's row is what failed: nothing can
        be written then (``session.store_endings`` says what it can). SQLite's own errors are
        the store's as much as peewee's wrappers of them: the hot path's statements run straight
        on the connection (``AuditDatabase.raw``: an order's slot of the day's count, the risk
        row). Before, its ``database is locked`` was taken for another error: the write tried
        under the same lock waited the busy timeout (10 s) out again before the desk ended."""
        return self.audit.commit_before_send and not isinstance(
            exc, PeeweeException | sqlite3.Error | HeartbeatStop
        )

    def _written_before_failing(self, events: list[RiskEvent], market_time: datetime) -> None:
        """Write a failing cycle's events (``_kept_before_failing``), best effort: a second
        failure here must not hide the first, which the session ends on."""
        with contextlib.suppress(Exception):
            self._record_events(events, market_time)

    def outage_report(self, events: list[RiskEvent], notes: list[str]) -> IterationReport:
        """A cycle line from the last known account while the broker or data does not answer,
        with the events and notes of a cycle that failed since the last one
        (``_said_before_failing``)."""
        if self._unshown:
            events, self._unshown = [*self._unshown, *events], ()
        if self._unshown_notes:
            notes, self._unshown_notes = [*self._unshown_notes, *notes], ()
        account = self.last_account or Account(0.0, 0.0, 0.0)
        now = self.clock.now()
        return self._report(account, self.last_positions, now, 0, 0, 0, events, notes)


def _recorded_before(event: RiskEvent, order: Order, said: str) -> RiskEvent:
    """``event`` as it stands, or, if it is the settlement event of ``order``, saying (``said``)
    that its fill was not recorded again: another desk (its start's reconciliation) brought the
    row up to the broker and recorded the fill first (``fills28``), or this desk's own updates
    of the order did, and "recorded from the broker" would claim a write this look-up did not
    make."""
    if not event.detail.startswith(f"order {order.client_order_id}:"):
        return event
    return replace(event, action_taken=said)
