"""The number options' value types: finite ASCII numbers in range, or one line and exit 2.

``float()`` and ``int()`` alone take ``nan``, ``inf``, ``1e308`` and Unicode digits; every
number a subcommand takes goes through ``_number`` or ``integer`` here instead, so a typo is one
line naming the value, never a session started on it (split from ``cli/common.py``).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from tui_trader.cli.common import quoted

if TYPE_CHECKING:
    from tui_trader.risk.stops import StopRule

_N = TypeVar("_N", int, float)
_INT_RE = re.compile(r"^[+-]?[0-9]{1,40}$", re.ASCII)
MAX_INT = 10**12
"""The largest whole number an option takes (iterations, seeds, limits, ports are far below)."""
MAX_NUMBER = 1e12
"""The largest number an option takes: cash beyond a trillion or a rate of 1e308 is a typo."""


def finite_number(text: str) -> float:
    """Any finite number, either sign (``live readiness --min-pnl``): ``float`` alone took
    ``nan`` (no PnL is above it: the gate said "not ready" for a typo), ``-inf`` and ``５``."""
    return _number(text)


def positive_float(text: str) -> float:
    """A number greater than zero."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than zero, got {text!r}")
    return value


MAX_TIMEOUT = 600.0
"""A request's deadline (``--timeout``, the settings file's ``timeout``) at most ten minutes,
for every command that reads it: Alpaca's requests and Yahoo's alike."""


def timeout_arg(text: str) -> float:
    """Seconds per request: above zero, at most ``MAX_TIMEOUT``. Before, a local session's
    Yahoo deadline (``paper``, ``data fetch``) took any number: ``timeout = 9999`` in the
    settings file, which ``live paper`` refuses, was accepted by ``paper`` (nearly three hours
    per request to a silent server)."""
    value = positive_float(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"at most {MAX_TIMEOUT:g} seconds, got {text!r}")
    return value


MIN_CASH = 0.01
"""The least starting cash an account can have: a cent. Below it the account showed $0.00 from
the first line and its summary a -100.00% loss without a single trade."""


def cash_arg(text: str) -> float:
    """Starting cash (``paper --start-cash``, ``live --start-cash``, ``sandbox --cash``, the
    desk's Starting cash field): at least a cent."""
    value = positive_float(text)  # zero or less: "must be greater than zero", as before
    if not value >= MIN_CASH:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_CASH} (a cent), got {quoted(text)}"
        )
    return value


def non_negative_float(text: str) -> float:
    """A number of zero or more."""
    return _not_negative(_number(text), text)


MAX_SLIPPAGE_BPS = 5_000.0
"""The most slippage a simulated fill may take, in basis points (50%): at 10,000 bps (100%) or
more a sell fills at a price of zero or less (``--slippage-bps 20000`` recorded buys at three
times the price and would have recorded sells at minus the price)."""


def slippage_bps(text: str) -> float:
    """``--slippage-bps`` of the paper broker and the sandbox: 0 to ``MAX_SLIPPAGE_BPS``."""
    value = non_negative_float(text)
    if value > MAX_SLIPPAGE_BPS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_SLIPPAGE_BPS:,.0f} bps (50%), got {quoted(text)}: a sell would fill "
            "near or below a price of zero"
        )
    return value


MIN_PERCENT = 0.01
"""The smallest percentage an option takes (a hundredth of a percent). Below it a limit means
nothing a trader could want: ``--max-drawdown 5e-324`` was taken and shown as 0.0%."""


def percent(text: str) -> float:
    """A percentage from ``MIN_PERCENT`` to 100 (``5`` or ``5%``)."""
    return _percentage(text, 100.0, "to 100")


def stop_loss_arg(text: str) -> StopRule:
    """``--stop-loss`` and the setup screen's "Stop loss %": a percent below entry (``5``,
    ``5%``) or ``atr:N``, by the same number rules as every other option (``1_0``, ``５``,
    ``nan`` and ``1e-300`` were taken here: the stop rules read their own numbers)."""
    from tui_trader.risk.stops import MAX_ATRS, StopRule  # the stop rules only when one is given

    raw = text.strip()
    if raw.lower().startswith("atr:"):
        atrs = _number(raw[4:], text)
        if not MIN_PERCENT <= atrs <= MAX_ATRS:
            raise argparse.ArgumentTypeError(
                f"atr:N takes from {MIN_PERCENT} to {MAX_ATRS:g} average true ranges, "
                f"got {quoted(text)}"
            )
        return StopRule(atr=atrs)
    if not raw or not (raw[0].isdigit() or raw[0] in "+-."):
        raise argparse.ArgumentTypeError(
            f"give a percent (e.g. 5) or atr:N (e.g. atr:2), got {quoted(text)}"
        )
    below = "to below 100 (a stop at 100% is a price of zero)"
    pct = _percentage(text, 100.0, below)
    if pct >= 100:
        raise argparse.ArgumentTypeError(
            f"must be a percentage from {MIN_PERCENT} {below}, got {quoted(text)}"
        )
    return StopRule(pct=pct)


def take_profit_arg(text: str) -> float:
    """``--take-profit`` and the setup screen's "Take profit %": a percent beyond entry
    (``8``, ``8%``), from ``MIN_PERCENT`` to ``risk.stops.MAX_TAKE_PROFIT``."""
    from tui_trader.risk.stops import MAX_TAKE_PROFIT

    return _percentage(text, MAX_TAKE_PROFIT, f"to {MAX_TAKE_PROFIT:g}")


def _percentage(text: str, highest: float, range_words: str) -> float:
    """A number of percent from ``MIN_PERCENT`` to ``highest``, written ``5`` or ``5%`` (one
    ``%`` at the end means what it says: the value is a percentage either way)."""
    raw = text.strip()
    value = _number(raw[:-1] if raw.endswith("%") else raw, text)
    if not MIN_PERCENT <= value <= highest:
        raise argparse.ArgumentTypeError(
            f"must be a percentage from {MIN_PERCENT} {range_words}, got {quoted(text)}"
        )
    return value


def non_negative_int(text: str) -> int:
    """A whole number of zero or more (ASCII digits, at most ``MAX_INT``)."""
    return _not_negative(integer(text), text)


def backups_kept(text: str) -> int:
    """``--backup-keep``: a count of backups, or ``all`` (0, as a 0 written says too)."""
    if text.strip().lower() == "all":
        return 0
    return non_negative_int(text)


def _not_negative(value: _N, text: str) -> _N:
    """``value`` (read from ``text``) if it is zero or more; else the one refusal both
    non-negative parsers give."""
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def integer(text: str) -> int:
    """A whole number written in ASCII digits, at most ``MAX_INT`` either way."""
    raw = text.strip()
    _no_underscore(raw, text, "a whole number")
    if not _INT_RE.match(raw):
        raise argparse.ArgumentTypeError(f"not a whole number: {quoted(text)}")
    value = int(raw)
    if abs(value) > MAX_INT:
        raise argparse.ArgumentTypeError(f"too large: {quoted(text)} (at most {MAX_INT:,})")
    return value


def int_at_most(limit: int) -> Callable[[str], int]:
    """A parser of a whole number from 0 to ``limit`` (counts that would otherwise run for
    hours: ``learn evaluate --seeds``, ``--bars``)."""

    def parse(text: str) -> int:
        value = non_negative_int(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"at most {limit:,}, got {quoted(text)}")
        return value

    return parse


def seconds(limit: float) -> Callable[[str], float]:
    """A parser of a number of seconds from 0 to ``limit`` (``--every``)."""

    def parse(text: str) -> float:
        value = non_negative_float(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"at most {limit:g} seconds, got {quoted(text)}")
        return value

    return parse


MAX_EVERY = 86_400.0
"""``--every`` at most a day: a cycle a day is the slowest that means anything."""


def every_arg(text: str) -> float:
    """``--every`` and the setup screen's Seconds field: 0 to ``MAX_EVERY`` seconds between
    cycles. One rule for both: the field took ``1e12`` (a session that ran one cycle, then
    waited 31,000 years without a word) where the command line refused it."""
    return seconds(MAX_EVERY)(text)


MIN_BACKUP_EVERY = 1.0
"""``--backup-every`` at least a minute (or 0, none): ``1e-9`` was taken, and the session copied
and verified its whole database back to back for as long as it ran (review29a)."""
MAX_BACKUP_EVERY = 10_080.0
"""``--backup-every`` at most a week of minutes: a session's backups a week apart is the
rarest that means anything. Before, ``1e12`` (minutes) was taken by the command line, the
settings file and the desk's field alike, and the backup thread died at its first wait with
``OverflowError`` (a traceback after the session's summary, and no backup ever)."""


def backup_every_arg(text: str) -> float:
    """``--backup-every``, the settings file's ``backup-every`` and the setup screen's "Backup
    every (min)": 0 (never), or ``MIN_BACKUP_EVERY`` to ``MAX_BACKUP_EVERY`` minutes, one rule
    for all three."""
    value = non_negative_float(text)
    if value > MAX_BACKUP_EVERY:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_BACKUP_EVERY:,.0f} minutes (a week), got {quoted(text)}"
        )
    if 0 < value < MIN_BACKUP_EVERY:
        raise argparse.ArgumentTypeError(
            f"0 (no backups) or at least {MIN_BACKUP_EVERY:g} minute (each backup copies the "
            f"whole database), got {quoted(text)}"
        )
    return value


def _number(raw_text: str, text: str | None = None) -> float:
    """A finite float written in ASCII, at most ``MAX_NUMBER`` either way, or a one-line
    complaint quoting ``text`` (what was typed, when ``raw_text`` is a part of it; ``float()``
    alone takes Unicode digits, ``1e308`` and ``nan``)."""
    text = raw_text if text is None else text
    raw = raw_text.strip()
    _no_underscore(raw, text, "a number")
    if not raw.isascii():
        raise argparse.ArgumentTypeError(f"not a number: {quoted(text)} (use ASCII digits)")
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {quoted(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {quoted(text)}")
    if abs(value) > MAX_NUMBER:
        raise argparse.ArgumentTypeError(f"too large: {quoted(text)} (at most {MAX_NUMBER:g})")
    return value


def _no_underscore(raw: str, text: str, what: str) -> None:
    """Refuse ``1_000``: ``float()`` took it (Python's digit grouping) while whole-number options
    refused it, so one rule for every number option: ASCII digits, no ``_``."""
    if "_" in raw:
        raise argparse.ArgumentTypeError(
            f"not {what}: {quoted(text)} (ASCII digits only, no '_' between them)"
        )
