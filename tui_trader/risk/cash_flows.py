"""Cash moved in or out at the broker moves the risk limits' baselines, not the trading result.

The drawdown and daily-loss limits compare the account's equity with its peak and its day's
opening. A deposit lifts the equity as a gain would and a withdrawal lowers it as a loss would:
$10,000 deposited on a $100,000 day, then a $5,000 loss, left the equity above the opening and
the 2% daily-loss limit did not trip. So the day's net cash movements (deposits, withdrawals,
cash journals: ``flows``, signed, read from the broker every cycle) move both baselines by the
same amount: the day's opening becomes the broker's previous close plus the day's flows, and
the peak moves by every flow not counted yet.

What is counted is in the state itself: the day's opening less the broker's previous close
(``last_close``) is the flows already counted, so a flow is counted once however many sessions
read it (each reads the same day's total from the broker; ``risk.merge`` keeps the moved
opening) and a restart counts nothing twice.

When the flows could not be read (``flows`` ``None``) an unexplained rise of the equity since
the last reading is taken as cash moved in (a deposit not seen must not widen the limits): the
baselines rise with it, so no gain counts until the flows are read again, and then the rise
that was trading is given back. A fall still counts as a loss (a withdrawal not seen may halt:
fail closed). Pure: no broker here.
"""

from __future__ import annotations

from tui_trader.core.domain import RiskEvent
from tui_trader.risk.state import RiskState

FLOWS_UNREAD = "cash_flows_unread"
FLOWS_READ = "cash_flows_read"
CENT = 0.005
"""Flows smaller than half a cent are rounding, not cash moved."""


def counted_flows(s: RiskState, last_close: float | None) -> float | None:
    """The day's flows this state has counted: its day's opening less the previous close
    (``None`` without both)."""
    if s.day_open_equity is None or last_close is None:
        return None
    return s.day_open_equity - last_close


def moved_baselines(
    s: RiskState, equity: float, last_close: float | None, flows: float | None
) -> RiskState:
    """``s`` with its day's opening and peak moved by the flows it has not counted yet (the
    day already begun: ``risk.state.begin_day``); unchanged without a previous close."""
    counted = counted_flows(s, last_close)
    if counted is None or last_close is None:
        return s
    if flows is None:  # not read: a rise not explained is taken as cash moved in
        previous = s.last_equity
        new = counted + (equity - previous) if previous is not None else counted
        if new <= counted + CENT:
            return s
    else:
        new = flows
    delta = new - counted
    if abs(delta) < CENT:
        return s
    peak = s.peak_equity + delta if s.peak_equity is not None else None
    return RiskState(
        s.account_key,
        s.state,
        peak,
        s.day,
        last_close + new,
        s.last_equity,
        s.orders_today,
        s.halt_reason,
        s.halt_detail,
        s.halt_id,
    )


def unread_event(why: str) -> RiskEvent:
    """The plain line said when the flows stop being readable (once, at the onset)."""
    return RiskEvent(
        FLOWS_UNREAD,
        0.0,
        0.0,
        "deposits and withdrawals could not be read: a rise in equity is not counted as a gain "
        "until they can be (a deposit not seen must not widen the limits); a fall counts as a loss",
        detail=why,
    )


def read_again_event() -> RiskEvent:
    """The line said when the flows are read again after a gap."""
    return RiskEvent(
        FLOWS_READ,
        0.0,
        0.0,
        "deposits and withdrawals read again: the limits measure trading only",
    )
