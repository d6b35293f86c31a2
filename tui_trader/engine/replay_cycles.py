"""The replay fast path's cycles: the session's state as plain numbers, and the cycles that
write (fills, orders, snapshots) through the session's own code.

``BatchReplay`` (``replay_batch``) walks the steps; this base class holds what it keeps of the
broker and the risk manager (cash, positions in the broker's order, committed quantities, peak
and last equity) and the cycles a quiet step turns into. See ``replay_batch`` for the whole.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tui_trader.brokers.paper import PaperBroker
from tui_trader.core.domain import Bar, RiskEvent, Signal
from tui_trader.engine.replay_targets import Chunk, ReplayTargets
from tui_trader.risk.gate import RiskState

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Plan = tuple[float, float, bool, list[tuple[int, float, float]], bool]
"""Equity, new peak, whether a risk control trips, the orders wanted, snapshot due."""


class CycleMirror:
    """The session's numbers for the batch path, and its writing cycles."""

    session: TradingSession
    broker: PaperBroker
    symbols: tuple[str, ...]
    n: int
    index: dict[str, int]
    order: list[int]
    first_row: int
    targets: ReplayTargets
    step0: int
    step_us: list[int]
    step_day: list[int]
    live_signals: dict[int, dict[str, Signal]]
    cash: float
    held: list[tuple[int, float]]
    committed: list[float]
    pending: bool
    peak: float | None
    last_equity: float | None
    day_code: int | None
    unsnapped: int | None
    _allocation: float
    _capital: float | None
    _min_trade: float
    _bars: tuple[int, list[float], list[float], list[float], list[float]]

    # -- helpers -------------------------------------------------------------------------------

    def _time(self, step: int) -> datetime:
        """The market time of a step (the bars' timestamp)."""
        return _EPOCH + timedelta(microseconds=self.step_us[step - self.step0])

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
            self.day_code = self.step_day[step - self.step0]

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

    def _plan(self, chunk: Chunk, at: int, iteration: int) -> Plan:
        """Equity, new peak, whether a risk control trips, the orders wanted, snapshot due
        (what ``_run_chunk`` works out inline), for a step whose fills came first."""
        close = chunk.close
        value = sum([qty * close[at + k] for k, qty in self.held])  # as account() adds it up
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
        plan: Plan | None,
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
            session._decide(signals, market_time, fills, report=False)
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
        risk.state = session.audit.save_risk_state(risk.state)

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
        events: list[RiskEvent] = []
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
