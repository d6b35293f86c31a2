"""The adaptive allocator: weights follow what earns, never vanish, shrink exposure in trouble."""

from __future__ import annotations

import pytest

from tests.unit.series import bars_from_closes, crash, flat_noisy, uptrend
from tui_trader.core.domain import Signal
from tui_trader.learning.allocator import AdaptiveAllocator, defensive_scale
from tui_trader.learning.shadow import MARKET_RECORD
from tui_trader.learning.weights import ALL_REGIMES, RegimeWeights

NAMES = ("long", "flat")


def run(closes: list[float], allocator: AdaptiveAllocator) -> list[Signal]:
    """Feed a series to the allocator with one always-long and one always-flat strategy."""
    out = []
    for bar in bars_from_closes(closes):
        signals = {"long": Signal(1.0, "always long"), "flat": Signal(0.0, "always flat")}
        allocator.observe(bar, signals)
        out.append(allocator.allocate(bar.symbol, signals))
    return out


def test_weight_moves_to_the_strategy_that_earns_in_an_uptrend() -> None:
    allocator = AdaptiveAllocator(NAMES)
    signals = run(uptrend(), allocator)
    weights = allocator.weights.get("bull/calm")
    assert weights["long"] > 0.8
    assert signals[-1].target > 0.8  # the blend is almost fully long


def test_weight_leaves_the_losing_strategy_in_a_crash_but_never_below_the_floor() -> None:
    allocator = AdaptiveAllocator(NAMES, learning_rate=0.5, floor=0.05)
    run(crash(), allocator)
    bear = allocator.weights.get("bear/volatile")
    assert bear["flat"] > bear["long"]
    assert min(bear.values()) >= 0.05 - 1e-12
    assert abs(sum(bear.values()) - 1.0) < 1e-9


def test_zero_learning_rate_keeps_equal_weights() -> None:
    allocator = AdaptiveAllocator(NAMES, learning_rate=0.0)
    run(uptrend(), allocator)
    assert allocator.weights.get(ALL_REGIMES) == {"long": 0.5, "flat": 0.5}


def test_floor_bounds_every_weight() -> None:
    weights = RegimeWeights(("a", "b", "c"), learning_rate=5.0, floor=0.1)
    for _ in range(100):
        weights.update("bull/calm", {"a": 3.0, "b": -3.0, "c": -3.0})
    got = weights.get("bull/calm")
    assert got["b"] >= 0.1 - 1e-12 and got["c"] >= 0.1 - 1e-12
    assert got["a"] <= 0.8 + 1e-12


def test_exposure_scales_down_toward_the_drawdown_limit_and_to_zero_when_halted() -> None:
    allocator = AdaptiveAllocator(NAMES, learning_rate=0.0)
    closes = uptrend(60)
    run(closes, allocator)
    signals = {"long": Signal(1.0, "long"), "flat": Signal(1.0, "long too")}
    allocator.set_risk(1.0, 5.0, halted=False)
    assert allocator.allocate("TEST", signals).target == 1.0
    allocator.set_risk(4.0, 5.0, halted=False)
    scaled = allocator.allocate("TEST", signals)
    assert abs(scaled.target - 0.4) < 1e-9
    assert "drawdown 4.0% of 5.0%" in scaled.reason
    allocator.set_risk(4.0, 5.0, halted=True)
    assert allocator.allocate("TEST", signals).target == 0.0


def test_losing_streak_caps_the_most_aggressive_strategy() -> None:
    allocator = AdaptiveAllocator(("bold", "timid"), learning_rate=0.0, streak=3)
    allocator.weights.table[ALL_REGIMES] = {"bold": 0.9, "timid": 0.1}
    closes = [100.0 * 0.99**i for i in range(40)]  # down every day
    for bar in bars_from_closes(closes):
        allocator.observe(bar, {"bold": Signal(1.0, "all in"), "timid": Signal(0.2, "a little")})
    assert allocator.losing_streak >= 3
    _, weights = allocator.weights_for("TEST")
    assert weights["bold"] <= 0.5 + 1e-9
    reason = allocator.allocate("TEST", {"bold": Signal(1.0, "x"), "timid": Signal(0.2, "y")})
    assert "losing streak" in reason.reason


def test_reason_names_the_regime_and_the_weights() -> None:
    allocator = AdaptiveAllocator(NAMES)
    last = run(uptrend(), allocator)[-1]
    assert "regime bull/calm" in last.reason
    assert "weights long=" in last.reason and "flat=" in last.reason
    assert allocator.regimes() == {"TEST": "bull/calm"}
    assert set(allocator.current_weights()) == set(NAMES)


def test_state_round_trip_restores_weights_and_shadow_records() -> None:
    first = AdaptiveAllocator(NAMES)
    run(uptrend(), first)
    second = AdaptiveAllocator(NAMES)
    second.restore(first.state())
    assert second.weights.get("bull/calm") == pytest.approx(first.weights.get("bull/calm"))
    assert second.shadow.totals()["long"].net_return > 0.2  # the uptrend's gain, remembered
    assert second.restored


def test_exposure_steps_aside_gradually_as_a_crash_becomes_probable() -> None:
    allocator = AdaptiveAllocator(NAMES, learning_rate=0.0)
    out = run(crash(), allocator)
    before, during = out[110], out[-1]
    assert before.target == pytest.approx(0.5)  # equal weights, nothing cut in the calm climb
    assert during.target == 0.0  # the crash is near certain: the long-only blend steps aside
    assert "bear probability" in during.reason and "exposure x0.00" in during.reason


def test_defensive_scale_ramps_with_the_bear_probability() -> None:
    assert defensive_scale(0.1) == 1.0
    assert defensive_scale(0.45) == pytest.approx(0.5)
    assert defensive_scale(0.9) == 0.0
    assert defensive_scale(0.9, defensive=0.2) == pytest.approx(0.2)
    ramp = [defensive_scale(p / 20) for p in range(21)]
    assert ramp == sorted(ramp, reverse=True)  # never more exposure when a bear is likelier


def test_a_warming_strategy_gives_its_weight_to_the_others() -> None:
    """A strategy still filling its windows has no opinion: the blend is the ready ones'."""
    from tui_trader.core.domain import Signal
    from tui_trader.learning.allocator import AdaptiveAllocator
    from tui_trader.strategies import FixedWeights

    signals = {"trend": Signal(1.0, "up"), "longtrend": Signal.warming(50, 200)}
    assert signals["longtrend"].reason == "warming up (50/200 bars)"
    fixed = FixedWeights({"trend": 1.0, "longtrend": 1.0})
    assert fixed.allocate("SPY", signals).target == 1.0  # was 0.5: half the book held flat
    adaptive = AdaptiveAllocator(("trend", "longtrend"))
    assert adaptive.allocate("SPY", signals).target == 1.0
    both = {"trend": Signal(1.0, "up"), "longtrend": Signal(0.0, "SMA50 <= SMA200")}
    assert fixed.allocate("SPY", both).target == 0.5  # a flat opinion still counts
    none = {"trend": Signal.warming(3, 30), "longtrend": Signal.warming(3, 200)}
    assert fixed.allocate("SPY", none).target == 0.0


BARELY = 1e-9
"""A learning rate that leaves learning on but moves the weights and the exposure by under 1e-6
over these series, so the expected blends stay exact fractions."""


def _long_trend_record(bars: int, rate: float = BARELY) -> AdaptiveAllocator:
    """An allocator that has watched a calm rise in which only the long trend was long."""
    allocator = AdaptiveAllocator(("trend", "meanrev", "longtrend"), learning_rate=rate)
    flat = {"trend": Signal(0.0, "flat"), "meanrev": Signal(0.0, "flat")}
    for bar in bars_from_closes(uptrend(bars)):
        allocator.observe(bar, {**flat, "longtrend": Signal(1.0, "SMA50 > SMA200")})
    return allocator


def test_a_long_trend_that_has_earned_keeps_the_blend_invested_and_a_flat_one_leaves_cash() -> None:
    """Once the 50/200 rule's shadow record leads over two years of bars, the blend is at least
    fully invested while it is long, however flat the short-horizon strategies are; when it is
    flat (or warming) the blend decides, and the drawdown scaling still cuts it."""
    allocator = _long_trend_record(520)
    flat = {"trend": Signal(0.0, "flat"), "meanrev": Signal(0.0, "flat")}
    up = {**flat, "longtrend": Signal(1.0, "SMA50 > SMA200")}
    held = allocator.allocate("SPY", up)
    assert held.target == pytest.approx(1.0)  # was 1/3: two flat strategies held 2/3 in cash
    assert "long trend up" in held.reason
    down = {
        "trend": Signal(1.0, "up"),
        "meanrev": Signal(0.0, "flat"),
        "longtrend": Signal(0.0, ""),
    }
    assert allocator.allocate("SPY", down).target == pytest.approx(1 / 3)
    warming = {**down, "longtrend": Signal.warming(60, 200)}
    assert allocator.allocate("SPY", warming).target == pytest.approx(0.5)
    allocator.set_risk(4.0, 5.0, False)  # near the drawdown limit: the floor is scaled too
    assert allocator.allocate("SPY", up).target == pytest.approx(allocator.risk_scale)
    assert allocator.risk_scale < 1.0


def test_with_learning_frozen_the_long_trend_record_sets_no_floor() -> None:
    """The long trend's lead is learned from the shadow records, so the frozen ablation (learning
    rate 0) does not act on it, as its exposure stays 1: the blend alone decides, and the
    rationale does not claim the floor. (It did, so frozen scored what learning had found.)"""
    allocator = _long_trend_record(520, rate=0.0)
    up = {"trend": Signal(0.0, ""), "meanrev": Signal(0.0, ""), "longtrend": Signal(1.0, "")}
    held = allocator.allocate("SPY", up)
    assert held.target == pytest.approx(1 / 3)
    assert "long trend up" not in held.reason
    assert _long_trend_record(520).allocate("SPY", up).target == pytest.approx(1.0)


def _market_led_record(rate: float = BARELY) -> AdaptiveAllocator:
    """An allocator that has watched a calm rise held by no strategy throughout: the trend rule
    was long for its first 300 bars, the 50/200 rule only for its last 100."""
    allocator = AdaptiveAllocator(("trend", "meanrev", "longtrend"), learning_rate=rate)
    for i, bar in enumerate(bars_from_closes(uptrend(520))):
        signals = {
            "trend": Signal(1.0 if i < 300 else 0.0, ""),
            "meanrev": Signal(0.0, ""),
            "longtrend": Signal(1.0 if i >= 420 else 0.0, ""),
        }
        allocator.observe(bar, signals)
    return allocator


def test_a_market_that_paid_more_than_every_strategy_lets_the_long_trend_set_the_floor() -> None:
    """Being invested is what the floor buys: when the market's own record (one unit held
    throughout) has earned the most, though a short-horizon strategy earned more than the 50/200
    rule, the blend is held at the long trend's target while it is long. The record is saved and
    restored with the strategies'; the frozen ablation still sets no floor. (Before, the trend
    rule's lead kept the blend at 1/3.)"""
    allocator = _market_led_record()
    earned = {n: st.net_return for n, st in allocator.shadow.totals().items()}
    assert earned[MARKET_RECORD] > earned["trend"] > earned["longtrend"] > 0
    up = {"trend": Signal(0.0, ""), "meanrev": Signal(0.0, ""), "longtrend": Signal(1.0, "")}
    held = allocator.allocate("TEST", up)
    assert held.target == pytest.approx(1.0)
    assert "long trend up" in held.reason
    restored = AdaptiveAllocator(("trend", "meanrev", "longtrend"), learning_rate=BARELY)
    restored.restore(allocator.state())
    restored.observe(bars_from_closes([100.0])[0], up)  # a new session's first bar
    assert restored.allocate("TEST", up).target == pytest.approx(1.0)
    assert _market_led_record(rate=0.0).allocate("TEST", up).target == pytest.approx(1 / 3)


def test_the_long_trend_sets_no_floor_before_two_years_of_record() -> None:
    """A one-year record cannot tell what a 200-bar rule is worth: the blend alone decides."""
    allocator = _long_trend_record(300)
    up = {"trend": Signal(0.0, ""), "meanrev": Signal(0.0, ""), "longtrend": Signal(1.0, "")}
    assert allocator.allocate("SPY", up).target == pytest.approx(1 / 3)


def _one_strategy(closes: list[float], rate: float, target_of, cost_bps: float = 10.0) -> list:
    """Feed a series to an allocator over one strategy whose target ``target_of(i)`` sets."""
    allocator = AdaptiveAllocator(("only",), learning_rate=rate, cost_bps=cost_bps)
    out = []
    for i, bar in enumerate(bars_from_closes(closes)):
        signals = {"only": Signal(target_of(i), "as told")}
        allocator.observe(bar, signals)
        out.append(allocator.allocate(bar.symbol, signals))
    return out


def test_learned_exposure_never_levers_a_blend_that_keeps_earning() -> None:
    """A blend half long in a steady climb earns after costs: learning holds it as it is, never
    more (a learned lever above 1 deepened the next crash), like the frozen ablation. (It held
    more than 0.75 of a position before.)"""
    closes = uptrend(600)
    learned = _one_strategy(closes, 0.3, lambda i: 0.5)
    frozen = _one_strategy(closes, 0.0, lambda i: 0.5)
    assert frozen[-1].target == pytest.approx(0.5)
    assert max(s.target for s in learned) == pytest.approx(0.5)
    assert "learned exposure" not in learned[-1].reason


def test_learned_exposure_cuts_a_blend_that_its_costs_eat() -> None:
    """A blend that churns in and out of a flat market loses its costs every bar: learning holds
    less and less of it, the frozen ablation keeps taking all of it."""
    closes = flat_noisy(600, noise=0.002)
    churn = lambda i: float(i % 2)  # noqa: E731 - in, out, in, out...
    learned = _one_strategy(closes, 0.3, churn, cost_bps=20.0)
    frozen = _one_strategy(closes, 0.0, churn, cost_bps=20.0)
    pairs = [(a.target, b.target) for a, b in zip(learned[-100:], frozen[-100:], strict=True)]
    longs = [(a, b) for a, b in pairs if b > 0]
    assert longs
    assert all(a < 0.5 * b for a, b in longs)


def test_no_trade_band_holds_still_when_bars_move_less_than_the_cost() -> None:
    """A blend wavering between 0.6 and 0.8 is held still where a bar moves about as much as
    it costs to trade (hourly currency bars), and followed where bars move ten times more."""
    waver = lambda i: 0.6 if i % 2 else 0.8  # noqa: E731
    quiet = _one_strategy(flat_noisy(300, noise=0.001), 0.0, waver)
    lively = _one_strategy(flat_noisy(300, noise=0.01), 0.0, waver)

    def whole(signals: list) -> set[float]:  # targets not cut by the bear-probability ramp
        return {round(s.target, 6) for s in signals[-100:] if "bear probability" not in s.reason}

    assert whole(quiet) == {0.8}
    assert whole(lively) == {0.6, 0.8}


def test_observing_a_cycle_at_once_learns_exactly_what_bar_by_bar_does() -> None:
    """The engine hands the learner a cycle's bars together (``observe_cycle``, in passes over
    the symbols); what it learns, and so every later target, must be the same to the last bit
    as observing the bars one at a time, also when a symbol joins half-way (a step is shared
    out by the symbols seen so far)."""
    series = {
        "AAA": bars_from_closes(uptrend(), "AAA"),
        "BBB": bars_from_closes(crash(), "BBB"),
        "CCC": bars_from_closes(flat_noisy(), "CCC")[60:],  # joins 60 bars later
    }
    strategies = ("trend", "flat", "half")

    def signals_for(bar_index: int, symbol: str) -> dict[str, Signal]:
        up = bar_index % 7 < 4 if symbol != "BBB" else bar_index % 5 == 0
        return {
            "trend": Signal(1.0 if up else 0.0),
            "flat": Signal(0.0),
            "half": Signal(0.5 if bar_index % 3 else 0.0),
        }

    one, together = AdaptiveAllocator(strategies), AdaptiveAllocator(strategies)
    targets_one, targets_together = [], []
    for i in range(140):  # the crash is the shortest series
        cycle = [
            (bars[i - (60 if symbol == "CCC" else 0)], signals_for(i, symbol))
            for symbol, bars in series.items()
            if symbol != "CCC" or i >= 60
        ]
        for bar, signals in cycle:
            one.observe(bar, signals)
        together.observe_cycle(cycle)
        for bar, signals in cycle:
            targets_one.append(one.allocate(bar.symbol, signals).target)
            targets_together.append(together.allocate(bar.symbol, signals).target)
    assert targets_together == targets_one
    learned_one, learned_together = one.state(), together.state()
    assert learned_together.weights == learned_one.weights
    assert learned_together.shadow == learned_one.shadow
    assert learned_together.exposure == learned_one.exposure
    assert together.losing_streak == one.losing_streak
