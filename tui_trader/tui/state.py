"""What the dashboard shows, accumulated from iteration reports on the UI thread.

The worker's reports arrive coalesced; this model folds every one of them in (orders, fills and
risk events are never dropped) and keeps bounded histories, so a redraw only reads plain values.
It imports no Textual, so it is tested and benchmarked without an app.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from tui_trader.core.domain import IterationReport, RiskEvent, TradingState
from tui_trader.core.orders import Fill, Order
from tui_trader.core.timeframes import NEW_YORK, trading_day

HISTORY_POINTS = 500
"""Equity and price points kept per series (older ones fall off)."""
RECENT_ROWS = 200
"""Orders, fills and risk events kept for the dashboard's tables."""


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """An order the broker still works, as the desk last heard of it."""

    order: Order
    since: datetime
    """When the desk first heard of it (the app's clock: bar times and the times of reports
    between bars are not on one scale)."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The facts about a session that do not change while it runs."""

    key: str
    mode: str
    """``local``, ``paper`` or ``live``: the badge."""
    connection: str
    """Where the numbers come from, in words (``local simulated broker``, ``following DB``)."""
    symbols: tuple[str, ...]
    start_cash: float
    max_drawdown_pct: float
    max_daily_loss_pct: float
    max_orders_per_day: int
    daily_bars: bool = True
    notices: tuple[str, ...] = ()
    """What the session found on the store as it started, told once (a local session that
    died, its working orders recorded ended)."""
    startup_events: tuple[RiskEvent, ...] = ()
    """The risk events the session's start wrote (earlier orders squared with the broker,
    changes made outside it, exits placed, a skipped paper-to-live gate): Risk events' first
    lines, as the command line prints them."""
    capital: float | None = None
    """The equity cap an Alpaca session trades (``--start-cash``): the limits' percentages are
    of it when it is smaller than the account (``risk.gate``)."""
    recorded: bool = False
    """Whether the bars are recorded history replayed (a file, Yahoo's downloads): their times
    are the past's, so the desk shows each bar's own time, not a live market's session and its
    countdown (a currency pair's hourly file read "AFTER · opens in 2d17h")."""


@dataclass(slots=True)
class DeskState:
    """The dashboard's model: the latest numbers plus bounded histories."""

    info: SessionInfo | None = None
    latest: IterationReport | None = None
    received_at: datetime | None = None
    bar_time: datetime | None = None
    """Time of the latest bar (reports between bars keep it)."""
    """Wall-clock (injected clock) time the latest report was applied."""
    version: int = 0
    """Bumped on every change so that a redraw can skip when nothing moved."""
    equity: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))
    equity_times: deque[datetime] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))
    """Market time of each equity point (the chart's time axis)."""
    drawdown: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))
    """Drawdown % at each equity point (the plot under the equity curve)."""
    prev_close: dict[str, float] = field(default_factory=dict)
    """Each symbol's last price of the previous trading day: the base of the day's change."""
    last_day: dict[str, object] = field(default_factory=dict)
    """The trading day of each symbol's latest price (a new day moves ``prev_close``)."""
    working: dict[str, WorkingOrder] = field(default_factory=dict)
    """Orders still working, by client order id, oldest first."""
    prices: dict[str, deque[float]] = field(default_factory=dict)
    activity: deque[Order | Fill] = field(default_factory=lambda: deque(maxlen=RECENT_ROWS))
    """Orders and fills in report order (each report's orders, then its fills), so that the
    log reads the same however the reports were batched."""
    events: deque[RiskEvent | str] = field(default_factory=lambda: deque(maxlen=RECENT_ROWS))
    """Risk events and, as plain text, the session's notes (why an order was not sent, what
    the broker rejected, that the broker is not ready): the CLI printed them, the desk did not."""
    last_notes: frozenset[str] = frozenset()
    """The previous report's notes: a note repeated every cycle is logged once."""
    reports_applied: int = 0
    activity_seen: int = 0
    """Orders and fills ever appended (the deque forgets; the log writes only what is new)."""
    events_seen: int = 0
    halted: bool = False
    halt_reason: str = ""
    error: str = ""
    """The worker's failure, shown in the halt banner."""
    ended: str = ""
    """How the session ended (``completed``, ``stopped``, ...), empty while it runs."""
    new_day: date | None = None
    """Set by ``apply`` when an intraday session's bar opens a new trading day (the order count
    and the daily-loss window restart), ``None`` otherwise: the app says so once."""

    unreachable: str = ""
    """Why the monitor's store does not answer (it keeps trying), empty while it answers."""
    halt_request: str = ""
    """The monitor's kill switch: where the user's halt request stands, in a few plain words
    (``monitor_halt.HaltStatus.brief``), until the followed session shows HALTED."""
    halt_written: bool = False
    """The request in ``halt_request`` is in the store (the session picks it up)."""
    halt_refused: bool = False
    """The store refused the request for good (a role that may not write): not written."""
    starting: str = ""
    """The mode of a session being built (from Enter on the setup screen until its first
    report of itself), empty otherwise: the desk bar says STARTING instead of showing the
    previous session's figures as if they were the new one's."""

    starting_note: str = ""
    """What the session being built waits for, said by the start (the Alpaca key's next
    minute), empty otherwise: shown in the desk bar beside STARTING."""

    def begin(self, mode: str) -> None:
        """A session of ``mode`` is being built: forget the previous one now. Building can take
        seconds (market data, the broker); until then the dashboard showed the session that had
        ended, its orders and its halt, under the new session's ACTIVE state."""
        self.start(None)
        self.starting = mode
        self.starting_note = ""

    def start(self, info: SessionInfo | None) -> None:
        """Forget the previous session and begin showing ``info``'s."""
        self.info = info
        self.starting = ""
        self.starting_note = ""
        self.latest = None
        self.received_at = None
        self.bar_time = None
        self.equity.clear()
        self.equity_times.clear()
        self.drawdown.clear()
        self.prev_close.clear()
        self.last_day.clear()
        self.working.clear()
        self.prices.clear()
        self.events.clear()
        self.last_notes = frozenset()
        self.reports_applied = 0
        self.events_seen = self.activity_seen = 0
        if info is not None:
            self.events.extend(info.startup_events)
            self.events_seen = len(info.startup_events)
        self.activity.clear()
        self.halted = False
        self.halt_reason = ""
        self.error = ""
        self.ended = ""
        self.unreachable = ""
        self.halt_request = ""
        self.halt_written = False
        self.halt_refused = False
        self.new_day = None
        self.version += 1

    def apply(self, report: IterationReport, now: datetime) -> list[RiskEvent]:
        """Fold one report in; return the halting events it carried (for a notification)."""
        new_bar = self.latest is None or report.iteration > self.latest.iteration
        self.latest = report
        self.received_at = now
        self.new_day = None
        if new_bar:
            # a report between bars (a kill, a resume) is no new point on the curves
            before = self.bar_time
            self.bar_time = report.market_time
            self.reports_applied += 1
            self.equity.append(report.equity)
            self.equity_times.append(report.market_time)
            self.drawdown.append(report.drawdown_pct)
            day = trading_day(report.market_time)
            intraday = self.info is not None and not self.info.daily_bars
            if intraday and before is not None and trading_day(before) != day:
                self.new_day = day
            for symbol, price in report.prices.items():
                series = self.prices.get(symbol)
                if series is None:
                    series = self.prices[symbol] = deque(maxlen=HISTORY_POINTS)
                if self.last_day.get(symbol) != day:
                    if series:  # the last price of the day before is the base of today's change
                        self.prev_close[symbol] = series[-1]
                    self.last_day[symbol] = day
                series.append(price)
        for order in report.orders:
            cid = order.client_order_id
            if order.status.is_open:
                known = self.working.get(cid)
                self.working[cid] = WorkingOrder(order, known.since if known else now)
            else:
                self.working.pop(cid, None)
        notes = [note for note in report.notes if note not in self.last_notes]
        self.last_notes = frozenset(report.notes)
        self.events.extend(report.risk_events)
        self.events.extend(notes)
        self.activity.extend(report.orders)
        self.activity.extend(report.new_fills)
        self.activity_seen += len(report.orders) + len(report.new_fills)
        self.events_seen += len(report.risk_events) + len(notes)
        halts = [e for e in report.risk_events if e.action_taken.startswith("halted")]
        was = self.halted
        self.halted = report.state is TradingState.HALTED
        if self.halted and self.halt_written:  # the session confirmed it: HALTED says it all
            self.halt_request = ""
        if report.halt:  # the halt as it stands: its first reason, not the latest event's
            self.halt_reason = report.halt
        elif halts and not was:
            self.halt_reason = f"{halts[0].event_type}: {halts[0].detail}"
        elif not self.halted:
            self.halt_reason = ""
        self.version += 1
        return halts if self.halted and (halts or not was) else []

    def mark_halted(self, reason: str, error: str = "") -> None:
        """Show HALTED at once (the kill switch, a failed worker), before any report confirms;
        an earlier halt's reason stays the one shown."""
        if not self.halted or not self.halt_reason:
            self.halt_reason = reason
        self.halted = True
        if error:
            self.error = error
        self.version += 1

    def mark_unreachable(self, why: str) -> None:
        """The monitor's store stopped answering (``why``), or answers again (empty)."""
        self.unreachable = why
        self.version += 1

    def mark_halt_request(self, brief: str, written: bool, refused: bool = False) -> None:
        """The monitor's halt request, as it now stands (a written one is dropped once the
        session shows HALTED: a later resume must not bring it back)."""
        self.halt_request = "" if written and self.halted else brief
        self.halt_written = written
        self.halt_refused = refused
        self.version += 1

    def mark_ended(self, status: str) -> None:
        """Note that the session's loop has finished."""
        self.ended = status
        self.version += 1

    @property
    def total_pnl(self) -> float:
        """Equity against the starting cash."""
        if self.latest is None or self.info is None:
            return 0.0
        return self.latest.equity - self.info.start_cash

    def day_change(self, symbol: str) -> float | None:
        """The symbol's change since the previous trading day's last price, in percent (``None``
        until a second trading day has been seen)."""
        base = self.prev_close.get(symbol)
        series = self.prices.get(symbol)
        if not base or not series:
            return None
        return 100.0 * (series[-1] - base) / base

    @property
    def daily_loss_pct(self) -> float:
        """Today's loss as a percentage of the day's opening equity, or of the equity cap when
        smaller, as the risk manager measures it (0 when up)."""
        r = self.latest
        if r is None or r.daily_pnl >= 0:
            return 0.0
        opening = r.equity - r.daily_pnl
        capital = self.info.capital if self.info is not None else None
        if capital is not None and capital < opening:
            opening = capital
        return 100.0 * -r.daily_pnl / opening if opening > 0 else 0.0


def new_day_notice(desk: DeskState) -> str:
    """What the desk says when an intraday session rolls into a new trading day: the order
    count and the daily-loss window restart (the gauges drop to zero without it, unexplained)."""
    day, info = desk.new_day, desk.info
    if day is None or info is None:
        return ""
    return (
        f"{day:%a %Y-%m-%d}: orders today and the daily loss start again from zero "
        f"(limits {info.max_orders_per_day} orders, {info.max_daily_loss_pct:g}% loss)"
    )


def sparkline(values: list[float] | deque[float], width: int = 24) -> str:
    """The last ``width`` values as block characters scaled between their min and max."""
    blocks = "▁▂▃▄▅▆▇█"
    tail = list(values)[-width:]
    if not tail:
        return ""
    low, high = min(tail), max(tail)
    span = high - low
    if span <= 0:
        return blocks[3] * len(tail)
    return "".join(blocks[min(int((v - low) / span * 7.999), 7)] for v in tail)


def newest(items: deque, seen: int, written: int) -> list:
    """The items appended since ``written`` of ``seen`` were shown (those still kept)."""
    fresh = min(seen - written, len(items))
    return list(items)[len(items) - fresh :] if fresh > 0 else []


def market_label(ts: datetime | None, daily: bool) -> str:
    """The market session of a bar time: its date for daily bars, else PRE/OPEN/AFTER/CLOSED."""
    if ts is None:
        return "waiting for the first bar"
    local = ts.astimezone(NEW_YORK)
    if daily:
        return f"daily bar {local:%Y-%m-%d}"
    clock = local.time()
    if local.weekday() >= 5:
        tag = "CLOSED"
    elif time(9, 30) <= clock < time(16, 0):
        tag = "OPEN"
    elif time(4, 0) <= clock < time(9, 30):
        tag = "PRE"
    elif time(16, 0) <= clock < time(20, 0):
        tag = "AFTER"
    else:
        tag = "CLOSED"
    return f"{tag} {local:%Y-%m-%d %H:%M} ET"


def countdown(delta_seconds: float) -> str:
    """``2h05m``, ``14m``, ``3d04h``: a compact time-to-go."""
    minutes = max(int(delta_seconds // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m"


def market_clock(ts: datetime | None, daily: bool, short: bool = False) -> str:
    """The market clock at ``ts`` from the exchange calendar: the session (PRE / OPEN / AFTER /
    CLOSED) and the countdown to the next open or close; the bar date for daily bars.
    ``short``: the session and the countdown only, for a bar too narrow for the time."""
    if ts is None or daily:
        return market_label(ts, daily)
    from tui_trader.market import calendar

    try:
        label = calendar.session_label(ts)
        # the date too: a session that runs for days showed "OPEN 11:14 ET" on each of them
        stamp = "" if short else f" {ts.astimezone(NEW_YORK):%m-%d %H:%M} ET"
        if label == calendar.SessionLabel.OPEN:
            return f"OPEN{stamp} · closes in " + countdown(
                (calendar.next_close(ts) - ts).total_seconds()
            )
        return f"{label}{stamp} · opens in " + countdown(
            (calendar.next_open(ts) - ts).total_seconds()
        )
    except (ValueError, ImportError):  # outside the calendar's years: the plain label
        return market_label(ts, daily)


def bar_clock(ts: datetime | None, daily: bool) -> str:
    """A replayed bar's own time (UTC, as replay files and the store write it), with no market
    session or countdown: a file's bars run on their own hours (a currency pair trades day
    and night) and long before now."""
    if ts is None or daily:
        return market_label(ts, daily)
    return f"replayed bar {ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def preload_calendar() -> None:
    """Load the exchange calendar (about a second, with pandas) off the UI thread; a calendar
    that cannot load leaves the plain session label."""
    from tui_trader.market import calendar

    with contextlib.suppress(ValueError, ImportError, OSError):
        calendar.us_equity_calendar()
