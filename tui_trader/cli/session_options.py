"""The options every trading command shares, and what they ask for.

``paper`` and ``live`` read the same risk limits, protective exits, allocation and strategy
weights from the same options (``add_session_options``), so the two cannot drift apart: this
module holds those options and their one reading (``session_choices_from``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypedDict

from tui_trader.cli.common import (
    UsageError,
    add_db_option,
    interval_text,
    period_text,
    session_symbols_arg,
)
from tui_trader.cli.numbers import (
    every_arg,
    non_negative_float,
    non_negative_int,
    percent,
    stop_loss_arg,
    take_profit_arg,
)
from tui_trader.cli.ops_options import add_ops_options
from tui_trader.core.symbols import MAX_SESSION_SYMBOLS
from tui_trader.learning.choices import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE, WEIGHT_MODES
from tui_trader.risk.limits import RiskLimits

if TYPE_CHECKING:
    from tui_trader.learning.setup import LearningSettings
    from tui_trader.risk.stops import StopRule


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
        type=every_arg,
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
