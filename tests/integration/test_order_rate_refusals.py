"""Past the day's order limit, a refusal is recorded once per symbol per session day, and the
rest are counted into one event per symbol when the day (or the session) ends.

Before, every later cycle recorded one ``order_rate_limit`` event per symbol that wanted to
trade, all day: a benchmark run recorded 39,144 of them. Sessions here trade hourly bars (7 a
day) with a strategy that wants a new position on most bars, and a limit of 4 orders a day.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

from tests.conftest import make_session
from tui_trader.core.domain import Bar, IterationReport, Signal
from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
from tui_trader.engine.session import TradingSession
from tui_trader.market.sim import SimMarket
from tui_trader.risk.gate import ORDER_RATE, RiskLimits
from tui_trader.store.models import RiskEventRow

LIMITS = RiskLimits(max_orders_per_day=4, max_position_pct=100.0)
ACCOUNT = "local:rate-shared"
SUMMARY = re.compile(r"^(\d+) more orders? for (\w+) refused by this session on (\S+) by the")


class Restless:
    """Wants 20%, 50% or 80% of its allocation in turn: a new order on most bars."""

    name = "restless"

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def on_bar(self, bar: Bar) -> Signal:
        """The next of the three targets for this symbol."""
        self.seen[bar.symbol] += 1
        return Signal((0.2, 0.5, 0.8)[self.seen[bar.symbol] % 3], "restless")


def _session(db: Path, account_key: str | None = None) -> TradingSession:
    """A session on hourly simulated bars, trading with ``Restless``, 4 orders a day."""
    market = SimMarket(("SPY", "QQQ", "IWM"), parse_interval("1h"), parse_period("5d"), seed=3)
    return make_session(
        db, market=market, limits=LIMITS, account_key=account_key, strategies=[Restless()]
    )


def _day(report: IterationReport) -> date:
    """The New York date of a cycle's bars."""
    return report.market_time.astimezone(NEW_YORK).date()


def _refused_by_day(reports: list[IterationReport]) -> Counter[date]:
    """Orders refused per day, as the cycles counted them."""
    refused: Counter[date] = Counter()
    for report in reports:
        refused[_day(report)] += report.orders_refused
    return refused


def _recorded(session: TradingSession) -> tuple[Counter, Counter]:
    """The session's order-limit events: first refusals per (day, symbol), and the refusals
    the summaries counted per (day, symbol)."""
    firsts: Counter[tuple[str, str]] = Counter()
    counted: Counter[tuple[str, str]] = Counter()
    rows = RiskEventRow.select().where(
        (RiskEventRow.session == session.audit.session.id) & (RiskEventRow.event_type == ORDER_RATE)
    )
    for row in rows:
        match = SUMMARY.match(row.action_taken)
        if match:
            counted[(match.group(3), match.group(2))] += int(match.group(1))
        else:
            assert "counted without another event" in row.action_taken
            day = row.market_time.astimezone(NEW_YORK).date().isoformat()
            firsts[(day, row.symbol)] += 1
    return firsts, counted


def _check(session: TradingSession, reports: list[IterationReport]) -> Counter:
    """One first event per symbol and day, and every refusal accounted for: the first plus
    the summary's count equal the orders the cycles refused that day."""
    firsts, counted = _recorded(session)
    assert set(firsts.values()) == {1}
    per_day: Counter[str] = Counter()
    for (day, _), n in firsts.items():
        per_day[day] += n
    for (day, _), n in counted.items():
        per_day[day] += n
    refused = {d.isoformat(): n for d, n in _refused_by_day(reports).items() if n}
    assert dict(per_day) == refused
    return counted


def test_past_the_limit_one_event_per_symbol_per_day_and_the_count(db_path: Path) -> None:
    """Three days of hourly cycles: each symbol refused on a day has one event saying so and
    (when refused again) one summary with how many more; their sum is every refusal the
    cycles made, and the cycles' notes say each time that orders are being refused."""
    session = _session(db_path)
    reports = [session.run_iteration() for _ in range(21)]
    session.finish("stopped")
    assert len({_day(r) for r in reports}) == 3
    counted = _check(session, reports)
    assert len({day for day, _ in counted}) == 3  # the last day's count came with the finish
    assert max(counted.values()) >= 2
    refusing = [r for r in reports if r.orders_refused and not r.risk_events]
    assert refusing, "cycles that refused without an event"
    for report in refusing:
        assert any("daily order limit reached (4 orders today" in n for n in report.notes)
    events = sum(1 for _ in RiskEventRow.select().where(RiskEventRow.event_type == ORDER_RATE))
    assert events < sum(r.orders_refused for r in reports)


def test_a_new_session_day_starts_afresh(db_path: Path) -> None:
    """The first cycle of a new day records the last day's counts and sends orders again; the
    next refusal of a symbol that day is recorded again, with its own event."""
    session = _session(db_path)
    day_one = [session.run_iteration() for _ in range(7)]
    assert len({_day(r) for r in day_one}) == 1
    first_of_two = session.run_iteration()
    assert _day(first_of_two) != _day(day_one[0])
    summaries = [e for e in first_of_two.risk_events if SUMMARY.match(e.action_taken)]
    assert summaries and all(str(_day(day_one[0])) in e.action_taken for e in summaries)
    assert first_of_two.orders_sent > 0
    day_two = [first_of_two] + [session.run_iteration() for _ in range(6)]
    session.finish("stopped")
    firsts, _ = _recorded(session)
    assert {day for day, _ in firsts} == {str(_day(day_one[0])), str(_day(first_of_two))}
    _check(session, day_one + day_two)


def test_sessions_sharing_the_account_each_count_their_own(db_path: Path) -> None:
    """Two sessions on one account, cycles interleaved: the 4 orders a day are the account's,
    each session says its own first refusals and counts its own, and the counts add up to
    what each one refused."""
    a = _session(db_path, ACCOUNT)
    b = _session(db_path, ACCOUNT)
    ra, rb = [], []
    for _ in range(14):
        ra.append(a.run_iteration())
        rb.append(b.run_iteration())
    a.finish("stopped")
    b.finish("stopped")
    for report in ra + rb:
        assert report.orders_today <= LIMITS.max_orders_per_day
    sent = Counter()
    for report in ra + rb:
        sent[_day(report)] += report.orders_sent
    assert set(sent.values()) == {LIMITS.max_orders_per_day}
    _check(a, ra)
    _check(b, rb)
