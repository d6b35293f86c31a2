"""``tui-trader history``, ``pnl`` and ``status``: the audit database as rich tables (they only
read, so they never need the session that wrote the file to be stopped: WAL)."""

from __future__ import annotations

import argparse
import re
from typing import Any

from rich import box
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from tui_trader.cli.common import UsageError, add_db_option, key_arg, resolve_db
from tui_trader.cli.numbers import non_negative_int
from tui_trader.cli.shown_console import ShownConsole, styled
from tui_trader.core.prices import price_text
from tui_trader.market.sources import is_recorded
from tui_trader.store.audit import load_risk_state
from tui_trader.store.db import StoreError, from_db_time, open_database
from tui_trader.store.liveness import DIED, last_sign_of_life, session_pid, shown_status
from tui_trader.store.models import AccountSnapshot, LiveOrder, LiveTrade, SessionRow
from tui_trader.store.queries import (
    find_session,
    last_snapshot,
    latest_alpaca_sessions,
    pnl_by_day,
    recent_orders,
    snapshot_numbers,
    snapshot_positions,
)
from tui_trader.store.stored_numbers import UnreadableValue, note_left_out, shown, shown_whole

_NARROW = {"box": box.SIMPLE_HEAD, "collapse_padding": True, "pad_edge": False}
"""Table settings that keep history readable at 80 columns (one space between columns)."""
_DAYS_RE = re.compile(r"^([0-9]+)(d|w)$", re.ASCII)
MAX_REPORT_DAYS = 366 * 50
"""``pnl --period`` at most 50 years (further back than any session, and dates run out)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``history``, ``pnl`` and ``status``."""
    history = subparsers.add_parser("history", help="closed trades (or orders) from the database")
    history.add_argument("--limit", type=non_negative_int, default=20, help="rows to show (20)")
    history.add_argument("--orders", action="store_true", help="show orders instead of trades")
    history.add_argument(
        "--verbose", action="store_true", help="with --orders: each order's whole rationale"
    )
    _add_scope(history)
    history.set_defaults(handler=show_history)

    pnl = subparsers.add_parser("pnl", help="profit and loss per day, with totals")
    pnl.add_argument("--period", default="7d", help="days to report, e.g. 7d or 2w (7d)")
    _add_scope(pnl)
    pnl.set_defaults(handler=show_pnl)

    status = subparsers.add_parser("status", help="last account snapshot, positions, risk state")
    _add_scope(status)
    status.set_defaults(handler=show_status)


def _add_scope(parser: argparse.ArgumentParser) -> None:
    """``--db`` and ``--session`` (default: the latest session; ``all`` for every session)."""
    add_db_option(parser)
    parser.add_argument(
        "--session",
        type=key_arg,
        default=None,
        help="session key or id (default: latest; 'all' for every one)",
    )


def _open(args: argparse.Namespace) -> list[SessionRow] | None:
    """Open the database and pick the sessions the report covers (None: every session).

    ``--session all`` is every session; ``alpaca`` (what ``live history``/``live pnl`` use)
    is every session of the Alpaca account traded last; otherwise one session, by default
    the latest.
    """
    db = resolve_db(args.db, must_exist=True)
    try:
        open_database(db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if args.session == "all":
        return None
    if args.session == "alpaca":
        sessions = latest_alpaca_sessions()
        if not sessions:
            raise UsageError(f"no Alpaca sessions in {db} yet (run 'tui-trader live paper')")
        return sessions
    session = find_session(args.session)
    if session is None:
        raise UsageError(
            f"no session {args.session!r} in {db}" if args.session else f"no sessions in {db} yet"
        )
    return [session]


def _signed(value: float | None, fmt: str = "{:+,.2f}") -> Text:
    """A signed number in green or red."""
    if value is None:
        return Text("-", style="dim")
    return Text(fmt.format(value), style="green" if value >= 0 else "red")


def _read(row: LiveOrder | LiveTrade, column: str) -> float | None:
    """A history row's number, None (with a warning) when a hand edit left it unreadable."""
    return shown(getattr(row, column), row._meta.table_name, row.id, column)


def _figure(row: LiveOrder | LiveTrade, column: str, fmt: str = "{:,.2f}") -> str:
    """A history row's number formatted, "-" when unreadable."""
    value = _read(row, column)
    return "-" if value is None else fmt.format(value)


def _price(row: LiveOrder | LiveTrade, column: str) -> str:
    """A history row's price (``price_text``), "-" when unreadable."""
    value = _read(row, column)
    return "-" if value is None else price_text(value)


def _plain(value: float | None) -> str:
    """A figure with thousands separators, "-" when unreadable."""
    return "-" if value is None else f"{value:,.2f}"


def _total(values: list[float | None]) -> float | None:
    """The sum, or None when a value is unreadable (a hand-edited row, see ``stored_numbers``)."""
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _scope_title(sessions: list[SessionRow] | None) -> str:
    """Which sessions a table covers."""
    if sessions is None:
        return "all sessions"
    if len(sessions) > 1:
        return f"account {sessions[0].account_key} ({len(sessions)} sessions)"
    session = sessions[0]
    return f"session {session.key} ({session.mode}, {session.data_source}, {shown_status(session)})"


def short_rationale(rationale: str) -> str:
    """An order's rationale in a few words: its target and the strategies behind it."""
    from tui_trader.reporting.load import strategy_of

    head = rationale.split("; ", 1)[0]
    who = strategy_of(rationale)
    if who in ("unattributed", "manual", "flatten") or who in head:
        return head
    return f"{head} ({who})"


def _time_text(value: object) -> str:
    """A stored time as ``YYYY-MM-DD HH:MM`` (seconds add nothing at bar resolution)."""
    return str(value)[:16]


def show_history(args: argparse.Namespace) -> int:
    """Print the latest trades or orders (readable at 80 columns: dates and pnl % are kept
    whole, other columns give way)."""
    sessions = _open(args)
    console = ShownConsole(highlight=False)
    if args.orders:
        orders = recent_orders(args.limit, sessions)
        verbose = getattr(args, "verbose", False)
        table = _orders_table(orders, sessions, verbose, stacked=False)
        if Measurement.get(console, console.options.update_width(1000), table).minimum > (
            console.width
        ):
            table = _orders_table(orders, sessions, verbose, stacked=True)
    else:
        from tui_trader.reporting.account_trips import trip_rows

        trades = trip_rows(args.limit, sessions)  # the account's round trips, from its fills
        table = _trades_table(trades, sessions, stacked=False)
        natural = Measurement.get(console, console.options.update_width(1000), table)
        if natural.maximum > console.width:
            table = _trades_table(trades, sessions, stacked=True)
    if not table.row_count:
        what = "orders" if args.orders else "trades"
        console.print(f"no {what} yet ({_scope_title(sessions)})")
        return 0
    console.print(table)
    return 0


def _orders_table(
    orders: list[LiveOrder], sessions: list[SessionRow] | None, verbose: bool, *, stacked: bool
) -> Table:
    """The orders as a table, the rationale folded into what room is left; ``stacked`` puts
    each filled quantity under the ordered one in one column (fractional quantities of large
    prices did not fit 80 columns: quantities and statuses were cut)."""
    table = Table(title=f"Orders: {_scope_title(sessions)}", show_edge=not stacked, **_NARROW)
    for col in ("id", "market time", "symbol", "side", "qty", "status"):
        table.add_column(
            Text("qty\nfilled", justify="right") if col == "qty" and stacked else col,
            justify="right" if col in ("id", "qty") else "left",
            no_wrap=col not in ("symbol", "side", "status"),
        )
    if not stacked:
        table.add_column("filled", justify="right", no_wrap=True)
    table.add_column("price", justify="right", no_wrap=True)
    table.add_column("rationale", overflow="fold", min_width=12)
    for o in orders:
        qty, filled = _figure(o, "quantity", "{:g}"), _figure(o, "filled_qty", "{:g}")
        table.add_row(
            str(o.id),
            _time_text(o.market_time or o.timestamp),
            o.symbol,
            o.side,
            *((Text(f"{qty}\n{filled}"),) if stacked else (qty,)),
            o.status,
            *(() if stacked else (filled,)),
            _price(o, "filled_price") if o.filled_price else "-",
            o.error or (o.rationale if verbose else short_rationale(o.rationale)),
        )
    return table


def _trades_table(
    trades: list[LiveTrade], sessions: list[SessionRow] | None, *, stacked: bool
) -> Table:
    """The trades as a table; ``stacked`` puts each exit price under its entry price in one
    column, so large prices with fractional quantities (bitcoin at 66,000 a unit, 0.015 of it)
    still fit 80 columns without cutting the close time or the pnl %."""
    table = Table(title=f"Trades: {_scope_title(sessions)}", show_edge=not stacked, **_NARROW)
    prices = ("entry/exit",) if stacked else ("entry", "exit")
    for col in ("id", "closed", "symbol", "side", "qty", *prices):
        table.add_column(
            col,
            justify="left" if col in ("closed", "symbol", "side") else "right",
            no_wrap=col != "symbol",
        )
    for col in ("comm.", "pnl", "pnl %"):
        table.add_column(col, justify="right", no_wrap=True)
    for t in trades:
        entry, exit_ = _price(t, "entry_price"), _price(t, "exit_price")
        table.add_row(
            str(t.id),
            _time_text(t.market_time or t.timestamp),
            t.symbol,
            "long" if t.side == "buy" else "short",
            _figure(t, "quantity", "{:g}"),
            *((Text(f"{entry}\n{exit_}"),) if stacked else (entry, exit_)),
            _figure(t, "commission"),
            _signed(_read(t, "pnl")),
            _signed(_read(t, "pnl_pct"), "{:+.2f}%"),
        )
    return table


def show_pnl(args: argparse.Namespace) -> int:
    """Print PnL per day and the totals."""
    match = _DAYS_RE.match(args.period.strip().lower())
    digits = match.group(1).lstrip("0") if match else ""
    if not digits:
        raise UsageError(f"unknown period {args.period!r} (use e.g. 7d or 2w)")
    # seven digits and more is past the bound: 1000000d was an "unknown period" (36500d not)
    days = int(digits[:7]) * (7 if match.group(2) == "w" else 1)
    if days > MAX_REPORT_DAYS:
        raise UsageError(f"period {args.period!r} is longer than 50 years")
    sessions = _open(args)
    by_market = sessions is None or all(s.mode == "local" for s in sessions)
    from tui_trader.reporting.account_pnl import realized_of  # (``report``'s round trips)

    made = realized_of(sessions).by_day
    rows = pnl_by_day(days, sessions, made, by_market=by_market)
    console = ShownConsole(highlight=False)
    basis = "market date" if by_market else "date (UTC)"
    table = Table(title=f"PnL per day, last {days} day(s): {_scope_title(sessions)}")
    table.add_column(basis)
    table.add_column("trades", justify="right")
    table.add_column("realized", justify="right")
    table.add_column("equity change", justify="right")
    table.add_column("end equity", justify="right")
    for row in rows:
        table.add_row(
            row.day.isoformat(),
            str(row.trades),
            _signed(row.realized),
            _signed(row.equity_change),
            f"{row.end_equity:,.2f}" if row.end_equity is not None else "-",
        )
    changes = [r.equity_change for r in rows if r.equity_change is not None]
    table.add_section()
    table.add_row(
        "total",
        str(sum(r.trades for r in rows)),
        _signed(_total([r.realized for r in rows])),
        _signed(sum(changes) if changes else None),
        "",
        style="bold",
    )
    console.print(table)
    return 0


def show_status(args: argparse.Namespace) -> int:
    """Print the last snapshot, its positions and the account's risk state."""
    sessions = _open(args)
    if sessions is None or len(sessions) != 1:
        raise UsageError("status needs one session (omit --session for the latest)")
    session = sessions[0]
    console = ShownConsole(highlight=False)
    snap = last_snapshot(session)
    status = shown_status(session)
    console.print(
        styled(
            (f"Session {session.key}", "bold"),
            f" mode={session.mode} broker={session.broker} "
            f"data={session.data_source} status={status} iterations={_iterations(session)}",
        )
    )
    if status == DIED:
        seen = last_sign_of_life(session)
        still = " (its row still said running)" if session.status == "running" else ""
        console.print(
            styled(
                ("the session's process is gone", "bold red"),
                f": pid {session_pid(session) or '?'} on {session.host or '?'}, last heartbeat "
                f"{str(seen)[:19] if seen else 'never'} UTC{still}",
            )
        )
    if snap is None:
        console.print("no account snapshot yet")
    else:
        n = snapshot_numbers(snap)
        console.print(
            f"cash {_plain(n['cash'])}  equity {_plain(n['equity'])}  buying power "
            f"{_plain(n['buying_power'])}  drawdown {_plain(n['drawdown_pct'])}%  day PnL ",
            _signed(n["daily_pnl"]),
            f"  (market time {str(snap.market_time)[:19]}, {_snapshot_label(session, snap)})",
        )
        positions = snapshot_positions(snap)
        table = Table(title="Open positions")
        for col in ("symbol", "qty", "avg entry", "last", "market value", "unrealized"):
            table.add_column(col, justify="left" if col == "symbol" else "right")
        for p in positions:
            table.add_row(
                p.symbol,
                f"{p.qty:g}",
                price_text(p.avg_entry_price),
                price_text(p.last_price),
                f"{p.market_value:,.2f}",
                _signed(p.unrealized_pnl),
            )
        if positions:
            console.print(table)
        else:
            console.print("no open positions")
    try:
        risk = load_risk_state(session.account_key, strict=False)
    except UnreadableValue as exc:  # a display shows the rest (a session refuses to start)
        note_left_out(exc)
        console.print("risk: - (its risk_state row cannot be read: see the warning)")
        return 0
    if risk.halted:
        console.print(
            styled(
                (" HALTED ", "bold white on red"),
                f" {risk.halt_reason}: {risk.halt_detail} (run 'tui-trader risk reset' to re-arm)",
            )
        )
    else:
        console.print(styled(("risk: ACTIVE", "bold green"), f" orders today {risk.orders_today}"))
    return 0


def _snapshot_label(session: SessionRow, snap: AccountSnapshot) -> str:
    """PRE / OPEN / AFTER / CLOSED for a snapshot's market time, by the exchange calendar; a
    replay's bar keeps its own hours (a currency pair's night is no US after-hours)."""
    if is_recorded(session.data_source):
        return "a replayed bar"
    return _session_label(snap.market_time)


def _session_label(market_time: object) -> str:
    """PRE / OPEN / AFTER / CLOSED for a stored market time, by the exchange calendar."""
    from tui_trader.market.calendar import CalendarError, session_label

    try:
        when = from_db_time(market_time)  # type: ignore[arg-type]
    except (ValueError, TypeError, AttributeError):  # a hand edit's text or number
        return "session unknown"
    if when is None:
        return "session unknown"
    try:
        return f"session {session_label(when)}"
    except (CalendarError, ValueError, OverflowError):  # year 9999 or 1: beyond the calendar
        return "session unknown"


def _iterations(session: Any) -> str:
    """A session's iteration count as shown: "-" (and a warning naming the row) for a hand
    edit's text or ``inf``, which ``status`` printed as such."""
    count = shown_whole(session.iterations, "sessions", session.id, "iterations")
    return "-" if count is None else str(count)
