"""``tui-trader live paper|trading|status|history|pnl``: trading on Alpaca, and its reports.

``live trading`` moves real money. It refuses without ``--enable-live`` before any connection,
then shows the active limits in a boxed warning and needs the exact typed phrase
``YES I UNDERSTAND`` on a terminal; anything else, end of input or no terminal aborts with
nothing sent.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel

from tui_trader.brokers.alpaca_config import (
    LIVE_URL,
    PAPER_URL,
    AlpacaEndpoint,
    ConfigError,
    load_endpoint,
)
from tui_trader.cli.alpaca_options import settings_from, timeout_arg, trading_options
from tui_trader.cli.closed_output import watch_stdout
from tui_trader.cli.common import (
    DB_ENV,
    UsageError,
    db_arg,
    fail,
    open_existing_db,
    warn_env_lines,
)
from tui_trader.cli.live_readiness import add_readiness_options, readiness_gate, record_skip
from tui_trader.cli.logs import log_or_warn
from tui_trader.cli.numbers import non_negative_int
from tui_trader.cli.ops_options import ops_settings_from, running_ops
from tui_trader.cli.questions import ask
from tui_trader.cli.session_output import close_store, run_in_terminal
from tui_trader.cli.shown_console import ShownConsole, shown_markup, styled
from tui_trader.cli.stop_signals import (
    RunStop,
    Stopped,
    ctrl_c,
    stopped_raised,
    stopped_while_starting,
)
from tui_trader.risk.limits import RiskLimits, capped_base
from tui_trader.session.alpaca import (
    AccountSuspendedError,
    AlpacaSettings,
    AlpacaSetupError,
    build_alpaca_session,
    check_url,
    connection_message,
)
from tui_trader.session.key_minute import KeyBusyAtStart
from tui_trader.session.lost_store import StoreLostAtStart
from tui_trader.session.stopped_start import end_started_anyway

if TYPE_CHECKING:
    from tui_trader.engine.session import TradingSession
    from tui_trader.ops.session_ops import OpsSettings

CONFIRMATION = "YES I UNDERSTAND"


def register_live(actions: argparse._SubParsersAction) -> None:
    """Add the Alpaca actions to the ``live`` group."""
    paper = actions.add_parser("paper", help="trade Alpaca's paper account (fake money)")
    trading_options(paper)
    paper.set_defaults(handler=run_live_paper)
    trading = actions.add_parser("trading", help="trade Alpaca's LIVE account (REAL money)")
    trading_options(trading)
    trading.add_argument(
        "--enable-live", action="store_true", help="required: you mean to trade real money"
    )
    trading.add_argument(
        "--skip-readiness",
        action="store_true",
        help="trade live although the paper record is not ready (written as a risk event)",
    )
    add_readiness_options(trading)
    trading.set_defaults(handler=run_live_trading)
    status = actions.add_parser("status", help="account, positions, orders, clock, risk state")
    status.add_argument(
        "--db",
        type=db_arg,
        default=None,
        help="audit database (for the risk state; default: $TUI_TRADER_DB, else none)",
    )
    status.add_argument("--timeout", type=timeout_arg, default=10.0)
    status.set_defaults(handler=show_live_status)
    from tui_trader.cli import reports

    history = actions.add_parser("history", help="trades of Alpaca sessions from the database")
    history.add_argument("--limit", type=non_negative_int, default=20, help="rows to show (20)")
    history.add_argument("--orders", action="store_true", help="orders instead of trades")
    history.add_argument("--verbose", action="store_true", help="with --orders: whole rationales")
    history.add_argument("--db", type=db_arg, default=None)
    history.set_defaults(handler=reports.show_history, session="alpaca")
    pnl = actions.add_parser("pnl", help="PnL per day of Alpaca sessions, with totals")
    pnl.add_argument("--period", default="7d")
    pnl.add_argument("--db", type=db_arg, default=None)
    pnl.set_defaults(handler=reports.show_pnl, session="alpaca")


def run_live_paper(args: argparse.Namespace) -> int:
    """``live paper``: the Phase 4 paper mode on Alpaca (never the live URL)."""
    return _run(args, "paper", "[bold cyan][LIVE][/]", "Paper Trading Mode on Alpaca")


def run_live_trading(args: argparse.Namespace) -> int:
    """``live trading``: real money, behind the flag and the typed phrase."""
    if not args.enable_live:
        raise UsageError(
            "live trading moves real money: add --enable-live to say you mean it "
            "(nothing was sent, no connection was made)"
        )
    settings = settings_from(args, "live")
    endpoint = _endpoint(LIVE_URL)
    try:
        check_url("live", endpoint)
    except AlpacaSetupError as exc:
        raise UsageError(str(exc)) from None
    console = Console(highlight=False)
    _warning(console, settings.limits, endpoint.label, settings)
    if not sys.stdin.isatty():
        raise UsageError("live trading needs the typed confirmation on a terminal; nothing sent")
    readiness_gate(args, settings.db, console)
    if ask(f"Type {CONFIRMATION} to trade real money: ") != CONFIRMATION:
        print("not confirmed: nothing was sent", file=sys.stderr)
        return 2
    return _run(args, "live", "[bold white on red][LIVE][/]", "LIVE TRADING (real money)")


def _warning(console: Console, limits: RiskLimits, where: str, s: AlpacaSettings) -> None:
    """The boxed real-money warning with the active limits."""
    profit = f"{s.take_profit_pct:g}% (held at the broker)" if s.take_profit_pct else "none"
    adopt = "YES (they become the desk's own and may be traded)" if s.adopt_positions else "no"
    text = (
        "[bold]You are about to trade with REAL MONEY.[/]\n"
        "Orders go to the exchange. Losses are real and can exceed what you expect.\n\n"
        f"Endpoint: {where}\nSymbols: {', '.join(s.symbols)}\n"
        f"Max drawdown (kill switch): {limits.max_drawdown_pct:.1f}%\n"
        f"Max daily loss: {limits.max_daily_loss_pct:.1f}%\n"
        f"Max position per symbol: {limits.max_position_pct:.1f}%\n"
        f"Max orders per day: {limits.max_orders_per_day}\n"
        f"Percentages are of: {_base(s.capital)}\n"
        f"Flatten on halt: {'yes' if s.flatten_on_halt else 'no'}   "
        f"Suspend account on halt: {'yes' if s.suspend_on_halt else 'no'}\n"
        f"Protective stop: {s.stop_loss.text + ' (held at the broker)' if s.stop_loss else 'none'}"
        f"\nTake profit: {profit}\nAdopt positions changed while no session ran: {adopt}"
    )
    console.print(Panel(text, title="LIVE TRADING WARNING", border_style="bold red"))


def _base(capital: float | None) -> str:
    """What the warning's percentages are of."""
    if not capital:
        return "the account's equity"
    return f"{capped_base(capital)} (the account's equity if less)"


def _endpoint(default_url: str):
    """Credentials and URLs, or a one-line error."""
    from tui_trader.brokers import env_lines

    try:
        endpoint = load_endpoint(default_url)
    except ConfigError as exc:  # still one line: the skipped lines may be why (a key without =)
        raise UsageError(f"{exc}{_skipped_said(env_lines.take_notes())}") from None
    warn_env_lines()  # once, before the session says anything
    return endpoint


def _skipped_said(notes: list[str]) -> str:
    """The ``.env`` lines skipped, added to a refusal's one line (at most three named)."""
    if not notes:
        return ""
    more = f"; and {len(notes) - 3} more" if len(notes) > 3 else ""
    return f" ({'; '.join(notes[:3])}{more})"


def _run(args: argparse.Namespace, mode: str, tag: str, title: str) -> int:
    """Connect, print the header, run, summarize."""
    log_or_warn()
    settings = settings_from(args, mode)
    ops = ops_settings_from(args)
    endpoint = _endpoint(PAPER_URL if mode == "paper" else LIVE_URL)
    try:
        check_url(mode, endpoint)
    except AlpacaSetupError as exc:
        raise UsageError(str(exc)) from None
    watch_stdout()  # from the header on, a closed stdout stops the session cleanly
    console = Console(highlight=False, soft_wrap=True)
    try:
        with stopped_raised() as taken:  # a stop signal while it starts ends its row
            # a busy key minute: one line, and the start waits for the next minute
            session = build_alpaca_session(settings, endpoint, say=console.out)
    except KeyBusyAtStart as exc:  # not the user's input: exit 1 (try again later)
        fail(str(exc), 1)
    except AccountSuspendedError as exc:
        raise UsageError(str(exc)) from None
    except AlpacaSetupError as exc:
        raise UsageError(str(exc)) from None
    except StoreLostAtStart as exc:  # not the user's input: exit 1, as mid-session
        fail(str(exc), 1)
    except Stopped as stop:
        return stopped_while_starting(stop)
    if taken.stop is not None:  # a step of the start swallowed it: stopped all the same
        end_started_anyway(session)
        return stopped_while_starting(taken.stop)
    signals = RunStop()
    with ctrl_c(signals, console):  # a stop signal from here on stops the run, even in the header
        return _header_and_run(args, console, session, settings, endpoint, ops, signals, tag, title)


def _header_and_run(
    args: argparse.Namespace,
    console: Console,
    session: TradingSession,
    settings: AlpacaSettings,
    endpoint: AlpacaEndpoint,
    ops: OpsSettings,
    signals: RunStop,
    tag: str,
    title: str,
) -> int:
    """Print the header (the account as the broker has it), run, summarize; the exit code."""
    record_skip(args, session)
    console.print(f"{tag} {title}")
    console.print(f"{tag} Connected to: {shown_markup(endpoint.label)}")
    _account_lines(console, session, tag)
    console.print(f"{tag} Symbols: {', '.join(settings.symbols)}  interval {settings.interval}")
    lim = settings.limits
    console.print(
        f"{tag} Risk: max drawdown {lim.max_drawdown_pct:.1f}%, max daily loss "
        f"{lim.max_daily_loss_pct:.1f}%, max position {lim.max_position_pct:.1f}%, "
        f"{lim.max_orders_per_day} orders/day"
        + (f", in % of {capped_base(settings.capital)}" if settings.capital else "")
    )
    protection = session.config.protection()
    if protection:
        console.print(f"{tag} Protection: {protection}")
    console.print(f"{tag} Database: {shown_markup(settings.db)}")
    if session.risk.state.halted:
        halt = session.risk.state  # its words as stored: shown, never read as markup
        console.print(
            styled(
                (" HALTED ", "bold white on red"),
                f" this account is halted ({halt.halt_reason}: {halt.halt_detail}); "
                "run 'tui-trader risk reset' to re-arm",
            )
        )
    every = args.every or session.config.interval.duration.total_seconds()
    try:
        with running_ops(ops, session, settings.db):
            result = run_in_terminal(console, session, args.iterations, every, tag, signals)
    finally:
        session.broker.close()
        close_store(session)
    return 1 if result.status == "failed" else 0


def _account_lines(console: Console, session: TradingSession, tag: str) -> None:
    """The header's account lines. The session has started (its row is written): a read the
    broker holds back here (the key's minute spent by another desk since the start) or leaves
    unanswered is said in one line and the session runs, its cycles reading the account as
    usual; before, it ended the desk (``error: Throttled``, exit 1) with its row left running."""
    from tui_trader.brokers import BrokerError

    try:
        account = session.broker.account()
    except BrokerError as exc:
        said = shown_markup(str(exc))
        console.print(f"{tag} Account: not read now ({said}); the session runs on")
        return
    console.print(
        f"{tag} Account: {shown_markup(account.account_id)}  equity ${account.equity:,.2f}  "
        f"cash ${account.cash:,.2f}  buying power ${account.buying_power:,.2f}"
    )
    pdt = (
        "n/a (Alpaca no longer reports it)"
        if account.pattern_day_trader is None
        else str(account.pattern_day_trader)
    )
    trades = "n/a" if account.daytrade_count is None else str(account.daytrade_count)
    console.print(f"{tag} Pattern day trader: {pdt}; day trades: {trades}")


def show_live_status(args: argparse.Namespace) -> int:
    """Account, positions, open orders, the market clock and the stored risk state."""
    from tui_trader.brokers import BrokerError, unseen
    from tui_trader.brokers.alpaca import AlpacaBroker
    from tui_trader.brokers.alpaca_calls import CallPolicy

    log_or_warn()
    endpoint = _endpoint(PAPER_URL)
    console = ShownConsole(highlight=False)
    broker = AlpacaBroker(endpoint, CallPolicy(timeout=args.timeout, retries=1), use_stream=False)
    try:
        account = broker.account()
        positions = broker.positions()
        orders = broker.open_orders()
        clock = broker.market_clock()
    except BrokerError as exc:
        raise UsageError(connection_message(str(exc), endpoint.label, args.timeout)) from None
    finally:
        broker.close()
    console.print(styled((endpoint.label, "bold"), f"  account {account.account_id}"))
    console.print(
        f"cash {account.cash:,.2f}  equity {account.equity:,.2f}  buying power "
        f"{account.buying_power:,.2f}  previous close equity "
        f"{account.last_equity or 0:,.2f}"
    )
    pdt = "n/a" if account.pattern_day_trader is None else str(account.pattern_day_trader)
    console.print(f"pattern day trader: {pdt}  day trades: {account.daytrade_count or 'n/a'}")
    from tui_trader.market.calendar import session_label

    state = "OPEN" if clock.is_open else "CLOSED"
    label = session_label(datetime.now(UTC))
    console.print(
        f"market {state} (exchange calendar: {label}); next open {clock.next_open}, "
        f"next close {clock.next_close}"
    )
    for p in positions.values():
        console.print(
            f"  {p.symbol:6} {p.qty:>10g} @ {p.avg_entry_price:,.2f}  last {p.last_price:,.2f}"
            f"  unrealized {p.unrealized_pnl:+,.2f}"
        )
    console.print(f"{len(positions)} position(s), {len(orders)} open order(s)")
    missed = unseen(orders)
    if missed:  # a listing cut at its bound: the count is a floor, said so
        console.print(styled((" NOT ALL SHOWN ", "bold white on red"), f" {missed}"))
    for o in orders:
        console.print(f"  {o.client_order_id} {o.side} {o.qty:g} {o.symbol} {o.status}")
    if args.db or os.environ.get(DB_ENV):  # --db, else $TUI_TRADER_DB as every command reads
        from tui_trader.store.audit import load_risk_state
        from tui_trader.store.stored_numbers import UnreadableValue, note_left_out

        open_existing_db(args.db)
        try:
            risk = load_risk_state(f"alpaca:{account.account_id}", strict=False)
        except UnreadableValue as exc:  # shown as unreadable (a session refuses to start)
            note_left_out(exc)
            console.print("risk state: - (its risk_state row cannot be read: see the warning)")
            return 0
        label = f"HALTED ({risk.halt_reason})" if risk.halted else "ACTIVE"
        console.print(f"risk state: {label}; orders today {risk.orders_today}")
    return 0
