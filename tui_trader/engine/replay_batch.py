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

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui_trader.brokers.paper import PaperBroker
from tui_trader.core.domain import Signal
from tui_trader.core.timeframes import trading_day
from tui_trader.engine.replay_cycles import CycleMirror
from tui_trader.engine.replay_targets import Chunk, ReplayTargets
from tui_trader.engine.replay_targets import unsupported as strategies_unsupported
from tui_trader.market.replay import ReplayMarket

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession

CHUNK_ROWS = 1 << 15
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


def run_replay(session: TradingSession, stop: threading.Event | None = None) -> int:
    """Run a started session to the end of its data, or until ``stop`` is set (checked between
    cycles: what was written stays whole); returns the cycles run."""
    before = session.iteration
    stop = stop or threading.Event()
    if unsupported(session) is None:
        BatchReplay(session, stop).run()
    else:
        while not stop.is_set() and session.advance():
            pass
    session.market_exhausted = not stop.is_set()
    return session.iteration - before


class BatchReplay(CycleMirror):
    """The batch path over one session's remaining replay (see the module docstring)."""

    def __init__(self, session: TradingSession, stop: threading.Event | None = None) -> None:
        """Precompute the targets of every remaining bar; ``stop`` ends the replay early."""
        self.stop = stop or threading.Event()
        self.stopped = False
        market = session.market
        assert isinstance(market, ReplayMarket)
        self.session = session
        self.broker: PaperBroker = session.broker  # type: ignore[assignment]
        self.symbols = tuple(sorted(market.symbols))
        """In the table's order within a step (its rows are sorted by timestamp, then symbol)."""
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
        self._step_us = ts.dt.epoch("us")
        self._step_day = ts.dt.convert_time_zone("America/New_York").dt.date().to_physical()
        """Each step's time (µs since the epoch) and New York date (days since the epoch); the
        current chunk's are lists in ``step_us`` and ``step_day`` from step ``step0`` on."""
        self.step0 = 0
        self.live_signals: dict[int, dict[str, Signal]] = {}
        self.market = market
        cfg = session.config
        self._allocation = cfg.allocation
        self._capital = cfg.capital
        self._min_trade = cfg.min_trade_pct / 100.0
        self._bars: tuple[int, list, list, list, list] = (0, [], [], [], [])
        """A chunk's first row and its opens, highs, lows and volumes (for the few ``Bar``s)."""

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
        last = total - self.n  # the first row of the last step replayed
        while row < total and not self.stopped:
            rows = min(per_chunk, total - row)
            chunk = self.targets.chunk(row, rows)
            part = self.frame.slice(row, rows)
            self.step0 = step
            self.step_us = self._step_us.slice(step, rows // self.n).to_list()
            self.step_day = self._step_day.slice(step, rows // self.n).to_list()
            self._bars = (
                row,
                *(part.get_column(c).to_list() for c in ("open", "high", "low", "volume")),
            )
            step = self._run_chunk(chunk, step)
            if self.stopped:
                last = chunk.start + (step - 1 - self.step0) * self.n
            row += rows
        self._sync_risk()
        closes = self._closes(chunk, last) if step else {}
        self.session.last_prices.update(closes)
        self.broker.mark(closes)
        if self.unsnapped is not None:
            self.session._unsnapped = self._time(self.unsnapped)
        self.session.risk.state = self.session.audit.save_risk_state(self.session.risk.state)
        if self.stopped:
            self.market.advance(step)
        else:
            self.market.consume()

    def _whole_cycle(self, chunk: Chunk, base: int, step: int) -> None:
        """Run the step through ``TradingSession._cycle`` with every bar and signal."""
        self._sync_risk()
        self._feed_live(chunk, base, step)
        rows = range(base, base + self.n)
        when = self._time(step)
        bars = {self.symbols[r - base]: self._bar(chunk, r, when) for r in rows}
        signals = {self.symbols[r - base]: self._signals(chunk, r) for r in rows}
        with self.session.audit.cycle():
            self.session._cycle(bars, signals, report=False)
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
        step0 = self.step0
        close = chunk.close
        live = self.live
        wanted_at = self._wanted
        risk_state = self._risk_state
        idle = 0
        room = audit.cycles_before_commit
        poll_due = audit.halt_poll_due
        halted = risk.state.halted
        stop = self.stop
        n = self.n
        first, end = chunk.start - step0 * n, chunk.start + len(close)
        flat_ends = None if live else flat_run_ends(chunk.target, n, step_day)
        while (base := first + step * n) < end:
            if step > step0 and stop.is_set():  # between cycles, one step at least per chunk
                self.stopped = True
                break
            if (
                step_day[step - step0] != self.day_code
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
                # as PaperBroker.account() adds it up (sum(): Python 3.12 compensates it)
                value = sum([qty * close[at + k] for k, qty in self.held])
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
                    if flat_ends is not None and not self.held:
                        # Flat and nothing targeted: equity is the cash until a target, a new
                        # day, a snapshot or the commit, so the steps up to there are quiet too.
                        more = min(
                            flat_ends[step - 1 - step0] - (step - step0),
                            -(session.iteration + 1) % snapshot_every,
                            room - idle,
                        )
                        if more > 0:
                            session.iteration += more
                            step += more
                            idle += more
                            self.unsnapped = step - 1
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


def flat_run_ends(target: list[float], n: int, step_day: list[int]) -> list[int]:
    """For each step of a chunk, the first later step that could break a flat quiet run: one
    where some symbol is targeted, or a new trading day begins (or the chunk's end)."""
    steps = len(target) // n
    ends = [steps] * steps
    for s in range(steps - 2, -1, -1):
        j = s + 1
        start = j * n
        if step_day[j] != step_day[s] or any(target[start : start + n]):
            ends[s] = j
        else:
            ends[s] = ends[j]
    return ends


__all__ = ["BatchReplay", "flat_run_ends", "run_replay", "unsupported"]
