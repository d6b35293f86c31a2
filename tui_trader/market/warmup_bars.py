"""Alpaca's warm-up history with the bars no market makes dropped, said in one note.

A bar of the ``--period`` history that fails ``market.validate.bar_problem`` (a close of -5 or
NaN, a high under the low), or is stamped a year ahead (``market.alpaca.AHEAD``), refused the
whole start (``hostile29``, ``review29b``). A desk that cannot start places no stops for the
positions it would protect, and one bad bar among hundreds says nothing about the others: the
warm-up only feeds the strategies' indicators, never an order. So such bars are dropped and
named in one note (Yahoo's downloads drop bad rows the same way, ``validate.clean_bars``), and
the start goes on. Only a history where more than ``MAX_BAD_SHARE`` of a symbol's bars are bad
refuses the start: then what is left is not the market the strategies would learn from.
"""

from __future__ import annotations

from datetime import datetime

from tui_trader.core.domain import Bar
from tui_trader.market import MarketDataError
from tui_trader.market.validate import bar_problem

MAX_BAD_SHARE = 0.1
"""Above this share of a symbol's warm-up bars bad, the start is refused."""


def drop_bad_bars(
    bars: dict[str, list[Bar]], ahead: dict[tuple[str, datetime], Bar], ahead_why: str
) -> tuple[dict[str, list[Bar]], list[str]]:
    """``bars`` without the bars no market makes (``bar_problem``) or stamped ahead
    (``ahead``, by symbol and time; ``ahead_why`` says so), and the note naming them (none when
    none was dropped). ``MarketDataError`` when more than ``MAX_BAD_SHARE`` of a symbol's bars
    are such bars."""
    kept: dict[str, list[Bar]] = {}
    dropped: list[tuple[Bar, str]] = []
    for symbol, series in bars.items():
        good = []
        bad: list[tuple[Bar, str]] = []
        for bar in series:
            why = ahead_why if (symbol, bar.timestamp) in ahead else ""
            why = why or bar_problem(bar) or ""
            if why:
                bad.append((bar, why))
            else:
                good.append(bar)
        if bad and len(bad) > MAX_BAD_SHARE * len(series):
            first, why = bad[0]
            raise MarketDataError(
                f"Alpaca market data: loading warm-up history of {symbol}: {len(bad)} of its "
                f"{len(series)} bars are ones no market makes (the first at "
                f"{first.timestamp:%Y-%m-%d %H:%M} UTC {why}): too many to start on"
            )
        kept[symbol] = good
        dropped += bad
    if not dropped:
        return kept, []
    first, why = dropped[0]
    more = f" and {len(dropped) - 1} more" if len(dropped) > 1 else ""
    note = (
        f"Alpaca market data: dropped {len(dropped)} bar(s) of the warm-up history no market "
        f"makes: {first.symbol} at {first.timestamp:%Y-%m-%d %H:%M} UTC {why}{more}; "
        "the warm-up goes on without them"
    )
    return kept, [note]
