"""Halting and resuming a session: the kill switch, resume requests, other processes' halts.

A mixin of ``TradingSession`` (kept apart so that the engine module stays the decision cycle).
Requests arrive from any thread (the desk's ctrl+k and ctrl+r, a signal) or from another process
(a monitor's ``halt_requests`` row, a halt or reset merged into the account's risk state); the
session's own thread acts on them: a halt cancels open orders, maybe suspends the account and
flattens, and says so in its risk event. Protective stops stay working unless the halt flattens.
A press or a monitor's request is turned into a halt by ``engine.kill_switch`` (a mixin of this).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError, Partial, refused, see_further, unseen
from tui_trader.core.domain import Account, Position, RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus
from tui_trader.engine.halt_flatten import HaltFlatten, flatten_closer, not_sent
from tui_trader.engine.halt_keeps import HaltKeeps, store_sessions, store_tag_of
from tui_trader.engine.kept_halts import kept_halt_refusal
from tui_trader.engine.kill_switch import KillSwitch
from tui_trader.engine.waits import BROKER_ERROR
from tui_trader.risk.gate import RiskManager
from tui_trader.risk.merge import HALT_ADOPTED, adoption_events
from tui_trader.risk.state import SESSION_HALTS, RiskState

if TYPE_CHECKING:
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.store.audit import AuditLog

RESUME_REFUSED = "resume_refused"
CANCEL_UNANSWERED = (
    "open orders may still be working: the broker did not answer the cancel, retrying"
)
"""The halt line's tail while a halt's cancel has had no answer (``SessionHalts.halt_line``)."""
HALT_DEFERRED = "open orders not cancelled yet: at the next cycle"
"""The halt line's tail while a halt entered after a cycle's halt step waits for its cancels
(``SessionHalts._halt_deferred``)."""
BROKER_CONTRADICTION = "broker_contradiction"
"""A halt because the broker said something that cannot be true (``Broker.take_contradictions``)."""


class SessionHalts(KillSwitch, HaltFlatten):
    """Kill, resume and adopted halts; the session supplies its state and its order path
    (the flatten's closes: ``engine.halt_flatten``)."""

    broker: Broker
    audit: AuditLog
    account_key: str
    risk: RiskManager
    config: SessionConfig
    started: bool
    last_prices: dict[str, float]
    wake: threading.Event
    _kill_lock: threading.Lock
    _resume: str | None
    _flatten_requested: bool
    _halt_unfinished: bool
    """A halt whose cancels (and flattening) did not go through: the broker did not answer.
    The next cycle acts on it again, so orders the halt meant to stop do not keep working."""
    _halt_left: str = ""
    """While a halt is unfinished, what it left working in a few words (the halt line's
    tail: ``halt_line``), e.g. "1 order(s) may still be working: cancel refused, retrying"."""
    _halt_said: str = ""
    """What the halt's words (its event, or the last retry note) said it left: a retry that
    changes nothing says nothing, so a cancel the broker keeps refusing is said once per
    onset, not in every cycle's notes."""
    _cancels_refused: frozenset[str] = frozenset()
    """Orders whose cancel (the halt's) the broker refused after accepting it (Alpaca's
    ``order_cancel_rejected``: they work on), heard since the last retry note (``records``)."""
    _refused_said: frozenset[str] = frozenset()
    """Those the last retry note said were refused: refused again, they are not said again."""
    _halt_late: bool = False
    """The unfinished halt is one entered after its cycle's halt step, not acted on yet
    (``_halt_deferred``): its first cancel is not said as one "again"."""
    _cycle_orders: list[Order]
    unsettled: Unsettled
    """Orders in doubt: one that would close shares holds its symbol's flatten (``_on_halt``)."""
    last_account: Account | None
    protects: bool
    """Cancel working orders, protective stops too only when flattening (``ProtectiveStops``)."""

    def request_resume(self, who: str = "user") -> None:
        """Ask the session to lift its halt (any thread); the worker decides at its next cycle."""
        with self._kill_lock:
            self._resume = who
        self.wake.set()

    def resume_refusal(self) -> str | None:
        """Why a resume would be refused now, or ``None`` if the risk state allows it."""
        state = self.risk.state
        if not state.halted:
            return "trading is not halted"
        if state.halt_reason in SESSION_HALTS:
            return f"a {state.halt_reason} halt lasts until the next trading day"
        return kept_halt_refusal(self.audit.db, self.account_key)  # (lifted here, it comes back)

    def _broker_doubt(self, request: OrderRequest) -> RiskEvent:
        """Halt because an order's fate is unknown: no more orders until a person looks."""
        detail = f"order {request.client_order_id} state unknown after a broker error"
        return self.risk.halt(BROKER_ERROR, 0.0, 0.0, detail)

    def _take_contradictions(self) -> list[RiskEvent]:
        """Halt if the broker said something that cannot be true (a fill for more than an
        order's quantity, a filled quantity going down): which of its words to believe cannot
        be decided safely, so no new orders go out until a person has compared the books."""
        found = self.broker.take_contradictions()
        if not found:
            return []
        detail = (
            "; ".join(found) + ". The audit trail may no longer match the broker: compare the "
            "orders and positions at the broker with the desk's, then reset the risk state"
        )
        return [self.risk.halt(BROKER_CONTRADICTION, float(len(found)), 0.0, detail)]

    def _take_resume_request(self) -> list[RiskEvent]:
        """Act on a resume request: lift the halt if the risk state allows it, else say why not."""
        if self._resume is None:  # read without the lock, as ``_take_kill_requests`` does
            return []
        with self._kill_lock:
            who, self._resume = self._resume, None
        if who is None:
            return []
        refusal = self.resume_refusal()
        try:  # the reset's peak: the equity now (unanswered, the run ended here: "failed")
            equity = self.broker.account().equity if refusal is None else 0.0
        except BrokerError as exc:
            refusal = f"the broker did not answer ({exc}); still halted, press it again"
        if refusal is not None:
            return [RiskEvent(RESUME_REFUSED, 0.0, 0.0, f"resume by {who} refused: {refusal}")]
        return [self.risk.reset(equity, who)]

    def _on_halt(
        self, events: list[RiskEvent], positions: dict[str, Position], market_time: datetime
    ) -> list[RiskEvent]:
        """Cancel open orders and, if asked, flatten; say so in the halt event's action.
        Until both went through (a ``BrokerError`` may interrupt them), or while the
        broker's listing could not see every open order and asking again may see further
        (its cancels took orders off it), the halt stays unfinished and the next cycle acts
        on it again."""
        flatten = self.config.flatten_on_halt or self._flatten_requested
        again = self._halt_unfinished  # acting on it again: an earlier close may still work
        self._halt_unfinished = True
        self._halt_left = CANCEL_UNANSWERED  # until the broker answers the cancel
        before = len(self._cycle_orders)  # a flatten's exits: cancelled and recorded first
        if flatten:  # before the cancels: an exit put back after them holds its close back
            self._read_close_rows()
        cancelled, left = self._cancel_for_halt(flatten, keep_closes=again)
        count = len(cancelled) + len(self._cycle_orders) - before
        for order in cancelled:
            self.audit.order_update(order)
            self._cycle_orders.append(order)
        action = f"; cancelled {count} open order(s){left}"
        put_back: list[RiskEvent] = []
        if self.config.suspend_on_halt:
            self.broker.suspend_trading()
            action += "; trading suspended on the account"
        if flatten:
            # another desk's close left working may sell the same shares: its symbol waits
            busy = self._busy_again() if again else self._others_closing()
            closing, spared, unclosed, put_back = self._flatten(market_time, busy)
            action += f"; flattening {closing} position(s)"
            if unclosed:
                action += (
                    f"; NOT closed: {'; '.join(unclosed)} (tried again every cycle until "
                    "closed; or close them at the broker)"
                )
            if spared:
                action += f"; left open, not the desk's: {', '.join(spared)}"
        else:
            closing, unclosed = 0, []
        # A flatten is acted on again until a pass finds nothing left to close: "flatten"
        # means flat, not one attempt. A close refused (an account suspended at the broker),
        # one rejected after it was accepted, or one that filled in part leaves the position
        # open; the next pass (its own closes kept working, ``keep_closes``) closes what is
        # still held, as a refused cancel is tried again.
        more = bool(unclosed) or closing > 0
        self._flatten_requested = self._flatten_requested and more
        self._halt_unfinished = see_further(cancelled) or (flatten and more)
        left = _left_working(cancelled) if see_further(cancelled) else ""
        if unclosed:
            opened = f"{len(unclosed)} position(s) not closed yet: retrying"
            left = f"{left}; {opened}" if left else opened
        self._halt_left = left
        out = []
        for event in events:
            said = event.halts or event.event_type == HALT_ADOPTED  # whose halt this acts on
            if said and "cancelled" not in event.action_taken:
                event = replace(event, action_taken=event.action_taken + action)
                self._halt_said = self._halt_left  # its words say what was left working
            out.append(event)
        return out + put_back

    def _halted_look(self) -> None:
        """A halted desk's read of the open orders, as a trading desk's rebalance reads them
        (at most one request every half minute while the trade stream is up): a fresh listing
        that leaves out an order of the desk still followed as working, a cancel of the halt
        unconfirmed among them, has it looked up (``brokers.alpaca_unlisted``). Read only by a
        trading desk, a halt's cancel carried out while the stream was silent stayed
        ``pending_cancel`` in the desk's record, its symbol working, as long as it was halted.
        Not answered: nothing is sent while halted, and the next cycle reads again."""
        try:
            self.broker.open_orders()
        except BrokerError:
            return

    def _halt_deferred(self, events: list[RiskEvent], halted: bool) -> list[RiskEvent]:
        """A halt this session entered after the cycle's halt step (``halted``: the state
        then): a send in doubt of a hand order, a protective exit or the rebalance. Its
        cancels are still to come: marked unfinished, so the next cycle or pass between bars
        acts on it, and its event says so. Before, the next cycle saw itself halted already
        and skipped them: the orders working kept working, able to fill, under the halt."""
        if halted or not self.risk.state.halted or self._halt_unfinished:
            return events
        self._owe_cancels()
        note = "; open orders are cancelled at the next cycle"
        return [
            replace(e, action_taken=e.action_taken + note)
            if e.halts and "cancelled" not in e.action_taken
            else e
            for e in events
        ]

    def halt_failed(self, reason: str, detail: str) -> RiskEvent:
        """The halt of a session failing on an unexpected error (``session.runner``), its
        cancel owed to the session's end (``SessionFinish._halt_cancels_at_end``: the desk's
        working orders but not its protective exits, best effort, said when the broker does
        not answer). Before, that halt cancelled nothing: a limit buy working at the broker
        kept working after the desk said "failed", able to fill with no one following it."""
        event = self.risk.halt(reason, 0.0, 0.0, detail)
        if not self._halt_unfinished:  # an unfinished halt's own cancel is owed already
            self._owe_cancels()
        return event

    def _owe_cancels(self) -> None:
        """Mark the halt just entered as not acted on yet: its cancels are owed to the next
        cycle or pass between bars (``_halt_deferred``), or to the session's end."""
        self._halt_unfinished = self._halt_late = True
        self._halt_left = self._halt_said = HALT_DEFERRED

    def _halt_unanswered(self, events: list[RiskEvent], exc: Exception) -> list[RiskEvent]:
        """A cycle's events when the broker did not answer its halt (a ``BrokerError`` out of
        ``_on_halt``), the halt's saying what may still be working; written before the cycle
        fails, and the next cycle acts on the halt again (``_halt_unfinished``). Unwritten, a
        halt decided in a cycle (a kill switch, a drawdown trip) held in memory and merged
        into the account's row was missing from its history, and never alerted."""
        note = f"; the broker did not answer (open orders may still be working): {exc}"
        out = []
        for event in events:
            said = event.halts or event.event_type == HALT_ADOPTED  # as ``_on_halt`` says
            if said and "cancelled" not in event.action_taken:
                event = replace(event, action_taken=event.action_taken + note)
                self._halt_said = self._halt_left
            out.append(event)
        return out

    def _cancel_for_halt(
        self, flatten: bool, keep_closes: bool = False, keeps: HaltKeeps | None = None
    ) -> tuple[list[Order], str]:
        """A halt's cancel and the words for what it left working. Without flattening: the
        desk's orders (its store's sessions') but not the protective exits, orders placed
        outside the desk, another database's desks' orders (``engine.halt_keeps``), nor another
        desk's flatten closes (cancelled, a desk adopting the account's halt undid the flatten
        of the desk whose kill switch asked for it: half of SPY left held), and with
        ``keep_closes`` (the cancel at a desk's end) not a flatten's closing sells. A
        listing that could not see every open order says so (``brokers.unseen``).
        Flattening: the protective exits first, each confirmed (the closing sells need their
        shares) and recorded, remembered to go back if their close does not go out
        (``HaltFlatten._release_for_flatten``), then every other order but another desk's
        flatten closes and, in a symbol the desk does not trade (no close there), what a halt
        keeps; with ``keep_closes`` (a flatten acted on again) its own closes too. ``keeps``:
        what the halt keeps when the store cannot be asked (``engine.lost_store_cancels``)."""
        if keeps is None:
            keeps = HaltKeeps(store_sessions(self.audit), store_tag_of(self.audit))
        if not flatten:  # another desk's flatten close is left to end its flatten (``holds32``)
            ours = (lambda o: flatten_closer(o) is not None) if keep_closes else self._others_close
            cancelled = self.broker.cancel_all(keep=lambda o: ours(o) or keeps(o))
            cut = unseen(cancelled)
            return cancelled, keeps.said() + (f"; {cut}" if cut else "")
        self._release_for_flatten()
        ours = (lambda o: flatten_closer(o) is not None) if keep_closes else self._others_close
        rest = self.broker.cancel_all(  # (a close needs no other symbol's shares)
            keep=lambda o: ours(o) or (o.symbol not in self.config.symbols and keeps(o))
        )
        cut = unseen(rest)
        if not cut:
            return rest, keeps.said()
        # what it left (unseen, or refused) is said; acted on again when asking may reach it
        return Partial(rest, cut, see_further(rest), refused(rest)), f"{keeps.said()}; {cut}"

    def _halt_retry_note(self, before: int) -> str | None:
        """What a halt acted on again did, the cycle's orders from ``before`` on being its own;
        ``None`` when it did nothing and what it left is what was said already (a cancel the
        broker refuses again: tried every cycle, said once per onset; the halt line keeps
        saying it: ``halt_line``)."""
        late, self._halt_late = self._halt_late, False  # a deferred halt's first: not "again"
        again = "" if late else " again"
        done = self._cycle_orders[before:]
        # a replaced order ended by its replace, not by this halt: said apart (its replacement
        # is an order of its own), never as cancelled
        replaced = sum(1 for order in done if order.was_replaced)
        cancelled = sum(1 for o in done if o.status is OrderStatus.CANCELED and not o.was_replaced)
        # (not a stop placed again beside a close that did not go out, nor a close not sent:
        # another desk's went out first, ``engine.close_claims``)
        sent = sum(1 for o in done if flatten_closer(o) is not None and not not_sent(o))
        left = self._halt_left
        if not done and left == self._halt_said:
            return None
        # the same cancels refused after their 204 and sent again: said at their onset (before,
        # every cycle said "cancelled" while the broker worked them on)
        mine = frozenset(o.client_order_id for o in done)
        refused, self._cancels_refused = self._cancels_refused & mine, frozenset()
        same = refused == self._refused_said and left == self._halt_said
        if refused and same and mine <= refused:
            return None
        self._refused_said = refused
        self._halt_said = left
        if not done and left:  # what is left changed (more or fewer refused): said again
            return f"the halt's cancel was tried{again}: {left}"
        note = f"the halt acted{again}: cancelled {cancelled} open order(s)"
        if sent:
            note += f", sent {sent} closing order(s)"
        if replaced:
            note += f", found {replaced} replaced (not cancelled: the replacement is another order)"
        if refused:
            note += (
                f"; the broker refused the last cancel of {len(refused)} of them after "
                "accepting it: each works on, cancelled again every cycle while refused (cancel "
                "them at the broker if they must stop now)"
            )
        return note + (f"; {left}" if left else "")

    def halt_line(self) -> str:
        """The halt as the desk shows it: ``reason: detail``, and while its cancels have not
        all gone through, what may still be working ('' while trading)."""
        state = self.risk.state
        if not state.halted:
            return ""
        line = f"{state.halt_reason}: {state.halt_detail}"
        if self._halt_unfinished and self._halt_left:
            line += f" ({self._halt_left})"
        return line

    def _halted_meanwhile(
        self, decided: RiskState, positions: dict[str, Position], market_time: datetime
    ) -> list[RiskEvent]:
        """The events of a halt another process wrote while this session sent what it had
        decided with the account active (``decided``), found by an order's fenced slot
        (``_reserve_slot``). Acted on at once, as a halt adopted at a cycle's start is: said,
        open orders cancelled (flattened or suspended if so configured)."""
        if decided.halted or not self.risk.state.halted:
            return []
        return self._on_halt(adoption_events(decided, self.risk.state), positions, market_time)

    def _sync_risk(self) -> list[RiskEvent]:
        """Merge this session's risk state with the account's row, adopting what other
        processes wrote (a halt, a reset); the events say what was adopted."""
        before = self.risk.state
        self.risk.state = after = self.audit.sync_risk(before)
        if after is before:  # within a batch, between commits: nothing merged
            return []
        return adoption_events(before, after)


def _left_working(cancelled: list[Order]) -> str:
    """What a halt's cancel left that may still be working, in a few words for the halt
    line (the halt's event gives the whole story)."""
    count = refused(cancelled)
    if count:
        return f"{count} order(s) may still be working: cancel refused, retrying"
    if unseen(cancelled):
        return "orders past the broker's listing may still be working: retrying"
    return ""
