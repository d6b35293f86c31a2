"""Reading the audit trail back: the reports behind ``history``, ``pnl`` and ``status``.

Reports on simulated or replayed sessions group by market time (the bars' own dates); reports on
Alpaca sessions group by wall-clock time, which is the same thing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from peewee import fn

from tui_trader.core.domain import Position
from tui_trader.store.models import (
    AccountSnapshot,
    LiveOrder,
    RiskEventRow,
    SessionRow,
)
from tui_trader.store.stored_numbers import note_undated, readable, shown, stored_parameters
from tui_trader.store.stored_positions import shown_positions


@dataclass(frozen=True, slots=True)
class DayPnl:
    """One day of a PnL report."""

    day: date
    trades: int
    realized: float | None
    """None: a trade's stored PnL is unreadable (hand-edited), so the day's sum is too."""
    end_equity: float | None
    equity_change: float | None


MAX_ROW_ID = 2**63 - 1
"""The largest id a row can have (SQLite's INTEGER and PostgreSQL's BIGINT alike)."""

ROW_ID_DIGITS = len(str(MAX_ROW_ID))
"""How many digits the largest row id has (19): a longer run of digits is no row id."""


def find_session(key: str | None = None) -> SessionRow | None:
    """A session by key (or numeric id), or the most recent one.

    Only ASCII digits are an id, and only up to the largest row id: ``str.isdigit`` takes
    ``５`` (read as id 5) and a 23-digit number reached the database driver, which raised
    ``OverflowError`` (exit 1 from ``history``, ``status``, ``report`` and the monitor). The
    length is looked at before ``int()``, which refuses more than 4,300 digits (``ValueError``,
    exit 1 from the same commands for a pasted run of digits)."""
    query = SessionRow.select()
    if key:
        cond = SessionRow.key == key
        if key.isascii() and key.isdigit() and len(key) <= ROW_ID_DIGITS and int(key) <= MAX_ROW_ID:
            cond = cond | (SessionRow.id == int(key))
        return query.where(cond).first()
    return query.order_by(SessionRow.id.desc()).first()


def sessions_of_account(account_key: str) -> list[SessionRow]:
    """Every session that traded an account, oldest first."""
    return list(
        SessionRow.select().where(SessionRow.account_key == account_key).order_by(SessionRow.id)
    )


def latest_alpaca_sessions() -> list[SessionRow]:
    """All sessions of the Alpaca account traded most recently."""
    last = (
        SessionRow.select()
        .where(SessionRow.account_key.startswith("alpaca:"))
        .order_by(SessionRow.id.desc())
        .first()
    )
    return sessions_of_account(last.account_key) if last else []


def _ids(sessions: list[SessionRow] | None) -> list[int] | None:
    """Session ids for a filter, or None for every session."""
    return None if sessions is None else [s.id for s in sessions]


def has_risk_event(account_key: str, event_type: str, detail: str) -> bool:
    """Whether the account's audit trail holds a risk event of ``event_type`` with the words
    ``detail`` (a halt kept on disk that a reset or a start has written already)."""
    query = RiskEventRow.select(RiskEventRow.id).where(
        (RiskEventRow.account_key == account_key)
        & (RiskEventRow.event_type == event_type)
        & (RiskEventRow.detail == detail)
    )
    return query.exists()


def recent_orders(limit: int, sessions: list[SessionRow] | None = None) -> list[LiveOrder]:
    """The latest orders, newest first."""
    query = LiveOrder.select()
    if sessions is not None:
        query = query.where(LiveOrder.session.in_(_ids(sessions)))
    return list(query.order_by(LiveOrder.id.desc()).limit(limit))


def _day_expr(model: type[AccountSnapshot], by_market: bool):
    """``date(market_time)`` or ``date(timestamp)`` for grouping."""
    column = model.market_time if by_market else model.timestamp
    return fn.date(column).coerce(False)


def pnl_by_day(
    days: int,
    sessions: list[SessionRow] | None,
    realized: dict[date, tuple[int, float]],
    by_market: bool = True,
    notes: list[str] | None = None,
) -> list[DayPnl]:
    """Realized PnL, trade count and closing equity per day over the last ``days`` days;
    ``realized``: each exit day's count of round trips and their PnL, as ``report`` counts them
    (``reporting.account_pnl``: this summed each desk's own ``live_trades``, which on a shared
    account are not the account's round trips). An unreadable stored equity (a hand edit) is
    left out, with its note (``stored_numbers.shown``, into ``notes`` when given).

    "Last" counts back from the newest day in the data, so a simulated 2024 session reports
    its own last week rather than an empty today.
    """
    snap_day = _day_expr(AccountSnapshot, by_market)
    last_ids = AccountSnapshot.select(fn.MAX(AccountSnapshot.id))
    if sessions is not None:
        last_ids = last_ids.where(AccountSnapshot.session.in_(_ids(sessions)))
    # each day's last snapshot by id: portable SQL (PostgreSQL has no bare columns beside MAX)
    snaps = AccountSnapshot.select(
        snap_day.alias("day"), AccountSnapshot.id, AccountSnapshot.equity
    ).where(AccountSnapshot.id.in_(last_ids.group_by(snap_day)))
    trade_rows = {day.isoformat(): numbers for day, numbers in realized.items()}
    when = "market_time" if by_market else "timestamp"  # the column the day comes from
    equity: dict[str, float | None] = {}
    for row in snaps.dicts():
        if _day(row["day"]) is None:
            note_undated("live_account_snapshots", row["id"], when, notes)
            continue
        equity[str(row["day"])] = shown(
            row["equity"], "live_account_snapshots", row["id"], "equity", notes
        )
    all_days = sorted(set(trade_rows) | set(equity))
    if not all_days:
        return []
    last = date.fromisoformat(all_days[-1])
    first = last - timedelta(days=days - 1)
    out: list[DayPnl] = []
    previous: float | None = None
    if sessions:
        start_cash = stored_parameters(sessions[0].parameters).get("start_cash")
        previous = readable(start_cash)
    for text in all_days:
        day = date.fromisoformat(text)
        end = equity.get(text)
        change = end - previous if end is not None and previous is not None else None
        if text in equity:  # an unreadable end breaks the chain of changes: no guessed change
            previous = end
        if day < first:
            continue
        n, made = trade_rows.get(text, (0, 0.0))
        out.append(DayPnl(day, n, made, end, change))
    return out


def _day(value: object) -> date | None:
    """A row's day as the database computed it, or None when it is no date: SQLite's
    ``date()`` of a time a hand edit left as text is NULL, of a number a day thousands of years
    BC ('-4679-09-12'), which ended ``pnl`` with a crash line."""
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def last_snapshot(session: SessionRow | None) -> AccountSnapshot | None:
    """The newest account snapshot of a session (or of any session)."""
    query = AccountSnapshot.select()
    if session is not None:
        query = query.where(AccountSnapshot.session == session.id)
    return query.order_by(AccountSnapshot.id.desc()).first()


SNAPSHOT_NUMBERS = ("cash", "equity", "buying_power", "drawdown_pct", "daily_pnl")


def snapshot_numbers(snapshot: AccountSnapshot) -> dict[str, float | None]:
    """A snapshot's figures by column name, None (with a warning) where one is unreadable."""
    return {
        name: shown(getattr(snapshot, name), "live_account_snapshots", snapshot.id, name)
        for name in SNAPSHOT_NUMBERS
    }


def snapshot_positions(snapshot: AccountSnapshot) -> list[Position]:
    """The open positions a snapshot recorded; one that cannot be read (a hand-edited row) is
    left out, with a warning (``store.stored_positions``)."""
    return shown_positions(snapshot)
