"""The Alpaca broker's reads: account, positions, orders, the market clock and readiness.

``AlpacaReads`` is the half of ``AlpacaBroker`` (``brokers/alpaca``) that only asks: every read
has a deadline and bounded retries (``alpaca_calls.with_retries``), a look-up by client id tells
"not there" (404) apart from "could not ask", and ``trading_ready`` says in plain words why new
orders must wait (suspended, stream down or back-filling, market closed). Sending, cancelling
and tracking orders stay in ``brokers/alpaca``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_trader.brokers import BrokerError, Partial, Throttled
from tui_trader.brokers.alpaca_calls import CallPolicy, classify, with_retries
from tui_trader.brokers.alpaca_cash import cash_flows
from tui_trader.brokers.alpaca_numbers import UnreadableAnswer, number, optional
from tui_trader.brokers.alpaca_orders import one_contract, to_domain_order
from tui_trader.brokers.alpaca_pages import LIST_BOUND, LIST_PAGE, OrderPages
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.brokers.alpaca_unlisted import look_up_unlisted, working_before
from tui_trader.core.domain import Account, Position
from tui_trader.core.orders import Order
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.core.waiting import HeartbeatStop

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca_follow import _Tracked

CLOCK_TTL = timedelta(seconds=30)
OPEN_ORDERS_TTL = 30.0
"""Seconds a REST list of open orders stands in while the stream reports our own orders."""


class AlpacaReads:
    """What the Alpaca broker reads from the account; a mixin whose state ``AlpacaBroker`` sets."""

    client: Any
    policy: CallPolicy
    feed: TradeUpdateFeed | None
    require_open_market: bool
    _stop: threading.Event
    _open_cache: tuple[float, list[Order]] | None
    _open_unseen: str = ""
    """Why the last listing of open orders was not whole ('' when it was)."""
    _tracked: dict[str, _Tracked]
    _unconfirmed: set[str]
    _refresh: dict[str, str]
    _apply: Callable[[Order, str], None]
    """Merge a newer view of an order we track (``AlpacaBroker._apply``)."""
    _last: dict[str, float]
    _clock: tuple[datetime, Any] | None
    _suspended: bool
    _synced_connects: int

    # -- account and orders --------------------------------------------------------------------

    def _read(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """A read with deadline and bounded retries."""
        return with_retries(lambda: call(*args, **kwargs), self.policy, what, self._stop)

    def account(self) -> Account:
        """Cash, equity, buying power and the previous close's equity (``last_equity``); an
        answer missing one of the first three, or holding NaN, infinity or 1e400 in any, is
        unreadable (``alpaca_numbers``): read again, then the broker's silence."""
        return self._read("reading the account", lambda: _account(self.client.get_account()))

    def cash_flows(self, day: date) -> float:
        """The net cash deposited (+) or withdrawn (-) since ``day``'s previous close
        (``brokers.alpaca_cash``), with the reads' deadline but no retry: it is read before
        the account every cycle, and a failed read is already safe (no rise counts as a gain,
        ``risk.cash_flows``), so its retries and their backoff (seconds, a budget's requests)
        must not hold up the equity check behind it."""
        once = dataclasses.replace(self.policy, retries=0)
        what = "reading deposits and withdrawals"
        return with_retries(lambda: cash_flows(self.client, day), once, what, self._stop)

    def positions(self) -> dict[str, Position]:
        """Open positions, short ones with negative quantity; an answer with a quantity or
        price no position has, or a symbol listed twice, is unreadable (``alpaca_numbers``)."""
        return self._read(
            "reading positions", lambda: self._positions(self.client.get_all_positions())
        )

    def _positions(self, listed: Any) -> dict[str, Position]:
        """Alpaca's positions as ours, every number checked."""
        out = {}
        for p in listed:
            symbol = str(p.symbol)
            if symbol in out:
                raise UnreadableAnswer(f"{symbol} is listed twice among the positions")
            qty = number(p.qty, f"{symbol}'s position quantity")
            if str(getattr(p.side, "value", p.side)) == "short" and qty > 0:
                qty = -qty
            entry = number(p.avg_entry_price, f"{symbol}'s entry price", negative=False)
            current = optional(p.current_price, f"{symbol}'s current price", negative=False)
            last = current or self._last.get(symbol, 0) or entry
            out[symbol] = Position(symbol, qty, entry, last, _multiplier(p))
        return out

    def open_orders(self) -> list[Order]:
        """Orders Alpaca still works (a pair's legs folded into their parent), page by page
        (``brokers.alpaca_pages``); past the bound a ``Partial`` listing, and no new orders
        until a listing is whole again (``trading_ready``).

        While the trade-updates stream is up and synced, our own orders' states come from it,
        so the REST list (for orders placed elsewhere on the account) is read at most every
        ``OPEN_ORDERS_TTL`` seconds: one request a cycle fewer under the rate limit. A fresh
        list shows our own orders as the stream told them too (``_ours_as_recorded``); one of
        them it leaves out is looked up (``brokers.alpaca_unlisted``: the stream may be silent).
        """
        from alpaca.trading.enums import QueryOrderStatus

        now = time.monotonic()
        feed = self.feed
        streaming = feed is not None and feed.connected and feed.connects == self._synced_connects
        if streaming and self._open_cache and now - self._open_cache[0] < OPEN_ORDERS_TTL:
            return _partial(self._ours_as_recorded(self._open_cache[1]), self._open_unseen)
        before = working_before(self)
        pages = OrderPages(self._lister("listing open orders"), QueryOrderStatus.OPEN)
        found = [
            to_domain_order(raw)
            for page in pages
            for raw in page
            if one_contract(raw) and not self._replaced(raw)
        ]
        self._open_unseen = open_unseen(pages.count) if pages.cut else ""
        self._open_cache = (now, found)
        if streaming:
            if not pages.cut:  # a listing cut short leaves out orders that still work
                look_up_unlisted(self, before, found)
            found = self._ours_as_recorded(found)
        return _partial(found, self._open_unseen)

    def _ours_as_recorded(self, listed: list[Order]) -> list[Order]:
        """``listed`` with our own orders as the stream told them (what the session recorded:
        its fills, what is left to fill), the listing's view of them set aside. A listing
        read after the positions could show a fill neither the positions nor the session's
        fills had yet: 50 of a 100-share buy filled, "50 left" beside a position of 0, and
        the rebalance bought the 50 again (a sell, sold twice). Our record and the positions
        read are compared instead (``engine.outside_changes``: a symbol whose position
        disagrees with the session's fills while its order works waits)."""
        out = {o.client_order_id: o for o in listed}
        for cid, tracked in self._tracked.items():
            out.pop(cid, None)
            if tracked.order.status.is_open:
                out[cid] = tracked.order
        return list(out.values())

    def _replaced(self, raw: Any) -> bool:
        """Whether a listed order is one of ours that Alpaca still shows ``pending_replace``
        while this desk has replaced it (its record: ended, the replacement in its place, the
        old one followed by look-ups until Alpaca's word). Listed too, it counted twice: the
        desk saw two stops for one position, cancelled the replacement and tried to replace
        the old one again, leaving the position without a stop had the replace gone through."""
        if str(getattr(raw.status, "value", raw.status)) != "pending_replace":
            return False
        tracked = self._tracked.get(str(raw.client_order_id))
        return tracked is not None and tracked.order.status.is_final

    def orders_since(self, after: datetime) -> list[Order]:
        """The account's orders submitted after ``after``, open or closed, a pair's legs
        folded into their parent, page by page (``brokers.alpaca_pages``): start-up
        reconciliation's look for lost rows. Past the bound a ``Partial`` listing, which
        says the older orders were not looked at (before, they were dropped in silence)."""
        from alpaca.trading.enums import QueryOrderStatus

        pages = OrderPages(self._lister("listing recent orders"), QueryOrderStatus.ALL, after)
        found = [to_domain_order(raw) for page in pages for raw in page if one_contract(raw)]
        if pages.cut:
            since = after.astimezone(UTC)
            return Partial(
                found,
                f"only the newest {pages.count:,} orders since {since:%Y-%m-%d %H:%M} UTC were "
                f"looked at (a listing reads at most {LIST_BOUND:,}): lost rows among older "
                "ones were not looked for",
            )
        return found

    def look_up_many(self, client_order_ids: list[str]) -> dict[str, Order]:
        """These orders of ours as Alpaca lists them now: one request (``GET /v2/orders``,
        open and ended, in their symbols, submitted since the oldest of them, one page of the
        newest 500), however many there are; one ``get_order`` each spent a request an order,
        so a halt's pending cancels in twenty symbols were confirmed one a look. Those listed,
        by client id (a ``pending_cancel`` still open: it may yet fill); one the page did not
        hold is left out (ask it alone). What the listing says is merged into what we follow,
        as a poll's look-up is: its news comes with the next ``drain_updates``. One found
        replaced drops the cached listing of open orders: its replacement (an ended desk's,
        placed after that listing) is seen at the next ``open_orders``, not half a minute
        later."""
        from alpaca.common.enums import Sort
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrdersRequest

        wanted = {c: self._tracked[c].order for c in client_order_ids if c in self._tracked}
        if not wanted:
            return {}
        times = [o.submitted_at for o in wanted.values()]
        after = None
        if all(t is not None for t in times):  # (a second's margin: the clocks' rounding)
            after = min(t for t in times if t is not None) - timedelta(seconds=1)
        request = GetOrdersRequest(
            status=QueryOrderStatus.ALL,
            limit=LIST_PAGE,
            after=after,
            symbols=sorted({o.symbol for o in wanted.values()}),
            direction=Sort.DESC,
            nested=True,
        )
        found: dict[str, Order] = {}
        for raw in self._read("looking up orders", self.client.get_orders, filter=request):
            if not one_contract(raw):
                continue  # another's multi-leg order: never one of these
            order = to_domain_order(raw)
            if order.client_order_id in wanted:
                found[order.client_order_id] = order
                self._apply(order, "poll")
                if order.was_replaced:  # its replacement is newer than the cached listing
                    self._open_cache = None
        return found

    def _lister(self, what: str) -> Any:
        """One page's read of ``GET /v2/orders``, with deadline and bounded retries."""
        return lambda request: self._read(what, self.client.get_orders, filter=request)

    def get_order(self, client_order_id: str) -> Order | None:
        """The order under this client id, or None if Alpaca does not have it (404) now.

        Transient failures are retried like any read; past that, ``BrokerError``. One found
        replaced drops the cached listing of open orders, as ``look_up_many``'s find does: its
        replacement is newer than that listing (kept, the desk saw the old order ended and no
        replacement, and placed a second stop beside it: refused, "NOT protected").
        """
        found = with_retries(
            lambda: self._get_order_once(client_order_id),
            self.policy,
            f"looking up order {client_order_id}",
            self._stop,
        )
        if found is not None and found.was_replaced:
            self._open_cache = None
        return found

    def _get_order_once(self, client_order_id: str) -> Order | None:
        """One look-up by client id: None on 404; transient failures raised as they came."""
        try:
            found = self.client.get_order_by_client_id(client_order_id)
        except Throttled:
            raise  # not sent (the budget held it back): not a failed look-up, ask again later
        except HeartbeatStop:
            raise  # the session's heartbeat in the budget's wait: it stops (not "no answer")
        except Exception as exc:
            failure = classify(exc)
            if failure is not None and failure.status == 404:
                return None
            if failure is None or not failure.transient:
                raise BrokerError(f"looking up order {client_order_id} failed: {exc}") from exc
            raise
        return to_domain_order(found)

    def market_clock(self) -> Any:
        """Alpaca's market clock, cached briefly: read again once an open or close has passed
        by the broker's clock (its timestamp plus the time since it was read). Compared with
        this machine's clock instead, a clock a few seconds behind Alpaca's kept "open" past
        the close, and the cycle on the day's last bar sent market orders Alpaca queues for
        the next open."""
        now = datetime.now(UTC)
        if self._clock is not None:
            fetched, clock = self._clock
            boundary = min(clock.next_open, clock.next_close)
            elapsed = now - fetched
            if timedelta(0) <= elapsed < CLOCK_TTL and clock.timestamp + elapsed < boundary:
                return clock
        clock = self._read("reading the market clock", lambda: _clock(self.client.get_clock()))
        self._clock = (now, clock)
        return clock

    # -- readiness -----------------------------------------------------------------------------

    def trading_ready(self) -> str | None:
        """Why new orders must wait right now, or None when they may go out."""
        if self._suspended:
            return "trading suspended on the account after a halt"
        if self.feed is not None and not self.feed.connected:
            return "the trade-updates stream is down: no new orders until it reconnects"
        if self.feed is not None and self.feed.connects != self._synced_connects:
            return "missed fills are being back-filled after a stream reconnect"
        if self._open_unseen:
            return self._open_unseen
        if self.require_open_market:
            clock = self.market_clock()
            if not clock.is_open:
                opens = clock.next_open.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z")
                fetched = self._clock[0] if self._clock else datetime.now(UTC)
                now = clock.timestamp + (datetime.now(UTC) - fetched)  # the broker's time now
                wait = _countdown(clock.next_open - now)
                return f"market closed: no market orders until the next open ({opens}, in {wait})"
        return None


OPTION_MULTIPLIER = 100.0
"""Shares one option contract holds: Alpaca's position prices an option per share and names
no multiplier (its ``market_value`` is qty × price × 100)."""


def _multiplier(position: Any) -> float:
    """What one unit of an Alpaca position holds at its prices: 100 for an option contract
    (``asset_class`` ``us_option``, bought by hand on the account: the desk trades shares),
    else 1 (a share; a coin, ``crypto``, whose quantity may be fractional)."""
    kind = str(getattr(position.asset_class, "value", position.asset_class))
    return OPTION_MULTIPLIER if kind == "us_option" else 1.0


def _account(a: Any) -> Account:
    """Alpaca's account as ours, every number checked (``alpaca_numbers``): cash and equity
    may be below zero (a margin account's debt)."""
    return Account(
        cash=number(a.cash, "the account's cash"),
        equity=number(a.equity, "the account's equity"),
        buying_power=number(a.buying_power, "the account's buying power"),
        last_equity=optional(a.last_equity, "the account's last equity"),
        account_id=str(a.account_number),
        trading_blocked=bool(a.trading_blocked or a.account_blocked),
        pattern_day_trader=getattr(a, "pattern_day_trader", None),
        daytrade_count=getattr(a, "daytrade_count", None),
    )


CLOCK_YEARS = (1800, 2200)
"""A market clock's times are within these years (from, up to): a next open of year 1 crashed
the cycle showing it in New York time (``OverflowError``), and 9999 overflows adding a second."""


def _clock(clock: Any) -> Any:
    """Alpaca's market clock, its times checked: one outside ``CLOCK_YEARS`` (or missing) is
    unreadable (``alpaca_numbers``), read again, then the broker's silence."""
    for name in ("timestamp", "next_open", "next_close"):
        stamp = getattr(clock, name, None)
        if not isinstance(stamp, datetime) or not CLOCK_YEARS[0] <= stamp.year < CLOCK_YEARS[1]:
            raise UnreadableAnswer(f"the market clock's {name} is {stamp}")
    return clock


def open_unseen(count: int) -> str:
    """Why new orders wait while the account's open orders cannot all be listed."""
    return (
        f"the account has more open orders than the desk can list ({count:,} seen, at most "
        f"{LIST_BOUND:,}): what is working cannot be told, so no new orders until fewer are "
        "open (cancel stale orders at the broker)"
    )


def _partial(orders: list[Order], unseen: str) -> list[Order]:
    """``orders`` as a ``Partial`` listing when something was not seen."""
    return Partial(orders, unseen) if unseen else orders


def _countdown(left: timedelta) -> str:
    """``2d 3h 05m`` / ``14h 03m`` / ``7m``: how long until a market event."""
    minutes = max(math.ceil(left.total_seconds() / 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {mins:02d}m"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"
