"""The regime detector on series a trader can picture, and against the simulator's truth."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.unit.series import bars_from_closes, crash, flat_noisy, uptrend
from tui_trader.core.domain import Bar
from tui_trader.learning.regime import REGIME_KEYS, SIM_TRUTH, RegimeDetector
from tui_trader.market.sim import REGIMES, SimMarket


def calls(closes: list[float]) -> list:
    """The detector's call after every bar."""
    detector = RegimeDetector()
    return [detector.update(bar) for bar in bars_from_closes(closes)]


def test_warming_up_until_enough_bars() -> None:
    first = calls(uptrend(10))
    assert {c.label for c in first} == {"warming"}


def test_steady_uptrend_is_a_calm_bull_market() -> None:
    last = calls(uptrend())[-40:]
    assert all(c.direction == "bull" for c in last)
    assert sum(c.level == "calm" for c in last) >= 36  # a noise flicker to volatile is allowed
    assert last[-1].confidence > 0.7


def test_crash_is_a_volatile_bear_market_called_within_days() -> None:
    result = calls(crash())
    before, during = result[110], result[-1]
    assert before.direction != "bear"
    assert during.label == "bear/volatile"
    assert during.confidence > 0.8
    first_bear = next(i for i, c in enumerate(result[120:]) if c.direction == "bear")
    assert first_bear <= 5  # a trader wants the crash named in its first week


def test_bear_probability_is_low_in_a_steady_climb_and_high_in_a_crash() -> None:
    climb = calls(uptrend(300))[60:]
    assert max(c.p_bad for c in climb) < 0.3  # no defensive scaling at all in a steady climb
    result = calls(crash())
    gentle = result[60:120]  # the crash series opens with a weak, noisier climb: some flicker
    assert sum(c.direction != "bear" for c in gentle) >= 0.85 * len(gentle)
    assert min(c.p_bad for c in result[122:]) > 0.9  # near certain once the crash is under way


def test_a_gap_down_counts_as_volatility() -> None:
    """Bars whose range hides an overnight gap still read as volatile (true range)."""
    closes = uptrend(120, daily=0.001, noise=0.004)
    bars = bars_from_closes(closes)
    detector = RegimeDetector()
    for bar in bars:
        detector.update(bar)
    last = bars[-1]
    for i in range(1, 6):  # five days that each open 4% lower and then trade in a tight range
        price = last.close * 0.96**i
        when = last.timestamp + timedelta(days=i)
        call = detector.update(Bar("TEST", when, price, price * 1.001, price * 0.999, price, 1e6))
    assert call.label == "bear/volatile", call


def test_steady_quiet_decline_is_a_calm_bear_market() -> None:
    """Falling every day without any rise in volatility: bear, but not volatile."""
    labels = Counter(c.label for c in calls(uptrend(250, daily=-0.004, noise=0.004))[60:])
    assert labels["bear/calm"] / labels.total() > 0.7, labels
    assert not any(label.startswith(("bull", "sideways")) for label in labels), labels


def test_flat_noisy_market_is_mostly_sideways_and_calm() -> None:
    labels = Counter(c.label for c in calls(flat_noisy(300))[60:])
    assert labels["sideways/calm"] / labels.total() > 0.6, labels


def test_every_label_is_a_known_regime_key() -> None:
    sim = SimMarket(("SPY", "IWM"), seed=13)
    detector = RegimeDetector()
    for _ in range(300):
        for bar in sim.next_bars().values():
            call = detector.update(bar)
            assert call.label in (*REGIME_KEYS, "warming")
            if call.label == "warming":
                continue
            # the confidence is the probability of the direction called, never a minority view
            assert 0.25 < call.confidence <= 1.0
            if call.p_bad > 0.5:  # a likely falling, volatile market is always called bear
                assert call.direction == "bear"
                assert abs(call.confidence - call.p_bad) < 1e-3


def test_sim_truth_maps_every_simulated_regime() -> None:
    assert set(SIM_TRUTH) == set(REGIMES)
    assert SIM_TRUTH["crash"] == ("bear", "volatile")


def test_detector_knows_volatile_from_calm_on_a_simulated_market() -> None:
    sim = SimMarket(("SPY",), seed=17, schedule=[("bull", 180), ("crash", 15), ("bear", 40)])
    detector = RegimeDetector()
    for bar in sim.warmup()["SPY"]:  # 60 bars of the bull market
        detector.update(bar)
    levels = []
    for _ in range(175):
        bar = sim.next_bars()["SPY"]
        levels.append((sim.regime.name, detector.update(bar).level))
    assert {truth for truth, _ in levels[120:135]} == {"crash"}
    calm_ok = sum(level == "calm" for _, level in levels[:120]) / 120
    crash_ok = sum(level == "volatile" for _, level in levels[123:135]) / 12
    assert calm_ok > 0.8 and crash_ok > 0.8, (calm_ok, crash_ok)
