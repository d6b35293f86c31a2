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
"""

from __future__ import annotations

from tui_trader.core.order_ids import short_key
from tui_trader.risk.stops import is_protective
from tui_trader.store.stop_rows import row_order_type, symbol_rows


def live_exit_row(account_key: str, symbol: str, session_id: int) -> tuple[str, str] | None:
    """(client id, keeper's short key) of a protective exit in ``symbol`` that another live
    session of ``account_key`` keeps and whose row is still open; None if there is none."""
    for cid, row in sorted(symbol_rows(account_key, symbol, session_id).items()):
        if row.alive and is_protective(cid, row_order_type(row.order_type)):
            return cid, short_key(row.session.key)
    return None
