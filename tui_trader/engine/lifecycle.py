"""A trading session's start: opening the session row, reconciling, warming up.

A mixin of ``TradingSession`` (kept apart so that ``engine/session`` stays the decision cycle).
``start`` opens the session's audit row, records local sessions that died without ending
(``store.dead_local``: their working orders end with them), restores the account's shared risk
state, squares earlier runs' orders and positions with the broker (each difference recorded as
a risk event), on an account others can trade (Alpaca) compares the broker's positions with
what the account's recorded fills make (``engine.outside_watch``: a symbol changed while no
session ran is left alone; its event stands for the reconciliation's "positions differ" about
that symbol) and places the protective stops (never for shares that are not the desk's), then
warms the strategies up on history: a position found without its stop is protected before the
seconds the history takes (first the warm-up when an ATR stop needs it, or for a local account).
Its finish is ``engine/session_finish``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING

from tui_trader.brokers import Broker
from tui_trader.core.clock import Clock
from tui_trader.core.domain import Account, Bar, Position, RiskEvent, Signal
from tui_trader.core.ledger import TradeLedger, positions_before
from tui_trader.core.order_ids import key_tag, read_order_id
from tui_trader.core.orders import Fill, Order
from tui_trader.core.waiting import beating
from tui_trader.engine.collector import CycleCollector
from tui_trader.engine.kept_halts import honour_kept_halt
from tui_trader.engine.reconcile import positions_event, reconcile, unsettled_order
from tui_trader.engine.settlement import Unsettled
from tui_trader.market import MarketData, MarketDataError
from tui_trader.risk.gate import RiskManager
from tui_trader.risk.stops import PROTECTIVE_LEG
from tui_trader.strategies import LearningAllocator

if TYPE_CHECKING:
    from tui_trader.engine.config import SessionConfig
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
    marked: Callable[[object], object]
    unsettled: Unsettled
    protects: bool
    _watch_outside: bool
    _outside_at_start: Callable[[], list[RiskEvent]]
    _signals_for: Callable[[dict[str, Bar]], dict[str, dict[str, Signal]]]
    _measures: bool
    _collector: CycleCollector
    _record_with_row: Callable[[Order | None, Fill], bool]
    _record_events: Callable[[list[RiskEvent], datetime], None]
    _protect: Callable[..., list[RiskEvent]]
    stops_after_death: Callable[[datetime], list[RiskEvent]]
    follow_hands_at_start: Callable[[list[Order], str | None, set[str]], None]
    _settle: Callable[[datetime], list[RiskEvent]]

    # -- start -----------------------------------------------------------------------------

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
        self.marked(self.fills_marker())
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
        # bars the source dropped from it, each named (Alpaca's: ``market.warmup_bars``)
        self.startup_notes.extend(getattr(self.market, "warmup_notes", ()))
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
                seeded=True,
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

    def _seed_before(
        self, fills: list[Fill], now: datetime, held: dict[str, Position] | None = None
    ) -> None:
        """Seed the ledger with what was held before fills made while no session watched
        (the broker's positions already hold them): recording them then books the round trips
        they close, instead of booking them twice (a stop that sold a long out overnight left a
        phantom short that the next buy "closed" with a made-up profit). What was held was
        opened no later than the first of them (stamped at the broker's time): a round trip
        they close never ends before it began. ``held``: the broker's positions holding them
        (the start's by default; read afresh for a fill found later: ``engine.waits``)."""
        earlier = self.audit.last_positions_of_account(self.account_key) or []
        now_held = self.last_positions if held is None else held
        before = positions_before(
            {s: (p.qty, p.avg_entry_price) for s, p in now_held.items()},
            fills,
            {p.symbol: (p.qty, p.avg_entry_price) for p in earlier},
        )
        for symbol in {f.symbol for f in fills}:
            qty, price = before.get(symbol, (0.0, 0.0))
            first = min(f.timestamp for f in fills if f.symbol == symbol)
            self.ledger.seed(symbol, qty, price, min(first, now))

    def _seed_as_broker(
        self, symbols: set[str], now: datetime, held: dict[str, Position] | None = None
    ) -> None:
        """Where the ledger still differs from the broker after those fills (one was already
        recorded by another session, so not booked here), start from the broker's position
        (``held``, as for ``_seed_before``)."""
        for symbol in symbols:
            position = (self.last_positions if held is None else held).get(symbol)
            qty = position.qty if position is not None else 0.0
            if abs(self.ledger.held(symbol) - qty) > 1e-9:
                price = position.avg_entry_price if position is not None else 0.0
                self.ledger.seed(symbol, qty, price, now)
