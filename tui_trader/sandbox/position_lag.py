"""The ``position_lag`` fault: positions that do not show the fills of orders still working.

Alpaca's positions endpoint can lag the fills of an order that is still working (partly
filled): the order's ``filled_qty`` and the trade-updates stream say 50 of 100 filled while a
read of the positions still shows none of them. A read the dice pick (``position_lag``) answers
each position as it would be without the fills of the orders still working; once an order ends
(filled, cancelled) its fills show. Deterministic: a lag lasts exactly as long as its order
works, so a test steps bars, never sleeps.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tui_trader.sandbox.ledger import Holding
from tui_trader.sandbox.sim_order import SimOrder


def lagging(
    holdings: dict[str, Holding], working: list[SimOrder], today: date
) -> dict[str, Holding]:
    """``holdings`` as a lagging read shows them: each without the fills of ``working``
    orders (a flat result left out, a symbol those fills closed shown as it was)."""
    out = dict(holdings)
    for order in working:
        if order.filled_qty <= 0:
            continue
        symbol = order.ticket.symbol
        sign = 1.0 if order.ticket.side == "buy" else -1.0
        held = out.get(symbol)
        qty = round((held.qty if held is not None else 0.0) - sign * order.filled_qty, 9)
        if abs(qty) < 1e-9:
            out.pop(symbol, None)
        elif held is None:
            out[symbol] = Holding(qty, order.filled_avg_price or 0.0, today)
        else:
            out[symbol] = replace(held, qty=qty)
    return out
