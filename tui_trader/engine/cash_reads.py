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
from tui_trader.risk.gate import RiskManager


def read_cash_flows(broker: Broker, day: date) -> tuple[float | None, str]:
    """The net cash moved in (+) or out (-) since ``day``'s previous close, or ``None`` and
    why not. Read first in a cycle (the equity read after it then holds every move counted),
    for the desk's day: a late bar's cycle (stamped the day before) counts toward the desk's
    day, and the earlier day's window would count again what the previous close holds."""
    reader = getattr(broker, "cash_flows", None)
    if reader is None:
        return 0.0, ""
    try:
        return float(reader(day)), ""
    except BrokerError as exc:
        return None, str(exc)


def equity_past_limits(broker: Broker, risk: RiskManager) -> tuple[float, str | None]:
    """The account's equity now and why it is past the drawdown or daily-loss limit (``None``
    if it is not, or the account is halted already), the day's cash moved since the last
    cycle counted (``RiskManager.past_limits``): a manual order between bars after a deposit
    and a loss must not go out on the deposit's word."""
    halted, day = risk.state.halted, risk.state.day
    flows = read_cash_flows(broker, day)[0] if day is not None and not halted else 0.0
    account = broker.account()
    if halted:
        return account.equity, None
    return account.equity, risk.past_limits(account.equity, account.last_equity, flows)
