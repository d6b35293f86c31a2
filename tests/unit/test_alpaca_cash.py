"""Reading the day's cash moves from Alpaca's activities (``brokers.alpaca_cash``): where the
day begins, what counts, and answers the desk cannot sum (unreadable: read again, then the
flows count as not read)."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.brokers.alpaca_cash import cash_flows, since_close
from tui_trader.brokers.alpaca_numbers import UnreadableAnswer
from tui_trader.brokers.alpaca_reads import AlpacaReads


class _Pages:
    """A client whose ``get`` answers the given pages in turn, recording the queries."""

    def __init__(self, *pages: Any) -> None:
        self.pages = list(pages)
        self.queries: list[dict[str, Any]] = []

    def get(self, path: str, query: dict[str, Any]) -> Any:
        assert path == "/account/activities"
        self.queries.append(query)
        return self.pages.pop(0)


def test_the_day_begins_at_the_previous_weekdays_close() -> None:
    """Monday's cash moves begin at Friday's 16:00 New York (Alpaca's previous-close equity is
    taken then), Tuesday's at Monday's; in UTC with a ``Z``, the form Alpaca's document lists
    for ``after`` (an offset such as ``-05:00`` is not among them), daylight time too."""
    assert since_close(date(2026, 12, 7)) == "2026-12-04T21:00:00Z"
    assert since_close(date(2026, 12, 8)) == "2026-12-07T21:00:00Z"
    assert since_close(date(2026, 7, 7)) == "2026-07-06T20:00:00Z"


def test_only_cash_moves_not_canceled_count_once_each() -> None:
    page = [
        {"id": "1", "activity_type": "CSD", "net_amount": "10000", "status": "executed"},
        {"id": "1", "activity_type": "CSD", "net_amount": "10000", "status": "executed"},
        {"id": "2", "activity_type": "CSW", "net_amount": "-2500", "status": "executed"},
        {"id": "3", "activity_type": "CSD", "net_amount": "999", "status": "canceled"},
        {"id": "4", "activity_type": "DIV", "net_amount": "5"},
        {"id": "5", "activity_type": "JNLC", "net_amount": "-100"},
    ]
    client = _Pages(page)
    assert cash_flows(client, date(2026, 12, 8)) == 7_400
    assert client.queries[0]["activity_types"] == "CSD,CSW,JNLC,ACATC"


def test_a_full_page_asks_for_the_next_from_its_last_id() -> None:
    full = [{"id": f"a{n}", "activity_type": "CSD", "net_amount": "1"} for n in range(100)]
    client = _Pages(full, [{"id": "b", "activity_type": "CSD", "net_amount": "1"}])
    assert cash_flows(client, date(2026, 12, 8)) == 101
    assert client.queries[1]["page_token"] == "a99"


@pytest.mark.parametrize(
    "page",
    [
        {"message": "not a list"},
        ["not an object"],
        [{"id": "1", "activity_type": "CSD", "net_amount": "NaN"}],
        [{"id": "1", "activity_type": "CSD"}],
    ],
)
def test_an_answer_that_cannot_be_summed_is_unreadable(page: Any) -> None:
    with pytest.raises(UnreadableAnswer):
        cash_flows(_Pages(page), date(2026, 12, 8))


class _Failing:
    """A client whose every activities read fails as a dropped connection does."""

    def __init__(self) -> None:
        self.calls = 0

    def get(self, path: str, query: dict[str, Any]) -> Any:
        from requests import ConnectionError as Dropped

        self.calls += 1
        raise Dropped("connection reset by peer")


def test_a_failed_read_is_tried_once_so_the_equity_check_behind_it_waits_for_no_retries() -> None:
    """The broker's read of the day's cash moves comes before the account each cycle. A failed
    one is already safe (the flows count as not read: no rise is a gain), so it is not
    retried: one request, no backoff, and the desk goes on to read the equity. Before, it was
    tried four times with 0.5 + 1 + 2 s of backoff (and four of the budget's requests) every
    cycle the activities failed, and up to four request deadlines when they hung, before the
    drawdown and daily-loss checks could run."""
    client = _Failing()
    reads = AlpacaReads.__new__(AlpacaReads)  # the mixin's state, as AlpacaBroker sets it
    reads.client, reads.policy, reads._stop = client, CallPolicy(backoff=0.0), threading.Event()
    with pytest.raises(BrokerError, match="reading deposits and withdrawals failed"):
        reads.cash_flows(date(2026, 12, 8))
    assert client.calls == 1
