"""``tui-trader paper``: a headless local paper session on simulated or replayed bars.

Prints a ``[LOCAL]`` header, one Phase 4 line per decision cycle (``iter=2 cash=... equity=...
fills=1``), a line for each risk event, and a summary. Ctrl+C once finishes the cycle, writes the
final snapshot and prints the summary; a second Ctrl+C leaves at once (the open transaction is
rolled back, so the database stays whole).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypedDict

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    data_text,
    fail,
    interval_text,
    period_text,
    resolve_db,
    session_symbols_arg,
)
from tui_trader.cli.numbers import (
    cash_arg,
    integer,
    non_negative_float,
    non_negative_int,
    percent,
    seconds,
    slippage_bps,
    stop_loss_arg,
    take_profit_arg,
)
from tui_trader.cli.ops_options import add_ops_options, ops_settings_from, running_ops
from tui_trader.cli.yahoo_options import add_yahoo_options, yahoo_options
from tui_trader.core.symbols import MAX_SESSION_SYMBOLS
from tui_trader.learning.choices import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE, WEIGHT_MODES
from tui_trader.market import MarketDataError
from tui_trader.risk.limits import RiskLimits

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from tui_trader.cli.stop_signals import RunStop
    from tui_trader.engine.session import TradingSession
    from tui_trader.learning.setup import LearningSettings
    from tui_trader.ops.session_ops import OpsSettings
    from tui_trader.risk.stops import StopRule
    from tui_trader.store.pg_url import PgUrl

MAX_EVERY = 86_400.0
"""``--every`` at most a day: a cycle a day is the slowest that means anything."""


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


def add_session_options(parser: argparse.ArgumentParser, live: bool = False) -> None:
    """Options every trading command shares: symbols, timing, risk limits, database.

    ``live`` (the Alpaca commands) states their defaults (1m bars, 5d warm-up, one cycle per
    bar) and leaves out what only a local replay has (a replay file, the replay speed group)."""
    parser.add_argument(
        "--symbols",
        type=session_symbols_arg,
        default=None,
        help=f"comma-separated tickers, at most {MAX_SESSION_SYMBOLS:,} (SPY,QQQ,IWM)"
        if live
        else f"comma-separated tickers, at most {MAX_SESSION_SYMBOLS:,} (SPY,QQQ,IWM; a replay "
        "file: all it holds)",
    )
    period, interval = ("5d", "1m") if live else ("60d", "1d")
    parser.add_argument(
        "--period",
        type=period_text,
        default=period,
        help=f"warm-up history before trading ({period})",
    )
    parser.add_argument(
        "--interval",
        type=interval_text,
        default=interval,
        help=f"bar interval: 1m 5m 15m 30m 1h 1d ({interval})",
    )
    parser.add_argument(
        "--iterations",
        type=non_negative_int,
        default=50,
        help="decision cycles to run; 0 runs until Ctrl+C (50)"
        if live
        else "decision cycles to run; 0 runs until Ctrl+C or the end of the data (50)",
    )
    parser.add_argument(
        "--every",
        type=seconds(MAX_EVERY),
        default=0.0,
        metavar="SECONDS",
        help="time between decision cycles (default: the bar interval)"
        if live
        else "wait between cycles (0: as fast as the data allows)",
    )
    add_db_option(parser)
    if live:  # one snapshot and one commit per cycle, always (orders are committed before sent)
        parser.set_defaults(snapshot_every=1, commit_every=1)
    else:
        replay = parser.add_argument_group(
            "replay speed (every order, fill and trade is still written)"
        )
        replay.add_argument(
            "--snapshot-every",
            type=non_negative_int,
            default=1,
            metavar="N",
            help="account snapshot every N cycles (and on halt, and at the end) (1)",
        )
        replay.add_argument(
            "--commit-every",
            type=non_negative_int,
            default=1,
            metavar="N",
            help="commit the audit trail every N cycles or 0.5 s, whichever comes first (1)",
        )
    risk = parser.add_argument_group("risk limits (Phase 4 defaults)")
    risk.add_argument("--max-drawdown", type=percent, default=5.0, help="kill switch, %% (5.0)")
    risk.add_argument("--max-daily-loss", type=percent, default=2.0, help="per day, %% (2.0)")
    risk.add_argument(
        "--max-position", type=percent, default=10.0, help="per symbol, %% of equity (10.0)"
    )
    risk.add_argument(
        "--max-orders-per-day", type=non_negative_int, default=100, help="order rate limit (100)"
    )
    risk.add_argument(
        "--flatten-on-halt", action="store_true", help="close all positions when trading halts"
    )
    risk.add_argument(
        "--stop-loss",
        type=stop_loss_arg,
        default=None,
        metavar="PCT|atr:N",
        help="protect every position with a stop order held at the broker, PCT%% or N average "
        "true ranges beyond entry (README: Protective stops)",
    )
    risk.add_argument(
        "--take-profit",
        type=take_profit_arg,
        default=None,
        metavar="PCT",
        help="protect every position with a take-profit limit held at the broker, PCT%% beyond "
        "entry (with --stop-loss: one OCO pair of both; README: Protective stops)",
    )
    add_learning_options(parser)
    risk.add_argument(
        "--allocation",
        type=percent,
        default=None,
        metavar="PCT",
        help="equity per symbol at full conviction (default: 1/n, capped by --max-position)",
    )
    add_ops_options(parser)


def add_learning_options(parser: argparse.ArgumentParser) -> None:
    """``--weights``, ``--learning-rate`` and ``--weight-floor`` (see docs/learning.md)."""
    group = parser.add_argument_group("strategy weights (docs/learning.md)")
    group.add_argument(
        "--weights",
        choices=WEIGHT_MODES,
        default="adaptive",
        help="adaptive (learned per regime), equal, or one strategy alone (adaptive)",
    )
    group.add_argument(
        "--learning-rate",
        type=non_negative_float,
        default=DEFAULT_LEARNING_RATE,
        help=f"adaptive weights' step per volatility-scaled reward ({DEFAULT_LEARNING_RATE:g}); 0 "
        "freezes learning",
    )
    group.add_argument(
        "--weight-floor",
        type=non_negative_float,
        default=DEFAULT_FLOOR,
        help=f"no strategy's adaptive weight falls below this ({DEFAULT_FLOOR:g})",
    )


def learning_from(args: argparse.Namespace) -> LearningSettings:
    """The learning settings the options ask for."""
    from tui_trader.learning.setup import LearningSettings  # the learner only to trade

    return LearningSettings(args.weights, args.learning_rate, args.weight_floor)


def limits_from(args: argparse.Namespace) -> RiskLimits:
    """The risk limits the options ask for."""
    if args.max_orders_per_day < 1:
        raise UsageError("--max-orders-per-day must be at least 1")
    return RiskLimits(
        max_drawdown_pct=args.max_drawdown,
        max_daily_loss_pct=args.max_daily_loss,
        max_position_pct=args.max_position,
        max_orders_per_day=args.max_orders_per_day,
    )


class SessionChoices(TypedDict):
    """The settings a local and an Alpaca session read alike from ``add_session_options``'
    risk and weights groups (``LocalSettings`` and ``AlpacaSettings`` name them the same)."""

    limits: RiskLimits
    flatten_on_halt: bool
    stop_loss: StopRule | None
    take_profit_pct: float | None
    allocation_pct: float | None
    learning: LearningSettings


def session_choices_from(args: argparse.Namespace) -> SessionChoices:
    """The risk limits, protective exits, allocation and strategy weights the options ask
    for: one reading for ``paper`` and ``live``, so the two cannot drift apart."""
    return SessionChoices(
        limits=limits_from(args),
        flatten_on_halt=args.flatten_on_halt,
        stop_loss=args.stop_loss,
        take_profit_pct=args.take_profit,
        allocation_pct=args.allocation,
        learning=learning_from(args),
    )


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
        with stopped_raised():  # a stop signal while it starts ends its row, in one line
            session = build_local_session(settings)
    except (SettingsError, MarketDataError) as exc:
        raise UsageError(str(exc)) from None
    except StoreLostAtStart as exc:  # not the user's input: exit 1, as mid-session
        fail(str(exc), 1)
    except Stopped as stop:
        return stopped_while_starting(stop)
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
