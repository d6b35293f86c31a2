"""One account's ``risk_state`` row read back as a ``RiskState``, hand edits refused.

The row is shared by every process trading the account and may be edited by hand. A session,
``risk reset`` and the fleet's halt read it before they act, so a value no session ever writes
is refused there in one line naming the row and column (exit 2 at the command line, before any
order): an unreadable equity (``stored_numbers.required``), a state other than ``active`` or
``halted``, a day that is not a date, a day without its opening equity (the daily-loss limit
measured nothing that day), a negative or fractional count (``orders_today = -50`` allowed 150
orders that day; a ``halt_id`` of text crashed the cycle that halts). Before, the malformed
state and day stopped each of those commands with a crash report, and the counts went through.
A display (``strict=False``) shows an unreadable equity as empty, with a note.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tui_trader.core.domain import TradingState
from tui_trader.risk.state import RiskState
from tui_trader.store.stored_numbers import refused, required, required_count, shown

TABLE = "risk_state"
COLUMNS = (
    "state",
    "peak_equity",
    "day",
    "day_open_equity",
    "last_equity",
    "orders_today",
    "halt_reason",
    "halt_detail",
    "halt_id",
)
"""The row's columns a ``RiskState`` holds, in the order ``risk_state_of`` takes them."""
SELECT_SQL = f'SELECT {", ".join(COLUMNS)} FROM "risk_state" WHERE "account_key" = ?'


def risk_state_of(account_key: str, values: Any, strict: bool = True) -> RiskState:
    """A row's columns (in ``COLUMNS`` order) as a ``RiskState``; ``UnreadableValue`` naming
    the row for a value no session writes (``strict=False``: an unreadable equity is shown
    empty instead)."""
    state, peak, day, day_open, last, orders, reason, detail, halt_id = values
    equity = required if strict else shown
    try:
        trading = TradingState(state)
    except ValueError:
        raise refused(TABLE, account_key, "state", state, "'active' or 'halted'") from None
    on_day = _day(account_key, day)
    opening = equity(day_open, TABLE, account_key, "day_open_equity")
    if strict and on_day is not None and day_open is None:
        raise refused(TABLE, account_key, "day_open_equity", None, "the day's opening equity")
    return RiskState(
        account_key,
        trading,
        equity(peak, TABLE, account_key, "peak_equity"),
        on_day,
        opening,
        equity(last, TABLE, account_key, "last_equity"),
        required_count(orders, TABLE, account_key, "orders_today"),
        reason,
        detail or "",
        required_count(halt_id, TABLE, account_key, "halt_id"),
    )


def _day(account_key: str, value: object) -> date | None:
    """The row's trading day (empty: none begun yet), or the refusal naming the row."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise refused(TABLE, account_key, "day", value, "a date (YYYY-MM-DD)")
