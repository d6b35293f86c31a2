"""The regime detector on series a trader can picture, and against the simulator's truth."""

from __future__ import annotations

from collections import Counter

from tests.unit.series import bars_from_closes, crash, flat_noisy, uptrend
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
            assert call.label == "warming" or 0.5 <= call.confidence <= 1.0


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
