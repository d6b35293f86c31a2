"""Reading one session's audit rows into a ``PerformanceReport`` (the database must be open).

Times are market times where the rows have them (simulated and replayed sessions are reported by
the bars' own dates), wall-clock UTC otherwise. A trade is credited to the strategies named in
the rationale of the order that opened it (the order behind the fill at its entry time):
``trend``, ``trend+momentum`` when several pushed the target, ``manual`` for a hand-placed order,
``flatten`` for a flatten on halt, ``unattributed`` when no opening order is found.
"""

from __future__ import annotations

import re
from datetime import datetime

from tui_trader.core.orders import Side
from tui_trader.reporting.account_trips import account_trips
from tui_trader.reporting.metrics import (
    EquityPoint,
    FillRecord,
    PerformanceReport,
    TradeRecord,
    build_report,
)
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, SessionRow
from tui_trader.store.peewee_names import JOIN
from tui_trader.store.stored_numbers import readable, shown, shown_time, stored_parameters
from tui_trader.strategies.family import STRATEGY_NAMES

_NAMED = re.compile(r"(?:^|; )(" + "|".join(STRATEGY_NAMES) + r")(?: w=[-+0-9.]+)?: ")


def _time(table: str, row: object, market: object, wall: object) -> datetime | None:
    """The row's market time, or its wall-clock time; None (with a warning naming the row)
    when the one it has is no time (a hand edit): the row is left out of the report."""
    if market:
        return shown_time(market, table, row, "market_time")
    return shown_time(wall, table, row, "timestamp")


def strategy_of(rationale: str) -> str:
    """The strategies an order's rationale names, joined with '+' (see the module docstring)."""
    text = rationale.strip()
    if text.startswith("manual"):
        return "manual"
    if text.startswith("flatten"):
        return "flatten"
    names = list(dict.fromkeys(_NAMED.findall(text)))
    return "+".join(names) if names else "unattributed"


def start_equity(session: SessionRow, first_equity: float | None) -> float:
    """The session's starting cash (its parameters), else its first snapshot's equity."""
    cash = stored_parameters(session.parameters).get("start_cash")
    if readable(cash):  # a hand-edited "Infinity" or text is no starting cash
        return float(cash)  # type: ignore[arg-type]
    return first_equity or 0.0


def _numbers(
    table: str, row: object, columns: tuple[str, ...], values: list[object]
) -> list[float] | None:
    """A row's numbers, all readable, or None (with a warning for each unreadable one): a
    hand-edited ``inf`` or text must not crash the report nor skew it."""
    read = [shown(v, table, row, c) for c, v in zip(columns, values, strict=True)]
    return None if any(v is None for v in read) else read  # type: ignore[return-value]


def session_report(session: SessionRow) -> PerformanceReport:
    """Every figure of one session, from its snapshots and its orders' fills (whichever desk
    recorded them); its round trips are the account's that its orders' fills closed, rebuilt
    from the account's fills (``reporting.account_trips``)."""
    snaps = (
        AccountSnapshot.select(
            AccountSnapshot.id,
            AccountSnapshot.market_time,
            AccountSnapshot.timestamp,
            AccountSnapshot.equity,
        )
        .where(AccountSnapshot.session == session.id)
        .order_by(AccountSnapshot.id)
        .tuples()
    )
    # an unreadable (hand-edited) number leaves its point, fill or trade out, with a warning
    equity = [
        EquityPoint(when, value)
        for row, m, w, e in snaps
        if (value := shown(e, "live_account_snapshots", row, "equity")) is not None
        and (when := _time("live_account_snapshots", row, m, w)) is not None
    ]
    fill_rows = list(
        LiveFill.select(
            LiveFill.id,
            LiveFill.market_time,
            LiveFill.timestamp,
            LiveFill.symbol,
            LiveFill.side,
            LiveFill.quantity,
            LiveFill.price,
            LiveFill.commission,
            LiveFill.slippage,
        )
        .join(LiveOrder, on=(LiveFill.order == LiveOrder.id), join_type=JOIN.LEFT_OUTER)
        .where(  # its orders' fills, whichever desk recorded them, as its round trips are
            (LiveOrder.session == session.id)
            | (LiveOrder.id.is_null() & (LiveFill.session == session.id))
        )
        .order_by(LiveFill.id)
        .tuples()
    )
    fills: list[FillRecord] = []
    for row, market, wall, symbol, side, *numbers in fill_rows:
        read = _numbers("live_fills", row, ("quantity", "price", "commission", "slippage"), numbers)
        if read is None:
            continue
        qty, price, commission, slippage = read
        when = _time("live_fills", row, market, wall)
        if when is None:
            continue
        signed = qty if side == "buy" else -qty
        fills.append(FillRecord(when, symbol, signed, price, commission, slippage))
    trades = [
        TradeRecord(
            symbol=t.symbol,
            strategy=strategy_of(trip.opened_by),
            side="long" if t.side == Side.BUY else "short",
            quantity=t.quantity,
            entry_price=t.entry_price,
            exit_price=t.exit_price,
            entry_time=t.entry_time,
            exit_time=t.exit_time,
            pnl=t.pnl,
            pnl_pct=t.pnl_pct,
            commission=t.commission,
            slippage=t.slippage,
        )
        for trip in account_trips([session])
        for t in (trip.trade,)
    ]
    return build_report(
        start_equity(session, equity[0].equity if equity else None), equity, trades, fills
    )
