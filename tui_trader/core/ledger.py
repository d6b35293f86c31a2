"""Round trips: turning a stream of fills into closed trades with their true cost.

A position's entry costs (commission and slippage) travel with it per share, so that when part
or all of it is closed the trade row carries its share of the entry costs plus the exit's. The
average-cost method matches what brokers (Alpaca included) report as ``avg_entry_price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.orders import Fill, Side


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One closed round trip (or the closed part of one)."""

    symbol: str
    side: Side
    """The entry side: BUY for a long round trip, SELL for a short one."""
    quantity: float
    entry_price: float
    exit_price: float
    entry_time: datetime
    exit_time: datetime
    commission: float
    slippage: float
    pnl: float
    """Net of commission; slippage is already inside the fill prices."""
    pnl_pct: float
    """``pnl`` as a percentage of the entry value."""
    client_order_id: str


@dataclass(slots=True)
class _Open:
    """What is open in one symbol: signed quantity, average price, costs carried per share."""

    qty: float
    avg_price: float
    cost_per_share: float
    slip_per_share: float
    opened: datetime


class TradeLedger:
    """Feeds on fills and hands back the round trips they close."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}

    def on_fill(self, fill: Fill) -> list[ClosedTrade]:
        """Apply one fill; return the trade it closes, if it reduces or flips a position."""
        signed = fill.qty * fill.side.sign
        held = self._open.get(fill.symbol)
        fee_ps = fill.commission / fill.qty if fill.qty else 0.0
        slip_ps = fill.slippage / fill.qty if fill.qty else 0.0
        if held is None or held.qty * signed > 0:
            self._grow(fill, signed, fee_ps, slip_ps, held)
            return []
        closing = min(abs(signed), abs(held.qty))
        direction = 1.0 if held.qty > 0 else -1.0
        gross = (fill.price - held.avg_price) * closing * direction
        commission = (held.cost_per_share + fee_ps) * closing
        slippage = (held.slip_per_share + slip_ps) * closing
        pnl = gross - commission
        basis = held.avg_price * closing
        trade = ClosedTrade(
            symbol=fill.symbol,
            side=Side.BUY if direction > 0 else Side.SELL,
            quantity=closing,
            entry_price=held.avg_price,
            exit_price=fill.price,
            entry_time=held.opened,
            exit_time=fill.timestamp,
            commission=commission,
            slippage=slippage,
            pnl=pnl,
            pnl_pct=100.0 * pnl / basis if basis else 0.0,
            client_order_id=fill.client_order_id,
        )
        left = held.qty + signed
        if abs(left) < 1e-9:
            del self._open[fill.symbol]
        elif left * held.qty > 0:
            held.qty = left
        else:  # flipped: the rest of the fill opens a new position the other way
            self._open[fill.symbol] = _Open(left, fill.price, fee_ps, slip_ps, fill.timestamp)
        return [trade]

    def _grow(
        self, fill: Fill, signed: float, fee_ps: float, slip_ps: float, held: _Open | None
    ) -> None:
        """Open or add to a position, averaging its price and carried costs."""
        if held is None:
            self._open[fill.symbol] = _Open(signed, fill.price, fee_ps, slip_ps, fill.timestamp)
            return
        total = abs(held.qty) + abs(signed)
        held.avg_price = (held.avg_price * abs(held.qty) + fill.price * abs(signed)) / total
        held.cost_per_share = (held.cost_per_share * abs(held.qty) + fee_ps * abs(signed)) / total
        held.slip_per_share = (held.slip_per_share * abs(held.qty) + slip_ps * abs(signed)) / total
        held.qty += signed

    def seed(self, symbol: str, qty: float, avg_price: float, opened: datetime) -> None:
        """Start from a position that existed before this session (costs unknown, so zero)."""
        if abs(qty) > 1e-9:
            self._open[symbol] = _Open(qty, avg_price, 0.0, 0.0, opened)
        else:
            self._open.pop(symbol, None)

    def top_up(self, symbol: str, qty: float, avg_price: float, opened: datetime) -> None:
        """Add ``qty`` (signed, the side of what is open or any side when flat) at
        ``avg_price``, costs unknown: shares the account held that another desk's fills
        brought, before this desk's fill closes them (``engine.ledger_beside``, whose
        ``_lot_beside`` says how many and at what price)."""
        fill_side = Side.BUY if qty > 0 else Side.SELL
        held = self._open.get(symbol)
        if held is not None and held.qty * qty < 0:
            return  # (never asked: the caller tops up the side open)
        lot = Fill("", symbol, fill_side, abs(qty), avg_price, opened)
        self._grow(lot, qty, 0.0, 0.0, held)

    def held(self, symbol: str) -> float:
        """The signed quantity open in ``symbol`` (0 when flat)."""
        held = self._open.get(symbol)
        return held.qty if held is not None else 0.0

    def average(self, symbol: str) -> float:
        """The average entry price of what is open in ``symbol`` (0 when flat)."""
        held = self._open.get(symbol)
        return held.avg_price if held is not None else 0.0


def positions_before(
    now: dict[str, tuple[float, float]],
    fills: list[Fill],
    earlier: dict[str, tuple[float, float]],
) -> dict[str, tuple[float, float]]:
    """Each symbol's (quantity, average price) before ``fills``, from the positions ``now``
    that already include them, so that a ledger seeded with these and then fed the fills ends
    at ``now`` and books the round trips they close.

    The fills are executions made while no session watched (a protective stop that filled
    overnight): the broker's positions already hold them, and a ledger seeded from those and
    fed the fills again books them twice (a sold-out long became a phantom short). The price
    of what was held before comes from ``earlier`` (the account's last snapshot) when its
    quantity matches, else from the broker's average while the position kept its side, else
    from the first fill (a round trip of unknown entry then books no profit)."""
    by_symbol: dict[str, list[Fill]] = {}
    for fill in fills:
        by_symbol.setdefault(fill.symbol, []).append(fill)
    out = {}
    for symbol in set(now) | set(by_symbol):
        qty, avg = now.get(symbol, (0.0, 0.0))
        own = by_symbol.get(symbol)
        if not own:
            out[symbol] = (qty, avg)
            continue
        before = qty - sum(f.qty * f.side.sign for f in own)
        if abs(before) < 1e-9:
            continue
        was_qty, was_avg = earlier.get(symbol, (0.0, 0.0))
        same_side = qty * before > 0 and avg > 0
        if abs(was_qty - before) < 1e-9 and was_avg > 0:
            price = was_avg
        elif same_side and all(f.side.sign * before > 0 for f in own):  # only added to it
            added = sum(f.qty * f.price for f in own)
            price = (avg * abs(qty) - added) / abs(before)
        elif same_side and all(f.side.sign * before < 0 for f in own):  # only reduced it
            price = avg  # average cost: selling part does not move the average
        else:
            price = own[0].price
        out[symbol] = (before, price if price > 0 else avg)
    return out
