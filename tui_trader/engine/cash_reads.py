"""The day's deposits and withdrawals read from the broker for the risk limits, or why not.

Read before the account each cycle, so every cash movement counted is in the equity read after
it (``risk.cash_flows`` moves the limits' baselines by it). A broker that cannot move cash in
or out without a trade (the local paper broker: no ``cash_flows``) has none. A broker that
could not answer gives ``None`` and its words: the risk manager then takes no rise in equity
for a gain (fail closed) and says so once.
"""

from __future__ import annotations

from datetime import date

from tui_trader.brokers import Broker, BrokerError


def read_cash_flows(broker: Broker, day: date) -> tuple[float | None, str]:
    """The net cash moved in (+) or out (-) since ``day`` began, or ``None`` and why not."""
    reader = getattr(broker, "cash_flows", None)
    if reader is None:
        return 0.0, ""
    try:
        return float(reader(day)), ""
    except BrokerError as exc:
        return None, str(exc)
