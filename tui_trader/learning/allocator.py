"""The adaptive allocator: regime-aware learned weights, scaled down by drawdown and streaks.

For each bar it updates the symbol's regime call and the strategies' shadow records, and takes
one learning step on the weights of the regime the previous targets were set in. To allocate it
blends the strategies' targets with the weights of the symbol's current regime, then:

- once the long view leads the shadow records over at least ``TREND_FLOOR_EVIDENCE`` bars per
  symbol (the long-trend strategy's record, or the market's own, has earned the most of all),
  holds the blend at least at the long-trend strategy's target while it is long
  (``TREND_FLOOR``: the 50/200 rule then decides whether to be invested, the blend only adds to
  it, and cash is what remains when the long trend is down); that lead is learned from the
  records (``learning/trend_floor.py``), so at learning rate 0 (the frozen ablation) it sets
  no floor;
- holds a learned share of that blend (``learning/exposure.py``: half the Kelly fraction of the
  blend's own net record, trusted as evidence builds up; 1 when learning is frozen), and keeps
  the share it held while the new one is within a no-trade band of it (``no_trade_band``: as
  wide as the cost is against one bar's volatility, so it matters on hourly bars, not daily);
- scales the blend down as the detector's probability of a falling, volatile market rises:
  whole up to ``DEFENSIVE_RAMP[0]``, down linearly to ``defensive`` at ``DEFENSIVE_RAMP[1]``
  (a long-only family cannot step aside by reweighting itself; the shadow records show every
  strategy losing there, but too slowly to learn within a session, so this is a rule);
- caps the most aggressive strategies (highest average gross exposure) at an equal share during
  a losing streak (``streak`` losing decision cycles in a row for the blended shadow book;
  ``learning/streak_cap.py``);
- scales the blended target by ``1`` up to ``drawdown_start`` of the drawdown limit, falling
  linearly to ``0`` at the limit, and to ``0`` while trading is halted.

What it learned leaves through ``state()`` and comes back through ``restore()`` as a
``LearningState``; the store implements the ``LearningJournal`` port (both in
``learning/journal.py``) that saves it every decision cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from math import exp
from operator import itemgetter, mul

from tui_trader.core.domain import Bar, Signal, Warming
from tui_trader.learning.allocation_reason import adaptive_reason
from tui_trader.learning.choices import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE
from tui_trader.learning.defensive import DEFAULT_DEFENSIVE, DEFENSIVE_RAMP, defensive_scale
from tui_trader.learning.exposure import ExposureBook, no_trade_band
from tui_trader.learning.journal import LearningJournal, LearningState
from tui_trader.learning.regime import RegimeCall, RegimeDetector
from tui_trader.learning.shadow import ShadowBook
from tui_trader.learning.streak_cap import cap_aggressive
from tui_trader.learning.trend_floor import TREND_FLOOR, trend_leads
from tui_trader.learning.weights import ALL_REGIMES, RegimeWeights


class AdaptiveAllocator:
    """The engine's ``LearningAllocator``: learns from every bar, allocates by regime and risk."""

    def __init__(
        self,
        names: tuple[str, ...],
        learning_rate: float = DEFAULT_LEARNING_RATE,
        floor: float = DEFAULT_FLOOR,
        cost_bps: float = 10.0,
        drawdown_start: float = 0.5,
        streak: int = 3,
        defensive: float = DEFAULT_DEFENSIVE,
        trend_floor: str | None = TREND_FLOOR,
        detector: RegimeDetector | None = None,
        journal: LearningJournal | None = None,
    ) -> None:
        self.names = tuple(names)
        self.defensive = defensive
        # The floor acts on what the shadow records learned (which strategy has earned most), so
        # with learning frozen it is off, as the learned exposure stays 1: the frozen ablation
        # acts on no evidence, only on the rules (regime ramp, band, streak cap, drawdown).
        learning = learning_rate > 0
        self.trend_floor = trend_floor if learning and trend_floor in self.names else None
        self.weights = RegimeWeights(self.names, learning_rate, floor)
        self.shadow = ShadowBook(cost_bps=cost_bps)
        self.exposure = ExposureBook(learning_rate, DEFAULT_LEARNING_RATE, cost_bps)
        self.detector = detector or RegimeDetector()
        self.journal = journal
        self.drawdown_start = drawdown_start
        self.streak_limit = streak
        self.risk_scale = 1.0
        self.risk_note = ""
        self.losing_streak = 0
        self._cycle_time: datetime | None = None
        self._cycle_pnl = 0.0
        self._exposure = [0.0] * len(self.names)
        """Each strategy's average gross target (``names`` order), for the streak cap."""
        self._index = {name: i for i, name in enumerate(self.names)}
        self._last_used: dict[str, dict[str, float]] = {}
        self._capped: dict[str, tuple[dict[str, float], bool, dict[str, float]]] = {}
        """Per regime key: the table's weights and the same after the streak cap (reused until
        the next bar moves the exposures)."""
        self._bar_at: tuple[datetime | None, bool, float] = (None, False, 1.0)
        """For the bar time it was worked out at (``_cycle_time``, the same object): whether the
        long trend leads the shadow records, and the learned exposure (both move only per bar)."""
        self._held: dict[str, list[float]] = {}
        """Per symbol: the blend last set (before the exposure and the scaling), how far it
        moved then (both for the exposure's record), and the share held after the no-trade
        band."""
        self._learn = True
        self.restored = False
        """True once weights saved by an earlier session were restored."""

    # -- learning ------------------------------------------------------------------------------

    def observe(self, bar: Bar, signals: dict[str, Signal]) -> None:
        """Score the last targets on this bar, learn from it, update the regime call."""
        self.observe_cycle(((bar, signals),))

    def observe_cycle(self, bars: Sequence[tuple[Bar, dict[str, Signal]]]) -> None:
        """``observe`` each bar with its signals, in order (a cycle's bars: what the engine
        and ``learn evaluate`` call).

        In three passes over the bars: every regime call, then every shadow record, then the
        exposures and the weight steps. Each pass reads only what the passes before it wrote
        for the same bar, or its own state in bar order (the shadow records' sums, the weights,
        the streak's running PnL), so the numbers are those of observing one bar at a time
        (the symbol count a step is shared out by is the one that bar saw); but each part's
        code and state stay in the processor's caches while it runs for every symbol."""
        detector = self.detector
        advance = detector.advance
        befores: list[str] = []  # the regime each bar's last targets were set in
        counts: list[int] = []
        for bar, _signals in bars:
            befores.append(advance(bar))
            counts.append(detector.symbol_count)
        score = self.shadow.score
        scores = []
        for (bar, signals), before in zip(bars, befores, strict=True):
            names = tuple(signals)
            targets = [s.target for s in signals.values()]
            scores.append((names, targets, score(bar.symbol, bar.close, names, targets, before)))
        own_names = self.names
        if scores:  # each strategy's gross exposure, bar by bar (nothing below reads it)
            self._capped.clear()  # the exposures move: the streak cap is worked out afresh
            own = [targets for names, targets, _ in scores if names == own_names]
            exposure, index = self._exposure, self._index
            if len(own) == len(scores):  # one strategy at a time over the bars: fewer lists
                for i, column in enumerate(zip(*own, strict=True)):
                    e = exposure[i]
                    for t in column:  # abs(t) as it compares, without the call (six a bar)
                        e += 0.02 * ((t if t >= 0.0 else -t) - e)
                    exposure[i] = e
            else:
                for names, targets, _ in scores:
                    for name, target in zip(names, targets, strict=True):
                        i = index.get(name)
                        if i is not None:
                            exposure[i] += 0.02 * (abs(target) - exposure[i])
        # The per-bar step below, with what it reads of ``self`` in locals; the streak's running
        # PnL is written back before a new bar time closes the last one, and at the end.
        weights, learn, held_of = self.weights, self._learn, self._held.get
        add, row_of, step = self.exposure.add, weights.row, weights.step_factors
        eta, cycle, pnl = weights.learning_rate, self._cycle_time, self._cycle_pnl
        seen, share = 0, 1.0
        for (bar, _signals), before, count, (_names, _targets, scored) in zip(
            bars, befores, counts, scores, strict=True
        ):
            timestamp = bar.timestamp
            if timestamp is not cycle and timestamp != cycle:
                if cycle is not None:
                    self._cycle_pnl = pnl
                    self._close_streak_cycle()
                    pnl = self._cycle_pnl
                self._cycle_time = cycle = timestamp
            if scored is None:
                continue
            regime, held_names, returns, rewards, bar_return = scored
            held = held_of(bar.symbol)
            if held is not None:
                add(held[0], bar_return, held[1])
                held[1] = 0.0
            held_own = held_names == own_names
            row = row_of(before) if held_own else None  # the weights the targets had
            if row is not None:  # both in ``names`` order
                pnl += sum(map(mul, row, returns))
            else:
                get = (weights.table.get(before) or weights.uniform()).get
                pnl += sum([get(n, 0.0) * r for n, r in zip(held_names, returns, strict=True)])
            if learn:  # one step per bar time, shared out over the symbols
                if count != seen:  # 1.0 / max(count, 1), once while the count stays
                    seen, share = count, 1.0 / count if count > 1 else 1.0
                if held_own:
                    step(regime, [exp(eta * (r * share)) for r in rewards])
                else:
                    scaled = {n: r * share for n, r in zip(held_names, rewards, strict=True)}
                    weights.update(regime, scaled)
        self._cycle_pnl = pnl

    def _close_streak_cycle(self) -> None:
        """A new bar time began: was the blended shadow book down over the last one?"""
        if self._cycle_pnl < 0:
            self.losing_streak += 1
        elif self._cycle_pnl > 0:
            self.losing_streak = 0
        self._cycle_pnl = 0.0

    def start_trading(self) -> None:
        """The warm-up is over: every bar from now on teaches the weights."""
        self._learn = True

    def set_risk(self, drawdown_pct: float, max_drawdown_pct: float, halted: bool) -> None:
        """Scale exposure from the account's drawdown against its limit (zero when halted)."""
        if halted:
            self.risk_scale, self.risk_note = 0.0, "halted: exposure 0"
            return
        start = self.drawdown_start * max_drawdown_pct
        if max_drawdown_pct <= 0 or drawdown_pct <= start:
            self.risk_scale, self.risk_note = 1.0, ""
            return
        room = max(max_drawdown_pct - drawdown_pct, 0.0) / (max_drawdown_pct - start)
        self.risk_scale = round(min(1.0, room), 4)
        self.risk_note = (
            f"drawdown {drawdown_pct:.1f}% of {max_drawdown_pct:.1f}%: exposure x{self.risk_scale}"
        )

    # -- allocating ----------------------------------------------------------------------------

    def weights_for(self, symbol: str) -> tuple[RegimeCall, dict[str, float]]:
        """The symbol's regime call and the weights it trades with now (streak cap applied).

        The weights are shared by the symbols of one regime until the next bar: treat them as
        read-only."""
        return self.detector.call(symbol), self._weights_of(self.detector.label(symbol))

    def _weights_of(self, label: str) -> dict[str, float]:
        """The weights a symbol in regime ``label`` trades with now (streak cap applied)."""
        table = self.weights.table
        key = label if label in table else ALL_REGIMES
        source = table.get(key) or self.weights.uniform()
        capped = self.losing_streak >= self.streak_limit
        hit = self._capped.get(key)
        if hit is not None and hit[0] is source and hit[1] == capped:
            return hit[2]
        weights = dict(source)
        if capped:
            weights = cap_aggressive(self.names, self._exposure, weights)
        self._capped[key] = (source, capped, weights)
        return weights

    def allocate(self, symbol: str, signals: dict[str, Signal]) -> Signal:
        """Blend the targets by the regime's weights, scaled for drawdown; say why."""
        label, found = self.detector.latest(symbol)
        table = self.weights.table  # ``_weights_of``'s reuse test inline (a call a symbol-bar)
        key = label if label in table else ALL_REGIMES
        hit = self._capped.get(key)
        if (
            hit is not None
            and hit[0] is table.get(key)
            and hit[1] == (self.losing_streak >= self.streak_limit)
        ):
            weights = hit[2]
        else:
            weights = self._weights_of(label)
        self._last_used[symbol] = weights
        try:  # subscripts, not ``.get``: no call per strategy; a name the weights lack weighs 0
            blended = sum([weights[n] * s.target for n, s in signals.items()])
        except KeyError:
            blended = sum([weights.get(n, 0.0) * s.target for n, s in signals.items()])
        if Warming in map(type, signals.values()):  # share out their weight
            ready = sum([weights.get(n, 0.0) for n, s in signals.items() if type(s) is not Warming])
            blended = blended / ready if ready > 0 else 0.0
        at, cycle = self._bar_at, self._cycle_time
        if at[0] is not cycle or cycle is None:  # once per bar time: both move per bar
            floor = self.trend_floor
            leads = floor is not None and trend_leads(
                floor, self.shadow.stats, self.detector.symbol_count
            )
            at = self._bar_at = (cycle, leads, self.exposure.exposure(self.detector.symbol_count))
        floored, exposure = False, at[2]
        if at[1]:
            trend = signals.get(self.trend_floor)
            if trend is not None and type(trend) is not Warming and blended < trend.target > 0:
                blended, floored = trend.target, True
        want = blended * exposure
        held = self._held.get(symbol)
        if held is None:
            self._held[symbol] = [blended, abs(blended), want]
        else:
            held[1] += abs(blended - held[0])
            held[0] = blended
            band = no_trade_band(self.shadow.cost_bps, self.shadow.bar_volatility(symbol))
            if abs(want - held[2]) < band:
                want = held[2]  # a move smaller than a bar's cost can earn back: keep the last
            held[2] = want
        p_bad, d = found[5], self.defensive  # round(p_bad, 4) only near the ramp (~0.4 us):
        if p_bad >= DEFENSIVE_RAMP[0] - 0.001:  # further below, so is the rounded one
            p_bad = round(p_bad, 4)
        defensive = defensive_scale(p_bad, d) if p_bad > DEFENSIVE_RAMP[0] else d + (1.0 - d) * 1.0
        target = want * self.risk_scale * defensive
        target = target if target < 1.0 else 1.0  # max(-1, min(1, target)) without two calls
        target = target if target > -1.0 else -1.0
        streak = self.losing_streak if self.losing_streak >= self.streak_limit else 0
        return Signal.later(
            target,
            adaptive_reason,
            found,
            weights,
            self.names,
            defensive if defensive < 1.0 else None,
            floored,
            exposure,
            streak,
            self.risk_note,
            signals,
        )

    # -- reporting and persistence -------------------------------------------------------------

    def regimes(self) -> dict[str, str]:
        """Each symbol's regime label now, for the iteration report."""
        return dict(sorted(self.detector.labels().items()))

    def current_weights(self) -> dict[str, float]:
        """The weights behind the latest targets, averaged over the symbols allocated."""
        used = list(self._last_used.values()) or [self.weights.get(ALL_REGIMES)]
        return {n: round(sum(map(itemgetter(n), used)) / len(used), 4) for n in self.names}

    def state(self) -> LearningState:
        """What has been learned so far."""
        return LearningState(
            weights={k: dict(v) for k, v in self.weights.table.items()},
            shadow=self.shadow.stats,
            regimes=self.detector.calls(),
            exposure=self.exposure.stats,
        )

    def restore(self, state: LearningState) -> None:
        """Continue from saved learning; warm-up bars then refresh indicators, not weights."""
        self.weights.restore(state.weights)
        for regime, by_strategy in state.shadow.items():
            self.shadow.stats.setdefault(regime, {}).update(by_strategy)
        if state.exposure is not None:
            self.exposure.stats = state.exposure
        self._learn = False
        self.restored = True

    def load(self) -> bool:
        """Restore from the journal, if it holds learning for these strategies."""
        saved = self.journal.load(self.names) if self.journal is not None else None
        if saved is None or not saved.weights:
            return False
        self.restore(saved)
        return True

    def end_cycle(self, iteration: int, market_time: datetime) -> None:
        """Save this cycle's learning through the journal."""
        if self.journal is not None:
            self.journal.save(iteration, market_time, self.state())
