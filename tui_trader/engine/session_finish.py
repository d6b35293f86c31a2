"""A trading session's finish: the halt's cancel it still owes, exits put back, the last rows.

A mixin of ``TradingSession`` (kept apart from ``engine/lifecycle``, its start). ``finish``
makes the cancel of a halt that has not acted yet, puts back the exits cancelled before an order
whose fate was not known (and says every position left without one), ends a simulated account's
working orders, writes the last snapshot, the risk memory and how the session ended, then tells
``notify``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.clock import Clock
from tui_trader.core.domain import Account, Position, RiskEvent
from tui_trader.core.orders import Order
from tui_trader.engine.notices import SESSION_END
from tui_trader.engine.stops_at_finish import LEFT_DOWN
from tui_trader.risk.gate import RiskManager
from tui_trader.store.session_rows import RowEnded

if TYPE_CHECKING:
    from tui_trader.engine.exit_drops import ExitDrops
    from tui_trader.engine.rate_refusals import RateRefusals
    from tui_trader.store.audit import AuditLog

SESSION_ENDED = "the local session ended; its simulated account and working orders end with it"
"""Why an order still working when a local session ends is ``canceled`` (its row's error)."""


class SessionFinish:
    """The finish of a session; the session supplies its state and its recorders."""

    broker: Broker
    audit: AuditLog
    clock: Clock
    risk: RiskManager
    iteration: int
    market_time: datetime | None
    last_account: Account | None
    last_positions: dict[str, Position]
    last_marker: object
    fills_marker: Callable[[], object]
    rate_refusals: RateRefusals
    exit_drops: ExitDrops
    _unsnapped: datetime | None
    protects: bool
    restoring: bool
    stops_left: tuple[str, ...]
    _halt_unfinished: bool
    _cycle_orders: list[Order]
    _record_events: Callable[[list[RiskEvent], datetime], None]
    _snapshot: Callable[[Account, dict[str, Position], datetime, object], None]
    _tell: Callable[[str, float, float, str, str], None]
    put_back_at_finish: Callable[[datetime], list[RiskEvent]]
    _cancel_for_halt: Callable[[bool, bool], tuple[list[Order], str]]
    stops_down: Callable[..., list[str]]

    def finish(self, status: str, detail: str = "") -> None:
        """Write the final state: the last snapshot if the cadence skipped it, risk memory, how
        the session ended; then tell ``notify`` (even when writing failed). How it ended is
        written even when what comes before it could not be (a full disk or a file-size limit
        refuses the snapshot's new row, where the session row's own change still fits): left
        ``running``, the row showed a session that died, not one that failed and said why.

        A row another process recorded ended meanwhile (a heartbeat in these last writes'
        waits, or the end's own update, finds it ``died``: ``RowEnded``) is not told as
        ``status``: the caller ends the session as that record says
        (``session.store_endings.end_on_row_ended``), one end told, not "completed" then
        "failed"."""
        row_ended = False
        left = ""  # a halt's cancel the end could not make
        try:
            try:
                left = self._halt_cancels_at_end()
                self._stops_at_end()
                self._final_rows()
            finally:
                self.audit.end_session(status, self.iteration)
        except RowEnded:
            row_ended = True
            raise
        finally:
            if not row_ended:
                said = "; ".join(part for part in (detail, left, *self.stops_left) if part)
                self._tell(SESSION_END, self.iteration, 0.0, f"session {status}", said)

    def _halt_cancels_at_end(self) -> str:
        """The cancel of a halt that has not acted yet (entered after its cycle's halt step,
        or its cancel unanswered), made before the desk ends: no next cycle will make it.
        Before, a desk stopped in between left its limit orders working at the broker, able
        to fill, under a halt whose event said they would be cancelled. Only the cancel (the
        protective exits and what a halt keeps stay, ``engine.halt_keeps``): a flatten's sells
        would go out with no one left to follow them; a flatten's closing sells already
        working keep working. Before, a halt that flattens was skipped whole as "under way"
        unless entered after its cycle's halt step: a kill with flatten whose first cancel
        had no answer had closed and cancelled nothing, and its limit orders kept working
        past the desk's end. Best effort: a broker that does not
        answer leaves them working, and the words returned (for the end's notice) say so."""
        if not (self.risk.state.halted and self._halt_unfinished):
            return ""
        if getattr(self.broker, "orders_end_with_session", False):
            return ""  # a simulated account's orders end with its session (``_final_rows``)
        try:
            with self.audit.cycle():
                cancelled, _ = self._cancel_for_halt(False, True)  # closing sells kept
                for order in cancelled:
                    self.audit.order_update(order)
        except RowEnded:  # another desk keeps the account now
            raise
        except Exception as exc:  # the end goes on, saying what may still work
            return (
                f"the halt's cancel could not be made before the desk stopped "
                f"({type(exc).__name__}): open orders may still be working at the broker"
            )
        return ""

    def _stops_at_end(self) -> None:
        """Exits cancelled before an order whose fate was not known yet go back where that
        order cannot sell the shares, and every position left without one is said, recorded
        and told (``StopsAtFinish``; for a desk that keeps exits, also each position no exit
        at the broker covers). Best effort: should that fail (the store, say), each such
        position is said to be maybe without its stop, and the session still ends as it was
        going to (its own failure, if any, is what the caller hears). A simulated account's
        orders end with its session: nothing to put back there."""
        if getattr(self.broker, "orders_end_with_session", False):
            return
        if not (self.restoring or self.protects):
            return
        now = self.market_time or self.clock.now()
        try:
            with self.audit.cycle():
                self._cycle_orders.clear()
                self._record_events(self.put_back_at_finish(now), now)
        except RowEnded:  # another desk keeps the account now: it puts nothing back
            raise
        except Exception as exc:  # the end goes on; the lines say what is down
            could_not = f"this desk stopped before it could put it back ({type(exc).__name__})"
            self.stops_left = tuple(self.stops_down(could_not=could_not))
        for line in self.stops_left:
            self._tell(LEFT_DOWN, 0.0, 0.0, line, "")

    def _final_rows(self) -> None:
        """What ``finish`` writes before the session's end: the working orders of a simulated
        account ended, the day's order-limit refusals counted, the last snapshot, risk memory."""
        if getattr(self.broker, "orders_end_with_session", False):
            self._end_working_orders()
        # the last day's order-limit refusals, and exits dropped again since said
        counted = self.rate_refusals.close() + self.exit_drops.close()
        if counted:
            with self.audit.cycle():
                self._record_events(counted, self.market_time or self.clock.now())
        if self._unsnapped is not None:
            marker = self.fills_marker()
            try:
                account, positions = self.broker.account(), self.broker.positions()
            except BrokerError:  # the broker is down: the last values read stand
                account, positions = self.last_account, self.last_positions
                marker = self.last_marker
            if account is not None:
                self._snapshot(account, positions, self._unsnapped, marker)
        self.risk.state = self.audit.save_risk_state(self.risk.state)

    def _end_working_orders(self) -> None:
        """Orders still working on a simulated account end with its session: their rows say
        ``canceled`` and why, instead of ``new`` for ever (nothing can fill them any more, and
        the next local session trades a fresh account)."""
        ended = self.broker.cancel_all()
        if not ended:
            return
        with self.audit.cycle():
            for order in ended:
                self.audit.order_update(replace(order, reject_reason=SESSION_ENDED))
