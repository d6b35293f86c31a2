"""What a session tells the outside world: halts, reconciliation, its end, a costly fill.

The engine hands a ``Notice`` to a plain callback (``TradingSession.notify``) and forgets it; who
listens (the alert sender in ``tui_trader.ops``) lives outside the core, so the core imports no
messaging library and a slow listener can only be slow on its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SESSION_END = "session_end"
SLIPPAGE = "slippage"

MODE_LABELS = {"local": "LOCAL", "paper": "PAPER", "live": "LIVE"}
"""How messages name a session's mode."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing worth telling a person, with the numbers that explain it."""

    mode: str
    """``local``, ``paper`` or ``live``."""
    account: str
    """The account key (``local:abcd1234``, ``alpaca:ACCOUNT``)."""
    event: str
    """A risk event type (``drawdown_kill_switch``, ``reconciliation``, ...), ``session_end``
    or ``slippage``."""
    value: float
    """What was measured (drawdown %, slippage bps, differences found, iterations run)."""
    limit: float
    """The limit it was held against (0 when there is none)."""
    action: str
    """What the session did about it."""
    equity: float | None
    """The account's equity when it happened, if known."""
    detail: str = ""

    @property
    def mode_label(self) -> str:
        """LOCAL, PAPER or LIVE."""
        return MODE_LABELS.get(self.mode, self.mode.upper())

    @property
    def severity(self) -> str:
        """``failure`` for a halt or a failed session, ``info`` for a clean end, else
        ``warning`` (apprise's notification types use the same words)."""
        if self.action.startswith("halted") or self.action == "session failed":
            return "failure"
        return "info" if self.event == SESSION_END else "warning"

    def title(self) -> str:
        """A one-line subject: mode and event."""
        return f"tui-trader {self.mode_label}: {self.event}"

    def body(self) -> str:
        """The message: mode, account, event, measured value and limit, action, equity."""
        equity = f"{self.equity:,.2f}" if self.equity is not None else "unknown"
        lines = [
            f"mode: {self.mode_label}",
            f"account: {self.account}",
            f"event: {self.event}",
            f"iterations: {self.value:.0f}"
            if self.event == SESSION_END
            else f"value: {self.value:.2f} (limit {self.limit:.2f})",
            f"action: {self.action}",
            f"equity: {equity}",
        ]
        if self.detail:
            lines.append(f"detail: {self.detail}")
        return "\n".join(lines)


NoticeSink = Callable[[Notice], None]
"""Receives notices; must return at once (the trading thread calls it)."""
