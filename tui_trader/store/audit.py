"""The audit trail writer: every order, fill, trade, snapshot and risk event of a session.

Order rows are written before the order is sent (status ``pending_new``) and updated on every
change, so a crash never loses an order that reached the broker. With ``commit_before_send`` (the
Alpaca path) that row is committed on its own before the broker is called; the local path may
wrap a whole decision cycle in one transaction, since its broker lives and dies with the process.

A replay may go further with ``commit_every``: cycles then share one transaction (each cycle a
savepoint, so a failed cycle still rolls back alone) committed every ``commit_every`` cycles or
``commit_seconds``, whichever comes first, and on ``flush``. Within a batch the risk state is
written once, at the commit, and other processes' halt requests are read once per batch (they
cannot be written while the batch holds the write lock anyway); ``store.batching`` holds that
side of the log.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from peewee import SqliteDatabase

from tui_trader.core.clock import Clock
from tui_trader.core.domain import Account, Position, RiskEvent, TradingState
from tui_trader.core.ledger import ClosedTrade
from tui_trader.core.orders import Fill, Order, OrderRequest
from tui_trader.risk.state import RiskState
from tui_trader.store.account_reads import AccountReads
from tui_trader.store.batching import CycleTransactions
from tui_trader.store.kill_requests import KillRequestReads
from tui_trader.store.models import SessionRow
from tui_trader.store.session_rows import SessionRows
from tui_trader.store.statements import (
    FILL_SQL,
    FILL_UPTO_SQL,
    FILLS_MARKER_SQL,
    FOUND_FILL_UPDATE_SQL,
    JUDGED_SNAPSHOT_SQL,
    ORDER_FIELDS,
    ORDER_LOCK_SQL,
    ORDER_SQL,
    ORDER_UPDATE_SQL,
    PG_FILLS_MARKER_SQL,
    PG_JUDGED_SNAPSHOT_SQL,
    RISK_EVENT_SQL,
    SNAPSHOT_FIELDS,
    SNAPSHOT_SQL,
    TRADE_SQL,
    db_time,
    load_risk_state,
    order_times_as_text,
)

_STATUS, _FILLED_QTY, _UPDATED_AT, _BROKER_ID, _FILLED_PRICE, _ERROR = (
    ORDER_FIELDS.index(name)
    for name in ("status", "filled_qty", "updated_at", "broker_order_id", "filled_price", "error")
)
_RATIONALE = ORDER_FIELDS.index("rationale")
Why = Callable[[], str] | None


class AuditLog(SessionRows, CycleTransactions, AccountReads, KillRequestReads):
    """Writes one session's rows; the only code that writes trading facts to the database."""

    def __init__(
        self,
        db: SqliteDatabase,
        clock: Clock,
        commit_before_send: bool = False,
        commit_every: int = 1,
        commit_seconds: float = 0.5,
    ) -> None:
        if commit_every < 1:
            raise ValueError("commit_every must be at least 1")
        self.db = db
        self.clock = clock
        self.commit_before_send = commit_before_send
        self.commit_every = 1 if commit_before_send else commit_every
        """Cycles per commit: 1 (every cycle) unless a replay asks for batches."""
        self.commit_seconds = commit_seconds
        self.session: SessionRow | None = None
        self._batch: Any = None
        self._batched = 0
        self._batch_started = 0.0
        self._risk_state: RiskState | None = None
        self._risk_base: RiskState | None = None
        """The account's risk-state row as this log last read or wrote it."""
        self._risk_merged: tuple[RiskState, RiskState] | None = None
        """Within batches: the state a commit merged and the row it wrote, to adopt."""
        self._last_beat = 0.0
        self._iterations: int | None = None
        self._poll_halts = True
        self._unsent: dict[str, list[Any]] = {}
        """Within a batch of cycles, the order rows of this cycle, written as one statement
        with their acknowledgements when the cycle ends (see ``order_pending``)."""
        self._unsent_events: list[list[Any]] = []
        """Within a batch of cycles, the risk event rows of the batch (see ``risk_event``);
        those before ``_events_kept`` belong to cycles that ended well."""
        self._events_kept = 0
        self._batched_cycle = None
        self.rollbacks = 0
        """What ``cycle`` returns within batches of cycles, made at the first."""

    # -- orders, fills, trades -----------------------------------------------------------------

    def order_pending(
        self, req: OrderRequest, iteration: int, market_time: Any, rationale: Why = None
    ) -> None:
        """Write the order row before the order goes to the broker; ``rationale`` builds the
        row's rationale (default: the request's), when the row is written.

        Within a local cycle (one transaction, ``store.batching._LocalCycle``) or a batch of
        cycles (a replay's ``commit_every``) the row waits for the end of the cycle and is
        written with what the broker answered: nothing of it is committed before its end
        anyway, and a failed cycle rolls back whole, so the rows that reach the database are
        the same, for one statement instead of two. Its times stay datetimes until then
        (formatted after the cycle's orders have gone out)."""
        now = self.clock.now()
        row = [
            self.session.id if self.session else None,
            req.client_order_id,
            None,
            req.symbol,
            str(req.side),
            req.qty,
            str(req.order_type),
            req.limit_price,
            "pending_new",
            now,
            market_time,
            now,
            0.0,
            None,
            None,
            req.rationale if rationale is None else rationale,
            iteration,
        ]
        if self._batch is not None or self._local_cycles:
            self._unsent[req.client_order_id] = row
        else:
            if rationale is not None:
                row[_RATIONALE] = rationale()
            order_times_as_text(row)
            self.db.execute_durably(ORDER_SQL, row)  # on disk before the broker hears of it

    def order_update(self, order: Order) -> int:
        """Bring an order row up to the broker's view; returns rows changed (0: unknown order)."""
        now = self.clock.now()
        row = self._unsent.get(order.client_order_id)
        if row is not None:  # as ORDER_UPDATE_SQL does it (the time formatted when written)
            row[_STATUS] = order.row_status
            row[_FILLED_QTY] = order.filled_qty
            row[_UPDATED_AT] = now
            if order.broker_order_id:
                row[_BROKER_ID] = order.broker_order_id
            if order.filled_avg_price is not None:
                row[_FILLED_PRICE] = order.filled_avg_price
            if order.reject_reason:
                row[_ERROR] = order.reject_reason
            return 1
        cursor = self.db.execute_sql(
            ORDER_UPDATE_SQL,
            (
                order.row_status,
                order.filled_qty,
                db_time(now),
                order.broker_order_id or None,
                order.filled_avg_price,
                order.reject_reason or None,
                order.client_order_id,
            ),
        )
        return cursor.rowcount

    def order_update_found(self, order: Order, before: float) -> bool:
        """Bring an order row up to the broker's view with a fill found by a look-up (a start's
        reconciliation, a settlement, an update of another session's order) only if the row
        records no more than ``before`` filled, the quantity that fill starts from; True if it
        did (the fill is this caller's to record).
        False: another desk brought the row up and recorded that fill first (``fills28``: two
        desks' look-ups of one ended desk's buy recorded its fill twice), or the row is gone;
        the fill is then not recorded again (a fill's key is the recording session's own)."""
        row = self._unsent.get(order.client_order_id)
        if row is not None:  # not written yet: no other desk can have seen it
            return self.order_update(order) == 1
        cursor = self.db.execute_sql(
            FOUND_FILL_UPDATE_SQL,
            (
                order.row_status,
                order.filled_qty,
                db_time(self.clock.now()),
                order.broker_order_id or None,
                order.filled_avg_price,
                order.reject_reason or None,
                order.client_order_id,
                before,
                order.filled_qty,
                *[order.row_status] * 3,
            ),
        )
        return self.db.rows_changed(cursor) == 1

    def _write_unsent(self, events: bool = True) -> None:
        """Write the order rows a batched cycle kept back and, with ``events``, the risk event
        rows its batch kept back (at the batch's commit)."""
        if self._unsent:
            rows, self._unsent = list(self._unsent.values()), {}
            for row in rows:
                why = row[_RATIONALE]
                if callable(why):
                    row[_RATIONALE] = why()
                order_times_as_text(row)
            if len(rows) == 1:  # the usual case; executemany costs a cursor of its own
                self.db.execute_sql(ORDER_SQL, rows[0])
            else:
                self.db.raw_many(ORDER_SQL, rows)
        if events and self._unsent_events:
            rows, self._unsent_events = self._unsent_events, []
            self._events_kept = 0
            self.db.raw_many(RISK_EVENT_SQL, rows)

    def _drop_unsent(self, cycle_only: bool = False) -> None:
        """Forget the rows kept back: with ``cycle_only``, those of the failed cycle (its
        savepoint rolls back; the risk events of the batch's earlier cycles stay), else all
        of them (the batch is abandoned)."""
        self.rollbacks += 1
        self._unsent.clear()
        if cycle_only:
            del self._unsent_events[self._events_kept :]
        else:
            self._unsent_events.clear()
            self._events_kept = 0

    def fill(self, fill: Fill, market_time: Any, upto: float | None = None) -> bool:
        """Record an execution once; False if this fill was already recorded (a replayed event).
        ``upto``: the order's filled quantity at the broker, for an order other desks may
        record too; the fill is recorded only while the order's recorded fills stay within it
        (``FILL_UPTO_SQL``)."""
        self._write_unsent(events=False)  # the fill's order row first
        key = fill.fill_id or f"{fill.client_order_id}:{fill.timestamp.isoformat()}:{fill.qty}"
        session_key = self.session.key if self.session else "none"
        first = (self.session.id if self.session else None,)
        if upto is None:
            sql, first, last = FILL_SQL, (*first, fill.client_order_id), ()
        else:  # the order's row locked first on PostgreSQL (``ORDER_LOCK_SQL``)
            if getattr(self.db, "is_postgres", False):
                self.db.execute_sql(ORDER_LOCK_SQL, (fill.client_order_id,))
            sql, last = FILL_UPTO_SQL, (fill.client_order_id, fill.qty, upto)
        cursor = self.db.execute_sql(
            sql,
            (
                *first,
                f"{session_key}:{key}",
                fill.symbol,
                str(fill.side),
                fill.qty,
                fill.price,
                fill.commission,
                fill.slippage,
                db_time(self.clock.now()),
                db_time(market_time),
                *last,
            ),
        )
        return self.db.rows_changed(cursor) != 0

    def together(self) -> contextlib.AbstractContextManager[Any]:
        """The writes made inside commit as one: a transaction of their own on a remote
        broker's session (whose rows otherwise commit one by one), nothing more inside a
        cycle's or a batch's transaction (its commit takes them all)."""
        if self.db.in_transaction():
            return contextlib.nullcontext()
        return self.risk_rolls_back(self.db.atomic())

    def trade(self, trade: ClosedTrade) -> None:
        """Record a closed round trip."""
        self.db.execute_sql(
            TRADE_SQL,
            [  # in TRADE_FIELDS order
                self.session.id if self.session else None,
                trade.symbol,
                str(trade.side),
                trade.quantity,
                round(trade.entry_price, 4),
                round(trade.exit_price, 4),
                db_time(self.clock.now()),
                db_time(trade.exit_time),
                db_time(trade.entry_time),
                round(trade.commission, 4),
                round(trade.slippage, 4),
                round(trade.pnl, 4),
                round(trade.pnl_pct, 4),
                trade.client_order_id,
            ],
        )

    # -- account and risk ----------------------------------------------------------------------

    def snapshot(
        self,
        iteration: int,
        account: Account,
        positions: dict[str, Position],
        drawdown_pct: float,
        daily_pnl: float,
        state: TradingState,
        market_time: Any,
        marker: object = None,
    ) -> None:
        """Record the account after a decision cycle. ``marker``: ``fills_marker`` as read just
        before ``positions`` were read from the broker; with it, the row names the symbols it
        cannot vouch for (``AccountSnapshot.unsettled``)."""
        values = {
            "session": self.session.id if self.session else None,
            "iteration": iteration,
            "timestamp": db_time(self.clock.now()),
            "market_time": db_time(market_time),
            "cash": round(account.cash, 4),
            "equity": round(account.equity, 4),
            "buying_power": round(account.buying_power, 4),
            "drawdown_pct": round(drawdown_pct, 4),
            "daily_pnl": round(daily_pnl, 4),
            "state": str(state),
            "positions": json.dumps(
                [
                    [p.symbol, p.qty, round(p.avg_entry_price, 4), round(p.last_price, 4)]
                    + ([p.multiplier] if p.multiplier != 1 else [])  # an option's 100
                    for p in positions.values()
                ]
            ),
        }
        row = [values[f] for f in SNAPSHOT_FIELDS]
        if marker is None:
            self.db.execute_sql(SNAPSHOT_SQL, row)
            return
        account = self.session.account_key if self.session else ""
        if getattr(self.db, "is_postgres", False):
            self.db.execute_sql(PG_JUDGED_SNAPSHOT_SQL, [*row, account, account, marker, marker])
        else:
            self.db.execute_sql(JUDGED_SNAPSHOT_SQL, [*row, account, account, marker])

    def fills_marker(self) -> object:
        """What the audit trail has recorded so far (SQLite: the newest fill id; PostgreSQL:
        the transactions committed, ``pg_current_snapshot()``), read just before a broker's
        positions are: a fill recorded after it may be one those positions already hold."""
        sql = PG_FILLS_MARKER_SQL if getattr(self.db, "is_postgres", False) else FILLS_MARKER_SQL
        return self.db.execute_sql(sql).fetchone()[0]

    def risk_event(
        self, event: RiskEvent, account_key: str, market_time: Any, durable: bool = False
    ) -> None:
        """Record a risk control's trip or a user's risk action; ``durable`` (a halt): its
        commit is on disk when this returns on a durable store (``execute_durably``).

        Within a batch of cycles the row waits for the batch's commit and goes with the
        batch's other events in one ``executemany`` (at the daily order limit a cycle refuses
        dozens of orders, each an event, and a cycle that only refuses then writes nothing
        and needs no savepoint): the same rows, in the same order, in the same transaction;
        a cycle that fails drops its own (``_drop_unsent``)."""
        row = [  # in RISK_EVENT_FIELDS order
            self.session.id if self.session else None,
            account_key,
            db_time(self.clock.now()),
            db_time(market_time),
            event.event_type,
            round(event.value, 6),
            event.limit,
            event.action_taken,
            event.symbol,
            event.detail,
        ]
        if self._batch is not None:
            self._unsent_events.append(row)
        elif durable:
            self.db.execute_durably(RISK_EVENT_SQL, row)
        else:
            self.db.execute_sql(RISK_EVENT_SQL, row)


__all__ = ["AuditLog", "load_risk_state"]
