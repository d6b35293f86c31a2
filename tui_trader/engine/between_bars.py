"""Between bars: what a session does when no decision is due, on its own thread.

A mixin of ``TradingSession`` (kept apart so that the engine module stays the decision cycle).
A live session waiting for its next bar, or about to stop, still records the fills and order
changes that keep arriving (``sync_orders``); a kill switch, a resume, a manual order or a halt
written by another process acts at once, without waiting for a bar (``apply_kill_requests``,
called by the runner when the session's ``wake`` event is set); an order by hand found ended
there has its symbol's exit put in step at once (``engine.hand_exits``). Both run in one audit
transaction, stamped at the latest bar's time like a cycle's records.

A halt flatten's close or a protective exit of this desk still working records its news at
each of those looks too (``_closes_heard``), where other desks share the account: each of their
sales in its symbol waits while its row is open in the store (``engine.live_exits``). Before,
the row said the close (``review31d``) or the stop (``heard31``) worked until this desk's next
bar (an hour, a day on daily bars) though it had filled in a second, and the other desks' sales
there, by hand too, waited all that time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import Account, IterationReport, Position, RiskEvent
from tui_trader.core.order_ids import flatten_closer_key
from tui_trader.core.orders import Fill, Order
from tui_trader.engine.halts import CANCEL_UNANSWERED
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.risk.gate import RiskManager
    from tui_trader.risk.state import RiskState
    from tui_trader.store.audit import AuditLog


class BetweenBars:
    """Recording the broker's news and acting on requests between bars; the session supplies
    its state and the cycle's pieces (annotated here, defined by the other mixins)."""

    broker: Broker
    audit: AuditLog
    claims: AccountClaims | None
    """Set where other desks may trade the account through this store (``AccountClaims``)."""
    clock: Clock
    risk: RiskManager
    unsettled: Unsettled
    market_time: datetime | None
    last_account: Account | None
    last_positions: dict[str, Position]
    last_marker: object
    fills_marker: Callable[[], object]
    marked: Callable[[object], object]
    equity_seen: float
    _fenced: bool
    _halt_unfinished: bool
    _flatten_requested: bool
    _halt_left: str
    _cycle_orders: list[Order]
    _cycle_fills: list[Fill]
    _apply_updates: Callable[..., int]
    _record_events: Callable[[list[RiskEvent], datetime], None]
    _settle: Callable[[datetime], list[RiskEvent]]
    _sync_risk: Callable[[], list[RiskEvent]]
    _take_resume_request: Callable[[], list[RiskEvent]]
    _take_kill_requests: Callable[[], list[RiskEvent]]
    _on_halt: Callable[[list[RiskEvent], dict[str, Position], datetime], list[RiskEvent]]
    _halted_meanwhile: Callable[[RiskState, dict[str, Position], datetime], list[RiskEvent]]
    _halt_deferred: Callable[[list[RiskEvent], bool], list[RiskEvent]]
    _halt_retry_note: Callable[[int], str | None]
    _take_manual_requests: Callable[[datetime], tuple[list[RiskEvent], list[str]]]
    stop_notes: list[str]
    """Exits dropped or placed again, not said yet (``engine.stop_takeover``)."""
    manual_pending: Callable[[], bool]
    hands_ended: Callable[[], set[str]]
    hands_cancelled: Callable[[list[Order]], None]
    exits_after_hand: Callable[[set[str], datetime], tuple[list[RiskEvent], list[str]]]
    hand_silence: Callable[[set[str], BrokerError], list[str]]
    _report: Callable[..., IterationReport]

    def sync_orders(self) -> int:
        """Record order changes and fills that arrived since the last cycle; returns new fills.

        Between bars (a live session waiting for the next one, or before shutting down) fills
        keep arriving; this writes them without making a decision.
        """
        with self.audit.cycle():
            self._cycle_orders.clear()
            self._cycle_fills.clear()
            self.audit.beat()
            fills = self._apply_updates(self.broker.drain_updates())
            if self.unsettled:
                before = len(self._cycle_fills)
                now = self.clock.now()
                self._record_events(self._settle(now), now)
                fills += len(self._cycle_fills) - before
            return fills

    def apply_kill_requests(self, retry_halt: bool = True) -> IterationReport | None:
        """Act on a pending kill between bars (the runner calls this when woken, and at its
        looks while it waits). ``retry_halt`` False: a halt left unfinished (a cancel the
        broker refused or did not answer) is not tried again at this look; its tries cost
        three requests each (``session.runner.HALT_RETRY_S``)."""
        with self.audit.cycle():
            self._cycle_orders.clear()
            self._cycle_fills.clear()
            self.audit.beat()
            heard = self._closes_heard()  # its fills on the desk's screen too: a report
            was_halted = self.risk.state.halted
            events = self._sync_risk() if self.audit.commit_every == 1 else []
            events += self._take_resume_request()
            if not self.risk.state.halted:  # a halt lifted: its flatten and cancels owed end too
                self._flatten_requested = self._halt_unfinished = False
            kills = self._take_kill_requests()
            retry = retry_halt and self._halt_unfinished and self.risk.state.halted
            ended = self.hands_ended()  # orders by hand ended since: their exits in step now
            asked = self.manual_pending()
            if not events and not kills and not retry and not asked and not ended and not heard:
                return None
            # Stamped like the cycle's records: at the latest bar, so a replay's History shows a
            # manual order, kill or resume among its bars, not at today's date (the rows'
            # ``timestamp`` keeps the wall clock). Before any bar, the clock.
            market_time = self.market_time or self.clock.now()
            halts = kills
            notes: list[str] = []
            # a halt's reads (positions, its listing, the account after it) are part of it:
            # they may take what the request budget keeps for orders and cancels
            halting = bool(kills) or retry or (self.risk.state.halted and not was_halted)
            try:
                with self.broker.urgent() if halting else nullcontext():
                    positions = self.broker.positions()
                    before = len(self._cycle_orders)
                    if kills:
                        halts = self._on_halt(kills, positions, market_time)
                    elif self.risk.state.halted and (not was_halted or retry):
                        events = self._on_halt(events, positions, market_time)
                    said = self._halt_retry_note(before) if retry and not kills else None
                    again = [said] if said else []
                    decided = self.risk.state
                    manual, notes = self._take_manual_requests(market_time)
                    if halting:  # every one the halt's cancels ended (or left pending:
                        self.hands_cancelled(self._cycle_orders[before:])  # asked together)
                    # sent now and ended at once, or cancelled by this halt: exits back now
                    ended |= self.hands_ended() if asked or halting else set()
                    placed, told = self.exits_after_hand(ended, market_time)
                    manual, notes = manual + placed, notes + told
                    # an exit a hand order dropped or put back: said now, not a bar later
                    notes, self.stop_notes = again + notes + self.stop_notes, []
                    events += manual
                    if self._fenced:  # a manual order found the account halted elsewhere
                        self._fenced = False
                        events += self._halted_meanwhile(decided, positions, market_time)
                    else:  # a halt entered by a hand order's send in doubt: cancels due
                        events = self._halt_deferred(events, decided.halted)
                acted = True
            except BrokerError as exc:  # the halt stands; say what the broker did not answer
                if halts or (self.risk.state.halted and not was_halted):
                    self._halt_unfinished = True  # its cancels: again at the next cycle
                    self._halt_left = CANCEL_UNANSWERED  # the halt line says so meanwhile
                notes += self.hand_silence(ended, exc)  # a position without its exit: said
                if not events and not halts and not notes:
                    return None  # only a halt's cancels tried again: the broker still silent
                note = f"; the broker did not answer (open orders may still be working): {exc}"
                halts = [replace(e, action_taken=e.action_taken + note) for e in halts]
                acted = False
            events += halts
            if retry and not events and not notes and not self._cycle_orders:
                return None  # a cancel the broker refused again: said at its onset already
            # Written before the account is read again for the desk's line: a read waiting on
            # the request budget, or retrying, held the halt's record (and its words then
            # blamed the halt for that read's failure: "open orders may still be working").
            self._record_events(events, market_time)
            if acted:
                account, positions = self._read_after(halting, notes)
            else:
                account = self.last_account or Account(0.0, 0.0, 0.0)
                positions = self.last_positions
            self.equity_seen = account.equity
            fills = len(self._cycle_fills)  # those heard, and those of orders by hand
            return self._report(account, positions, market_time, fills, 0, 0, events, notes)

    def _closes_heard(self) -> int:
        """Record the news of this desk's flatten closes and protective exits still working
        (as far as the updates drained so far tell), where other desks share the account:
        they read those orders' rows before each sale (see the module). Only while the broker
        may take orders (the stream up, its news back-filled, the market open): its news then
        costs no request. Else, and the broker silent: left for the next look or cycle, as
        the cycle's own reads are. Returns how many order changes it recorded: the look then
        reports them and their fills, as a cycle would (the desk's screen shows a stop's fill
        then; before, a change recorded at a look was never said: the next cycle's report
        shows only what that cycle recorded)."""
        session = self.audit.session
        if self.claims is None or session is None:
            return 0
        key = session.key

        def not_held_beside(order: Order) -> bool:
            """Whether ``order`` holds no other desk's sale: neither a flatten close of this
            session nor one of its protective exits (``engine.live_exits``)."""
            cid = order.client_order_id
            return flatten_closer_key(cid) != key and not is_protective(cid, order.order_type)

        if not self.broker.working_symbols(not_held_beside):
            return 0
        with contextlib.suppress(BrokerError):
            # the stream up and its news back-filled: draining asks nothing (polling every
            # order followed at each look, stream down, would spend the request budget)
            if self.broker.trading_ready() is None:
                self._apply_updates(self.broker.drain_updates())
        return len(self._cycle_orders)

    def _read_after(self, halting: bool, notes: list[str]) -> tuple[Account, dict[str, Position]]:
        """The account and positions once the requests acted (cancelled orders release buying
        power), for the desk's line; a halt's reads may take the budget kept for orders and
        cancels. Unanswered: the last ones known, and a note says so (what was done is
        written already)."""
        try:
            with self.broker.urgent() if halting else nullcontext():
                marker = self.fills_marker()
                account = self.broker.account()
                positions = self.broker.positions()
        except BrokerError as exc:
            notes.append(f"the account could not be read again after this: {exc}")
            return self.last_account or Account(0.0, 0.0, 0.0), self.last_positions
        self.marked(marker)
        self.last_account, self.last_positions = account, positions
        return account, positions
