"""The account's round trips, rebuilt from the audit trail's fills: what ``report`` and
``history`` show (the database must be open).

Several desks may trade one account (one store, one Alpaca account). Each desk books round trips
from the fills it hears in a ledger of its own (``core.ledger``: its realized PnL on its line,
the ``live_trades`` rows), and that ledger cannot know what another desk's fill took from it:
desk B's sale of the SPY desk A bought (a halt's flatten, a hand sale) left a phantom long in
A's ledger, A's next round trip in SPY entered at a price averaged with it; an ended desk's fill
recorded late by a running desk (``engine.ended_orders``) reached no ledger at all. Summed, the
rows did not make what the fills make. The fills are complete (each recorded once, whichever
desk heard it), so the reports take their round trips from them:

every fill of every session on the account, in the order they executed (the broker's time, then
the order recorded), goes through one average-cost ledger, as the broker keeps the account's
``avg_entry_price``. Each round trip is the session's whose order's fill closed it (desk B's
flatten of desk A's shares is B's round trip, entered at what A paid; an ended desk's stop that
filled after it ended, recorded by a desk still running, is the ended desk's), and the strategy
credited is the one behind the fill that opened it, whichever desk's. A sale of more than the
recorded fills hold (shares held before the store's first session, bought by hand) takes the
shares the account held then, priced so that with the ledger's they make the broker's average
entry price (``_held_before``): the account's newest snapshot written before the sale executed
(one written after may already count the sale, its news come late), with the account's fills
between the two added to its shares (a snapshot is a cycle old: a flip sold as 10 then 15 read
20 held at the 15, and booked 5 phantom shares); none shown: the sale opens the other side, as
its fills say (a short sold on purpose).
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from tui_trader.core.ledger import ClosedTrade, TradeLedger
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill, Side
from tui_trader.store.db import to_db_time
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, LiveTrade, SessionRow
from tui_trader.store.peewee_names import JOIN, fn
from tui_trader.store.stored_numbers import LIMIT, readable, shown, shown_time


@dataclass(frozen=True, slots=True)
class AccountTrip:
    """One round trip of the account, and the session whose order's fill closed it."""

    session_id: int | None
    trade: ClosedTrade
    closing_fill: int
    """The id of the fill row that closed it: the order of the trips, newest last."""
    opened_by: str
    """The rationale of the order whose fill opened it ("" when not found)."""


@dataclass(frozen=True, slots=True)
class _FillRow:
    """A readable fill row, with what the reports need beside it."""

    id: int
    session_id: int | None
    """The session whose order filled (the fill's own when its order is not found)."""
    fill: Fill
    rationale: str


def _number(value: object, row: int, column: str) -> float | None:
    """A fill's number as ``stored_numbers.shown`` reads it (a float checked inline first:
    this runs four times for each of the account's fills)."""
    if type(value) is float and -LIMIT <= value <= LIMIT:
        return value
    return shown(value, "live_fills", row, column)


def _fill_rows(sessions: list[SessionRow]) -> Iterator[_FillRow]:
    """Every readable fill of the sessions, in the order they executed (by the database, one
    row at a time: a months-old account has hundreds of thousands); an unreadable one (a hand
    edit) is left out with a warning naming it (``stored_numbers.shown``)."""
    query = (
        LiveFill.select(
            LiveFill.id,
            LiveFill.session,
            LiveFill.symbol,
            LiveFill.side,
            LiveFill.quantity,
            LiveFill.price,
            LiveFill.commission,
            LiveFill.slippage,
            LiveFill.timestamp,
            LiveFill.market_time,
            LiveOrder.client_order_id,
            LiveOrder.rationale,
            LiveOrder.session,
        )
        .join(LiveOrder, on=(LiveFill.order == LiveOrder.id), join_type=JOIN.LEFT_OUTER)
        .where(LiveFill.session.in_([s.id for s in sessions]))
        .order_by(fn.COALESCE(LiveFill.market_time, LiveFill.timestamp), LiveFill.id)
    )
    # read from the driver's cursor, not as peewee models (200,000 fills: 56 s under load,
    # where this takes a few seconds); each value checked as the reports check it
    for values in LiveFill._meta.database.execute(query):
        row, recorder, symbol, side, *numbers, wall, market, order_id, rationale, owner = values
        columns = ("quantity", "price", "commission", "slippage")
        read = [_number(v, row, c) for c, v in zip(columns, numbers, strict=True)]
        when = shown_time(
            market or wall, "live_fills", row, "market_time" if market else "timestamp"
        )
        if any(v is None for v in read) or when is None or not read[0]:
            continue
        if not isinstance(symbol, str) or side not in ("buy", "sell"):
            continue
        qty, price, commission, slippage = read  # type: ignore[misc]
        fill = Fill(
            order_id if isinstance(order_id, str) else "",
            symbol,
            Side.BUY if side == "buy" else Side.SELL,
            qty,
            price,
            when,
            commission=commission,
            slippage=slippage,
        )
        session = owner if owner is not None else recorder  # (the order's desk: see the module)
        text = rationale if isinstance(rationale, str) else ""
        yield _FillRow(row, session, fill, text)


class _Moved:
    """Each symbol's fills as the ledger took them, in execution order: their times (POSIX
    seconds), the running sum of their signed quantities, and the ledger's shares and average
    price after each (32 bytes a fill), so that the shares a snapshot shows can be carried to
    the moment of a later fill, and the ledger's part of them told apart."""

    def __init__(self) -> None:
        self._by: dict[str, tuple[array[float], ...]] = {}

    def add(self, fill: Fill, ledger: TradeLedger) -> None:
        """Count ``fill`` (the fills come in execution order), the ledger having taken it."""
        times, sums, held, paid = self._by.setdefault(fill.symbol, _arrays())
        times.append(fill.timestamp.timestamp())
        sums.append((sums[-1] if sums else 0.0) + fill.qty * fill.side.sign)
        held.append(ledger.held(fill.symbol))
        paid.append(ledger.average(fill.symbol))

    def at(self, symbol: str, when: datetime) -> tuple[float, float, float]:
        """The signed shares of ``symbol`` the fills counted so far moved after ``when``, and
        the ledger's shares and average price at ``when``."""
        times, sums, held, paid = self._by.get(symbol, _arrays())
        if not times:
            return 0.0, 0.0, 0.0
        at = bisect_right(times, when.timestamp())
        if not at:
            return sums[-1], 0.0, 0.0
        return sums[-1] - sums[at - 1], held[at - 1], paid[at - 1]


def _arrays() -> tuple[array[float], ...]:
    return array("d"), array("d"), array("d"), array("d")


def _held_before(account_key: str, row: _FillRow, moved: _Moved) -> tuple[float, float]:
    """The shares of the fill's symbol (signed) the account held just before it, and the
    price of those the ledger did not hold: the account's newest snapshot written before the
    fill executed, plus the fills counted since it; its shares beyond the ledger's priced so
    that with the ledger's they make the broker's average there. (0, 0) when it held none,
    or there is no snapshot."""
    symbol = row.fill.symbol
    snaps = (
        AccountSnapshot.select(
            AccountSnapshot.id, AccountSnapshot.timestamp, AccountSnapshot.positions
        )
        .join(SessionRow)
        .where(
            (SessionRow.account_key == account_key)
            & (AccountSnapshot.timestamp <= to_db_time(row.fill.timestamp))
        )
        .order_by(AccountSnapshot.id.desc())
        .limit(1)
        .tuples()
    )
    for snap, written, text in snaps:
        when = shown_time(written, "live_account_snapshots", snap, "timestamp")
        try:
            positions = json.loads(text or "[]")
        except ValueError:
            return 0.0, 0.0
        if when is None:
            return 0.0, 0.0
        qty, price = 0.0, 0.0
        for entry in positions if isinstance(positions, list) else []:
            if isinstance(entry, list) and len(entry) >= 3 and entry[0] == symbol:
                shares, paid = readable(entry[1]), readable(entry[2])
                if shares and paid and paid > 0:
                    qty, price = shares, paid
                break
        since, mine, mine_paid = moved.at(symbol, when)
        beyond = qty - mine
        if qty * mine > 0 and beyond * qty > QTY_EPS and mine_paid > 0:
            rest = (abs(qty) * price - abs(mine) * mine_paid) / abs(beyond)
            price = rest if rest > 0 else price  # (10 at 93 with the ledger's 3 at 100: 90)
        return qty + since, price
    return 0.0, 0.0


def _top_up(ledger: TradeLedger, account_key: str, row: _FillRow, moved: _Moved) -> bool:
    """Before ``row``'s fill: where it closes more than the ledger holds, the shares the
    account held beyond the ledger's (``_held_before``), never past the fill; True if the
    ledger was flat and took them (a lot no recorded order opened)."""
    fill = row.fill
    signed = fill.qty * fill.side.sign
    mine = ledger.held(fill.symbol)
    if mine * signed > 0 or abs(signed) <= abs(mine) + QTY_EPS or not account_key:
        return False
    was, price = _held_before(account_key, row, moved)
    if was * signed >= 0 or mine * was < 0 or price <= 0:
        return False  # the account held nothing this fill closes: it opens the other side
    beyond = min(abs(signed), abs(was)) - abs(mine)
    if beyond <= QTY_EPS:
        return False
    ledger.top_up(fill.symbol, beyond if was > 0 else -beyond, price, fill.timestamp)
    return abs(mine) <= QTY_EPS


def _one_account(account_key: str, sessions: list[SessionRow]) -> list[AccountTrip]:
    """The round trips of one account's sessions, from all their fills."""
    ledger = TradeLedger()
    opened_by: dict[tuple[str, datetime], str] = {}
    trips = []
    moved = _Moved()
    for row in _fill_rows(sessions):
        if _top_up(ledger, account_key, row, moved):  # opened by no recorded order: "unattributed"
            opened_by[(row.fill.symbol, row.fill.timestamp)] = ""
        opened_by.setdefault((row.fill.symbol, row.fill.timestamp), row.rationale)
        for trade in ledger.on_fill(row.fill):
            opened = opened_by.get((trade.symbol, trade.entry_time), "")
            trips.append(AccountTrip(row.session_id, trade, row.id, opened))
        moved.add(row.fill, ledger)
    return trips


def account_trips(sessions: list[SessionRow] | None) -> list[AccountTrip]:
    """The round trips closed by ``sessions`` (None: every session), each rebuilt from all
    the fills of its account (see the module docstring), oldest first."""
    chosen = list(SessionRow.select()) if sessions is None else sessions
    wanted = {s.id for s in chosen}
    trips: list[AccountTrip] = []
    for key in sorted({s.account_key or "" for s in chosen}):
        if key:
            on_account = list(SessionRow.select().where(SessionRow.account_key == key))
        else:  # (no account recorded: each session alone)
            on_account = [s for s in chosen if not s.account_key]
        groups = [on_account] if key else [[s] for s in on_account]
        for group in groups:
            trips.extend(t for t in _one_account(key, group) if t.session_id in wanted)
    trips.sort(key=lambda t: (t.trade.exit_time, t.closing_fill))
    return trips


def trip_rows(limit: int, sessions: list[SessionRow] | None) -> list[LiveTrade]:
    """The newest ``limit`` round trips closed by ``sessions``, newest first, as unsaved trade
    rows for the history's table; a row's id is the trip's number in that scope, oldest 1."""
    trips = account_trips(sessions) if limit > 0 else []
    rows = []
    first = max(0, len(trips) - limit)
    for number, trip in enumerate(trips[first:], first + 1):
        t = trip.trade
        rows.append(
            LiveTrade(
                id=number,
                session=trip.session_id,
                symbol=t.symbol,
                side=str(t.side),
                quantity=t.quantity,
                entry_price=t.entry_price,
                exit_price=t.exit_price,
                timestamp=t.exit_time,
                market_time=t.exit_time,
                entry_time=t.entry_time,
                commission=t.commission,
                slippage=t.slippage,
                pnl=t.pnl,
                pnl_pct=t.pnl_pct,
                client_order_id=t.client_order_id,
            )
        )
    return rows[::-1]
