"""A trading session's start and finish: opening the session row, reconciling, warming up.

A mixin of ``TradingSession`` (kept apart so that ``engine/session`` stays the decision cycle).
``start`` opens the session's audit row, records local sessions that died without ending
(``store.dead_local``: their working orders end with them), restores the account's shared risk
state, squares earlier runs' orders and positions with the broker (each difference recorded as
a risk event), on an account others can trade (Alpaca) compares the broker's positions with
what the account's recorded fills make (``engine.outside_watch``: a symbol changed while no
session ran is left alone; its event stands for the reconciliation's "positions differ" about
that symbol) and places the protective stops (never for shares that are not the desk's), then
warms the strategies up on history: a position found without its stop is protected before the
seconds the history takes (first the warm-up when an ATR stop needs it, or for a local account);
``finish`` writes the last snapshot, the risk memory and how the session ended, then tells
``notify``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.clock import Clock
from tui_trader.core.domain import Account, Bar, Position, RiskEvent, Signal
from tui_trader.core.ledger import TradeLedger, positions_before
from tui_trader.core.order_ids import key_tag, read_order_id
from tui_trader.core.orders import Fill, Order
from tui_trader.core.waiting import beating
from tui_trader.engine.collector import CycleCollector
from tui_trader.engine.kept_halts import honour_kept_halt
from tui_trader.engine.notices import SESSION_END
from tui_trader.engine.reconcile import positions_event, reconcile, unsettled_order
from tui_trader.engine.settlement import Unsettled
from tui_trader.engine.stops_at_finish import LEFT_DOWN
from tui_trader.market import MarketData, MarketDataError
from tui_trader.risk.gate import RiskManager
from tui_trader.risk.stops import PROTECTIVE_LEG
from tui_trader.store.session_rows import RowEnded
from tui_trader.strategies import LearningAllocator

SESSION_ENDED = "the local session ended; its simulated account and working orders end with it"
"""Why an order still working when a local session ends is ``canceled`` (its row's error)."""

if TYPE_CHECKING:
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.exit_drops import ExitDrops
    from tui_trader.engine.rate_refusals import RateRefusals
    from tui_trader.store.audit import AuditLog


class SessionLifecycle:
    """Start-up and finish of a session; the session supplies its state and its recorders."""

    config: SessionConfig
    market: MarketData
    broker: Broker
    audit: AuditLog
    clock: Clock
    learning: LearningAllocator | None
    risk: RiskManager
    ledger: TradeLedger
    iteration: int
    account_key: str
    _account_key: str | None
    session_day: Callable[[datetime], date]
    _endpoint: str | None
    started: bool
    startup_events: list[RiskEvent]
    startup_notes: list[str]
    last_prices: dict[str, float]
    market_time: datetime | None
    last_account: Account | None
    last_positions: dict[str, Position]
    last_marker: object
    fills_marker: Callable[[], object]
    unsettled: Unsettled
    rate_refusals: RateRefusals
    exit_drops: ExitDrops
    """Exits dropped again since said (``engine.exit_drops``): counted at the end."""
    _unsnapped: datetime | None
    protects: bool
    _watch_outside: bool
    _outside_at_start: Callable[[], list[RiskEvent]]
    _signals_for: Callable[[dict[str, Bar]], dict[str, dict[str, Signal]]]
    _measures: bool
    _collector: CycleCollector
    _record_fill: Callable[[Fill], bool]
    _record_with_row: Callable[[Order | None, Fill], bool]
    _record_events: Callable[[list[RiskEvent], datetime], None]
    _snapshot: Callable[[Account, dict[str, Position], datetime, object], None]
    _protect: Callable[..., list[RiskEvent]]
    stops_after_death: Callable[[datetime], list[RiskEvent]]
    follow_hands_at_start: Callable[[list[Order], str | None, set[str]], None]
    _settle: Callable[[datetime], list[RiskEvent]]
    _tell: Callable[[str, float, float, str, str], None]
    _cycle_orders: list[Order]
    restoring: bool
    stops_left: tuple[str, ...]
    put_back_at_finish: Callable[[datetime], list[RiskEvent]]
    _halt_unfinished: bool
    _halt_left: str
    _flatten_requested: bool
    _cancel_for_halt: Callable[[bool, bool], tuple[list[Order], str]]
    stops_down: Callable[..., list[str]]

    # -- start and finish ----------------------------------------------------------------------

    def start(self) -> None:
        """Open the session row, restore the account's risk state and warm the strategies up;
        a wait among the start's reads (the request budget, a retry) beats the new row's
        heartbeat meanwhile (``core.waiting``)."""
        with beating(self.audit.beat_waiting, self.audit.beat_aside):
            self._start()

    def _start(self) -> None:
        """What ``start`` does."""
        cfg = self.config
        row = self.audit.start_session(
            mode=cfg.mode,
            broker=self.broker.name,
            endpoint=self._endpoint,
            data_source=cfg.data_label,
            symbols=cfg.symbols,
            parameters=cfg.parameters(),
            account_key=self._account_key,
        )
        self.account_key = row.account_key
        dead = self.audit.record_dead_local_sessions()
        if dead:
            self.startup_notes.append(dead)
        self.risk = RiskManager(
            cfg.limits,
            self.audit.load_risk(row.account_key),
            cfg.fractional,
            cfg.allow_short,
            cfg.capital,
        )
        # a halt its last desk kept on disk while the store was lost: in the store first
        kept, notes = honour_kept_halt(self.audit, self.risk, row.account_key, self.clock.now())
        self.startup_notes.extend(notes)
        # Stops before the warm-up (seconds: the bulk of a start) where orders outlive the
        # session, unless an ATR stop's distance needs the history (module docstring).
        early = not self._measures and not getattr(self.broker, "orders_end_with_session", False)
        if not early:
            self._warm_up()
        self.last_account = self.broker.account()
        self.last_marker = self.fills_marker()
        positions = self.last_positions = self.broker.positions()
        for symbol, position in positions.items():
            self.ledger.seed(symbol, position.qty, position.avg_entry_price, self.clock.now())
        self.started = True
        self._square_with_broker(kept)
        if early:
            try:
                self._warm_up()
            except MarketDataError as exc:  # the stops just placed are protection: left, said
                if not self.protects or not positions:
                    raise
                kept = "the protective exits at the broker stay working for the shares held"
                raise MarketDataError(f"{exc}; the session did not start: {kept}") from exc
        if self.learning is not None:
            self.learning.start_trading()

    def _warm_up(self) -> None:
        """Feed the history's bars to the strategies and the learner (and the average true
        ranges), in time order across symbols, as the cycles come: the learner's weights are
        shared. Each bar time's bars go together, as a cycle's do (a symbol twice starts
        another), and like a cycle with the garbage collector held off until they are done: a
        bar time's signals are all alive at once, and a collection among them would walk them."""
        history = self.market.warmup()
        everything = (bar for bars in history.values() for bar in bars)
        step: dict[str, Bar] = {}
        stamp: datetime | None = None
        collector = self._collector
        for bar in sorted(everything, key=attrgetter("timestamp", "symbol")):
            if step and (bar.timestamp != stamp or bar.symbol in step):
                with collector:
                    self._signals_for(step)
                step = {}
            stamp = bar.timestamp
            step[bar.symbol] = bar
        if step:
            with collector:
                self._signals_for(step)
        for bars in history.values():
            if bars:
                self.last_prices[bars[-1].symbol] = bars[-1].close
                if self.market_time is None or bars[-1].timestamp > self.market_time:
                    self.market_time = bars[-1].timestamp

    def _square_with_broker(self, kept: list[RiskEvent]) -> None:
        """Reconcile earlier runs' orders and positions, compare the positions with the
        account's recorded fills, and put the protective stops in place (``start``)."""
        found, differences = self._reconcile()
        self.startup_events = kept + found
        now = self.clock.now()
        with self.audit.cycle():
            # After reconciliation: fills of earlier runs are recorded. A symbol the comparison
            # with the recorded fills speaks of is said once, by that more precise event, not
            # again as differing from the last snapshot.
            outside = self._outside_at_start() if self._watch_outside else []
            differ = positions_event(differences, {e.symbol for e in outside if e.symbol})
            events = ([differ] if differ is not None else []) + outside
            self._record_events(events, now)
        self.startup_events += events
        if not self.protects:  # a dead desk's stop it cancelled and did not put back
            now = self.market_time or self.clock.now()
            with self.audit.cycle():
                back = self.stops_after_death(now)
                self._record_events(back, now)
            self.startup_events += back
        if self.protects:
            now = self.market_time or self.clock.now()
            with self.audit.cycle():
                placed = self._protect(now, at_start=True)
                self._record_events(placed, now)
            self.startup_events += placed
            tag = key_tag(self.audit.session.key) if self.audit.session else None
            self.follow_hands_at_start(self.broker.open_orders(), tag, set(self.config.symbols))

    def _reconcile(self) -> tuple[list[RiskEvent], dict[str, tuple[float, float]]]:
        """Square earlier runs' orders and positions with the broker; record each difference
        but the positions' (returned: symbol -> the last snapshot's and the broker's shares),
        which ``start`` says once it knows what the outside-change comparison says."""
        counted: list[RiskEvent] = []  # a day begun by a written-back order (``_count_lost``)
        result = reconcile(
            self.broker, self.audit, self.account_key, lambda o: counted.extend(self._count_lost(o))
        )
        now = self.clock.now()
        if result.fills:
            self._seed_before(result.fills, now)
        for row in result.unsettled:
            self.unsettled.add(
                unsettled_order(row),
                row.written_at or now,
                row.filled_qty,
                row.filled_price,
                now=now,
            )
        with self.audit.cycle():
            for fill in result.fills:  # each with its order's row: one commit
                self._record_with_row(result.rows.get(fill.client_order_id), fill)
            if result.fills:
                self._seed_as_broker({f.symbol for f in result.fills}, now)
            events = result.events + counted + self._settle(now)
            self._record_events(events, now)
        return events, result.positions

    def _count_lost(self, order: Order) -> list[RiskEvent]:
        """An order written back from the broker (its row was lost) counts toward its own
        trading day's order limit, as it counted when it was sent; a protective exit never
        counted. The account's row takes it in the transaction that writes the order back."""
        parts = read_order_id(order.client_order_id)
        if parts is None or parts.leg.startswith(PROTECTIVE_LEG):
            return []
        try:  # no day known (no time, or outside the calendar): the current day's (fail closed)
            day = self.session_day(order.submitted_at) if order.submitted_at else None
        except ValueError:
            day = None
        account = self.last_account or Account(0.0, 0.0, 0.0)
        events = self.risk.count_lost_order(day, account.equity, account.last_equity)
        self.risk.state = self.audit.save_risk_state(self.risk.state)
        return events

    def _seed_before(self, fills: list[Fill], now: datetime) -> None:
        """Seed the ledger with what was held before fills made while no session watched
        (the broker's positions already hold them): recording them then books the round trips
        they close, instead of booking them twice (a stop that sold a long out overnight left a
        phantom short that the next buy "closed" with a made-up profit). What was held was
        opened no later than the first of them (stamped at the broker's time): a round trip
        they close never ends before it began."""
        earlier = self.audit.last_positions_of_account(self.account_key) or []
        held = {s: (p.qty, p.avg_entry_price) for s, p in self.last_positions.items()}
        before = positions_before(
            held, fills, {p.symbol: (p.qty, p.avg_entry_price) for p in earlier}
        )
        for symbol in {f.symbol for f in fills}:
            qty, price = before.get(symbol, (0.0, 0.0))
            first = min(f.timestamp for f in fills if f.symbol == symbol)
            self.ledger.seed(symbol, qty, price, min(first, now))

    def _seed_as_broker(self, symbols: set[str], now: datetime) -> None:
        """Where the ledger still differs from the broker after those fills (one was already
        recorded by another session, so not booked here), start from the broker's position."""
        for symbol in symbols:
            position = self.last_positions.get(symbol)
            qty = position.qty if position is not None else 0.0
            if abs(self.ledger.held(symbol) - qty) > 1e-9:
                price = position.avg_entry_price if position is not None else 0.0
                self.ledger.seed(symbol, qty, price, now)

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
