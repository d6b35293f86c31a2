"""The options of ``live paper`` and ``live trading``, and the settings they ask for.

Both trading actions take the shared session options (``cli/session_options.py``) and the
Alpaca ones here: the request timeout, the key's request budget, market hours, the account's
capital and what to do with positions the desk did not make. ``settings_from`` reads them all,
checking the timing and learning ones before the real-money warning, credentials or any
connection.
"""

from __future__ import annotations

import argparse

from tui_trader.brokers.alpaca_budget import RATE_PER_MINUTE
from tui_trader.cli.common import UsageError, resolve_db
from tui_trader.cli.numbers import cash_arg, positive_float, timeout_arg
from tui_trader.cli.session_options import (
    add_session_options,
    learning_from,
    session_choices_from,
)
from tui_trader.core.timeframes import TimeframeError, check_warmup, parse_interval, parse_period
from tui_trader.session.alpaca import AlpacaSettings

MIN_REQUESTS_PER_MINUTE = 1.0
MAX_REQUESTS_PER_MINUTE = 100_000.0
"""``--requests-per-minute`` bounds: Alpaca grants 200 a minute by default, 1,000 or more on
some plans; beyond 100,000 is a typo, not a plan."""


def requests_per_minute_arg(text: str) -> float:
    """The account's request budget per API: from 1 to 100,000 a minute."""
    value = positive_float(text)
    if not MIN_REQUESTS_PER_MINUTE <= value <= MAX_REQUESTS_PER_MINUTE:
        raise argparse.ArgumentTypeError(
            f"from {MIN_REQUESTS_PER_MINUTE:g} to {MAX_REQUESTS_PER_MINUTE:,.0f} requests a "
            f"minute, got {text!r}"
        )
    return value


def trading_options(parser: argparse.ArgumentParser) -> None:
    """Options of both trading actions."""
    add_session_options(parser, live=True)
    parser.add_argument(
        "--start-cash",
        type=cash_arg,
        default=None,
        help="trade as if the account held at most this much (default: its whole equity)",
    )
    parser.add_argument(
        "--suspend-on-halt",
        action="store_true",
        help="on a halt also set the account's suspend_trade flag (re-arm on Alpaca)",
    )
    parser.add_argument(
        "--adopt-positions",
        action="store_true",
        help="take positions that differ from the desk's recorded fills (a trade by hand "
        "while no session ran) as the desk's own and trade them; default: leave them alone",
    )
    parser.add_argument(
        "--timeout", type=timeout_arg, default=10.0, help="seconds per Alpaca request (10)"
    )
    parser.add_argument(
        "--requests-per-minute",
        type=requests_per_minute_arg,
        default=RATE_PER_MINUTE,
        help="the account's request budget per Alpaca API, shared by every session on the "
        f"account and database ({RATE_PER_MINUTE:g}, under Alpaca's 200; more if your plan "
        "allows, less if another tool uses the key)",
    )
    parser.add_argument(
        "--ignore-market-hours",
        action="store_true",
        help="send orders outside regular hours too (the sandbox is open around the clock)",
    )


def settings_from(args: argparse.Namespace, mode: str) -> AlpacaSettings:
    """AlpacaSettings from the parsed options, the timing and learning ones checked here (before
    the real-money warning, credentials or any connection)."""
    try:
        check_warmup(parse_period(args.period), parse_interval(args.interval))
    except TimeframeError as exc:
        raise UsageError(str(exc)) from None
    problem = learning_from(args).check()
    if problem:
        raise UsageError(problem)
    return AlpacaSettings(
        mode=mode,
        db=resolve_db(args.db),
        symbols=args.symbols or ("SPY", "QQQ", "IWM"),
        interval=args.interval,
        period=args.period,
        **session_choices_from(args),
        suspend_on_halt=args.suspend_on_halt,
        timeout=args.timeout,
        requests_per_minute=args.requests_per_minute,
        require_open_market=not args.ignore_market_hours,
        capital=args.start_cash,
        adopt_positions=args.adopt_positions,
    )
