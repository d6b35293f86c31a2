"""The risk manager: the gate every order passes and the switch that halts trading.

Controls (defaults from the Phase 4 document): a drawdown kill switch (5% below the peak equity),
a daily loss limit (2% below the day's opening equity), a position size limit (10% of equity per
symbol, open orders included), an order rate limit (100 orders per trading day) and a manual
kill. While short selling is off, a sell of more than is held is refused (not cut to the position
limit and then rejected by the broker); shares a working buy has not delivered yet are not held.
A protective stop (``check_protective``) only closes a position: it passes every control and is
not counted against the day's orders. A manual order that only closes what is held passes the
day's order limit, counted past it (a trader at the limit can still get out by hand). The
pre-trade checks are ``risk.order_checks``'s. Each trip returns a ``RiskEvent`` saying what was
measured, the limit and what was done.

The manager is pure: its whole memory is a ``RiskState`` value that the caller persists per
account, so a restart changes nothing. A drawdown or manual halt lasts until an explicit
``reset``; a daily-loss halt ends when a new trading day begins. While halted, only orders that
shrink exposure pass.

With an equity cap (``capital``: an Alpaca session's ``--start-cash``, "trade as if the account
held at most this much") every percentage is of the money the desk trades, not of the whole
account: the drawdown and daily loss are the account's fall in money from its peak and its day's
opening, measured against ``min(capital, that reference)``, and the position limit is a share of
``min(capital, equity)``. So a desk given $10,000 of a $100,000 account with a 5% drawdown limit
halts once $500 is lost, not $5,000 (the whole account's 5%, half of the desk's money). The peak
and the day's opening stay the account's (one risk state per account, shared by every session on
it); a fall in the account's other holdings counts too, which can only halt sooner.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tui_trader.core.domain import RiskEvent, TradingState
from tui_trader.risk.cash_flows import moved_baselines, read_again_event, unread_event
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.merge import restarted
from tui_trader.risk.order_checks import (
    HALTED_ORDER,
    NO_SHORT,
    ORDER_RATE,
    POSITION_SIZE,
    OrderCheck,
    OrderChecks,
)
from tui_trader.risk.state import (
    DAILY_LOSS,
    SESSION_HALTS,
    RiskState,
    begin_day,
    standing_halt,
)

DRAWDOWN = "drawdown_kill_switch"
MANUAL_KILL = "manual_kill"
RESET = "risk_reset"
_HALTED = TradingState.HALTED
"""Named once: naming an enum's member costs a metaclass look-up (3.11), several times the
test itself, and the equity step tests it every cycle."""
__all__ = [  # the order checks' names too: callers import them from the gate
    "DAILY_LOSS",
    "DRAWDOWN",
    "HALTED_ORDER",
    "MANUAL_KILL",
    "NO_SHORT",
    "ORDER_RATE",
    "POSITION_SIZE",
    "RESET",
    "OrderCheck",
    "RiskLimits",
    "RiskManager",
    "RiskState",
]


class RiskManager(OrderChecks):
    """Applies ``RiskLimits`` to orders (``OrderChecks``) and equity, keeping its memory in
    ``state``."""

    def __init__(
        self,
        limits: RiskLimits,
        state: RiskState,
        fractional: bool = False,
        allow_short: bool = True,
        capital: float | None = None,
    ) -> None:
        self.limits = limits
        self.state = state
        self.fractional = fractional
        self.allow_short = allow_short
        self.capital = capital or None
        """The equity cap the percentages are of (``None``: the account's equity)."""
        self.flows_unread = False
        """The broker's cash movements could not be read at the last reading (said once)."""
        self.unread: tuple[float, RiskState] | None = None
        """While the cash flows cannot be read: the highest equity seen meanwhile and the
        state after the last reading (``None``: they were read)."""
        self.day_close: float | None = None
        """The broker's previous close as first read on the state's day (Alpaca's
        ``last_equity``): the day's cash moves are counted from it (a ``last_equity`` that
        changes within the desk's day, rolled early or corrected late, moves no baseline), and
        the daily loss is a share of it when the day's deposits lifted the opening above it, so
        a deposit does not widen the day's allowance (``risk.cash_flows``)."""

    # -- measures ------------------------------------------------------------------------------

    def base(self, reference: float) -> float:
        """What a percentage limit is of, for a ``reference`` equity (the peak, the day's
        opening, the current equity): the equity cap when it is smaller."""
        capital = self.capital
        return capital if capital is not None and capital < reference else reference

    def drawdown_pct(self, equity: float) -> float:
        """How far equity is below its peak, in percent of the peak (or of the equity cap when
        smaller); 0 at or above the peak."""
        peak = self.state.peak_equity
        return max(0.0, 100.0 * (peak - equity) / self.base(peak)) if peak else 0.0

    def daily_pnl(self, equity: float) -> float:
        """Equity change since the day's opening equity."""
        start = self.state.day_open_equity
        return equity - start if start is not None else 0.0

    def daily_loss_pct(self, equity: float) -> float:
        """Today's loss in percent of the day's opening equity (or of the previous close when
        the day's deposits lifted the opening above it, or of the equity cap when smaller); 0
        when up on the day."""
        start = self.state.day_open_equity
        return max(0.0, 100.0 * (start - equity) / self.base(self._day_base())) if start else 0.0

    def _day_base(self) -> float:
        """What the day's loss is a share of: its opening, or the previous close when less (a
        deposit today moved the opening up; the allowance stays what it was)."""
        start = self.state.day_open_equity or 0.0
        close = self.day_close
        return close if close is not None and 0 < close < start else start

    def past_limits(
        self, equity: float, day_close: float | None = None, cash_flows: float | None = 0.0
    ) -> str | None:
        """Why ``equity``, read now, is past the drawdown or daily-loss limit (``None`` if it
        is not), without changing the state: an order decided between two equity checks (a
        manual one between bars) must not add exposure on the last check's word. With the
        broker's previous close, the day's cash moved since the last check moves the
        baselines first (``on_equity``'s ``cash_flows``), for this answer only."""
        kept, close = self.state, self.day_close
        if day_close is not None:
            self.day_close = close if close is not None else day_close  # as ``on_equity`` keeps it
            self.state = self._moved(kept, equity, self.day_close, cash_flows)
        try:
            return self._past(equity)
        finally:
            self.state, self.day_close = kept, close

    def _moved(
        self, s: RiskState, equity: float, day_close: float, cash_flows: float | None
    ) -> RiskState:
        """``s`` with its baselines moved by the day's cash flows (``risk.cash_flows``); once
        they are read again after a gap, the peak is no lower than the highest equity seen
        meanwhile: a rise taken for a deposit and given back was the account's high."""
        moved = moved_baselines(s, equity, day_close, cash_flows)
        if cash_flows is None or self.unread is None:
            return moved
        high, seen = self.unread
        if restarted(seen, s) or (moved.peak_equity or high) >= high:
            return moved  # a reset since (here or adopted) restarted the peak: it stands
        return replace(moved, peak_equity=high)

    def _past(self, equity: float) -> str | None:
        """``past_limits`` on the state as it stands."""
        drawdown, loss = self.drawdown_pct(equity), self.daily_loss_pct(equity)
        if drawdown >= self.limits.max_drawdown_pct:
            return f"max drawdown ({self._fall(equity, drawdown, 'peak', self.state.peak_equity)})"
        if loss >= self.limits.max_daily_loss_pct:
            fall = self._fall(equity, loss, "today's open", self.state.day_open_equity)
            return f"daily loss limit ({fall})"
        return None

    # -- equity checks (post-trade) ------------------------------------------------------------

    def on_equity(
        self,
        equity: float,
        day: date,
        day_open_equity: float | None = None,
        cash_flows: float | None = 0.0,
        unread: str = "",
    ) -> list[RiskEvent]:
        """Take a new equity reading on trading day ``day``; return any controls it trips.

        A new day resets the order count and the day's opening equity: the broker's previous
        close (``day_open_equity``, Alpaca's ``last_equity``) when given, else the last equity
        seen before this reading. A daily-loss halt ends with its day.

        ``cash_flows``: the day's net deposits and withdrawals at the broker (``None``: they
        could not be read, ``unread`` says why); with the previous close they move the day's
        opening and the peak, so the limits measure trading, not cash moved
        (``risk.cash_flows``).

        The day never goes back: a reading stamped on an earlier day (a lagging symbol's late
        bar, a clock stepped back over midnight) counts toward the current day, so it neither
        clears the day's order count nor lifts its daily-loss halt.
        """
        events: list[RiskEvent] = []
        s = self.state
        if s.day is not None and day < s.day:
            day = s.day
        began = s.day != day
        if began:
            s, events = begin_day(s, day, equity, day_open_equity)
        kept, high = self.unread, equity  # the high since the flows went unread, unless reset
        if day_open_equity is not None:
            if began or self.day_close is None:  # the close the day's cash moves count from:
                self.day_close = day_open_equity  # kept if the broker's changes within the day
            high = kept[0] if kept is not None and not restarted(kept[1], s) else equity
            s = self._moved(s, equity, self.day_close, cash_flows)
            if (cash_flows is None) != self.flows_unread:
                self.flows_unread = cash_flows is None
                events.append(unread_event(unread) if cash_flows is None else read_again_event())
        peak = max(s.peak_equity or equity, equity)
        if peak != s.peak_equity or equity != s.last_equity:  # a flat cycle keeps its state
            s = s.with_equity(peak, equity)  # slot by slot: several times cheaper than replace()
        self.state = s
        if day_open_equity is not None:
            self.unread = (max(high, equity), s) if cash_flows is None else None
        if s.state is _HALTED:
            return events
        limits = self.limits
        # drawdown_pct and daily_loss_pct, inline (every cycle): the same expressions, ``base``
        # written out (the equity cap when it is the smaller)
        capital = self.capital
        base = peak if capital is None or capital >= peak else capital
        drawdown = max(0.0, 100.0 * (peak - equity) / base) if peak else 0.0
        if drawdown >= limits.max_drawdown_pct:
            events.append(
                self.halt(
                    DRAWDOWN,
                    drawdown,
                    self.limits.max_drawdown_pct,
                    self._fall(equity, drawdown, "peak", peak),
                )
            )
            return events
        start = s.day_open_equity
        base = self._day_base() if start else 0.0
        base = base if capital is None or capital >= base else capital
        loss = max(0.0, 100.0 * (start - equity) / base) if start else 0.0
        if loss >= limits.max_daily_loss_pct:
            events.append(
                self.halt(
                    DAILY_LOSS,
                    loss,
                    self.limits.max_daily_loss_pct,
                    self._fall(equity, loss, "today's open", start),
                )
            )
        return events

    def _fall(self, equity: float, pct: float, what: str, reference: float | None) -> str:
        """A drawdown's or daily loss's words: the fall in percent of ``reference`` (the peak,
        today's open), or, when the equity cap or the previous close (a deposit today) is the
        smaller, in money and in percent of it."""
        capital = self.capital
        ref = reference or 0.0
        close = self.day_close
        if what == "today's open" and close is not None and 0 < close < ref:
            base = self.base(close)
            return (
                f"equity {equity:,.2f} is {ref - equity:,.2f} below today's open {close:,.2f} "
                f"plus {ref - close:,.2f} deposited today: {pct:.2f}% of {base:,.2f}"
            )
        if capital is None or ref <= capital:
            return f"equity {equity:,.2f} is {pct:.2f}% below {what} {ref:,.2f}"
        return (
            f"equity {equity:,.2f} is {ref - equity:,.2f} below {what} {ref:,.2f}: {pct:.2f}% "
            f"of the desk's equity cap {capital:,.2f}"
        )

    def count_lost_order(
        self, day: date | None, equity: float, day_open_equity: float | None = None
    ) -> list[RiskEvent]:
        """Count one order the broker took on trading day ``day`` that this state never
        counted (its audit row, and the day's slot taken with it, were lost:
        ``engine.lost_rows``), as it was counted when sent. An earlier day's order leaves the
        current day's count alone; an order of no known day counts toward the current one
        (fail closed); a day this state has not begun yet begins here as ``on_equity`` would
        begin it (``equity`` and ``day_open_equity`` as there), its events returned."""
        s = self.state
        events: list[RiskEvent] = []
        if day is not None and s.day is not None and day < s.day:
            return events
        if day is not None and s.day != day:
            s, events = begin_day(s, day, equity, day_open_equity)
        self.state = s.with_orders(s.orders_today + 1)
        return events

    def halt(self, reason: str, value: float, limit: float, detail: str) -> RiskEvent:
        """Enter HALTED for ``reason``; the event's action says what stops and until when.

        Already halted, the halt keeps its first reason (``standing_halt``): a trader about to
        resume must see why trading stopped, not only the last thing that went wrong since."""
        until = "until the next trading day" if reason in SESSION_HALTS else "until reset"
        s = self.state
        if not s.halted:
            self.state = replace(
                s, state=TradingState.HALTED, halt_reason=reason, halt_detail=detail
            )
            return RiskEvent(reason, value, limit, f"halted trading {until}", detail=detail)
        held, words = standing_halt(s.halt_reason, s.halt_detail, reason, detail)
        if held != s.halt_reason:
            self.state = replace(s, halt_reason=held, halt_detail=words)
        action = f"halted trading {until} (already halted for {s.halt_reason})"
        return RiskEvent(reason, value, limit, action, detail=detail)

    def reset(self, equity: float | None, who: str = "user") -> RiskEvent:
        """Lift any halt and restart the drawdown peak from ``equity`` (an explicit user act)."""
        before = self.state.halt_reason or "none"
        self.state = replace(
            self.state,
            state=TradingState.ACTIVE,
            halt_reason=None,
            halt_detail="",
            peak_equity=equity if equity is not None else self.state.peak_equity,
        )
        return RiskEvent(
            RESET,
            equity or 0.0,
            0.0,
            f"risk state reset by {who} (was halted for: {before}); peak equity restarted",
        )
