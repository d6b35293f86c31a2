"""The trading session: one decision cycle at a time, the same for every broker and data source.

A cycle takes the next completed bars, lets the broker match and mark them, records the fills,
updates the strategies, checks equity against the drawdown and daily-loss limits, then (unless
halted) turns the blended targets into orders that each pass the risk manager and are written to
the audit trail before they are sent. Any doubt about an order's fate halts trading. Start-up is
in ``engine/lifecycle``, the finish in ``engine/session_finish``, what a cycle writes down in
``engine/records``, feeding the bars to the strategies in ``engine/strategy_feed``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.clock import Clock, WallClock
from tui_trader.core.domain import Account, Bar, IterationReport, Position, RiskEvent, Signal
from tui_trader.core.ledger import TradeLedger
from tui_trader.core.orders import Fill, Order, OrderUpdate
from tui_trader.core.timeframes import trading_day
from tui_trader.engine.between_bars import BetweenBars
from tui_trader.engine.cash_reads import read_cash_flows
from tui_trader.engine.claims import AccountClaims
from tui_trader.engine.collector import CycleCollector
from tui_trader.engine.config import SessionConfig
from tui_trader.engine.exit_holds import ExitHolds
from tui_trader.engine.halts import RESUME_REFUSED, SessionHalts
from tui_trader.engine.hand_holds import HandHolds
from tui_trader.engine.held_notes import HeldNotes
from tui_trader.engine.lifecycle import SessionLifecycle
from tui_trader.engine.manual_orders import ManualOrders, ManualRequest
from tui_trader.engine.notify import SessionNotices
from tui_trader.engine.order_routing import OrderRouting
from tui_trader.engine.outside_changes import OutsideChanges
from tui_trader.engine.outside_watch import OutsideWatch
from tui_trader.engine.protective_stops import ProtectiveStops
from tui_trader.engine.rate_refusals import RateRefusals
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.said_once import SaidOnce
from tui_trader.engine.send_gap import SendGap
from tui_trader.engine.session_finish import SessionFinish
from tui_trader.engine.settlement import Unsettled
from tui_trader.engine.strategy_feed import StrategyFeed
from tui_trader.engine.waits import BROKER_ERROR, SessionWaits
from tui_trader.market import MarketData
from tui_trader.risk.gate import RiskManager
from tui_trader.store.audit import AuditLog
from tui_trader.strategies import Allocator, LearningAllocator, Strategy

__all__ = ["BROKER_ERROR", "RESUME_REFUSED", "SessionConfig", "TradingSession"]


class TradingSession(
    BetweenBars,
    SessionLifecycle,
    SessionFinish,
    SessionRecords,
    ManualOrders,
    OrderRouting,
    ProtectiveStops,
    OutsideWatch,
    SessionHalts,
    SessionWaits,
    SessionNotices,
    StrategyFeed,
):
    """Runs decision cycles; thread-safe only through ``request_kill``, ``request_resume`` and
    the manual requests (``request_manual_order``, ``request_cancel``, ``request_close``)."""

    def __init__(
        self,
        config: SessionConfig,
        market: MarketData,
        broker: Broker,
        audit: AuditLog,
        clock: Clock,
        strategies: list[Strategy],
        allocator: Allocator,
        account_key: str | None = None,
        endpoint: str | None = None,
        session_day: Callable[[datetime], date] = trading_day,
    ) -> None:
        self.config = config
        self.market = market
        self.broker = broker
        self.audit = audit
        self.clock = clock
        self.strategies = strategies
        self.allocator = allocator
        self.learning = allocator if isinstance(allocator, LearningAllocator) else None
        """The allocator when it learns (fed every bar, the risk, and saved every cycle)."""
        self.iteration = 0
        self.ledger = TradeLedger()
        self.realized_pnl = 0.0
        self.realized_by_symbol: dict[str, float] = {}
        """Closed-trade PnL per symbol (the dashboard's per-position realized column)."""
        self.last_prices: dict[str, float] = {}
        self._endpoint = endpoint
        self.session_day = session_day
        """Which trading session a bar belongs to: the daily-loss window. The New York date by
        default; Alpaca sessions use the exchange calendar (nights count to the last session)."""
        self._account_key = account_key
        self._kill_lock = threading.Lock()
        self._kill = None  # a pending kill-switch press (SessionHalts)
        self._kills_taken: list[int] = []  # monitor requests whose halt is not written yet
        self._resume: str | None = None
        self.send_gap = SendGap()  # an order's slot to its sending (OrderRouting)
        self._unsent: list[RiskEvent] = []
        self._manual_lock = threading.Lock()
        self._manual: list[ManualRequest] = []
        self._manual_count = 0
        self._hand_cancels: dict[str, Order] = {}
        self.wake = threading.Event()
        """Set by ``request_kill`` so that a runner waiting between cycles acts at once."""
        self._flatten_requested = False
        self._halt_unfinished = False
        self._flat_legs: dict[str, tuple[int, int]] = {}  # a flatten's closes (SessionHalts)
        self._cycle_orders: list[Order] = []
        self._cycle_fills: list[Fill] = []
        self._clock_ahead_said = False
        """Whether a fill stamped ahead of this machine's clock was said this session."""
        self.market_exhausted = False
        """True once the market data has ended (a replay file's last bar was used)."""
        self.market_time: datetime | None = None
        """Time of the latest bar seen (warm-up included): the market's "now" for a record
        written between cycles, such as the final snapshot of a simulated session."""
        self.risk: RiskManager
        self.account_key = account_key or ""
        self.started = False
        self.startup_events: list[RiskEvent] = []
        """What reconciliation found at start (shown by the front ends)."""
        self.startup_notes: list[str] = []
        """Plain lines about the store found at start, such as the working orders of a local
        session that died recorded as ended (shown once by the front ends)."""
        self.last_account: Account | None = None
        """The account as last read: what reports and the summary show while the broker does
        not answer."""
        self.last_positions: dict[str, Position] = {}
        self.last_marker: object = None
        """The audit trail's ``fills_marker`` read just before ``last_positions`` were."""
        self._waiting: str | None = None
        """The last "no new bar" reason reported (said again only when it changes)."""
        self.rate_refusals = RateRefusals()
        """The day's order-limit refusals: said once per symbol, then counted."""
        self.exit_holds = ExitHolds()
        """Symbols held back by an exit this session does not keep: said once per onset."""
        self.hand_holds = HandHolds()
        """Symbols where an order placed by hand works: the strategies wait, said once."""
        self.crossing = SaidOnce()
        """Rebalances waiting for an order of ours working the other way: said once."""
        self.under_share = SaidOnce()
        """Symbols whose target is less than one whole share: said once per onset."""
        self.held_notes = HeldNotes()
        """The notes of cycles run without a report (a batch replay), for its closing lines."""
        # On the wall clock the window must also pass on the monotonic clock (it never jumps).
        steady = time.monotonic if isinstance(clock, WallClock) else None
        self.unsettled = Unsettled(timedelta(seconds=config.settle_window_s), steady)
        """Orders the broker does not know yet (lost answers, a crash mid-send): their symbols
        get no new orders until each is found or past its window."""
        if config.snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self._snapshot_every = 1 if audit.commit_before_send else config.snapshot_every
        self._unsnapped: datetime | None = None
        """Market time of the last cycle when its snapshot was skipped (written at the end)."""
        self.outside = OutsideChanges()
        """What the broker should hold of each symbol by this session's own fills: a
        position changed outside the session is said once and left alone."""
        self._watch_outside = bool(getattr(broker, "outside_changes", True))
        """Whether anything but this session can move the account (not the local paper
        account, which only this session's orders reach: no check, no cost a replay cycle)."""
        self.outside.exits_kept = self.protects
        self.claims = (
            AccountClaims(audit, self.account_key, self.protects)
            if audit.commit_before_send and self._watch_outside
            else None
        )
        """Which session of the account trades each symbol (``engine.claims``): where another
        process may trade the same account, one session per symbol while it runs."""
        self.init_notices()
        self.init_stops()
        self._measures = config.stop_loss is not None and config.stop_loss.atr is not None
        """Whether bars feed the average true ranges (``--stop-loss atr:N``)."""
        self._collector = CycleCollector()
        """Holds the garbage collector off from a cycle's bars to its end (one object for every
        cycle: entering it allocates nothing, so no collection can start on the way in)."""

    # -- the decision cycle --------------------------------------------------------------------

    def run_iteration(self) -> IterationReport | None:
        """Run one decision cycle on the next bars; ``None`` once the data has ended. From the
        bars' arrival to the cycle's end Python's garbage collector waits (``engine.collector``)."""
        bars = self.market.next_bars()
        if bars is None:
            self.market_exhausted = True
            return None
        if not bars:
            report = self.apply_kill_requests()
            return report if report is not None else self._waiting_report()
        self._waiting = None
        with self._collector, self.audit.cycle():
            return self._cycle(bars)

    def advance(self) -> bool:
        """Run one decision cycle like ``run_iteration`` but build no report (a batch replay
        prints none): the same decisions and rows. False once the data has ended."""
        bars = self.market.next_bars()
        if bars is None:
            self.market_exhausted = True
            return False
        if not bars:
            self.apply_kill_requests()
            return True
        self._waiting = None
        with self._collector, self.audit.cycle():
            self._cycle(bars, report=False)
        return True

    def _cycle(self, bars: dict[str, Bar], report: bool = True) -> IterationReport | None:
        """The body of a decision cycle, inside the cycle's transaction; the cycle's report
        only if ``report``."""
        self.iteration += 1
        self._cycle_orders.clear()
        self._cycle_fills.clear()
        prices = self.last_prices
        market_time: datetime | None = None
        for symbol, bar in bars.items():  # the latest bar time (the first of equal ones)
            prices[symbol] = bar.close
            ts = bar.timestamp
            if market_time is None or ts > market_time:
                market_time = ts
        assert market_time is not None  # a cycle has bars
        self.market_time = market_time
        broker = self.broker
        broker.on_bars(bars)
        if self.audit.commit_before_send:
            # before recording the broker's news: a session woken to find its orders taken
            # over by another's start (its row recorded died) stops here (``RowEnded``)
            self.audit.beat()
        updates = broker.drain_updates()
        fills = 0
        if updates:
            deferred = self.audit.rows_wait_for_cycle_end and not self.unsettled
            if deferred and not self._watch_outside:
                # The previous cycle's fills are written after this cycle's orders have gone
                # out (``_decide``): a day-start burst's dozens of fills cost ~0.1 ms each.
                # Not where positions are checked against our fills (``outside_changes``):
                # that check, before the rebalance, must have counted them.
                self._cycle_orders.extend(update.order for update in updates)
            else:
                fills, updates = self._apply_updates(updates), []
        return self._decide(self._signals_for(bars), market_time, fills, report, updates)

    def _decide(
        self,
        signals: dict[str, dict[str, Signal]],
        market_time: datetime,
        fills: int,
        report: bool = True,
        late: list[OrderUpdate] | None = None,
    ) -> IterationReport | None:
        """The rest of a cycle once the bars are matched and marked: risk, orders, records;
        the cycle's report only if ``report``.

        ``late``: the broker's order changes and fills since the last cycle, not recorded
        yet. The broker has already booked them (cash and positions are read from it, and no
        decision reads their rows or the ledger), and in a local cycle or a batch nothing is
        committed before the cycle ends: so their rows are written, and their round trips
        booked, right after the rebalance has handed its orders to the broker (before a halt's
        cancels, manual orders or stops write anything else). The committed rows are the
        same; a failed cycle rolls them back with the rest, as before."""
        notes: list[str] = []
        risk = self.risk
        audit = self.audit
        broker = self.broker
        settled = self._settle(self.clock.now()) if self.unsettled else []
        events: list[RiskEvent] = settled  # what the cycle has to write, gathered as it goes
        rolled = None
        halted = risk.state.halted
        try:
            if (
                self.claims is not None
            ):  # before the positions: a claim taken since makes them stale
                self.claims.begin(audit.session.key)
            self.marked(audit.fills_marker() if audit.commit_before_send else None)
            day = self.session_day(market_time)
            flows, unread = read_cash_flows(broker, max(day, risk.state.day or day))  # first
            account = self.last_account = broker.account()
            positions = self.last_positions = broker.positions()
            self.equity_seen = account.equity
            was_halted = risk.state.halted
            events = risk.on_equity(account.equity, day, account.last_equity, flows, unread)
            # A day's end: its refusal counts, worded once the orders are out (first in events).
            rolled = self.rate_refusals.roll_later(risk.state.day)
            if settled:
                events = settled + events
            events += self._sync_risk()
            events += self._take_contradictions()
            events += self.beat_cycle()  # with this machine's clock judged
            early: list[RiskEvent] = []
            resumed = self._take_resume_request()
            events += resumed
            if resumed and audit.commit_before_send and not risk.state.halted:
                # A reset where rows commit one by one goes into the account's row before the
                # cycle's orders: each order's slot is fenced by the row's halt, which would
                # otherwise still be this session's own (the order refused as 'halted by another
                # process' and the halt taken back). Its events and the state as one commit.
                self._record_events(events, market_time)
                early, events = events, []
            was_halted = was_halted and risk.state.halted
            if not risk.state.halted:  # lifted (a reset, here or elsewhere): what it owed goes too
                self._flatten_requested = self._halt_unfinished = (
                    False  # (else a later halt flattened)
                )
            events += self._take_kill_requests()
            sent = refused = 0
            if self.learning is not None:
                self.learning.set_risk(
                    risk.drawdown_pct(account.equity),
                    risk.limits.max_drawdown_pct,
                    risk.state.halted,
                )
            halted = risk.state.halted
            decided = risk.state
            if halted and (not was_halted or self._flatten_requested or self._halt_unfinished):
                if late:
                    fills, late = self._apply_updates(late, listed=True), None
                retry, before = was_halted and self._halt_unfinished, len(self._cycle_orders)
                try:
                    events = self._on_halt(events, positions, market_time)
                except BrokerError as exc:  # the halt is written (below) before the cycle fails
                    events = self._halt_unanswered(events, exc)
                    raise
                self.hands_cancelled(self._cycle_orders[before:])  # (pending: one read a look)
                said = self._halt_retry_note(before) if retry else None
                if said:  # a cancel refused again, nothing else done: said once (its onset)
                    notes.append(said)
            elif halted:
                self._halted_look()  # its cancels' ends, on a silent stream too
            else:
                if self._watch_outside:
                    events += self._check_outside(positions)
                waiting = self.orders_wait()
                if waiting:  # (the clock's hold alone: the strategies' sales that shrink go)
                    notes.append(f"no new orders: {waiting}")
                if not waiting or waiting == self.audit.clock_hold():
                    sent, refused = self._rebalance(
                        signals, account, positions, market_time, events, notes
                    )
            if rolled is not None:  # (``_on_halt`` changes only halt events: none of these)
                events, rolled = rolled() + events, None
            if late:
                fills = self._apply_updates(late, listed=True)
            if self.manual_pending():  # after the rebalance: a manual order lives at least a
                # bar (once the kill switch was pressed, each is refused but one that only
                # shrinks a position: ``engine.kill_fence``)
                manual, manual_notes = self._take_manual_requests(market_time)
                events += manual
                notes += manual_notes
            if self.protects or self.restoring:  # halted or not: positions keep their stops
                events += self._protect(market_time)
        except BrokerError:  # every event gathered is written before the cycle fails: a
            # halt decided in it, and as much a hand order's refusal or an order not received
            # (held in memory only, they were lost unless one of them halted)
            events = rolled() + events if rolled is not None else events
            events += self.take_stop_events()  # the exits' step's, done before the silence
            self._said_before_failing(self._halt_deferred(events, halted), market_time, notes)
            raise
        except Exception as exc:  # anything else (an answer that cannot be read, a bug): the
            # session ends failed, its orders sent stay; their refusals are written beside them
            if self._kept_before_failing(exc):
                events = rolled() + events if rolled is not None else events
                events += self.take_stop_events()
                self._written_before_failing(self._halt_deferred(events, halted), market_time)
            raise
        if not self._fenced:  # (a fenced order's halt is acted on below, in this cycle)
            events = self._halt_deferred(events, halted)  # entered since: cancels due
        if self.stop_notes or self.claims is not None:  # exits dropped, or left to another
            notes += self.take_stop_notes()
        if events:
            self._record_events(events, market_time)
        if early:
            events = early + events
        risk.state = audit.save_risk_state(risk.state)
        if self._fenced:  # an order's slot found the account halted elsewhere: act on it
            self._fenced = False
            adopted = self._halted_meanwhile(decided, positions, market_time)
            self._record_events(adopted, market_time)
            events += adopted
        if self.iteration % self._snapshot_every == 0 or risk.state.halted != was_halted:
            self._snapshot(account, positions, market_time, self.last_marker)
        else:
            self._unsnapped = market_time
        if not report:
            if notes:
                self.held_notes.add(notes)
            return None
        return self._report(account, positions, market_time, fills, sent, refused, events, notes)
