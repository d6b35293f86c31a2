"""The day's deposits and withdrawals on an Alpaca account, read from its activities.

Alpaca reports cash moved in or out as account activities (``GET /v2/account/activities``):
CSD (cash deposit, +), CSW (cash withdrawal, -), JNLC (cash journal, either sign) and ACATC
(cash transferred in or out). Their net amount since the previous close (``since_close``)
is what the risk limits must not take for trading (``risk.cash_flows``). alpaca-py has no
typed call for them; its REST client's ``get`` sends the request (through the desk's deadline
and budget: ``alpaca_calls.prepare``). Pages are read oldest first, each next one from the
last id seen, at most ``MAX_PAGES``: more than that is an answer the desk cannot sum
(unreadable, so the flows count as not read: fail closed). A canceled activity moved nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tui_trader.brokers.alpaca_numbers import UnreadableAnswer, number
from tui_trader.core.timeframes import NEW_YORK

CASH_TYPES = ("CSD", "CSW", "JNLC", "ACATC")
"""The activity types that move cash in or out of the account without a trade."""
PAGE_SIZE = 100
MAX_PAGES = 20


def since_close(day: date) -> str:
    """Where ``day``'s cash moves begin, as the ``after`` Alpaca takes (in UTC, ``...Z``: the
    form its document lists for ``after``, ``YYYY-MM-DDTHH:MM:SSZ``): 16:00 New York on the
    weekday before, when Alpaca takes ``last_equity`` (the day's opening: "equity as of
    previous trading day at 16:00:00 ET"). After a holiday, money moved between the close
    before it and the holiday's 16:00 is not counted (it counts as the day's gain, as before
    this read existed); earlier would count again what the opening holds."""
    before = day - timedelta(days=1)
    while before.weekday() >= 5:  # Saturday, Sunday
        before -= timedelta(days=1)
    close = datetime.combine(before, time(16), NEW_YORK).astimezone(UTC)
    return close.strftime("%Y-%m-%dT%H:%M:%SZ")  # the form Alpaca documents (not an offset)


def cash_flows(client: Any, day: date) -> float:
    """The net cash moved in (+) or out (-) of the account since ``day``'s previous close;
    ``UnreadableAnswer`` for an answer that is not a list of activities with amounts."""
    total = 0.0
    seen: set[str] = set()
    token: str | None = None
    for _ in range(MAX_PAGES):
        query: dict[str, Any] = {
            "activity_types": ",".join(CASH_TYPES),
            "after": since_close(day),
            "direction": "asc",
            "page_size": PAGE_SIZE,
        }
        if token:
            query["page_token"] = token
        page = client.get("/account/activities", query)
        if not isinstance(page, list):
            raise UnreadableAnswer("the account's activities are not a list")
        for item in page:
            total += _amount(item, seen)
        if len(page) < PAGE_SIZE:
            return total
        token = str(page[-1].get("id") or "")
        if not token:
            raise UnreadableAnswer("a full page of the account's activities has no last id")
    raise UnreadableAnswer(f"more than {MAX_PAGES * PAGE_SIZE} cash activities in one day")


def _amount(item: Any, seen: set[str]) -> float:
    """One activity's net amount (0 for one already counted, canceled, or not a cash move)."""
    if not isinstance(item, dict):
        raise UnreadableAnswer("an account activity is not an object")
    key = str(item.get("id") or "")
    if key and key in seen:
        return 0.0
    seen.add(key)
    if item.get("activity_type") not in CASH_TYPES or item.get("status") == "canceled":
        return 0.0
    return number(item.get("net_amount"), f"activity {key}'s net amount")
