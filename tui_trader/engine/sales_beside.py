"""What another desk of the account is selling in a symbol, read from the store before a desk
places or resizes that symbol's protective exit.

A desk with exits reads the broker's positions, then sizes and sends each exit. The orders
other desks placed reach it through the broker's listing of open orders, which on Alpaca may be
half a minute old (``brokers.alpaca_reads``): a sale another desk of the account sent since is
not in it. A sell stop sized from a reading taken just before that sale filled sat on the
emptied position (0 shares) at the broker; had it triggered it would have opened a short on
the account (the ``crash28`` campaign saw it for 0.9 s, once in 17 runs). Every order a desk
sends has its row in the store before it goes out, so right before changing an exit the desk
reads there (no broker call, and only when an exit is about to change):

- another live desk's order in the symbol that still works and would close the position (or
  that of a desk which ended, stopped or killed, within ``others_working.ENDED_WITHIN`` s: its
  last sale works on at the broker, and the listing may not show it yet; read for live desks
  alone, exits beside an ended desk's partly filled sale were refused, and once a sell stop
  for 10 SPY stood 1.8 s on the position it emptied, ``crash30``): its
  remaining shares are left out of the exit, as a working order in the listing's are, and its
  shares already filled too: Alpaca's positions may lag the fills of an order still working
  (the sandbox's ``position_lag``), and a stop sized on such a reading less the remaining
  shares alone stood over the shares that sale had sold (a sell stop for 8 QQQ for 0.46 s on
  an emptied position, ``crash28b``). Read fresh, the exit comes out smaller by them while
  that order works (its fills counted once: not again among the fills since);
- another desk's fills closing the position (sales of a long, buys of a short) recorded after
  the fill id read just before the positions: the positions may not hold them, so their shares
  are left out too. The exit is then never larger than the shares held, and may be smaller by
  them (the positions held them already): the next look, which reads them, sizes it in full.

These fills used to make the exit wait for the next look instead, whatever their side. A busy
desk whose fills land while this desk reads the positions (both act on the same bar) kept the
position without a stop for as long as it traded, and nothing said so (``review28d``); a buy
beside a long can only leave the stop too small, never larger than the shares held.

What remains: a sale whose row is written after this read and that fills before the exit
reaches the broker (the few milliseconds between them).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.engine.others_working import ENDED_WITHIN
from tui_trader.risk.stops import is_protective
from tui_trader.store.other_sales import FillsMark, closed_since, live_working_rows
from tui_trader.store.stop_rows import row_order_type


@dataclass(frozen=True, slots=True)
class Beside:
    """Shares of a position that other desks' orders close, unseen in the broker's reads."""

    working: float
    """Other live (or just ended) desks' working orders absent from the listing: their
    shares, the filled ones too (the positions may not show them yet)."""
    filled: float
    """Other desks' fills recorded since the positions were read: their shares."""


def sales_beside(
    account_key: str, session_id: int, symbol: str, held: float, listed: set[str], since: FillsMark
) -> Beside:
    """The shares of ``held`` (signed) that other desks' orders in ``symbol`` close and that
    the broker's reads may lack: live (or just ended) desks' working orders absent from the listing
    (``listed``: its client ids), and fills recorded after ``since``
    (``store.other_sales.newest_fill_id``)."""
    closing_side = "sell" if held > 0 else "buy"
    closing = 0.0
    whole: list[str] = []
    for row in live_working_rows(account_key, session_id, symbol, ENDED_WITHIN):
        if row.client_order_id in listed or is_protective(
            row.client_order_id, row_order_type(row.order_type)
        ):
            continue  # in the listing already, or an exit (another desk's: none placed beside)
        if row.side == closing_side:  # what it has left, and its fills the positions may lack
            closing += row.remaining + row.filled
            whole.append(row.client_order_id)
    filled = closed_since(account_key, symbol, session_id, since, closing_side, whole)
    return Beside(closing, filled)
