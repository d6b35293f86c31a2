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
