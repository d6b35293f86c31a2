"""Listing an Alpaca account's orders past one page: newest first, page by page, to a bound.

``GET /v2/orders`` answers at most ``LIST_PAGE`` orders. A busy account (many hand orders, GTC
limits, several desks) holds more, and one page left the rest unseen: a halt did not cancel the
desk's orders beyond it, and the position limit's "open orders included" missed working buys.
So a listing asks page after page, newest first (``direction=desc``), each page ``until`` the
oldest submission time the last one held (Alpaca's ``until`` is exclusive: one microsecond
later, so that an order at that very instant that did not fit comes again; it is kept once).

At most ``LIST_PAGES`` pages (5,000 orders): past that a listing is cut, and the caller fails
closed and says so (``brokers.Partial``). A page holding nothing new, or orders without a
submission time, cannot be paged past either: cut too, never silently short. Pages come one at
a time, so that a halt cancels each page's orders before it asks for the next: the listing of
later pages never holds back the cancels of the orders already seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

LIST_PAGE = 500
"""Orders per page of a listing (Alpaca's most)."""
LIST_PAGES = 10
"""Pages read at most by one listing: ``LIST_PAGE * LIST_PAGES`` = 5,000 orders."""
LIST_BOUND = LIST_PAGE * LIST_PAGES


class OrderPages:
    """The pages of one listing (``status`` open, closed or all; ``after``: only orders
    submitted after it), each page the orders not seen on an earlier one; ``cut`` once
    iterated says whether orders may be left unseen past the bound."""

    def __init__(
        self,
        read: Callable[[Any], list[Any]],
        status: Any,
        after: datetime | None = None,
    ) -> None:
        """``read`` sends one ``GetOrdersRequest`` and answers its orders (with the caller's
        deadline, retries and wording)."""
        self._read = read
        self._status = status
        self._after = after
        self.cut = False
        self.count = 0
        """Orders seen so far."""

    def _request(self, limit: int, until: datetime | None) -> Any:
        """One page's request (nested: an OCO's stop leg comes under its parent)."""
        from alpaca.common.enums import Sort
        from alpaca.trading.requests import GetOrdersRequest

        return GetOrdersRequest(
            status=self._status,
            limit=limit,
            after=self._after,
            until=until,
            direction=Sort.DESC,
            nested=True,
        )

    def __iter__(self) -> Iterator[list[Any]]:
        """The pages, newest orders first; each only the orders no earlier page held."""
        seen: set[str] = set()
        until: datetime | None = None
        for _ in range(LIST_PAGES):
            page = list(self._read(self._request(LIST_PAGE, until)))
            fresh = [raw for raw in page if str(raw.id) not in seen]
            seen.update(str(raw.id) for raw in fresh)
            self.count = len(seen)
            if fresh:
                yield fresh
            if len(page) < LIST_PAGE:
                return  # the last page: the listing is whole
            times = [raw.submitted_at or raw.created_at for raw in page]
            if not fresh or None in times:
                self.cut = True  # a full page that cannot be paged past
                return
            until = min(times) + timedelta(microseconds=1)
        # The bound, its last page full: is anything older still there? One order's look.
        assert until is not None
        older = self._read(self._request(1, until - timedelta(microseconds=1)))
        self.cut = any(str(raw.id) not in seen for raw in older)
