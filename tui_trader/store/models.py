"""The audit database's tables, with the Phase 4 document's names and columns.

Every row has ``timestamp``: the UTC wall-clock time the row's event happened, stored as naive
UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``) so that SQLite's ``datetime('now', ...)`` and
``date('now')`` compare with it directly. Rows about market events also carry ``market_time``,
the bar's own time, which is what reports on simulated or replayed sessions group by.
"""

from __future__ import annotations

from typing import Any

from peewee import (
    BooleanField,
    CompositeKey,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    Model,
    fn,
)

from tui_trader.store.stored_fields import (
    StoredDateTime,
    StoredId,
    StoredInteger,
    StoredText,
)

database = DatabaseProxy()
"""Bound to the real SQLite file by ``tui_trader.store.db.open_database``."""


class BaseModel(Model):
    """Common table settings."""

    class Meta:
        database = database
        legacy_table_names = False


class SessionRow(BaseModel):
    """One run of the desk: its mode, broker, data, parameters and how it ended."""

    id = StoredId()
    key = StoredText(unique=True)
    mode = StoredText()
    broker = StoredText()
    endpoint = StoredText(null=True)
    data_source = StoredText()
    symbols = StoredText()
    parameters = StoredText()
    account_key = StoredText(index=True)
    started_at = StoredDateTime()
    ended_at = StoredDateTime(null=True)
    status = StoredText(default="running")
    iterations = StoredInteger(default=0)
    pid = StoredInteger(null=True)
    """The process that runs the session."""
    host = StoredText(null=True)
    """The machine that process runs on."""
    heartbeat_at = StoredDateTime(null=True)
    """Wall-clock time of the session's last sign of life (``store.liveness``)."""
    heartbeat_window = FloatField(null=True)
    """Seconds after the last heartbeat until a ``running`` session counts as dead."""
    heartbeat_uptime = FloatField(null=True)
    """The last heartbeat on the host's boot clock (``/proc/uptime``), which no wall-clock step
    moves: how processes of the same boot age it (``store.liveness``)."""
    proc_start = StoredInteger(null=True)
    """The process's start, clock ticks after boot: with ``pid`` and ``boot_id`` it names that
    very process, never a later one given the same id (``store.process_identity``)."""
    boot_id = StoredText(null=True)
    """The boot of ``host`` the process runs in (``/proc/sys/kernel/random/boot_id``)."""

    class Meta:
        table_name = "sessions"


class LiveOrder(BaseModel):
    """An order, written before it is sent and updated on every status change."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="orders", null=True, on_delete="SET NULL")
    client_order_id = StoredText(unique=True)
    broker_order_id = StoredText(null=True)
    symbol = StoredText(index=True)
    side = StoredText()
    quantity = FloatField()
    order_type = StoredText()
    limit_price = FloatField(null=True)
    status = StoredText(index=True)
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    updated_at = StoredDateTime()
    filled_qty = FloatField(default=0.0)
    filled_price = FloatField(null=True)
    error = StoredText(null=True)
    rationale = StoredText(default="")
    iteration = StoredInteger(null=True)

    class Meta:
        table_name = "live_orders"


class LiveFill(BaseModel):
    """One execution of an order, with its costs."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="fills", null=True, on_delete="SET NULL")
    order = ForeignKeyField(LiveOrder, backref="fills", null=True, on_delete="SET NULL")
    fill_key = StoredText(unique=True)
    symbol = StoredText(index=True)
    side = StoredText()
    quantity = FloatField()
    price = FloatField()
    commission = FloatField(default=0.0)
    slippage = FloatField(default=0.0)
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)

    class Meta:
        table_name = "live_fills"


class LiveTrade(BaseModel):
    """A closed round trip: entry, exit, costs and profit."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="trades", null=True, on_delete="SET NULL")
    symbol = StoredText(index=True)
    side = StoredText()
    quantity = FloatField()
    entry_price = FloatField()
    exit_price = FloatField()
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    entry_time = StoredDateTime(null=True)
    commission = FloatField(default=0.0)
    slippage = FloatField(default=0.0)
    pnl = FloatField()
    pnl_pct = FloatField()
    client_order_id = StoredText(null=True)

    class Meta:
        table_name = "live_trades"


class AccountSnapshot(BaseModel):
    """The account after one decision cycle, with the risk measures and open positions."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="snapshots", null=True, on_delete="SET NULL")
    iteration = StoredInteger(null=True)
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    cash = FloatField()
    equity = FloatField()
    buying_power = FloatField()
    drawdown_pct = FloatField()
    daily_pnl = FloatField()
    state = StoredText(default="active")
    positions = StoredText(default="[]")
    """JSON list of ``[symbol, qty, avg_entry_price, last_price]``."""
    fills_through = StoredInteger(null=True)
    """The newest ``live_fills`` id when the snapshot was written (its own transaction's
    included): on SQLite (one writer at a time) every fill recorded after it has a higher id,
    so start-up reconciliation can add them to the snapshot's positions (``engine.reconcile``);
    on PostgreSQL, where ids are not given in commit order, the transactions the snapshot saw
    decide (``store.lost_rows._after``). Null in older rows (their record times are compared
    instead)."""
    unsettled = StoredText(null=True)
    """The symbols whose shares this snapshot cannot vouch for, as ``,SPY,QQQ,`` (``,``: none):
    an order of the account in them not final, or a fill of theirs recorded since just before
    the positions were read. Their shares there may already count a fill recorded after the
    snapshot (its news came late), so start-up reconciliation takes them from an earlier
    snapshot that vouches for them (``engine.reconcile``). Null: not judged (a local
    session's, whose account no later session reconciles, or an older row)."""

    class Meta:
        table_name = "live_account_snapshots"


class RiskEventRow(BaseModel):
    """A risk control that tripped, or a user's risk action (kill, reset)."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="risk_events", null=True, on_delete="SET NULL")
    account_key = StoredText(index=True)
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    event_type = StoredText(index=True)
    value = FloatField()
    limit = FloatField()
    action_taken = StoredText()
    symbol = StoredText(null=True)
    detail = StoredText(default="")

    class Meta:
        table_name = "live_risk_events"


class RiskStateRow(BaseModel):
    """The risk manager's memory for one account, so that a restart changes nothing."""

    account_key = StoredText(primary_key=True)
    state = StoredText()
    peak_equity = FloatField(null=True)
    day = StoredText(null=True)
    day_open_equity = FloatField(null=True)
    last_equity = FloatField(null=True)
    orders_today = StoredInteger(default=0)
    halt_reason = StoredText(null=True)
    halt_detail = StoredText(default="")
    updated_at = StoredDateTime()
    version = StoredInteger(default=0)
    """Raised by every change (``store.risk_store``): readers see that the row moved on."""
    halt_id = StoredInteger(default=0)
    """The halt's identity: raised by every halt written (``risk.merge``), never lowered, so a
    resume lifts only the very halt it read, not a later one with the same words."""

    class Meta:
        table_name = "risk_state"


class SymbolClaim(BaseModel):
    """The session of an account that trades a symbol (the first to send a strategy's order in
    it, while it runs): every session of the account compares ``version`` with what it read
    before its positions, so two desks never both act on one reading (``store.symbol_claims``).
    """

    account_key = StoredText()
    symbol = StoredText()
    holder = StoredText()
    """The key of the session that holds the symbol."""
    protects = BooleanField(default=False)
    """Whether that session keeps protective exits (the others leave the symbol's to it). A
    symbol's exit row (``SPY exit``: ``store.symbol_claims.exit_row``) names the one session
    that keeps its protective exit."""
    version = StoredInteger(default=0)
    """Raised by every take: a reader sees the symbol changed hands since it looked."""
    updated_at = StoredDateTime()

    class Meta:
        table_name = "symbol_claims"
        primary_key = CompositeKey("account_key", "symbol")


class HaltRequest(BaseModel):
    """A kill-switch press from another process (the monitor), picked up every iteration."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="halt_requests", null=True, on_delete="CASCADE")
    timestamp = StoredDateTime()
    requested_by = StoredText()
    reason = StoredText(default="")
    flatten = BooleanField(default=False)
    handled_at = StoredDateTime(null=True, index=True)
    taken_by = StoredInteger(null=True)
    """The session that took the request (``store.kill_requests.claim``): one compare-and-set,
    so two live sessions that read it at once do not both halt; ``NULL`` until taken."""

    class Meta:
        table_name = "halt_requests"


class AlertDelivery(BaseModel):
    """An alert that could not be delivered (after its retries): which, where, and why.

    ``target`` is the alert URL with its tokens and passwords masked; the URL itself is never
    stored."""

    id = StoredId()
    timestamp = StoredDateTime()
    account_key = StoredText(default="")
    event = StoredText()
    target = StoredText()
    attempts = StoredInteger()
    error = StoredText()

    class Meta:
        table_name = "alert_deliveries"


def filed_at(model: type[BaseModel]) -> Any:
    """The time a row is filed under: its bar time when it has one, else its wall time (what
    the History screen sorts by bar time and filters dates by: ``store.browse``)."""
    return fn.COALESCE(model.market_time, model.timestamp)


BROWSED_BY_TIME: tuple[type[BaseModel], ...] = (LiveOrder, LiveTrade, RiskEventRow)
"""The tables the History screen sorts by bar time and filters by dates, each indexed on
``filed_at`` and the id (``<table>_filed_at``): without it a deep page of 200,000 orders sorted
by bar time sorted the whole table (~0.3-0.5 s); the id keeps pages stable
(``store.browse._ordered``). Fills are not browsed by time and have none: every index costs
each insert a B-tree update."""

for _model in BROWSED_BY_TIME:
    _model.add_index(
        _model.index(filed_at(_model), _model.id, name=f"{_model._meta.table_name}_filed_at")
    )


MODELS: tuple[type[BaseModel], ...] = (
    SessionRow,
    LiveOrder,
    LiveFill,
    LiveTrade,
    AccountSnapshot,
    RiskEventRow,
    RiskStateRow,
    SymbolClaim,
    HaltRequest,
    AlertDelivery,
)
"""Every table, in creation order."""
