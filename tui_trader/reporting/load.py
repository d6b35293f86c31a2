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

from tui_trader.reporting.metrics import (
    EquityPoint,
    FillRecord,
    PerformanceReport,
    TradeRecord,
    build_report,
)
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, LiveTrade, SessionRow
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


_TRADE_NUMBERS = (
    "quantity",
    "entry_price",
    "exit_price",
    "pnl",
    "pnl_pct",
    "commission",
    "slippage",
)


def _numbers(
    table: str, row: object, columns: tuple[str, ...], values: list[object]
) -> list[float] | None:
    """A row's numbers, all readable, or None (with a warning for each unreadable one): a
    hand-edited ``inf`` or text must not crash the report nor skew it."""
    read = [shown(v, table, row, c) for c, v in zip(columns, values, strict=True)]
    return None if any(v is None for v in read) else read  # type: ignore[return-value]


def session_report(session: SessionRow) -> PerformanceReport:
    """Every figure of one session, from its snapshots, fills, trades and orders."""
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
            LiveOrder.rationale,
        )
        .join(LiveOrder, on=(LiveFill.order == LiveOrder.id), join_type=JOIN.LEFT_OUTER)
        .where(LiveFill.session == session.id)
        .order_by(LiveFill.id)
        .tuples()
    )
    fills: list[FillRecord] = []
    opened_by: dict[tuple[str, datetime], str] = {}
    for row, market, wall, symbol, side, *numbers, rationale in fill_rows:
        read = _numbers("live_fills", row, ("quantity", "price", "commission", "slippage"), numbers)
        if read is None:
            continue
        qty, price, commission, slippage = read
        when = _time("live_fills", row, market, wall)
        if when is None:
            continue
        signed = qty if side == "buy" else -qty
        fills.append(FillRecord(when, symbol, signed, price, commission, slippage))
        opened_by.setdefault((symbol, when), strategy_of(rationale or ""))
        stamped = shown_time(wall, "live_fills", row, "timestamp")
        opened_by.setdefault((symbol, stamped), strategy_of(rationale or ""))  # type: ignore[arg-type]
    trades: list[TradeRecord] = []
    for t in LiveTrade.select().where(LiveTrade.session == session.id).order_by(LiveTrade.id):
        read = _numbers(
            "live_trades", t.id, _TRADE_NUMBERS, [getattr(t, n) for n in _TRADE_NUMBERS]
        )
        if read is None:
            continue
        quantity, entry_price, exit_price, pnl, pnl_pct, commission, slippage = read
        exit_time = _time("live_trades", t.id, t.market_time, t.timestamp)
        if exit_time is None:
            continue
        entry = shown_time(t.entry_time or None, "live_trades", t.id, "entry_time")
        trades.append(
            TradeRecord(
                symbol=t.symbol,
                strategy=opened_by.get((t.symbol, entry), "unattributed")
                if entry
                else "unattributed",
                side="long" if t.side == "buy" else "short",
                quantity=quantity,
                entry_price=entry_price,
                exit_price=exit_price,
                entry_time=entry,
                exit_time=exit_time,
                pnl=pnl,
                pnl_pct=pnl_pct,
                commission=commission,
                slippage=slippage,
            )
        )
    return build_report(
        start_equity(session, equity[0].equity if equity else None), equity, trades, fills
    )
