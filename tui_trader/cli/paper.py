"""``tui-trader paper``: a headless local paper session on simulated or replayed bars.

Prints a ``[LOCAL]`` header, one Phase 4 line per decision cycle (``iter=2 cash=... equity=...
fills=1``), a line for each risk event, and a summary. Ctrl+C once finishes the cycle, writes the
final snapshot and prints the summary; a second Ctrl+C leaves at once (the open transaction is
rolled back, so the database stays whole).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui_trader.cli.common import (
    UsageError,
    data_text,
    fail,
    resolve_db,
)
from tui_trader.cli.numbers import (
    cash_arg,
    integer,
    non_negative_float,
    slippage_bps,
)
from tui_trader.cli.ops_options import ops_settings_from, running_ops
from tui_trader.cli.session_options import add_session_options, session_choices_from
from tui_trader.cli.yahoo_options import add_yahoo_options, yahoo_options
from tui_trader.market import MarketDataError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from tui_trader.cli.stop_signals import RunStop
    from tui_trader.engine.session import TradingSession
    from tui_trader.ops.session_ops import OpsSettings
    from tui_trader.store.pg_url import PgUrl


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``paper`` subcommand."""
    parser = subparsers.add_parser(
        "paper",
        help="run a headless local paper session (simulated broker, offline)",
        description="Run a local paper session: simulated or replayed bars, simulated fills.",
    )
    add_session_options(parser)
    parser.add_argument(
        "--start-cash", type=cash_arg, default=100_000.0, help="starting cash (100000)"
    )
    parser.add_argument(
        "--data",
        type=data_text,
        default="sim",
        metavar="SOURCE",
        help="sim (seeded simulated market), replay:FILE (CSV/Parquet bars) or yahoo "
        "(Yahoo Finance through the local cache)",
    )
    parser.add_argument("--seed", type=integer, default=7, help="simulated market seed (7)")
    parser.add_argument(
        "--batch",
        action="store_true",
        help="replay a whole file (--data replay:FILE --iterations 0) as fast as possible: no "
        "line per cycle, a summary at the end (with --commit-every N for speed; README: "
        "Performance)",
    )
    add_yahoo_options(parser.add_argument_group("Yahoo data (--data yahoo)"))
    costs = parser.add_argument_group("simulated costs")
    costs.add_argument("--slippage-bps", type=slippage_bps, default=5.0, help="(5)")
    costs.add_argument(
        "--commission-per-share", type=non_negative_float, default=0.005, help="(0.005)"
    )
    costs.add_argument("--commission-min", type=non_negative_float, default=1.0, help="(1.00)")
    costs.add_argument("--fractional", action="store_true", help="allow fractional shares")
    costs.add_argument("--allow-short", action="store_true", help="let strategies go short")
    parser.set_defaults(handler=run_paper)


def _check_batch(args: argparse.Namespace) -> None:
    """``--batch`` replays a file to its end, nothing else."""
    if not args.batch:
        return
    if not args.data.strip().startswith("replay:"):
        raise UsageError("--batch replays a file: use it with --data replay:FILE")
    if args.iterations or args.every:
        raise UsageError("--batch runs the whole file: use --iterations 0 and no --every")


def run_paper(args: argparse.Namespace) -> int:
    """Build the session, print the header, run it, print the summary."""
    # Imported here, not at the top: ``paper --help`` then loads no engine, polars or rich.
    from rich.console import Console

    from tui_trader.cli.closed_output import watch_stdout
    from tui_trader.cli.shown_console import shown_markup
    from tui_trader.cli.stop_signals import (
        RunStop,
        Stopped,
        ctrl_c,
        stopped_raised,
        stopped_while_starting,
    )
    from tui_trader.session.local import LocalSettings, SettingsError, build_local_session
    from tui_trader.session.lost_store import StoreLostAtStart
    from tui_trader.session.stopped_start import end_started_anyway

    _check_batch(args)
    watch_stdout()  # from the header on, a closed stdout stops the session cleanly
    console = Console(highlight=False, soft_wrap=True)
    db = resolve_db(args.db)
    ops = ops_settings_from(args)
    settings = LocalSettings(
        db=db,
        symbols=args.symbols,
        interval=args.interval,
        period=args.period,
        start_cash=args.start_cash,
        data=args.data,
        seed=args.seed,
        **session_choices_from(args),
        slippage_bps=args.slippage_bps,
        commission_per_share=args.commission_per_share,
        commission_min=args.commission_min,
        fractional=args.fractional,
        allow_short=args.allow_short,
        iterations=args.iterations,
        yahoo=yahoo_options(args) if args.data.strip() == "yahoo" else None,
        report=lambda note: console.print(f"[yellow]note:[/] {shown_markup(note)}"),
        snapshot_every=max(args.snapshot_every, 1),
        commit_every=max(args.commit_every, 1),
    )
    try:
        with stopped_raised() as taken:  # a stop signal while it starts ends its row
            session = build_local_session(settings)
    except (SettingsError, MarketDataError) as exc:
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
        return _header_and_run(args, console, session, db, ops, signals)


def _header_and_run(
    args: argparse.Namespace,
    console: Console,
    session: TradingSession,
    db: Path | PgUrl,
    ops: OpsSettings,
    signals: RunStop,
) -> int:
    """Print the header, run the session, print the summary; the exit code."""
    from tui_trader.cli.session_output import close_store, run_batch_in_terminal, run_in_terminal
    from tui_trader.cli.shown_console import shown_markup

    cfg = session.config
    tag = "[bold cyan][LOCAL][/]"
    console.print(f"{tag} Paper Trading Mode (local simulated broker, no real money)")
    console.print(f"{tag} Symbols: {', '.join(cfg.symbols)}")
    console.print(
        f"{tag} Data: {shown_markup(cfg.data_label)}, interval {cfg.interval.text}, "
        f"warm-up {_warmup_text(session)}"
    )
    console.print(f"{tag} Starting cash: ${cfg.start_cash:,.2f}")
    lim = cfg.limits
    console.print(
        f"{tag} Risk: max drawdown {lim.max_drawdown_pct:.1f}%, max daily loss "
        f"{lim.max_daily_loss_pct:.1f}%, max position {lim.max_position_pct:.1f}%, "
        f"{lim.max_orders_per_day} orders/day"
        + (", flatten on halt" if cfg.flatten_on_halt else "")
    )
    protection = cfg.protection()
    if protection:
        console.print(f"{tag} Protection: {protection}")
    console.print(f"{tag} Weights: {_weights_line(session)}")
    console.print(f"{tag} Database: {shown_markup(db)}")  # 'x[red]y.db' is that file's name
    console.print(f"{tag} Session: {session.audit.session.key} (Ctrl+C to stop)")

    try:
        with running_ops(ops, session, db):
            if args.batch:
                result = run_batch_in_terminal(console, session, tag, signals)
            else:
                result = run_in_terminal(
                    console, session, args.iterations, args.every, tag, signals
                )
    finally:
        close_store(session)
    return 1 if result.status == "failed" else 0


def _warmup_text(session: TradingSession) -> str:
    """``60d (420 1h bars, to 2017-05-12 14:00 UTC)``: the period counts US trading sessions
    (a 1h session is 7 bars), so 60d of a currency pair's round-the-clock bars is 17 days of
    them, not 60; the bars and the last one's time say what the warm-up really covered."""
    cfg = session.config
    text = cfg.period.text
    if session.market_time is None:
        return text
    bars = cfg.period.bars(cfg.interval)
    return (
        f"{text} ({bars:,} {cfg.interval.text} bars, to {session.market_time:%Y-%m-%d %H:%M} UTC)"
    )


def _weights_line(session) -> str:
    """How the strategies are combined, and whether learning was restored."""
    learning = session.learning
    names = ", ".join(s.name for s in session.strategies)
    if learning is None:
        return f"fixed ({names})"
    weights = getattr(learning, "weights", None)
    rate = f"learning rate {weights.learning_rate:g}, floor {weights.floor:g}; " if weights else ""
    restored = "continuing saved weights" if getattr(learning, "restored", False) else "fresh"
    return f"adaptive ({names}; {rate}{restored})"
