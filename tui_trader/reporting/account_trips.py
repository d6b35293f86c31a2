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

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from tui_trader.core.ledger import ClosedTrade, TradeLedger
from tui_trader.core.order_views import QTY_EPS
from tui_trader.core.orders import Fill, Side
from tui_trader.reporting.held_before import HeldBefore
from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade, SessionRow
from tui_trader.store.peewee_names import JOIN, fn
from tui_trader.store.stored_numbers import LIMIT, shown, shown_time


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
class Trip:
    """A round trip before its orders' words are read: only the trips shown need them."""

    session_id: int | None
    trade: ClosedTrade
    closing_fill: int
    closing_order: int | None
    opening_order: int | None


_FillRow = tuple[int, "int | None", Fill, object, "int | None"]
"""A readable fill: its row id, the session whose order filled (the fill's own when its order
is not found), the fill (its client order id left empty: read for the trips shown), when it
executed as stored (compared as the database compares it, never read), and its order's id."""
_COLUMNS = ("quantity", "price", "commission", "slippage")
ONE_PASS = 5_000
"""Orders whose words are read in one pass over their ids' range rather than 500 at a time."""


def _number(value: object, row: int, column: str, notes: list[str] | None) -> float | None:
    """A fill's number as ``stored_numbers.shown`` reads it (its note to ``notes``)."""
    if type(value) is float and -LIMIT <= value <= LIMIT:
        return value
    return shown(value, "live_fills", row, column, notes)


def fill_rows(
    sessions: list[SessionRow], notes: list[str] | None, after: int = 0, upto: int | None = None
) -> Iterator[_FillRow]:
    """Every readable fill of the sessions, in the order they executed (by the database, one
    row at a time: a months-old account has hundreds of thousands, so only the columns the
    ledger needs, the orders' words read later for the trips shown); an unreadable one (a hand
    edit) is left out with a warning naming it (``stored_numbers.shown``); ``after``, ``upto``:
    only the fills of row ids above ``after`` and up to ``upto``."""
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
            LiveFill.order,
            LiveOrder.session,
        )
        .join(LiveOrder, on=(LiveFill.order == LiveOrder.id), join_type=JOIN.LEFT_OUTER)
        .where(LiveFill.session.in_([s.id for s in sessions]) & (LiveFill.id > after))
        .where(LiveFill.id <= (upto if upto is not None else 2**63 - 1))
        .order_by(fn.COALESCE(LiveFill.market_time, LiveFill.timestamp), LiveFill.id)
    )
    sides = {"buy": Side.BUY, "sell": Side.SELL}
    last_stamp: object = None
    last_when: datetime | None = None
    # read from the driver's cursor, not as peewee models (200,000 fills: 56 s under load);
    # each value checked as the reports check it, the common case (four floats) inline
    for values in LiveFill._meta.database.execute(query):
        row, recorder, symbol, side, qty, price, commission, slippage, wall, market = values[:10]
        if not (
            type(qty) is float
            and type(price) is float
            and type(commission) is float
            and type(slippage) is float
            and -LIMIT <= qty <= LIMIT
            and -LIMIT <= price <= LIMIT
            and -LIMIT <= commission <= LIMIT
            and -LIMIT <= slippage <= LIMIT
        ):
            numbers = (qty, price, commission, slippage)
            read = [_number(v, row, c, notes) for c, v in zip(_COLUMNS, numbers, strict=True)]
            if any(v is None for v in read):
                column = "market_time" if market else "timestamp"
                shown_time(market or wall, "live_fills", row, column, notes)  # (its note too)
                continue
            qty, price, commission, slippage = read
        stamp = market or wall
        if stamp != last_stamp or last_when is None:  # (fills of one bar share its time)
            column = "market_time" if market else "timestamp"
            last_stamp, last_when = stamp, shown_time(stamp, "live_fills", row, column, notes)
        if last_when is None or not qty or side not in sides or not isinstance(symbol, str):
            continue
        fill = Fill("", symbol, sides[side], qty, price, last_when, commission, slippage)
        owner = values[11]
        session = owner if owner is not None else recorder  # (the order's desk: see the module)
        yield row, session, fill, stamp, values[10]


def _top_up(ledger: TradeLedger, before: HeldBefore | None, fill: Fill, executed: object) -> bool:
    """Before ``fill``: where it closes more than the ledger holds, the shares the account held
    beyond the ledger's (``HeldBefore.held``, ``executed`` its time as stored), never past the
    fill; True if the ledger was flat and took them (a lot no recorded order opened)."""
    signed = fill.qty * fill.side.sign
    mine = ledger.held(fill.symbol)
    if mine * signed > 0 or abs(signed) <= abs(mine) + QTY_EPS or before is None:
        return False
    was, price = before.held(fill, executed)
    if was * signed >= 0 or mine * was < 0 or price <= 0:
        return False  # the account held nothing this fill closes: it opens the other side
    beyond = min(abs(signed), abs(was)) - abs(mine)
    if beyond <= QTY_EPS:
        return False
    ledger.top_up(fill.symbol, beyond if was > 0 else -beyond, price, fill.timestamp)
    return abs(mine) <= QTY_EPS


class Book:
    """One account's ledger over its fills, taken in the order they executed: the trip rules
    (``_top_up``, the opening order of each lot), kept between readings so a reader that
    follows a desk (``reporting.account_pnl``) adds the fills recorded since instead of
    reading them all again."""

    def __init__(self, account_key: str, notes: list[str] | None) -> None:
        """Nothing taken yet."""
        self.ledger = TradeLedger()
        self.before = HeldBefore(account_key, notes) if account_key else None
        self._opened_by: dict[tuple[str, datetime], int | None] = {}
        self.asked_at: object = None
        """The stored time of the last fill that looked at what the account held before it
        (a snapshot written later at an earlier time would change what it read)."""

    def take(
        self, row: int, session: int | None, fill: Fill, executed: object, order: int | None
    ) -> list[Trip]:
        """The fill's round trips (``Trip``s) once the ledger has taken it."""
        ledger, opened_by = self.ledger, self._opened_by
        opening = (fill.symbol, fill.timestamp)
        signed, mine = fill.qty * fill.side.sign, ledger.held(fill.symbol)
        if mine * signed > 0 or abs(signed) <= abs(mine) + QTY_EPS:
            pass  # (it adds to what is open, or closes no more than it: the common case)
        else:
            self.asked_at = executed
            if _top_up(ledger, self.before, fill, executed):  # opened by no recorded order
                opened_by[opening] = None  # ("unattributed")
        opened_by.setdefault(opening, order)
        trips = [
            Trip(session, trade, row, order, opened_by.get((trade.symbol, trade.entry_time)))
            for trade in ledger.on_fill(fill)
        ]
        if self.before is not None:
            self.before.add(fill, ledger)  # (to carry a snapshot forward to a later fill)
        return trips


def _one_account(
    account_key: str, sessions: list[SessionRow], wanted: set[int], notes: list[str] | None
) -> list[Trip]:
    """The round trips of one account's sessions closed by ``wanted``, from all their fills."""
    book = Book(account_key, notes)
    trips = []
    for row, session, fill, executed, order in fill_rows(sessions, notes):
        for trip in book.take(row, session, fill, executed, order):
            if session in wanted:
                trips.append(trip)
    return trips


def _trips(sessions: list[SessionRow] | None, notes: list[str] | None = None) -> list[Trip]:
    """The round trips closed by ``sessions`` (None: every session), oldest first, their
    orders' words not read yet."""
    chosen = list(SessionRow.select()) if sessions is None else sessions
    wanted = {s.id for s in chosen}
    trips: list[Trip] = []
    for key in sorted({s.account_key or "" for s in chosen}):
        if key:
            on_account = list(SessionRow.select().where(SessionRow.account_key == key))
        else:  # (no account recorded: each session alone)
            on_account = [s for s in chosen if not s.account_key]
        groups = [on_account] if key else [[s] for s in on_account]
        for group in groups:
            trips.extend(_one_account(key, group, wanted, notes))
    trips.sort(key=lambda t: (t.trade.exit_time, t.closing_fill))
    return trips


def _with_words(trips: list[Trip]) -> list[AccountTrip]:
    """``trips`` with their closing orders' client ids and opening orders' rationales, read
    in a few queries (a few hundred ids each)."""
    ids = sorted({i for t in trips for i in (t.closing_order, t.opening_order) if i is not None})
    words: dict[int, tuple[object, object]] = {}
    query = LiveOrder.select(LiveOrder.id, LiveOrder.client_order_id, LiveOrder.rationale)
    database = LiveOrder._meta.database
    if len(ids) > ONE_PASS:  # (a whole account's: one pass over their range, not 500 at a time)
        wanted = set(ids)
        for row, client_id, rationale in database.execute(
            query.where(LiveOrder.id.between(ids[0], ids[-1]))
        ):
            if row in wanted:
                words[row] = (client_id, rationale)
        ids = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row, client_id, rationale in database.execute(query.where(LiveOrder.id.in_(chunk))):
            words[row] = (client_id, rationale)
    out = []
    for t in trips:
        client_id = words.get(t.closing_order, ("", ""))[0]  # type: ignore[arg-type]
        rationale = words.get(t.opening_order, ("", ""))[1]  # type: ignore[arg-type]
        trade = replace(t.trade, client_order_id=client_id if isinstance(client_id, str) else "")
        text = rationale if isinstance(rationale, str) else ""
        out.append(AccountTrip(t.session_id, trade, t.closing_fill, text))
    return out


def account_trips(
    sessions: list[SessionRow] | None, notes: list[str] | None = None
) -> list[AccountTrip]:
    """The round trips closed by ``sessions`` (None: every session), each rebuilt from all
    the fills of its account (see the module docstring), oldest first; an unreadable fill's
    note goes to ``notes`` when given (the desk's History screen), else the command line's."""
    return _with_words(_trips(sessions, notes))


def trip_rows(limit: int, sessions: list[SessionRow] | None) -> list[LiveTrade]:
    """The newest ``limit`` round trips closed by ``sessions``, newest first, as unsaved trade
    rows for the history's table; a row's id is the trip's number in that scope, oldest 1."""
    trips = _trips(sessions) if limit > 0 else []
    rows = []
    first = max(0, len(trips) - limit)
    for number, trip in enumerate(_with_words(trips[first:]), first + 1):
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
