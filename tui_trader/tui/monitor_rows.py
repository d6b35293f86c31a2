"""The rows ``live monitor`` shows, held to what a session writes before they are shown.

The monitor follows a store that may be shared and edited by hand. It turned each row into the
dashboard's values as it found them: a snapshot's ``iteration`` of ``inf`` showed as "iter inf",
an equity of ``1e308`` as a 309-digit amount, and a state, side or order type no session writes
(``'bogus'``), a time that is no time or positions that are not JSON stopped the monitor with a
crash. Here each row is read as the reports read it (``store.stored_numbers``,
``store.stored_positions``): a snapshot, order, fill or risk event holding a value nobody can
read is left out of what is shown, and ``notes`` gets one line naming its table, row and column,
which the dashboard shows in its event log. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.domain import Position, RiskEvent, TradingState
from tui_trader.core.orders import Fill, Order, OrderStatus, OrderType, Side
from tui_trader.store.db import from_db_time
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, RiskEventRow
from tui_trader.store.stored_numbers import note_unreadable, readable, whole
from tui_trader.store.stored_positions import shown_positions

NUMBER = "a readable number"
STATES = "'active' or 'halted'"


@dataclass(frozen=True, slots=True)
class ReadSnapshot:
    """A snapshot whose every figure could be read."""

    iteration: int
    market_time: datetime
    cash: float
    equity: float
    buying_power: float
    drawdown_pct: float
    daily_pnl: float
    state: TradingState
    positions: tuple[Position, ...]


def _time(value: object) -> datetime | None:
    """A stored time, or None when it is no time (text a hand edit left)."""
    try:
        return from_db_time(value)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError):  # text; a number (no tzinfo)
        return None


def _figures(
    row: object, table: str, names: tuple[str, ...], notes: list[str], nullable: bool = False
) -> list[float | None] | None:
    """The row's numbers ``names``, or None (one note) when any is not a readable number
    (``nullable``: an empty one reads as None)."""
    out: list[float | None] = []
    for name in names:
        value = getattr(row, name)
        number = readable(value)
        if number is None and not (nullable and value is None):
            note_unreadable(table, row.id, name, value, NUMBER, notes)  # type: ignore[attr-defined]
            return None
        out.append(number)
    return out


def read_snapshot(snap: AccountSnapshot, notes: list[str]) -> ReadSnapshot | None:
    """A snapshot as the dashboard shows it, or None (with a note) when any figure of it
    cannot be read; positions that cannot be read are left out (noted)."""
    table = "live_account_snapshots"
    iteration = 0 if snap.iteration is None else whole(snap.iteration)
    if iteration is None or iteration < 0:
        note_unreadable(table, snap.id, "iteration", snap.iteration, "a count from 0 up", notes)
        return None
    names = ("cash", "equity", "buying_power", "drawdown_pct", "daily_pnl")
    figures = _figures(snap, table, names, notes)
    if figures is None:
        return None
    try:
        state = TradingState(snap.state)
    except ValueError:
        note_unreadable(table, snap.id, "state", snap.state, STATES, notes)
        return None
    when = _time(snap.market_time or snap.timestamp)
    if when is None:
        column = "market_time" if snap.market_time else "timestamp"
        note_unreadable(table, snap.id, column, getattr(snap, column), "a time", notes)
        return None
    cash, equity, power, drawdown, day = (float(f or 0.0) for f in figures)
    positions = tuple(shown_positions(snap, notes))
    return ReadSnapshot(iteration, when, cash, equity, power, drawdown, day, state, positions)


def read_order(row: LiveOrder, notes: list[str]) -> Order | None:
    """An order row as the domain's ``Order``, or None (with a note) when its side, type or a
    figure cannot be read; an unknown status reads as ``UNKNOWN``, as the broker code does."""
    table = "live_orders"
    try:
        side = Side(row.side)
    except ValueError:
        note_unreadable(table, row.id, "side", row.side, "'buy' or 'sell'", notes)
        return None
    try:
        kind = OrderType(row.order_type)
    except ValueError:
        note_unreadable(table, row.id, "order_type", row.order_type, "an order type", notes)
        return None
    quantity = _figures(row, table, ("quantity",), notes)
    names = ("limit_price", "filled_qty", "filled_price")
    figures = quantity and _figures(row, table, names, notes, nullable=True)
    if not quantity or figures is None:
        return None
    qty, (limit, filled, price) = float(quantity[0] or 0.0), figures
    try:
        status = OrderStatus(row.status)
    except ValueError:
        status = OrderStatus.UNKNOWN
    return Order(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=side,
        qty=qty,
        order_type=kind,
        status=status,
        limit_price=limit,
        filled_qty=filled or 0.0,
        filled_avg_price=price,
        submitted_at=_time(row.timestamp),
        reject_reason=row.error,
    )


def read_fill(row: LiveFill, notes: list[str]) -> Fill | None:
    """A fill row as the domain's ``Fill``, or None (with a note) when its side, a figure or
    its time cannot be read."""
    table = "live_fills"
    try:
        side = Side(row.side)
    except ValueError:
        note_unreadable(table, row.id, "side", row.side, "'buy' or 'sell'", notes)
        return None
    figures = _figures(row, table, ("quantity", "price", "commission", "slippage"), notes)
    when = _time(row.market_time or row.timestamp)
    if figures is None:
        return None
    if when is None:
        note_unreadable(table, row.id, "market_time", row.market_time, "a time", notes)
        return None
    qty, price, commission, slippage = (float(f or 0.0) for f in figures)
    order = row.order.client_order_id if row.order else ""
    return Fill(order, row.symbol, side, qty, price, when, commission, slippage)


def read_event(row: RiskEventRow, notes: list[str]) -> RiskEvent | None:
    """A risk event row as the domain's ``RiskEvent``, or None (with a note) when its value or
    limit cannot be read."""
    figures = _figures(row, "live_risk_events", ("value", "limit"), notes)
    if figures is None:
        return None
    value, limit = (float(f or 0.0) for f in figures)
    return RiskEvent(row.event_type, value, limit, row.action_taken, row.symbol, row.detail)


def read_risk_state(
    account_key: str, state: object, orders_today: object, notes: list[str]
) -> tuple[TradingState | None, int | None]:
    """The account's trading state and the day's order count from its ``risk_state`` row;
    either None (with a note) when it cannot be read."""
    table = "risk_state"
    try:
        trading = None if state is None else TradingState(state)
    except ValueError:
        note_unreadable(table, account_key, "state", state, STATES, notes)
        trading = None
    count = whole(orders_today)
    if count is None or count < 0:
        note_unreadable(
            table, account_key, "orders_today", orders_today, "a count from 0 up", notes
        )
        count = None
    return trading, count
