"""Paged, filtered, sorted reads of the audit trail for the history browser and its CSV export.

Every read is bounded (``LIMIT``/``OFFSET`` pages, CSV written in chunks), so a database of a
hundred thousand orders never lands in memory at once; reads go through WAL, so they run while a
session writes. Column names are whitelisted: a sort key from the UI never reaches SQL as text.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from peewee import Field, FloatField, ModelSelect, fn

from tui_trader.security.private_files import make_private_dir, open_private
from tui_trader.store.liveness import shown_status
from tui_trader.store.models import (
    LiveFill,
    LiveOrder,
    LiveTrade,
    RiskEventRow,
    SessionRow,
    filed_at,
)
from tui_trader.store.stored_numbers import readable, shown

PAGE_SIZE = 100
EXPORT_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Column:
    """A browser column: header, the field it shows, its fixed width."""

    title: str
    field: Field
    width: int


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What the user narrowed the view to; empty values mean "any"."""

    symbol: str = ""
    side: str = ""
    start: date | None = None
    end: date | None = None
    session_id: int | None = None
    event_type: str = ""


def _when(model: Any) -> Any:
    """The time a row is filed under: its bar time when it has one, else its wall time
    (indexed with the id: ``store.models.filed_at``)."""
    return filed_at(model)


VIEWS: dict[str, tuple[Any, tuple[Column, ...]]] = {
    "orders": (
        LiveOrder,
        (
            Column("Id", LiveOrder.id, 6),
            Column("Bar time", LiveOrder.market_time, 16),
            Column("Sess", LiveOrder.session, 4),
            Column("Symbol", LiveOrder.symbol, 6),
            Column("Side", LiveOrder.side, 4),
            Column("Qty", LiveOrder.quantity, 8),
            Column("Type", LiveOrder.order_type, 6),
            Column("Status", LiveOrder.status, 16),
            Column("Filled", LiveOrder.filled_qty, 8),
            Column("Fill px", LiveOrder.filled_price, 9),
            Column("Error", LiveOrder.error, 12),
        ),
    ),
    "trades": (
        LiveTrade,
        (
            Column("Id", LiveTrade.id, 6),
            Column("Exit bar", LiveTrade.market_time, 16),
            Column("Sess", LiveTrade.session, 4),
            Column("Symbol", LiveTrade.symbol, 6),
            Column("Side", LiveTrade.side, 5),
            Column("Qty", LiveTrade.quantity, 8),
            Column("Entry", LiveTrade.entry_price, 9),
            Column("Exit", LiveTrade.exit_price, 9),
            Column("PnL", LiveTrade.pnl, 10),
            Column("PnL %", LiveTrade.pnl_pct, 7),
            Column("Fees", LiveTrade.commission, 7),
        ),
    ),
    "events": (
        RiskEventRow,
        (
            Column("Id", RiskEventRow.id, 6),
            Column("Bar time", RiskEventRow.market_time, 16),
            Column("Sess", RiskEventRow.session, 4),
            Column("Event", RiskEventRow.event_type, 20),
            Column("Value", RiskEventRow.value, 8),
            Column("Limit", RiskEventRow.limit, 7),
            Column("Symbol", RiskEventRow.symbol, 6),
            Column("Action", RiskEventRow.action_taken, 34),
        ),
    ),
}
"""The browsable tables, with their columns in display order."""


def _query(view: str, filt: HistoryFilter, fields: list[Any]) -> ModelSelect:
    """The filtered select of one view (no order, no limit)."""
    model, _ = VIEWS[view]
    query = model.select(*fields)
    if filt.symbol:
        query = query.where(model.symbol == filt.symbol.upper())
    if filt.side and view in ("orders", "trades"):
        query = query.where(model.side == filt.side)
    if filt.event_type and view == "events":
        query = query.where(model.event_type.contains(filt.event_type))
    if filt.session_id is not None:
        query = query.where(model.session == filt.session_id)
    if filt.start is not None:
        query = query.where(_when(model) >= filt.start.isoformat())
    if filt.end is not None:
        query = query.where(_when(model) < (filt.end + timedelta(days=1)).isoformat())
    return query


def _ordered(view: str, query: ModelSelect, sort: str, descending: bool) -> ModelSelect:
    """Order by a whitelisted column (then id, so pages are stable)."""
    model, columns = VIEWS[view]
    by = {c.title: c.field for c in columns}.get(sort, model.id)
    if by is getattr(model, "market_time", None):  # a row without a bar by its wall time
        by = _when(model)  # so the index serves the sort (``store.models.filed_at``)
    key = by.desc() if descending else by.asc()
    tie = model.id.desc() if descending else model.id.asc()
    return query.order_by(key, tie)


def fetch_page(
    view: str,
    filt: HistoryFilter,
    sort: str = "Id",
    descending: bool = True,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> tuple[list[tuple], int]:
    """One page of rows (as tuples in column order) and the number of matching rows."""
    _, columns = VIEWS[view]
    fields = [c.field for c in columns]
    total = _query(view, filt, [fn.COUNT(VIEWS[view][0].id)]).scalar() or 0
    query = _ordered(view, _query(view, filt, fields), sort, descending)
    return list(query.offset(offset).limit(limit).tuples()), int(total)


def shown_rows(
    view: str, rows: list[tuple], notes: list[str], unreadable: object = None
) -> list[tuple]:
    """``rows`` of ``view`` (``fetch_page``'s) with each number column read as the command
    line's ``history`` reads it (``stored_numbers.shown``): a hand-edited value (``inf``,
    ``1e308``, text) becomes ``unreadable``, with a note in ``notes`` naming its table, row and
    column. The id is each view's first column."""
    model, columns = VIEWS[view]
    table = model._meta.table_name
    numeric = [isinstance(c.field, FloatField) for c in columns]
    out = []
    for row in rows:
        cells = []
        for is_number, column, value in zip(numeric, columns, row, strict=True):
            if is_number and value is not None:
                number = shown(value, table, row[0], column.field.column_name, notes)
                value = unreadable if number is None else number
            cells.append(value)
        out.append(tuple(cells))
    return out


def iter_rows(
    view: str, filt: HistoryFilter, sort: str = "Id", descending: bool = True
) -> Iterator[tuple]:
    """Every matching row, read in bounded chunks."""
    _, columns = VIEWS[view]
    fields = [c.field for c in columns]
    offset = 0
    while True:
        query = _ordered(view, _query(view, filt, fields), sort, descending)
        chunk = list(query.offset(offset).limit(EXPORT_CHUNK).tuples())
        yield from chunk
        if len(chunk) < EXPORT_CHUNK:
            return
        offset += EXPORT_CHUNK


def export_csv(
    view: str,
    filt: HistoryFilter,
    path: Path,
    sort: str = "Id",
    descending: bool = True,
    unreadable: dict[str, int] | None = None,
    rows: Iterable[tuple] | None = None,
) -> int:
    """Write the whole filtered view (all pages) to ``path``, or ``rows`` when given (the
    trades view's round trips: ``reporting.trip_pages``); return the rows written.

    The rows go to a hidden file beside ``path`` that is renamed to it once complete: a file
    under the export's name is always whole (a spreadsheet or script watching the folder never
    reads half an export), and a failed export leaves nothing behind.

    A stored number nobody can read (a hand edit: ``inf``, text, ``1e308``; see
    ``stored_numbers``) is written as an empty cell, as the screen shows "-": written raw, a
    spreadsheet summed ``1e308`` into a column's total or read ``inf`` as a number. Each such
    cell is counted under its column's title in ``unreadable`` (when given), so that the export
    says so (``export_said``); the database keeps the stored value."""
    _, columns = VIEWS[view]
    numeric = [isinstance(c.field, FloatField) for c in columns]
    counts = {} if unreadable is None else unreadable
    make_private_dir(path.parent)
    part = path.with_name(f".{path.name}.part")
    count = 0
    try:
        with open_private(part, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.title for c in columns])
            for row in iter_rows(view, filt, sort, descending) if rows is None else rows:
                cells = []
                for is_number, column, value in zip(numeric, columns, row, strict=True):
                    if is_number and value is not None and readable(value) is None:
                        counts[column.title] = counts.get(column.title, 0) + 1
                        value = None
                    cells.append("" if value is None else value)
                writer.writerow(cells)
                count += 1
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return count


def export_said(count: int, path: Path, unreadable: dict[str, int]) -> str:
    """What an export says: its rows and file, and the cells it left empty (``export_csv``'s
    ``unreadable``: each column's count)."""
    said = f"Exported {count:,} rows to {path}"
    if unreadable:
        columns = ", ".join(f"{title} {n:,}" for title, n in unreadable.items())
        said += (
            f"\n{sum(unreadable.values()):,} hand-edited number(s) nobody can read left empty"
            f" ({columns}); the database keeps them as stored, and History names their rows"
        )
    return said


def sessions(limit: int = 50) -> list[tuple[int, str, str, str, str]]:
    """Recent sessions as (id, key, mode, started_at, status) for the session filter; a
    session whose process is gone shows as ``died`` (``store.liveness``)."""
    query = SessionRow.select().order_by(SessionRow.id.desc()).limit(limit)
    return [(s.id, s.key, s.mode, str(s.started_at)[:16], shown_status(s)) for s in query]


def order_detail(order_id: int) -> dict[str, Any] | None:
    """Every field of one order, its session key and its fills, for the detail view."""
    order = LiveOrder.get_or_none(LiveOrder.id == order_id)
    if order is None:
        return None
    fields = {name: getattr(order, name) for name in order.__data__ if name != "session"}
    fields["session"] = order.session.key if order.session_id else None
    fills = (
        LiveFill.select(
            LiveFill.quantity, LiveFill.price, LiveFill.commission, LiveFill.market_time
        )
        .where(LiveFill.order == order.id)
        .order_by(LiveFill.id)
        .tuples()
    )
    fields["fills"] = list(fills)
    return fields
