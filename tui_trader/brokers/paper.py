"""The local paper broker: simulated fills, costs and cash accounting, in-process.

Orders wait for the next bar and fill by the rules of ``brokers/paper_matching`` (market,
limit, stop, stop-limit, trailing stop, and OCO exit pairs: one fill ends both legs). As at
Alpaca, the shares of working sell orders (stops and pairs included, a pair's once) cannot be
sold again. Commission is per share with a minimum. Day orders that do not
fill in their session expire. Short selling is off unless asked for, and then gross exposure
may not exceed equity. This module is the order book (matching, expiry, updates); the checks
an order passes to join it are ``PaperAdmission`` in ``brokers/paper_admission``, and the cash,
positions and buying power they check against are ``PaperAccount`` in ``brokers/paper_account``.

Memory stays flat however long a session runs: the broker remembers every working order and the
last ``REMEMBERED_ORDERS`` finished ones (for ``get_order`` and the client-id uniqueness check;
the engine's client ids carry the iteration number, so an older id never comes back).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime

from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.brokers.paper_admission import PaperAdmission
from tui_trader.brokers.paper_matching import Working, match, match_oco, match_stop, trail_stop
from tui_trader.core.domain import Bar, Position, marked
from tui_trader.core.orders import (
    Fill,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from tui_trader.core.timeframes import trading_day

REMEMBERED_ORDERS = 1_000
"""Finished orders kept for lookups; older ones are forgotten (working orders never are)."""

_NEW, _TRAILING_STOP = OrderStatus.NEW, OrderType.TRAILING_STOP
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
these are named for every order submitted."""


class PaperBroker(PaperAdmission):
    """A simulated broker for the local desk; its ledger reconciles exactly with its fills."""

    name = "paper"
    outside_changes = False
    """Only this session's orders reach the simulated account."""
    replace_confirmed = True
    """A replace here is one step: the old order has ended when it answers."""
    orders_end_with_session = True
    """The simulated account lives in the session's process: its working orders end with it
    (``SessionFinish.finish`` cancels them and says so in their rows)."""

    def __init__(
        self,
        start_cash: float,
        symbols: tuple[str, ...],
        costs: PaperCosts | None = None,
        fractional: bool = False,
        allow_short: bool = False,
    ) -> None:
        if start_cash <= 0:
            raise ValueError("starting cash must be positive")
        self.cash = float(start_cash)
        self.symbols = frozenset(symbols)
        self.costs = costs or PaperCosts()
        self.fractional = fractional
        self.allow_short = allow_short
        self._positions: dict[str, Position] = {}
        self._last: dict[str, float] = {}
        self._working: list[Working] = []
        self._account_memo = None
        self._updates: list[OrderUpdate] = []
        self._orders_by_client_id: dict[str, Order] = {}
        self._seq = 0
        self._suspended = False
        self._day_of: tuple[datetime | None, date] = (None, date.min)

    # -- queries -------------------------------------------------------------------------------

    def open_orders(self) -> list[Order]:
        """Orders waiting for a bar."""
        return [w.order for w in self._working]

    def working_symbols(self, ignore: Callable[[Order], bool] | None = None) -> set[str]:
        """Symbols with an order waiting for a bar (but those ``ignore`` leaves out)."""
        return {w.order.symbol for w in self._working if ignore is None or not ignore(w.order)}

    def look_up_orders(self, symbol: str) -> None:
        """Nothing to ask: orders here change only on a bar."""

    def look_up_many(self, client_order_ids: list[str]) -> dict[str, Order]:
        """Each of these orders as this broker holds it (nothing to ask: its own record)."""
        known = self._orders_by_client_id
        return {cid: known[cid] for cid in client_order_ids if cid in known}

    def get_order(self, client_order_id: str) -> Order | None:
        """The latest state of an order by its client id."""
        return self._orders_by_client_id.get(client_order_id)

    # -- orders --------------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> Order:
        """Accept the order for the next bar, or reject it with the reason."""
        self._seq += 1
        order = Order(  # in field order, positional: keywords cost half again (every order)
            request.client_order_id,
            request.symbol,
            request.side,
            request.qty,
            request.order_type,
            _NEW,
            request.limit_price,
            request.time_in_force,
            0.0,  # filled_qty
            None,  # filled_avg_price
            f"paper-{self._seq}",  # broker_order_id
            None,  # submitted_at
            None,  # reject_reason
            request.stop_price,
            request.trail_percent,
            request.order_class,
        )
        reason = self._rejection(request)
        if reason:
            order = replace(order, status=OrderStatus.REJECTED, reject_reason=reason)
        else:
            working = Working(order)
            if request.order_type is _TRAILING_STOP:
                working.best = self._last[request.symbol]
                order = working.order = replace(order, stop_price=trail_stop(working))
            self._working.append(working)
        self._orders_by_client_id[order.client_order_id] = order
        if len(self._orders_by_client_id) > REMEMBERED_ORDERS + 100:
            self._forget_old_orders()
        return order

    def _forget_old_orders(self) -> None:
        """Drop the oldest finished orders beyond ``REMEMBERED_ORDERS`` (in batches of 100)."""
        excess = len(self._orders_by_client_id) - REMEMBERED_ORDERS
        old = [
            cid
            for cid, order in itertools.islice(self._orders_by_client_id.items(), 2 * excess)
            if not order.status.is_open
        ][:excess]
        for cid in old:
            del self._orders_by_client_id[cid]

    def cancel(self, client_order_id: str, confirm: bool = False) -> Order | None:
        """Cancel one working order (``None`` if it is not working: filled, gone, unknown);
        always confirmed at once (``confirm`` changes nothing here)."""
        for i, working in enumerate(self._working):
            if working.order.client_order_id == client_order_id:
                del self._working[i]
                cancelled = replace(working.order, status=OrderStatus.CANCELED)
                self._orders_by_client_id[client_order_id] = cancelled
                return cancelled
        return None

    def replace(self, client_order_id: str, request: OrderRequest) -> Order | None:
        """Replace a working order in one step (Alpaca's PATCH): the old one is ``canceled``
        (event ``replaced``, ``replaced_by`` the new one's id) and the new one works, or the
        new one is rejected and the old one keeps working."""
        index = next(
            (i for i, w in enumerate(self._working) if w.order.client_order_id == client_order_id),
            None,
        )
        if index is None:
            return None
        old = self._working.pop(index)  # its shares are free for the new order's checks
        ack = self.submit(request)
        if ack.status is OrderStatus.REJECTED:
            self._working.insert(index, old)
            return ack
        self._finish(
            replace(old.order, replaced_by=ack.broker_order_id or ack.client_order_id),
            OrderStatus.CANCELED,
            "replaced",
            f"replaced by {ack.client_order_id}",
        )
        return ack

    def cancel_all(self, keep: Callable[[Order], bool] | None = None) -> list[Order]:
        """Cancel every working order but those ``keep`` is true for."""
        gone = [w for w in self._working if keep is None or not keep(w.order)]
        self._working[:] = [w for w in self._working if w not in gone]
        cancelled = [replace(w.order, status=OrderStatus.CANCELED) for w in gone]
        for order in cancelled:
            self._orders_by_client_id[order.client_order_id] = order
        return cancelled

    def trading_ready(self) -> str | None:
        """Why orders must wait: only after ``suspend_trading``."""
        return "trading suspended after a halt" if self._suspended else None

    def suspend_trading(self) -> None:
        """Refuse every new order from now on (the local twin of Alpaca's suspend_trade)."""
        self._suspended = True

    def urgent(self) -> AbstractContextManager[None]:
        """No request budget locally: nothing to make room in."""
        return nullcontext()

    def orders_since(self, after: datetime) -> list[Order]:
        """A local account starts fresh each session: no order of an earlier run to find."""
        return []

    def adopt(self, order: Order) -> None:
        """A local account starts fresh each session: there is never an earlier order."""

    # -- matching ------------------------------------------------------------------------------

    def on_bars(self, bars: dict[str, Bar]) -> None:
        """Match working orders against the new bars, then mark positions at the closes."""
        self._reserve_memo = None  # fills and prices move: the working buys are summed anew
        still: list[Working] = []
        for working in self._working:
            bar = bars.get(working.order.symbol)
            if bar is None:
                still.append(working)
                continue
            day = self._trading_day(bar.timestamp)
            if working.session is None:
                working.session = day
            elif (
                day > working.session
                and working.order.order_type is not OrderType.MARKET
                and working.order.time_in_force is TimeInForce.DAY
            ):
                self._finish(working.order, OrderStatus.EXPIRED, "expired", "day order expired")
                continue
            order = working.order
            if order.order_class is OrderClass.OCO:
                reference, price = match_oco(order, bar, self.costs.slippage_bps / 1e4)
                done = price is not None and self._try_fill(order, bar, reference, price)
            elif order.order_type is OrderType.MARKET or order.order_type is OrderType.LIMIT:
                done = self._try_fill(order, bar)
            else:
                done = self._try_stop(working, bar)
            if not done:
                still.append(working)
        self._working = still
        positions = self._positions
        for symbol, bar in bars.items():
            close = bar.close
            self._last[symbol] = close
            held = positions.get(symbol)
            if held:
                positions[symbol] = marked(held, close)

    def _trading_day(self, ts: datetime) -> date:
        """``trading_day`` remembered for the last timestamp (a bar's orders share it)."""
        if ts != self._day_of[0]:
            self._day_of = (ts, trading_day(ts))
        return self._day_of[1]

    def _try_stop(self, working: Working, bar: Bar) -> bool:
        """Trigger and fill a stop, stop-limit or trailing stop on this bar; True when done."""
        reference, price = match_stop(working, bar, self.costs.slippage_bps / 1e4)
        if price is None:
            if working.order.order_type is OrderType.TRAILING_STOP:  # its stop moved
                self._orders_by_client_id[working.order.client_order_id] = working.order
            return False
        return self._try_fill(working.order, bar, reference, price)

    def _try_fill(
        self,
        order: Order,
        bar: Bar,
        reference: float | None = None,
        price: float | None = None,
    ) -> bool:
        """Fill the order on this bar if it trades (at ``price`` against ``reference`` when the
        caller already knows them: a triggered stop); True when the order is finished."""
        slip = self.costs.slippage_bps / 1e4
        if reference is None or price is None:
            reference, price = match(order, bar, slip)
            if price is None:
                return False
        # Slippage is what the costs moved the price, not the rounding to the broker's tick.
        slippage = abs(price - reference)
        price = round(price, 4)
        qty = order.remaining_qty
        commission = self.costs.commission(qty)
        if order.side is Side.BUY and not self.allow_short:
            cost = qty * price + commission
            if cost > self.cash + 1e-6:
                self._finish(
                    order,
                    OrderStatus.CANCELED,
                    "canceled",
                    f"insufficient cash at fill: need {cost:,.2f}, have {self.cash:,.2f}",
                )
                return True
        self._apply_fill(order.symbol, order.side, qty, price, commission)
        filled = Order(  # per fill: the constructor is several times cheaper than replace()
            order.client_order_id,
            order.symbol,
            order.side,
            order.qty,
            order.order_type,
            OrderStatus.FILLED,
            order.limit_price,
            order.time_in_force,
            order.filled_qty + qty,
            price,
            order.broker_order_id,
            order.submitted_at,
            order.reject_reason,
            order.stop_price,
            order.trail_percent,
            order.order_class,
        )
        self._orders_by_client_id[order.client_order_id] = filled
        fill = Fill(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            timestamp=bar.timestamp,
            commission=commission,
            slippage=round(slippage * qty, 6),
            fill_id=f"{order.broker_order_id}-1",
        )
        self._updates.append(OrderUpdate(filled, fill, "fill"))
        return True

    def _finish(self, order: Order, status: OrderStatus, event: str, reason: str) -> None:
        """Record an order ending without a fill, with the reason (the order row's error)."""
        done = replace(order, status=status, reject_reason=reason)
        self._orders_by_client_id[order.client_order_id] = done
        self._updates.append(OrderUpdate(done, None, event))

    def drain_updates(self) -> list[OrderUpdate]:
        """Fills and expiries since the last call."""
        updates, self._updates = self._updates, []
        return updates

    def take_contradictions(self) -> list[str]:
        """None: the simulated broker is its own single source of truth."""
        return []

    def close(self) -> None:
        """Nothing to release."""
