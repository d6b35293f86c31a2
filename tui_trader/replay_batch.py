"""The replay fast path: a whole replay through the session's own risk gate, broker and audit
trail, without a ``Bar``, a ``Signal`` and an ``IterationReport`` per symbol and step.

``run_replay(session)`` drives a started session to the end of its replay file. When the session
allows it (a dense ``ReplayMarket``, the local ``PaperBroker``, fixed-weight strategies with a
polars form, batched commits; see ``unsupported``) it runs the batch path, else cycle by cycle.

The batch path takes the strategies' targets for the whole file from ``ReplayTargets`` and walks
the steps in a tight loop that mirrors ``TradingSession._cycle`` with plain numbers: equity from
the broker's cash and positions at the closes, the drawdown and daily-loss checks, and the
rebalance sizing. Whatever does more than keep those numbers is done by the session's own code:

- a step with working orders hands their bars to ``PaperBroker.on_bars`` (next bar's open) and
  records the fills, order changes and round trips with ``_apply_updates``;
- every order goes through ``_route``: the risk manager's ``check_order``, the order row written
  before ``PaperBroker.submit``, the acknowledgement recorded;
- snapshots at the configured cadence with ``_snapshot``; risk events with ``_record_events``;
- a step that starts a trading day, trips a risk control, follows a kill or resume request, polls
  for a monitor's halt request (once per committed batch), or finds trading halted runs whole,
  through ``_cycle`` / ``_decide``.

So every order, fill, trade, risk event and snapshot row is written, and the risk state is saved
at each commit. What the batch path skips is only what has no effect: it builds no report per
cycle, and the strategies are not fed the bars of the symbols it precomputed (the session is
finished once the data ends). ``tests/integration/test_replay_batch.py`` holds it to the same
orders, fills, trades, snapshots and final equity as the bar-by-bar path.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tui_trader.brokers.paper import PaperBroker
from tui_trader.domain import Bar, Signal
from tui_trader.market.replay import ReplayMarket
from tui_trader.replay_targets import Chunk, ReplayTargets
from tui_trader.replay_targets import unsupported as strategies_unsupported
from tui_trader.risk import RiskState
from tui_trader.timeframes import trading_day

if TYPE_CHECKING:
    from tui_trader.engine import TradingSession

CHUNK_ROWS = 1 << 16
"""Table rows turned into Python lists at a time (whole steps)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unsupported(session: TradingSession) -> str | None:
    """Why ``session`` must replay cycle by cycle, or ``None`` if the batch path fits it."""
    market, audit = session.market, session.audit
    if type(market) is not ReplayMarket:
        return "the market is not a replay file"
    if type(session.broker) is not PaperBroker:
        return "the broker is not the local paper broker"
    if audit.commit_before_send or audit.commit_every < 2:
        return "the audit trail commits every cycle"
    if session.session_day is not trading_day:
        return "the session uses an exchange calendar"
    if not session.started:
        return "the session has not started"
    if not market.dense():
        return "some timestamps lack a bar for some symbol"
    return strategies_unsupported(session.strategies, session.allocator)


def run_replay(session: TradingSession) -> int:
    """Run a started session to the end of its data; returns the cycles run."""
    before = session.iteration
    if unsupported(session) is None:
        BatchReplay(session).run()
    else:
        while session.run_iteration() is not None:
            pass
    session.market_exhausted = True
    return session.iteration - before


class BatchReplay:
    """The batch path over one session's remaining replay (see the module docstring)."""

    def __init__(self, session: TradingSession) -> None:
        """Precompute the targets of every remaining bar."""
        market = session.market
        assert isinstance(market, ReplayMarket)
        self.session = session
        self.broker: PaperBroker = session.broker  # type: ignore[assignment]
        self.symbols = market.symbols
        self.n = len(self.symbols)
        self.index = {symbol: k for k, symbol in enumerate(self.symbols)}
        self.order = sorted(range(self.n), key=lambda k: self.symbols[k])
        """Symbol indices in the order a cycle rebalances them (sorted by symbol)."""
        frame = market.frame
        self.frame = frame.select("symbol", "timestamp", "open", "high", "low", "close", "volume")
        self.first_row = market.next_row
        self.targets = ReplayTargets(
            frame,
            self.first_row,
            self.n,
            session.strategies,  # type: ignore[arg-type]
            session.allocator,  # type: ignore[arg-type]
        )
        self.live = [k for k in range(self.n) if self.symbols[k] in self.targets.live]
        steps = frame.slice(self.first_row).gather_every(self.n)
        ts = steps.get_column("timestamp")
        self.step_us = ts.dt.epoch("us").to_list()
        self.step_day = ts.dt.convert_time_zone("America/New_York").dt.date().to_physical()
        self.step_day = self.step_day.to_list()
        self.live_signals: dict[int, dict[str, Signal]] = {}
        self.market = market
        cfg = session.config
        self._allocation = cfg.allocation
        self._capital = cfg.capital
        self._min_trade = cfg.min_trade_pct / 100.0
        self._bars: tuple[int, list, list, list, list] = (0, [], [], [], [])
        """A chunk's first row and its opens, highs, lows and volumes (for the few ``Bar``s)."""

    # -- helpers -------------------------------------------------------------------------------

    def _time(self, step: int) -> datetime:
        """The market time of a step (the bars' timestamp)."""
        return _EPOCH + timedelta(microseconds=self.step_us[step])

    def _bar(self, chunk: Chunk, row: int, when: datetime) -> Bar:
        """The ``Bar`` of one table row of the current chunk (at market time ``when``)."""
        start, opens, highs, lows, volumes = self._bars
        i = row - start
        symbol = self.symbols[(row - self.first_row) % self.n]
        return Bar(symbol, when, opens[i], highs[i], lows[i], chunk.close[i], volumes[i])

    def _signals(self, chunk: Chunk, row: int) -> dict[str, Signal]:
        """The strategies' signals for one row (a live symbol's from its last ``on_bar``)."""
        k = row % self.n
        live = self.live_signals.get(k)
        return live if live is not None else self.targets.signals(chunk, row)

    def _closes(self, chunk: Chunk, base: int) -> dict[str, float]:
        """Every symbol's close at the step whose first row is ``base``."""
        at = base - chunk.start
        return dict(zip(self.symbols, chunk.close[at : at + self.n], strict=True))

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Replay every remaining step."""
        total = self.frame.height
        per_chunk = max(CHUNK_ROWS // self.n, 1) * self.n
        row = self.first_row
        step = 0
        self.unsnapped: int | None = None
        self._load_broker()
        self._load_risk(None)
        state = self.session.risk.state
        self.day_code = None if state.day is None else (state.day - _EPOCH.date()).days
        while row < total:
            rows = min(per_chunk, total - row)
            chunk = self.targets.chunk(row, rows)
            part = self.frame.slice(row, rows)
            self._bars = (
                row,
                *(part.get_column(c).to_list() for c in ("open", "high", "low", "volume")),
            )
            step = self._run_chunk(chunk, step)
            row += rows
        self._sync_risk()
        last = self._closes(chunk, total - self.n) if step else {}
        self.session.last_prices.update(last)
        self.broker.mark(last)
        if self.unsnapped is not None:
            self.session._unsnapped = self._time(self.unsnapped)
        self.session.audit.save_risk_state(self.session.risk.state)
        self.market.consume()

    def _load_broker(self) -> None:
        """Read the broker's cash, positions (in its order) and open orders into plain numbers."""
        broker = self.broker
        self.cash = broker.cash
        positions = broker.positions()
        index = self.index
        self.held = [(index[s], p.qty) for s, p in positions.items()]
        committed = [0.0] * self.n
        for s, p in positions.items():
            committed[index[s]] = p.qty
        orders = broker.open_orders()
        for order in orders:
            k = index[order.symbol]
            committed[k] = committed[k] + order.remaining_qty * order.side.sign
        self.committed = committed
        self.pending = bool(orders)

    def _refresh(self, symbols: list[str]) -> None:
        """``_load_broker`` after fills or orders in ``symbols`` only (the others' committed
        quantities cannot have changed)."""
        broker = self.broker
        self.cash = broker.cash
        positions = broker.positions()
        index = self.index
        self.held = [(index[s], p.qty) for s, p in positions.items()]
        orders = broker.open_orders()
        committed = self.committed
        for symbol in symbols:
            held = positions.get(symbol)
            committed[index[symbol]] = held.qty if held else 0.0
        for order in orders:
            if order.symbol in symbols:
                k = index[order.symbol]
                committed[k] = committed[k] + order.remaining_qty * order.side.sign
        self.pending = bool(orders)

    def _load_risk(self, step: int | None) -> None:
        """Take the peak and last equity from the risk manager (after it ran a cycle itself)."""
        state = self.session.risk.state
        self.peak = state.peak_equity
        self.last_equity = state.last_equity
        if step is not None:
            self.day_code = self.step_day[step]

    def _sync_risk(self) -> None:
        """Write the peak and last equity the loop kept back into the risk manager's state."""
        risk = self.session.risk
        state = risk.state
        if state.peak_equity != self.peak or state.last_equity != self.last_equity:
            risk.state = RiskState(
                state.account_key,
                state.state,
                self.peak,
                state.day,
                state.day_open_equity,
                self.last_equity,
                state.orders_today,
                state.halt_reason,
                state.halt_detail,
            )

    def _risk_state(self) -> RiskState:
        """The risk state as of now (for a batch commit)."""
        self._sync_risk()
        return self.session.risk.state

    def _whole_cycle(self, chunk: Chunk, base: int, step: int) -> None:
        """Run the step through ``TradingSession._cycle`` with every bar and signal."""
        self._sync_risk()
        self._feed_live(chunk, base, step)
        rows = range(base, base + self.n)
        when = self._time(step)
        bars = {self.symbols[r - base]: self._bar(chunk, r, when) for r in rows}
        signals = {self.symbols[r - base]: self._signals(chunk, r) for r in rows}
        with self.session.audit.cycle():
            self.session._cycle(bars, signals)
        self._load_broker()
        self._load_risk(step)
        self.unsnapped = None

    def _feed_live(self, chunk: Chunk, base: int, step: int) -> None:
        """Feed the live symbols' bars to the session's strategies; their blended targets."""
        session = self.session
        when = self._time(step)
        for k in self.live:
            bar = self._bar(chunk, base + k, when)
            signals = {s.name: s.on_bar(bar) for s in session.strategies}
            self.live_signals[k] = signals
            blended = session.allocator.allocate(bar.symbol, signals)
            chunk.target[base + k - chunk.start] = blended.target

    def _run_chunk(self, chunk: Chunk, step: int) -> int:
        """Replay the steps of one chunk; returns the next step's number.

        The hot loop: a quiet step (no working order, no order wanted, no risk control
        tripped, no snapshot due) only moves the numbers on, and quiet steps are counted
        toward the audit's commit cadence in runs; any other step is a cycle that writes
        (``_cycle``) or one the session runs whole (``_whole_cycle``).
        """
        session = self.session
        audit = session.audit
        risk = session.risk
        limits = risk.limits
        max_drawdown, max_loss = limits.max_drawdown_pct, limits.max_daily_loss_pct
        snapshot_every = session._snapshot_every
        step_day = self.step_day
        close = chunk.close
        live = self.live
        wanted_at = self._wanted
        risk_state = self._risk_state
        idle = 0
        room = audit.cycles_before_commit
        poll_due = audit.halt_poll_due
        halted = risk.state.halted
        for base in range(chunk.start, chunk.start + len(close), self.n):
            if (
                step_day[step] != self.day_code
                or poll_due
                or halted
                or session._kill is not None
                or session._resume is not None
            ):
                if idle:
                    audit.idle_cycles(idle, risk_state, timed=False)
                    idle = 0
                self._whole_cycle(chunk, base, step)
                step += 1
                room, poll_due = audit.cycles_before_commit, audit.halt_poll_due
                halted = risk.state.halted
                continue
            if live:
                self._feed_live(chunk, base, step)
            plan = None
            if not self.pending:
                at = base - chunk.start
                value = 0
                for k, qty in self.held:
                    value += qty * close[at + k]
                equity = round(self.cash + value, 6)
                # the risk manager's equity checks, as plain numbers (``RiskManager.on_equity``)
                peak = self.peak
                peak = max(peak or equity, equity)
                drawdown = max(0.0, 100.0 * (peak - equity) / peak) if peak else 0.0
                start = risk.state.day_open_equity
                loss = max(0.0, 100.0 * (start - equity) / start) if start else 0.0
                trips = drawdown >= max_drawdown or loss >= max_loss
                wanted = [] if trips else wanted_at(chunk, at, equity)
                snap_due = (session.iteration + 1) % snapshot_every == 0
                if not (trips or wanted or snap_due):  # a quiet cycle: nothing to write
                    self.peak = peak
                    self.last_equity = equity
                    session.iteration += 1
                    self.unsnapped = step
                    step += 1
                    idle += 1
                    if idle >= room:
                        audit.idle_cycles(idle, risk_state)
                        idle = 0
                        room, poll_due = audit.cycles_before_commit, audit.halt_poll_due
                    continue
                plan = (equity, peak, trips, wanted, snap_due)
            if idle:
                audit.idle_cycles(idle, risk_state, timed=False)
                idle = 0
            with audit.cycle():
                self._cycle(chunk, base, step, plan)
            step += 1
            room, poll_due = audit.cycles_before_commit, audit.halt_poll_due
            halted = risk.state.halted
        if idle:
            audit.idle_cycles(idle, risk_state)
        return step

    def _plan(
        self, chunk: Chunk, at: int, iteration: int
    ) -> tuple[float, float, bool, list[tuple[int, float, float]], bool]:
        """Equity, new peak, whether a risk control trips, the orders wanted, snapshot due
        (what ``_run_chunk`` works out inline), for a step whose fills came first."""
        close = chunk.close
        value = 0
        for k, qty in self.held:
            value += qty * close[at + k]
        equity = round(self.cash + value, 6)
        # the risk manager's equity checks, as plain numbers (``RiskManager.on_equity``)
        risk = self.session.risk
        limits = risk.limits
        peak = max(self.peak or equity, equity)
        drawdown = max(0.0, 100.0 * (peak - equity) / peak) if peak else 0.0
        start = risk.state.day_open_equity
        loss = max(0.0, 100.0 * (start - equity) / start) if start else 0.0
        trips = drawdown >= limits.max_drawdown_pct or loss >= limits.max_daily_loss_pct
        wanted = [] if trips else self._wanted(chunk, at, equity)
        snap_due = iteration % self.session._snapshot_every == 0
        return equity, peak, trips, wanted, snap_due

    def _cycle(
        self,
        chunk: Chunk,
        base: int,
        step: int,
        plan: tuple[float, float, bool, list[tuple[int, float, float]], bool] | None,
    ) -> None:
        """A cycle that writes: fills, orders, events, snapshot (inside the audit's cycle)."""
        session = self.session
        session.iteration += 1
        session._cycle_orders.clear()
        session._cycle_fills.clear()
        fills = 0
        if plan is None:
            fills = self._fill(chunk, base, step)
            plan = self._plan(chunk, base - chunk.start, session.iteration)
        equity, peak, trips, wanted, snap_due = plan
        market_time = self._time(step)
        risk = session.risk
        if trips:  # the session's own code halts, records and snapshots
            self._sync_risk()
            closes = self._closes(chunk, base)
            session.last_prices.update(closes)
            self.broker.mark(closes)
            signals = {self.symbols[k]: self._signals(chunk, base + k) for k in range(self.n)}
            session._decide(signals, market_time, fills)
            self._load_broker()
            self._load_risk(None)
            self.unsnapped = None
            return
        self.peak, self.last_equity = peak, equity
        self._sync_risk()
        account = positions = None
        if snap_due:
            self.broker.mark(self._closes(chunk, base))
            account, positions = self.broker.account(), self.broker.positions()
        was_halted = risk.state.halted
        if wanted:
            self._route(chunk, base, wanted, equity, market_time)
        if snap_due or risk.state.halted != was_halted:
            if account is None or positions is None:
                self.broker.mark(self._closes(chunk, base))
                account, positions = self.broker.account(), self.broker.positions()
            session._snapshot(account, positions, market_time)
            self.unsnapped = None
        else:
            self.unsnapped = step
        session.audit.save_risk_state(risk.state)

    def _wanted(self, chunk: Chunk, at: int, equity: float) -> list[tuple[int, float, float]]:
        """The symbols a rebalance at ``equity`` would order: (index, desired, delta)."""
        if equity <= 0:
            return []
        capital = self._capital
        budget = min(equity, capital) if capital else equity
        allocation = self._allocation
        full_position = budget * allocation
        smallest = self._min_trade * full_position
        fractional = self.session.config.fractional
        trunc = math.trunc
        close, target, committed = chunk.close, chunk.target, self.committed
        wanted = []
        for k in self.order:
            t = target[at + k]
            held = committed[k]
            if t == 0.0 and held == 0.0:
                continue
            price = close[at + k]
            if not price:
                continue
            raw = t * budget * allocation / price
            desired = trunc(raw * 1e9) / 1e9 if fractional else float(trunc(raw))
            delta = desired - held
            if abs(delta) < 1e-9:
                continue
            if abs(delta) * price < smallest and desired != 0:
                continue
            wanted.append((k, desired, delta))
        return wanted

    def _fill(self, chunk: Chunk, base: int, step: int) -> int:
        """Match the working orders against their bars; record what happened."""
        broker = self.broker
        symbols = sorted({order.symbol for order in broker.open_orders()})
        when = self._time(step)
        bars = {s: self._bar(chunk, base + self.index[s], when) for s in symbols}
        broker.on_bars(bars)
        fills = self.session._apply_updates(broker.drain_updates())
        self._refresh(symbols)
        return fills

    def _route(
        self,
        chunk: Chunk,
        base: int,
        wanted: list[tuple[int, float, float]],
        equity: float,
        market_time: datetime,
    ) -> None:
        """Send the step's orders through the session's gate, audit and broker."""
        session = self.session
        broker = self.broker
        if broker.trading_ready() is not None:
            return
        at = base - chunk.start
        if broker.allow_short:
            broker.mark(self._closes(chunk, base))
        events: list = []
        notes: list[str] = []
        for k, desired, delta in wanted:
            symbol = self.symbols[k]
            price = chunk.close[at + k]
            broker.mark({symbol: price})
            target = session.allocator.allocate(symbol, self._signals(chunk, base + k))
            held = self.committed[k]
            outcome = session._route(
                symbol, target, desired, delta, price, equity, held, market_time, events, notes
            )
            if outcome is None:
                break
        session._record_events(events, market_time)
        self._refresh([self.symbols[k] for k, _desired, _delta in wanted])


__all__ = ["BatchReplay", "run_replay", "unsupported"]
