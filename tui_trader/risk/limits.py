"""The configured risk limits: a value with no behaviour, so that a front end can offer and
check them (``paper --help``, the setup screen) without loading the risk manager.

The manager that enforces them is ``risk.gate``; the defaults are the Phase 4 document's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The configured limits; percentages are of equity, e.g. ``5.0`` means 5%."""

    max_drawdown_pct: float = 5.0
    max_daily_loss_pct: float = 2.0
    max_position_pct: float = 10.0
    max_orders_per_day: int = 100

    def __post_init__(self) -> None:
        """Refuse limits that would make the controls meaningless."""
        for name in ("max_drawdown_pct", "max_daily_loss_pct", "max_position_pct"):
            value = getattr(self, name)
            if not (0 < value <= 100) or math.isnan(value):
                raise ValueError(f"{name} must be in (0, 100], got {value}")
        if self.max_orders_per_day < 1:
            raise ValueError("max_orders_per_day must be at least 1")


def capped_base(capital: float | None) -> str:
    """What the percentage limits are of, in words for a warning: an equity cap (an Alpaca
    session's ``--start-cash``) makes them a share of the desk's money, not of the account's
    (``risk.gate``; of the account's equity when that is less); empty without a cap."""
    if not capital:
        return ""
    return f"the desk's ${capital:,.2f} equity cap"
