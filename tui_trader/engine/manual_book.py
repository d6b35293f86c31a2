"""What an order by hand is measured against: the account as it really is, not a read behind it.

Two reads can be behind the account, and an order by hand sized on either sold what it must
not (the strategies already guard against both):

- A cancel the broker only accepted (Alpaca's 204, then ``pending_cancel``): the order may still
  fill before the cancel reaches the exchange, yet while the trade-updates stream is up it is no
  longer among the working orders listed. A close (``c``) cancels the symbol's orders and then
  sized itself as if they could not fill: beside a sell still working, Alpaca rejected the close
  ("insufficient qty"), and had it gone out the account would have ended short. Such an order
  is counted as working (``with_unconfirmed``) until its symbol has no order that may still
  fill, and a close takes only what can never flip the position (``Holding.closable``),
  saying what may be left and what to do (``left_note``).
- A position read lagging a fill of an order still working (``engine.outside_changes``): with
  5 of a 10-share sell filled and the read still showing 10, a second sell of 5 passed as
  covered and the account ended short. The symbol's position is taken from what the session's
  own fills make of it while the two disagree (``as_fills_make``).

Pure values only; the session's thread calls these from ``engine.manual_orders``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, Side
from tui_trader.core.prices import exact_text
from tui_trader.risk.gate import ORDER_RATE
from tui_trader.risk.holdings import Holding

TOLERANCE = 1e-9
"""Shares below which a quantity is none (fractional fills are rounded to 1e-9)."""


def still_working(order: Order) -> Order:
    """``order`` (cancelled on the broker's 204 alone) as a working order, with what it has
    left to fill: what the gate counts while its end is not confirmed."""
    return replace(order, status=OrderStatus.NEW, cancel_pending=False)


def with_unconfirmed(working: list[Order], unconfirmed: Iterable[Order]) -> list[Order]:
    """The working orders listed plus the orders whose cancel is not confirmed yet that the
    listing leaves out (a listing that shows one, read without the stream, counts it once)."""
    listed = {order.client_order_id for order in working}
    extra = [still_working(o) for o in unconfirmed if o.client_order_id not in listed]
    return [*working, *extra]


def as_fills_make(
    positions: Mapping[str, Position],
    working: Collection[str],
    fills_make: Callable[[str], float | None],
) -> dict[str, Position]:
    """``positions`` with each symbol where an order of the session works (``working``) and
    the read disagrees with what the session's fills make of it (``fills_make``; ``None``: no
    such figure) taken at the fills' figure: the read lags a fill."""
    out = dict(positions)
    for symbol in working:
        want = fills_make(symbol)
        if want is None:
            continue
        position = positions.get(symbol)
        if abs((position.qty if position is not None else 0.0) - want) <= TOLERANCE:
            continue
        if abs(want) <= TOLERANCE:
            out.pop(symbol, None)
        else:
            out[symbol] = replace(position or Position(symbol, 0.0, 0.0, 0.0), qty=want)
    return out


def left_note(
    symbol: str, held: float, sent: float, pending: Collection[Order], key: str
) -> str | None:
    """What a close of ``sent`` of the ``held`` shares leaves beside ``pending`` orders whose
    cancel is not confirmed yet, and what to do (press ``key`` again once they end); ``None``
    when nothing may be left. A sell of a long (a buy of a short) still working keeps the
    shares it may sell; one the other way may add shares after the close."""
    if not pending:
        return None
    sign = 1 if held > 0 else -1
    sent_words = f"{exact_text(sent)} {symbol} sent to close"
    parts = [sent_words if sent > TOLERANCE else f"no {symbol} sent"]
    left = abs(held) - sent
    if left > TOLERANCE:
        way = Side.SELL if sign > 0 else Side.BUY
        parts.append(
            f"{exact_text(left)} are left to a {way} whose cancel is not confirmed yet "
            "(it may still fill)"
        )
    more = sum(o.qty - o.filled_qty for o in pending if o.side.sign == sign)
    if more > TOLERANCE:
        way = "bought" if sign > 0 else "sold"
        parts.append(
            f"{exact_text(more)} more may be {way} by an order whose cancel is not confirmed yet"
        )
    if len(parts) == 1:
        return None
    return "; ".join(parts) + f": press {key} again once it ends"


def sold_beside(request: OrderRequest, listed: Holding, free: Holding) -> str | None:
    """Why a sale by hand is not sent beside others' sales still working that have filled in
    part (``risk.holdings.less_sales_filled``: ``listed`` is the symbol's holding as the
    listing makes it, ``free`` less those fills): the positions may not show the fills yet
    (Alpaca's lag those of an order still working), so the sale, sized on them, could sell those
    shares again (``holds32``); ``None`` where it fits, or where those fills change nothing."""
    if request.side is not Side.SELL or request.qty <= max(free.sellable, 0.0) + TOLERANCE:
        return None
    if request.qty > max(listed.sellable, 0.0) + TOLERANCE:
        return None  # refused by the gate as before: not for those fills
    what = f"manual sell {exact_text(request.qty)} {request.symbol} not sent"
    return f"{what}: {sold_words(request.symbol, listed, free)}; try again once they have ended"


def sold_words(symbol: str, listed: Holding, free: Holding) -> str:
    """Why a sale in ``symbol`` beside others' sales filled in part is not sent (``listed``:
    the symbol's holding as the listing makes it, ``free``: less those fills), in words."""
    sold, left = listed.sellable - free.sellable, max(free.sellable, 0.0)
    return (
        f"other orders still working in {symbol} have sold {exact_text(sold)} shares already, "
        f"which the positions read may not show yet, so at most {exact_text(left)} are free "
        "to sell"
    )


def past_limit(order: OrderRequest, count: int, limit: int) -> RiskEvent:
    """A manual order sent past the day's order limit (it only closes what is held), in the
    desk's words: recorded like the limit's refusals, so the log says why the count is over."""
    what = (
        f"manual {order.side} {exact_text(order.qty)} {order.symbol} sent past the day's "
        "order limit"
    )
    said = f"{what} ({count} of {limit}): it only closes what is held"
    return RiskEvent(ORDER_RATE, float(count), float(limit), said, symbol=order.symbol)
