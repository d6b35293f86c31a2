"""What shapes a trading session's decisions: the settings a user chose, as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_trader.core.timeframes import Interval, Period
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Everything that shapes a session's decisions, as the user chose it."""

    mode: str
    symbols: tuple[str, ...]
    interval: Interval
    period: Period
    data_label: str
    start_cash: float = 100_000.0
    seed: int = 7
    limits: RiskLimits = field(default_factory=RiskLimits)
    flatten_on_halt: bool = False
    fractional: bool = False
    allow_short: bool = False
    capital: float | None = None
    """Size positions from at most this much equity (an Alpaca account may hold more)."""
    suspend_on_halt: bool = False
    """Also set the account's suspend flag on a halt, so no process can trade it."""
    allocation_pct: float | None = None
    """Share of equity a full-conviction target puts in one symbol; default 1/n, capped by the
    position limit."""
    min_trade_pct: float = 10.0
    """Rebalances smaller than this share of a full-conviction position are skipped (exits
    always go through). Relative to the position, so that with many symbols (small positions)
    the desk still trades: 10% of a 10% position is 1% of equity with the default 3 symbols."""
    snapshot_every: int = 1
    """Account snapshot (and learning journal) cadence in cycles for a replay, plus the cycles
    that halt or resume trading and the last one; a session that commits before sending
    (Alpaca) snapshots every cycle whatever this says."""
    settle_window_s: float = 120.0
    """Seconds after an order row was written during which a broker's "no such order" is not
    final (the request may still arrive); see ``tui_trader.engine.settlement``."""
    stop_loss: StopRule | None = None
    """Protect every position with a stop order held at the broker (``--stop-loss``)."""
    take_profit_pct: float | None = None
    """Close a position once its last price is this far beyond entry (``--take-profit``)."""
    adopt_positions: bool = False
    """At start, take the broker's positions in the session's symbols as the desk's own where
    they differ from the account's recorded fills (``--adopt-positions``), instead of leaving
    those symbols alone (``engine.outside_changes``)."""

    def parameters(self) -> dict[str, Any]:
        """The settings as plain values, for the session row (``equity_cap`` only when set:
        the limits' percentages are of it, and a monitor of the session measures as it does)."""
        capped = {"equity_cap": self.capital} if self.capital else {}
        return capped | {
            "interval": self.interval.text,
            "period": self.period.text,
            "start_cash": self.start_cash,
            "seed": self.seed,
            "max_drawdown_pct": self.limits.max_drawdown_pct,
            "max_daily_loss_pct": self.limits.max_daily_loss_pct,
            "max_position_pct": self.limits.max_position_pct,
            "max_orders_per_day": self.limits.max_orders_per_day,
            "flatten_on_halt": self.flatten_on_halt,
            "fractional": self.fractional,
            "allow_short": self.allow_short,
            "allocation_pct": self.allocation,
            "snapshot_every": self.snapshot_every,
            "stop_loss": self.stop_loss.text if self.stop_loss else None,
            "take_profit_pct": self.take_profit_pct,
        }

    def protection(self) -> str:
        """The protective orders in words for a header (empty without any)."""
        parts = []
        if self.stop_loss is not None:
            rule = self.stop_loss
            size = f"{rule.pct:g}%" if rule.pct is not None else f"{rule.atr:g} ATR"
            parts.append(f"stop {size} beyond entry, held at the broker")
        if self.take_profit_pct is not None:
            parts.append(f"take profit {self.take_profit_pct:g}% beyond entry, held at the broker")
        if len(parts) == 2:
            parts.append("one OCO pair per position")
        return "; ".join(parts)

    @property
    def allocation(self) -> float:
        """The per-symbol allocation as a fraction of equity."""
        if self.allocation_pct is not None:
            return self.allocation_pct / 100.0
        return min(1.0 / max(len(self.symbols), 1), self.limits.max_position_pct / 100.0)
