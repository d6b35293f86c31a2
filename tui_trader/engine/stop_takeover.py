"""Protective exits another session left working at the broker: whose each is, and taking one
over with its symbol.

A desk's GTC stop outlives the desk. Desk one (``--stop-loss``) held SPY with its stop working
and was killed, or stopped without flattening; desk two on the same store and account took SPY
over (its claim binds nobody once desk one is not alive: ``engine.claims``). The stop still held
the shares: desk two's sells were refused by Alpaca ("insufficient qty available") every cycle,
and with exits of its own it placed a second stop, refused the same way (its broker could not
cancel or resize an order it had not sent). What a careful trader expects is that the desk that
takes the symbol over takes over the protection that is there:

- a desk that keeps exits adopts the stop (``take_over``): the stop's row moves to it in one
  compare-and-set (``store.stop_rows``), its broker follows it, and from then on it is resized,
  replaced and cancelled like the desk's own; the row's rationale and a ``exit_taken_over``
  event say from which session it came;
- a desk that keeps no exits cancels the stop before a strategy sell of those shares (a
  deliberate decision, said once and audited: ``exit_dropped``); until the cancel is
  confirmed no such sell goes out (held, not refused). A buy beside it still waits: the stop
  keeps protecting the position, and Alpaca would refuse the buy as a wash trade.

Whose a stop is comes from its row in this store (the client order id names the session that
sent it, ``core.order_ids``, but a row taken over names another): this session's own (``OWN``),
a session of this store and account that no longer runs (``ENDED``: taken over), one that still
runs (``LIVE``: its exit, left to it), or no session of this store on this account (``FOREIGN``:
another store's desk, another program; left alone, said once, as ``engine.outside_changes``
does for hand trades). An order not of the desk's form is not a protective exit at all: a stop
placed by hand holds the strategies back as any hand order does (``engine.hand_holds``). Only
another session's exit listed at the broker costs a read of the store, once a cycle.

A mixin of ``TradingSession``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.order_ids import read_order_id, short_key
from tui_trader.core.orders import PENDING_CANCEL, Order, Side
from tui_trader.engine.exit_drops import DROPPED, ExitDrops
from tui_trader.engine.said_once import SaidOnce
from tui_trader.engine.taken_over_ends import ENDED as _ENDED
from tui_trader.engine.taken_over_ends import TakenOverEnds
from tui_trader.risk.stops import is_protective
from tui_trader.store.account_reads import OPEN_STATUSES
from tui_trader.store.dropped_exits import DROP_REASON, DROPPED_NOTE
from tui_trader.store.stop_rows import (
    StopRow,
    row_order_type,
    stop_rows,
    symbol_rows,
    take_stop_row,
)

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.core.clock import Clock
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.store.audit import AuditLog

OWN, ENDED, LIVE, FOREIGN = "own", _ENDED, "live", "foreign"
"""Whose a protective exit at the broker is (see the module)."""
TAKEN_OVER = "exit_taken_over"
"""Risk event: a protective exit an ended session left working is this session's now."""


class StopTakeover(TakenOverEnds):
    """Tell whose each protective exit at the broker is; take over an ended session's (each
    looked up once: ``engine.taken_over_ends``)."""

    audit: AuditLog
    broker: Broker
    clock: Clock
    iteration: int
    claims: AccountClaims | None
    protects: bool
    """Whether this session keeps protective exits (``ProtectiveStops``)."""

    def init_takeover(self) -> None:
        """Nothing taken over yet (called by the session's constructor)."""
        self._adopted: dict[str, str] = {}
        """Client order id -> the key of the session whose exit this one took over."""
        self._foreign: set[str] = set()
        """Exits found to be no session's of this store on this account (never asked again)."""
        self._rows: dict[str, StopRow] = {}
        """Other sessions' exits as last read from the store (for ``take_over``)."""
        self._whose_read = -1
        """The cycle of the last store read: at most one a cycle."""
        self._gone: set[str] = set()
        """Other sessions' exits found ended at the broker though a listing showed them
        (``ended_already``: never asked again)."""
        self.drops = SaidOnce()
        """Sells waiting for an ended session's exit to be cancelled: said once per onset."""
        self.exit_drops = ExitDrops()
        """Exits dropped before sells: said once per position's episode, then counted."""
        self.foreign_said = SaidOnce()
        """Exits no session of this store placed, left alone beside a position: said once."""
        self.droppable: dict[str, Side] = {}
        """This cycle's symbols where a sell cancels an ended session's exit first (by the
        exit's side; a session that keeps no exits: ``_exits_not_kept``)."""
        self.stop_events: list[RiskEvent] = []
        self.stop_notes: list[str] = []
        """Exits taken over or dropped, not reported yet (``take_stop_events``)."""

    def whose(self, orders: Iterable[Order]) -> dict[str, str]:
        """Whose each protective exit among ``orders`` is, by client order id (see the
        module): the store is read only for another session's, at most once a cycle."""
        key = self.audit.session.key if self.audit.session else ""
        self._this_cycle()
        out: dict[str, str] = {}
        ask: list[str] = []
        for order in orders:
            cid = order.client_order_id
            if not is_protective(cid, order.order_type):
                continue
            sent = read_order_id(cid)
            if (sent is not None and sent.session_key == key) or cid in self._adopted:
                out[cid] = OWN
            elif cid in self._foreign:
                out[cid] = FOREIGN
            elif cid in self._rows:
                out[cid] = self._kind(self._rows[cid])
            else:
                ask.append(cid)
        if ask:
            found = stop_rows(self._account(), ask)
            self._rows.update(found)
            for cid in ask:
                row = found.get(cid)
                if row is None:
                    self._foreign.add(cid)
                    out[cid] = FOREIGN
                else:
                    out[cid] = self._kind(row)
        return out

    def released_first(self, orders: list[Order]) -> set[str]:
        """Client ids of the exits among ``orders`` filled in part and working that this desk
        cancels (or takes over) before a sale of its own: its own, those it took over, an ended
        session's (``whose``: ``OWN``, ``ENDED``). Their fills are no other desk's sale beside
        it (``risk.holdings.less_sales_filled``, ``review32d``). A store read only where such
        an exit of another session works (``whose``: at most once a cycle)."""
        exits = [
            o
            for o in orders
            if o.side is Side.SELL
            and o.filled_qty > 0
            and o.status.is_open
            and is_protective(o.client_order_id, o.order_type)
        ]
        if not exits:
            return set()
        return {cid for cid, kind in self.whose(exits).items() if kind in (OWN, ENDED)}

    def _account(self) -> str:
        """The account this session's row says it trades (a local session's is its own)."""
        return self.audit.session.account_key if self.audit.session else ""

    def _this_cycle(self) -> None:
        """Forget the rows read in an earlier cycle (a live session may have ended since)."""
        if self._whose_read != self.iteration:
            self._whose_read = self.iteration
            self._rows = {}

    def _exits_not_kept(self, listed: list[Order] | None = None) -> dict[str, str]:
        """Why no order goes out in a symbol beside another session's protective exit, by
        symbol: one a live session keeps, or no session of this store sent, is left alone
        (the broker refuses every order beside it: a sell, the exit holds the shares; a buy,
        a wash trade against it). A session that keeps no exits holds its orders beside an
        ended session's exit too, but a strategy sell, which cancels it first (``droppable``,
        ``engine.stop_takeover``); a session that keeps exits takes such an exit over."""
        self.droppable = {}
        if listed is None:  # (the rebalance passes the listing it read)
            listed = self.broker.open_orders()
        if not listed:  # no order works at all, so no exit either (most cycles of a replay)
            return {}
        whose = self.whose(listed)
        if not whose:
            return {}
        found: dict[str, str] = {}
        for order in listed:
            kind = whose.get(order.client_order_id)
            if kind is None or order.symbol in found:
                continue
            if kind == OWN and (self.protects or self.adopted_from(order.client_order_id) is None):
                continue
            if kind == ENDED and (self.protects or self.ended_already(order)):
                continue  # taken over before an order in it, or by ``_protect``; or gone
            if kind == LIVE and self.ended_already(order):
                continue  # a live desk took it over and cancelled it since the listing
            if kind in (OWN, ENDED):  # this session keeps no exits: a sell cancels it first
                self.droppable[order.symbol] = order.side
                kind = ENDED
            found[order.symbol] = self.hold_reason(order, kind)
        return found

    def late_exits(
        self, symbol: str, listed: Iterable[str], every: bool = False
    ) -> list[Order] | None:
        """The protective exits the session ``symbol`` was taken over from this cycle left
        working that the broker's listing (``listed``: its client order ids) does not show
        yet, looked up at the broker: Alpaca's listing may be up to half a minute old, and a
        stop placed just before its desk was killed is not in it; a sell (or a second stop)
        sent beside it would be refused. Empty unless ``symbol`` changed hands this cycle (a
        read of the store and a look-up per exit only then); ``None`` if the broker did not
        answer a look-up (nothing is decided in ``symbol`` this cycle). ``every``: whether or
        not the symbol changed hands (a halt's flatten: ``HaltFlatten._release_for_flatten``;
        a listing read while the stream runs may be that old, and a close beside an exit it
        does not show would be refused and leave the exit unremembered)."""
        claims = self.claims
        session = self.audit.session
        if claims is None or session is None or not (every or claims.took_over(symbol)):
            return []
        self._this_cycle()
        seen = set(listed)
        found: list[Order] = []
        for cid, row in symbol_rows(self._account(), symbol, session.id).items():
            if cid in seen or not is_protective(cid, row_order_type(row.order_type)):
                continue
            if row.status == PENDING_CANCEL:  # replaced or cancelled: its outcome is followed
                continue
            try:
                order = self.broker.get_order(cid)
            except BrokerError:
                return None
            if order is not None and order.status.is_open:
                self._rows[cid] = row
                found.append(order)
        return found

    def leave_foreign(self, others: dict[str, Order], whose: dict[str, str]) -> None:
        """Say once, per exit, that an exit no session of this store placed is left alone
        beside a position of this desk (``others``: by symbol, another session's exit)."""
        foreign = {s: o for s, o in others.items() if whose.get(o.client_order_id) == FOREIGN}
        if self.foreign_said or foreign:
            self.foreign_said.still({s: o.client_order_id for s, o in foreign.items()})
        for symbol, order in sorted(foreign.items()):
            cid = order.client_order_id
            if self.foreign_said.first(symbol, cid):
                self.stop_notes.append(
                    f"{symbol}: a protective exit {cid} that no session of this store sent works "
                    "at the broker (another database's desk, or another program): this desk "
                    "leaves it alone and places no exit of its own beside it"
                )

    def _kind(self, row: StopRow) -> str:
        """Whose an exit of this store's account is, by its row's session."""
        if self.audit.session is not None and row.session.id == self.audit.session.id:
            return OWN
        return LIVE if row.alive else ENDED

    def ended_already(self, order: Order) -> bool:
        """Whether ``order``, another session's exit a listing shows working, had ended before
        this desk came to it: its row says so and the broker, asked now, agrees. A live
        session's too: a desk without exits takes an ended desk's stop over and cancels it
        before its sell, and a desk with exits holding the older listing took it for that
        desk's working exit, placing no stop for the shares the sell left. A desk reads
        the orders other desks placed at most every half minute (``brokers.alpaca_reads``), so
        an exit its desk had replaced since (a resize) could be taken over; its cancel then
        answered "nothing to cancel", the order waited on it, and a desk without exits
        followed it as its own cancel whose answer was lost: later placed again at the old
        price on whatever the symbol then held. Asked nothing when the row says it works."""
        cid = order.client_order_id
        if cid in self._gone:
            return True
        row = self._rows.get(cid)
        if row is None or row.status in OPEN_STATUSES:
            return False
        try:
            found = self.broker.get_order(cid)
        except BrokerError:
            return False  # as before: taken over, its cancel followed
        if found is None or not found.status.is_final:
            return False
        self._gone.add(cid)
        return True

    def take_over(self, order: Order, why: str) -> RiskEvent | None:
        """Make ``order``, an ended session's protective exit (``whose``: ``ENDED``), this
        session's: its row (``store.stop_rows.take_stop_row``), its following at the broker;
        the event that says so, or ``None`` if another session took it first (or its
        session beat again: alive, its exit stays its own)."""
        cid = order.client_order_id
        row = self._rows.pop(cid, None)
        session = self.audit.session
        if row is None or session is None:
            return None
        with self.audit.together():
            taken = take_stop_row(row, session.id, why, self.clock.now())
        if not taken:
            return None
        self.broker.adopt(order)
        came = short_key(row.session.key)
        self._adopted[cid] = came
        return RiskEvent(
            TAKEN_OVER,
            order.remaining_qty,
            0.0,
            f"protective exit {cid} of session {came} taken over",
            symbol=order.symbol,
            detail=f"{order.side} {order.remaining_qty:g} {order.symbol} {order.order_type} "
            f"left working by session {came}, which no longer runs: {why}",
        )

    def adopted_from(self, client_order_id: str) -> str | None:
        """The session an exit was taken over from (short key), ``None`` if it is not one."""
        return self._adopted.get(client_order_id)

    def hold_reason(self, order: Order, whose: str) -> str:
        """Why an order in ``order``'s symbol is not sent beside another session's exit
        (``whose``: ``LIVE``, ``FOREIGN``, or ``ENDED`` beside a session without exits)."""
        cid, symbol = order.client_order_id, order.symbol
        if whose == LIVE:
            row = self._rows.get(cid)
            keeper = f"session {short_key(row.session.key)}" if row else "another session"
            return (
                f"its protective exit {cid} is kept by {keeper}, which runs on this account: "
                f"no orders in {symbol} while it works"
            )
        if whose == FOREIGN:
            return (
                f"a protective exit {cid} that no session of this store sent works at the "
                f"broker (another database's desk, or another program): it is left alone; no "
                f"orders in {symbol} while it works; cancel it at the broker to trade {symbol}"
            )
        return (  # an ended session's, beside a session that keeps no exits
            f"its protective exit {cid} is working at the broker and this session keeps no "
            f"exits (no --stop-loss or --take-profit): buys in {symbol} wait while it works "
            "(a sell cancels it first); cancel it at the broker, or run with "
            "--stop-loss/--take-profit to manage it"
        )

    def _take_over_exit(self, order: Order) -> str | None:
        """Take over an ended session's exit before an order in its symbol (``take_over``);
        why the order waits if this session may not, or another took it first."""
        symbol = order.symbol
        if self.protects:
            claims = self.claims
            if claims is not None and not claims.may_protect(symbol, fresh=True):
                return f"its protective exit {order.client_order_id} is kept by another session"
            why = "this desk trades the symbol and keeps its exit now"
        else:
            why = DROP_REASON  # found by these words if this desk dies (``stops_after_death``)
        event = self.take_over(order, why)
        if event is None:
            return f"another session took over its protective exit {order.client_order_id}"
        self.stop_events.append(event)
        return None

    def _dropped(self, cancelled: Order) -> Order:
        """An ended session's exit cancelled by this session, which keeps none, before its
        sell: said in plain words (a note and a ``exit_dropped`` event), the row's reason. The
        same exit dropped again (placed again after a sell that did not go out: a refused
        flatten close, tried every cycle) is counted, not said again (``engine.exit_drops``)."""
        cid, symbol = cancelled.client_order_id, cancelled.symbol
        came = self.adopted_from(cid) or "another"
        line = (
            f"{symbol}: cancelled the protective exit {cid} that session {came} left working, "
            "to sell: this desk keeps no exits (no --stop-loss or --take-profit), so what the "
            f"sell leaves of the {symbol} position has no protective exit"
        )
        covered = max(cancelled.qty - cancelled.filled_qty, 0.0)  # (a cancelled order has none
        # remaining: the event counts the shares the exit protected until it was cancelled)
        if self.exit_drops.first(symbol, came):
            self.stop_notes.append(line)
            action = (
                "exit cancelled; if it is placed again (the sell does not go out) and "
                "cancelled again, that is counted without another event"
            )
            self.stop_events.append(RiskEvent(DROPPED, covered, 0.0, action, symbol, line))
        return replace(
            cancelled,
            reject_reason=f"cancelled by session {short_key(self.audit.session.key)} "
            + DROPPED_NOTE,
        )

    def take_stop_events(self) -> list[RiskEvent]:
        """The events of exits taken over or dropped since the last call."""
        events, self.stop_events = self.stop_events, []
        return events

    def take_stop_notes(self) -> list[str]:
        """The cycle's lines about exits dropped or left to another session (each once)."""
        notes, self.stop_notes = self.stop_notes, []
        if self.claims is not None:
            notes += self.claims.left()
        return notes
