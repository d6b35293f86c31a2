"""What a trading session tells its listener: halts, reconciliation differences, costly fills.

A mixin of ``TradingSession`` (kept apart so the engine stays about decisions): the session calls
``_tell_events`` after writing risk events, ``_check_slippage`` for each new fill and ``_tell``
at its end. ``notify`` is a plain callback (``tui_trader.ops`` attaches its alert queue); nothing
here imports a messaging library, and a listener that fails never reaches the cycle.
"""

from __future__ import annotations

import contextlib

from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Fill
from tui_trader.engine.config import SessionConfig
from tui_trader.engine.notices import SESSION_END, SLIPPAGE, Notice, NoticeSink
from tui_trader.engine.reconcile import RECONCILIATION


class SessionNotices:
    """Turns a session's events into ``Notice``s for ``notify``."""

    config: SessionConfig
    account_key: str
    iteration: int

    def init_notices(self) -> None:
        """No listener yet, no slippage threshold, no equity seen."""
        self.notify: NoticeSink | None = None
        """Where halts, reconciliation differences, the session's end and costly fills are
        told; it must return at once (the trading thread calls it)."""
        self.slippage_alert_bps: float | None = None
        """A fill whose slippage exceeds this many basis points is told to ``notify``."""
        self.equity_seen: float | None = None
        """The last equity read, for notices."""

    def _tell_events(self, events: list[RiskEvent]) -> None:
        """Tell every halt and every reconciliation difference among ``events``."""
        for event in events:
            if event.halts or event.event_type == RECONCILIATION:
                self._tell(
                    event.event_type, event.value, event.limit, event.action_taken, event.detail
                )

    def tell_unrecorded(self, event: RiskEvent) -> None:
        """Tell a halt that could not be written to the audit trail (a full disk)."""
        self._tell_events([event])

    def tell_stop(self, event: RiskEvent) -> None:
        """Tell an event that stops this session without halting its account (its row was
        recorded ended under it: ``session.store_endings.end_on_row_ended``), as a halt is told."""
        self._tell(event.event_type, event.value, event.limit, event.action_taken, event.detail)

    def tell_end(self, status: str, detail: str = "") -> None:
        """Tell how the session ended when ``finish`` could not run (a full disk)."""
        self._tell(SESSION_END, self.iteration, 0.0, f"session {status}", detail)

    def _check_slippage(self, fill: Fill) -> None:
        """Tell ``notify`` about a fill that cost more than the slippage threshold."""
        notional = abs(fill.qty * fill.price)
        bps = 10_000 * fill.slippage / notional if notional else 0.0
        threshold = self.slippage_alert_bps or 0.0
        if bps > threshold:
            detail = f"{fill.side.value} {fill.qty:g} {fill.symbol} @ {fill.price:,.2f}"
            self._tell(SLIPPAGE, bps, threshold, "recorded the fill; no change to trading", detail)

    def _tell(self, event: str, value: float, limit: float, action: str, detail: str) -> None:
        """Hand one notice to ``notify``; a listener's failure never reaches the cycle."""
        if self.notify is None:
            return
        notice = Notice(
            self.config.mode,
            self.account_key,
            event,
            value,
            limit,
            action,
            self.equity_seen,
            detail,
        )
        with contextlib.suppress(Exception):  # best effort: the audit trail holds the facts
            self.notify(notice)
