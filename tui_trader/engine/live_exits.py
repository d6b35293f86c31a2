"""Another live desk's protective exit in a symbol, read from the store, before a sell of a
desk that keeps no exits, or of one that keeps exits where another live desk keeps that
symbol's (it took the exit row first: ``crash30``, short 47 IWM) (``engine.stop_release``).

A desk without exits trades a symbol (it holds its claim, ``engine.claims``) while a desk with
exits keeps that symbol's exit: the exit holds every share. A sell beside it is refused by
Alpaca ("insufficient qty available") while it works; once it fills, the sell, sized from the
positions read before, sells shares the account no longer holds and opens a short (the
``crash29`` campaign: 19 SPY sold by the stop and by the desk's sell, short 19 for 9 s). The
broker's listing of other desks' orders may be half a minute old, so the store, where every
desk writes its exit before it is sent, is read too: a row still open there is an exit that
may have filled only since this desk read the positions. What remains: an exit that fills after
that read and whose desk records the fill before this one (the milliseconds between the two).

Another live desk's halt flatten close is read there too (``live_flatten_close``), before any
sell of a desk (and any buy beside a close that buys a short back: ``holds32``, two covers of
one short left the account long), with exits or without, by a strategy or by hand. A close
works on after the halt is lifted (``risk reset``), filling in parts; the positions read may
lag its fills, and the listing may not show it. Before, a desk with exits sold its own 8 IWM
and 8 QQQ beside another desk's flatten closes, its position read agreeing with its fills
midway through the closes' partial fills: short 4, then 8 IWM for about 10 s, and 4 QQQ (the
``crash30b`` campaign, run 3009). The sale now waits while the close's row is open; once that
close has ended (recorded by its desk, at its looks between bars too: ``engine.between_bars``),
the desk decides again from positions that hold it. A dead desk's close holds them so for as
long as a desk's working rows count elsewhere (its heartbeat window, then
``others_working.ENDED_WITHIN``); past that, its row still open, the broker is asked about it
(``_ended_close_hold``, ``holds32``): while it says the close works (it may fill in parts for
long after its desk died, the positions lagging its fills and the listing up to 30 s old), the
order waits; once it says the close has ended, the row is only stale and holds nothing more
(asked once).

The exit of a desk that ended (Ctrl+C, a kill) within ``ENDED_WITHIN`` counts too: it works on
at the broker, and the listing may be older than its end, so the sale cannot have taken it
over. Before, only live desks' exits counted: a desk with exits sold 24 QQQ two seconds after
the desk that had placed QQQ's take-profit/stop pair three seconds earlier stopped, and both
sold (the ``crash31`` campaign: short 24 QQQ to the run's end). Past that window the listing
shows the exit, which the desk then takes over (``engine.stop_takeover``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tui_trader.brokers import BrokerError
from tui_trader.core.order_ids import flatten_closer_key, short_key
from tui_trader.core.orders import Order
from tui_trader.engine.others_working import ENDED_WITHIN
from tui_trader.risk.stops import is_protective
from tui_trader.store.liveness import alive_within, store_now
from tui_trader.store.models import LiveOrder
from tui_trader.store.other_sales import WorkingRow, live_working_rows
from tui_trader.store.stop_rows import row_order_type, symbol_rows

CLOSE_HOLD = (
    "session {keeper}'s halt flatten close {cid} {what} {symbol} (its row is open in the "
    "store; the positions read may lag its fills): {order} beside it could close the same "
    "shares, so none goes out until that close has ended"
)
"""Why an order waits beside another desk's flatten close on its side (``live_flatten_close``):
a sale beside a close that sells, a buy beside a close that covers a short."""
ENDED_CLOSE_HOLD = (
    "session {keeper}'s halt flatten close {cid} may still {verb} {symbol}: its desk has "
    "ended, and the broker says the close still works ({done}; the positions read may lag "
    "those fills): {order} beside it could close the same shares, so none goes out until "
    "that close has ended"
)
"""Why an order waits beside a close of a desk that ended over ``ENDED_WITHIN`` ago, as the
broker says (``_ended_close_hold``)."""
ENDED_UNANSWERED = (
    "session {keeper}'s halt flatten close {cid} may still {verb} {symbol}: its desk has "
    "ended, its row is open in the store, and the broker did not answer a look-up of it "
    "({why}): {order} beside it could close the same shares, so none goes out until the "
    "broker says that close has ended"
)
"""Why an order waits beside such a close the broker was asked about and did not answer."""

LookUp = Callable[[str], Order | None]
"""The broker's look-up of one order by client id (``Broker.get_order``)."""


KEEPER_RUNS, KEEPER_ENDED, KEEPER_SILENT = "runs", "ended", "silent"
"""What ``live_exit_row`` says of the exit's keeper: alive; recorded ended (stopped, killed and
found dead); or its row still ``running`` with its heartbeat stale (stopped, hung or dead: not
known to have ended, so not said to have)."""


def live_exit_row(account_key: str, symbol: str, session_id: int) -> tuple[str, str, str] | None:
    """(client id, keeper's short key, ``KEEPER_RUNS``/``_ENDED``/``_SILENT``) of a
    protective exit in ``symbol`` whose row is still open, of another session of
    ``account_key`` that runs or showed a sign of life within ``ENDED_WITHIN``; None if
    there is none."""
    rows = symbol_rows(account_key, symbol, session_id)
    exits = [
        (cid, row)
        for cid, row in sorted(rows.items())
        if is_protective(cid, row_order_type(row.order_type))
    ]
    for cid, row in exits:
        if row.alive:
            return cid, short_key(row.session.key), KEEPER_RUNS
    if not exits:
        return None
    now = store_now(LiveOrder._meta.database)
    for cid, row in exits:
        if alive_within(row.session, ENDED_WITHIN, now):
            how = KEEPER_SILENT if row.session.status == "running" else KEEPER_ENDED
            return cid, short_key(row.session.key), how
    return None


def live_flatten_close(
    account_key: str, symbol: str, session_id: int, side: str = "sell"
) -> tuple[str, str] | None:
    """(client id, closer's short key) of a halt flatten's close on ``side`` in ``symbol``
    (a sell closes a long, a buy covers a short) that another session of ``account_key`` sent
    and whose row is still open, that session alive or ended within ``ENDED_WITHIN`` s (see
    the module); None if there is none."""
    for row in live_working_rows(account_key, session_id, symbol, ENDED_WITHIN):
        closer = flatten_closer_key(row.client_order_id)
        if closer is not None and row.side == side:
            return row.client_order_id, short_key(closer)
    return None


def flatten_close_hold(
    account_key: str,
    symbol: str,
    session_id: int,
    side: str = "sell",
    look_up: LookUp | None = None,
    ended: set[str] | None = None,
) -> str | None:
    """Why an order on ``side`` in ``symbol`` waits beside another desk's open flatten close
    on the same side (one plain line), or None to send it: a sale beside a close that sells,
    a buy beside a close that buys a short back (``holds32``: both covered one short, and the
    account was left long). An order the other way only adds to what that close leaves.
    ``look_up`` (the broker's, by client id): a close whose desk ended longer ago than
    ``ENDED_WITHIN``, its row still open, is asked of the broker (``_ended_close_hold``);
    ``ended``: the client ids the broker said ended, asked no more."""
    what = "still sells" if side == "sell" else "still buys back"
    order = "a sale" if side == "sell" else "a buy"
    closes = None
    if look_up is not None:  # every open close on that side, its desk's end however long ago
        rows = live_working_rows(account_key, session_id, symbol, math.inf)
        closes = [r for r in rows if flatten_closer_key(r.client_order_id) and r.side == side]
        if not closes:  # the usual case: one read, before each order of a shared account
            return None
    found = live_flatten_close(account_key, symbol, session_id, side)
    if found is None:
        if closes is None or look_up is None:
            return None
        return _ended_close_hold(symbol, side, closes, look_up, ended)
    cid, keeper = found
    return CLOSE_HOLD.format(keeper=keeper, cid=cid, symbol=symbol, what=what, order=order)


def _ended_close_hold(
    symbol: str, side: str, closes: list[WorkingRow], look_up: LookUp, ended: set[str] | None
) -> str | None:
    """Why an order waits beside a halt flatten close on its side of a desk that ended longer
    ago than ``ENDED_WITHIN``, its row still open in the store, as the broker says it works
    (or does not answer: fail closed); None where the broker says each such close has ended
    (or never had it). Before, such a close held nothing past that window, by the clock: a
    dead desk's close still filling in parts, the positions read lagging its fills, and the
    listing (up to 30 s old) not showing it, a sale could sell its shares a second time."""
    ended = set() if ended is None else ended
    verb = "sell" if side == "sell" else "buy back"
    order = "a sale" if side == "sell" else "a buy"
    for row in closes:  # the open flatten closes on ``side`` in ``symbol`` (any desk's end)
        closer = flatten_closer_key(row.client_order_id)
        if closer is None or row.client_order_id in ended:
            continue
        cid, keeper = row.client_order_id, short_key(closer)
        try:
            now = look_up(cid)
        except BrokerError as exc:
            return ENDED_UNANSWERED.format(
                keeper=keeper, cid=cid, verb=verb, symbol=symbol, why=exc, order=order
            )
        if now is None or not now.status.is_open:
            ended.add(cid)  # ended at the broker (or never there): its row is only stale
            continue
        done = f"{now.filled_qty:g} of {now.qty:g} filled"
        return ENDED_CLOSE_HOLD.format(
            keeper=keeper, cid=cid, verb=verb, symbol=symbol, done=done, order=order
        )
    return None
