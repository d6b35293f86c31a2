"""The simulated market's written-down days are the exchange calendar's, day by day."""

from __future__ import annotations

from datetime import timedelta

from tui_trader.market.calendar import ExchangeCalendar
from tui_trader.market.sim_days import SIM_CALENDAR_END, SIM_CALENDAR_START, SimDays


def test_the_table_is_exchange_calendars_xnys_over_its_span() -> None:
    """Every session of exchange-calendars' XNYS from the table's first to its last day, with
    its open and close, and no other day: walking the simulated days gives exactly them. When
    the library's rules change, the message holds the table to write into ``sim_days``."""
    calendar = ExchangeCalendar.load(start=SIM_CALENDAR_START, end=SIM_CALENDAR_END)
    expected = [
        (s.day, s.open, s.close)
        for s in calendar.sessions_between(SIM_CALENDAR_START, SIM_CALENDAR_END)
    ]
    days, got = SimDays(), []
    day = days.first(SIM_CALENDAR_START)
    while day.day <= SIM_CALENDAR_END:
        got.append((day.day, day.open_utc, day.open_utc + timedelta(minutes=day.minutes)))
        day = days.after(day.day)
    sessions = {d for d, _, _ in expected}
    closed = []
    one = timedelta(days=1)
    d = SIM_CALENDAR_START
    while d <= SIM_CALENDAR_END:
        if d.weekday() < 5 and d not in sessions:
            closed.append(d.isoformat())
        d += one
    early = [d.isoformat() for d, opens, close in expected if close - opens < timedelta(hours=6.5)]
    assert got == expected, f"_CLOSED:\n{' '.join(closed)}\n_EARLY:\n{' '.join(early)}"
    assert day.day.isoformat() == "2036-01-01"  # past the span: a weekday, New Year's or not
    assert len(days.notes) == 1 and "2036-01-01 is outside" in days.notes[0]
