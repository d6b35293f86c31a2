"""The sandbox's previous-close equity and cash moved in or out (``sandbox.ledger``): Alpaca
takes ``last_equity`` as of 16:00 New York, so money moved after that belongs to the next day
(a desk counts it there: ``brokers.alpaca_cash``), not to its opening."""

from __future__ import annotations

from datetime import datetime

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.cash_moves import CashMove
from tui_trader.sandbox.ledger import Ledger


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=NEW_YORK)


def _move(ledger: Ledger, amount: float, stamp: datetime) -> None:
    ledger.cash += amount
    ledger.cash_moves.append(CashMove(f"{stamp:%H}", "CSD" if amount > 0 else "CSW", amount, stamp))
    ledger.mark(stamp, {})


def test_money_moved_after_the_close_is_not_in_the_next_days_opening() -> None:
    """$5,000 in at 15:00 Monday is in Tuesday's opening; $10,000 in at 17:00 is not (Tuesday
    counts it as its own); Tuesday's own moves wait for Wednesday's."""
    ledger = Ledger(100_000.0, _at(7, 9))
    _move(ledger, 5_000, _at(7, 15))
    _move(ledger, 10_000, _at(7, 17))
    ledger.mark(_at(8, 9), {})
    assert ledger.last_equity == 105_000
    _move(ledger, -1_000, _at(8, 11))
    ledger.mark(_at(9, 9), {})
    assert ledger.last_equity == 114_000


def test_a_weekends_moves_belong_to_monday() -> None:
    ledger = Ledger(100_000.0, _at(4, 9))  # a Friday
    _move(ledger, 10_000, _at(5, 12))  # Saturday
    assert ledger.last_equity == 100_000  # Saturday's opening: Friday's
    ledger.mark(_at(7, 9), {})  # Monday
    assert ledger.last_equity == 100_000
