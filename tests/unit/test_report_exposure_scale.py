"""The report's peer exposure on a day's store: the same share, without points x trades work.

backtesting.py's exposure (``PeerFigures.exposure_pct``) counts the equity points that fall
inside some closed trade's entry-to-exit span. It tested every point against every trade: a
desk left running a trading day at its 0.5 s pace writes ~47,000 snapshots and can close
~1,500 trades, and ``tui-trader report`` on that store spent ~20 s of CPU in that one figure
(40,000 points, 1,554 trades, measured in branch ``soak32``). The work is counted here, not
timed: comparisons between times, which every approach needs and a quadratic one needs
millions of.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import total_ordering

from tui_trader.reporting.metrics import EquityPoint, TradeRecord, peer_figures

START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


@total_ordering
class CountedTime:
    """A moment that counts every comparison made with it (all of them share one tally)."""

    compared = 0

    def __init__(self, minute: int) -> None:
        self.minute = minute

    def __eq__(self, other: object) -> bool:
        CountedTime.compared += 1
        return isinstance(other, CountedTime) and self.minute == other.minute

    def __lt__(self, other: CountedTime) -> bool:
        CountedTime.compared += 1
        return self.minute < other.minute

    def __hash__(self) -> int:
        return hash(self.minute)


def _trade(entry, exit_) -> TradeRecord:  # type: ignore[no-untyped-def]
    """A closed long round trip of 10 shares at 100 between two moments."""
    return TradeRecord("AAA", "trend", "long", 10, 100.0, 101.0, entry, exit_, 10.0, 1.0, 1.0, 0.0)


def _brute_force(points: list[EquityPoint], trades: list[TradeRecord]) -> float:
    """The definition read literally: points inside any closed trade's span, over points + 1."""
    inside = sum(
        any(t.entry_time <= p.time <= t.exit_time for t in trades if t.entry_time is not None)
        for p in points
    )
    return round(100.0 * inside / (len(points) + 1), 10)


def _exposure(points: list[EquityPoint], trades: list[TradeRecord]) -> float:
    """The report's peer exposure of these points and trades."""
    figure = peer_figures([], trades, points).exposure_pct
    assert figure is not None
    return round(figure, 10)


def test_a_days_points_and_trades_cost_comparisons_in_proportion_not_their_product() -> None:
    """6,000 snapshots and 1,500 short trades, mostly flat between them (as a losing intraday
    desk is): the old check made ~9 million comparisons; a binary search per point needs
    ~20 each."""
    points_n, trades_n = 6_000, 1_500
    points = [EquityPoint(CountedTime(4 * i), 100_000.0) for i in range(points_n)]  # type: ignore[arg-type]
    trades = [_trade(CountedTime(16 * i + 1), CountedTime(16 * i + 2)) for i in range(trades_n)]
    CountedTime.compared = 0
    exposure = peer_figures([], trades, points).exposure_pct
    # No point falls on a minute of a trade (points on multiples of 4, trades on 16i+1..16i+2).
    assert exposure == 0.0
    assert CountedTime.compared < 40 * (points_n + trades_n)


def test_the_share_is_the_definitions_on_overlapping_touching_and_odd_spans() -> None:
    """Random sessions: overlapping trades (several symbols at once), spans that touch, trades
    opened and closed on one point, a point exactly at an entry or an exit, points out of
    order, a trade with no entry time (left out) and one whose exit precedes its entry."""
    rng = random.Random(32)
    for _ in range(300):
        minutes = sorted(rng.sample(range(200), rng.randint(1, 60)))
        points = [EquityPoint(START + timedelta(minutes=m), 1.0) for m in minutes]
        rng.shuffle(points)
        trades = []
        for _ in range(rng.randint(0, 25)):
            entry = rng.randint(-5, 205)
            exit_ = entry + rng.choice([0, 0, 1, 3, 10, 40, -2])
            entry_time = None if rng.random() < 0.05 else START + timedelta(minutes=entry)
            trades.append(_trade(entry_time, START + timedelta(minutes=exit_)))
        assert _exposure(points, trades) == _brute_force(points, trades)


def test_no_points_no_figure_and_no_trades_no_exposure() -> None:
    """The edges keep their meaning: no curve is no figure; a curve without trades is 0%."""
    assert peer_figures([], [], []).exposure_pct is None
    points = [EquityPoint(START + timedelta(minutes=i), 1.0) for i in range(10)]
    assert peer_figures([], [], points).exposure_pct == 0.0
