"""When orders may trade besides the regular session: the auctions and the extended hours.

``opg`` orders trade only in the opening auction and ``cls`` orders only in the closing one. As at
Alpaca, an ``opg`` order sent between 9:28 and 19:00 New York time on a trading day is refused
(it goes to the next day's opening auction when sent after 19:00), a ``cls`` order between 15:50
and 19:00. The auctions are at the session's open and close with ``--hours real``; with ``--hours
24h`` (whose sessions run midnight to midnight) at 9:30 and 16:00 New York time. Extended hours
are 4:00-9:30 and 16:00-20:00 New York time on trading days; only ``extended_hours`` limit orders
trade then.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.hours import MarketHours
from tui_trader.sandbox.order_types import unprocessable

CUTOFFS = {"opg": time(9, 28), "cls": time(15, 50)}
EVENING = time(19, 0)
"""From this time on, ``opg`` and ``cls`` orders queue for the next trading day."""
AUCTIONS_24H = {"opg": time(9, 30), "cls": time(16, 0)}
PRE_MARKET = time(4, 0)
AFTER_HOURS_END = time(20, 0)


def auction_time(tif: str, now: datetime, hours: MarketHours) -> datetime:
    """When an ``opg``/``cls`` order sent at ``now`` meets its auction; 422 inside the cut-off."""
    local = now.astimezone(NEW_YORK)
    day, clock = local.date(), local.time()
    cutoff = CUTOFFS[tif]
    trading_today = hours.session(day) is not None
    if trading_today and cutoff <= clock < EVENING:
        raise unprocessable(
            f"{tif} orders are not accepted between {cutoff:%H:%M} and 19:00 ET "
            f"(this order would miss the {'opening' if tif == 'opg' else 'closing'} auction)"
        )
    if trading_today and clock >= EVENING:
        day += timedelta(days=1)
    for _ in range(30):
        session = hours.session(day)
        if session is not None:
            if hours.mode == "real":
                return session.open if tif == "opg" else session.close
            return datetime.combine(day, AUCTIONS_24H[tif], tzinfo=NEW_YORK)
        day += timedelta(days=1)
    raise RuntimeError("no trading day in the next 30 days")


def in_extended_hours(now: datetime, hours: MarketHours) -> bool:
    """True in the pre-market or after-hours session of a trading day (market closed)."""
    if hours.is_open(now):
        return False
    local = now.astimezone(NEW_YORK)
    if hours.session(local.date()) is None:
        return False
    return PRE_MARKET <= local.time() < AFTER_HOURS_END
