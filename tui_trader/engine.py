"""The trading session: one decision cycle at a time, the same for every broker and data source.

A cycle takes the next completed bars, lets the broker match and mark them, records the fills,
updates the strategies, checks equity against the drawdown and daily-loss limits, then (unless
halted) turns the blended targets into orders that each pass the risk manager and are written to
the audit trail before they are sent. Any doubt about an order's fate halts trading.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from tui_trader.brokers import Broker, BrokerError
from tui_trader.clock import Clock
from tui_trader.domain import (
    Account,
    Bar,
    Fill,
    IterationReport,
    Order,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Position,
    RiskEvent,
    Side,
    Signal,
)
from tui_trader.ledger import TradeLedger
from tui_trader.market import MarketData
from tui_trader.reconcile import reconcile
from tui_trader.risk import MANUAL_KILL, SESSION_HALTS, RiskLimits, RiskManager
from tui_trader.store.audit import AuditLog, load_risk_state
from tui_trader.strategies import Allocator, LearningAllocator, Strategy
from tui_trader.timeframes import Interval, Period, trading_day

BROKER_ERROR = "broker_error"
RESUME_REFUSED = "resume_refused"


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
    min_trade_pct: float = 1.0
    """Rebalances smaller than this share of equity are skipped (exits always go through)."""

    def parameters(self) -> dict[str, Any]:
        """The settings as plain values, for the session row."""
        return {
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
        }

    @property
    def allocation(self) -> float:
        """The per-symbol allocation as a fraction of equity."""
        if self.allocation_pct is not None:
            return self.allocation_pct / 100.0
        return min(1.0 / max(len(self.symbols), 1), self.limits.max_position_pct / 100.0)


@dataclass(slots=True)
class _KillRequest:
    """A kill-switch press waiting for the worker to act on it."""

    who: str
    flatten: bool
    reason: str


class TradingSession:
    """Runs decision cycles; thread-safe only through ``request_kill`` and ``request_resume``."""

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
        self.last_prices: dict[str, float] = {}
        self._endpoint = endpoint
        self.session_day = session_day
        """Which trading session a bar belongs to: the daily-loss window. The New York date by
        default; Alpaca sessions use the exchange calendar (nights count to the last session)."""
        self._account_key = account_key
        self._kill_lock = threading.Lock()
        self._kill: _KillRequest | None = None
        self._resume: str | None = None
        self.wake = threading.Event()
        """Set by ``request_kill`` so that a runner waiting between cycles acts at once."""
        self._flatten_requested = False
        self._cycle_orders: list[Order] = []
        self._cycle_fills: list[Fill] = []
        self.market_exhausted = False
        """True once the market data has ended (a replay file's last bar was used)."""
        self.risk: RiskManager
        self.account_key = account_key or ""
        self.started = False
        self.startup_events: list[RiskEvent] = []
        """What reconciliation found at start (shown by the front ends)."""

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the session row, restore the account's risk state and warm the strategies up."""
        cfg = self.config
        row = self.audit.start_session(
            mode=cfg.mode,
            broker=self.broker.name,
            endpoint=self._endpoint,
            data_source=cfg.data_label,
            symbols=cfg.symbols,
            parameters=cfg.parameters(),
            account_key=self._account_key,
        )
        self.account_key = row.account_key
        self.risk = RiskManager(cfg.limits, load_risk_state(row.account_key), cfg.fractional)
        history = self.market.warmup()
        for bars in history.values():
            for bar in bars:
                self._update_strategies(bar)
            if bars:
                self.last_prices[bars[-1].symbol] = bars[-1].close
        positions = self.broker.positions()
        for symbol, position in positions.items():
            self.ledger.seed(symbol, position.qty, position.avg_entry_price, self.clock.now())
        if self.learning is not None:
            self.learning.start_trading()
        self.started = True
        self.startup_events = self._reconcile()

    def _reconcile(self) -> list[RiskEvent]:
        """Square earlier runs' orders and positions with the broker; record each difference."""
        result = reconcile(self.broker, self.audit, self.account_key)
        now = self.clock.now()
        with self.audit.cycle():
            for fill in result.fills:
                if self.audit.fill(fill, fill.timestamp):
                    for trade in self.ledger.on_fill(fill):
                        self.realized_pnl += trade.pnl
                        self.audit.trade(trade)
            self._record_events(result.events, now)
        return result.events

    def finish(self, status: str) -> None:
        """Write the final state: risk memory, how the session ended."""
        self.audit.save_risk_state(self.risk.state)
        self.audit.end_session(status, self.iteration)

    def request_kill(self, who: str = "user", flatten: bool = False, reason: str = "") -> None:
        """Ask the session to halt at once (any thread); the worker acts before its next order."""
        with self._kill_lock:
            self._kill = _KillRequest(who, flatten, reason)
        self.wake.set()

    def request_resume(self, who: str = "user") -> None:
        """Ask the session to lift its halt (any thread); the worker decides at its next cycle."""
        with self._kill_lock:
            self._resume = who
        self.wake.set()

    def resume_refusal(self) -> str | None:
        """Why a resume would be refused now, or ``None`` if the risk state allows it."""
        state = self.risk.state
        if not state.halted:
            return "trading is not halted"
        if state.halt_reason in SESSION_HALTS:
            return f"a {state.halt_reason} halt lasts until the next trading day"
        return None

    # -- the decision cycle --------------------------------------------------------------------

    def run_iteration(self) -> IterationReport | None:
        """Run one decision cycle on the next bars; ``None`` once the data has ended."""
        bars = self.market.next_bars()
        if bars is None:
            self.market_exhausted = True
            return None
        if not bars:
            return self.apply_kill_requests()
        with self.audit.cycle():
            return self._cycle(bars)

    def sync_orders(self) -> int:
        """Record order changes and fills that arrived since the last cycle; returns new fills.

        Between bars (a live session waiting for the next one, or before shutting down) fills
        keep arriving; this writes them without making a decision.
        """
        with self.audit.cycle():
            self._cycle_orders.clear()
            self._cycle_fills.clear()
            return self._apply_updates(self.broker.drain_updates())

    def apply_kill_requests(self) -> IterationReport | None:
        """Act on a pending kill between bars (the runner calls this when woken)."""
        with self.audit.cycle():
            self._cycle_orders.clear()
            self._cycle_fills.clear()
            events = self._take_resume_request()
            kills = self._take_kill_requests()
            if not events and not kills:
                return None
            positions = self.broker.positions()
            market_time = self.clock.now()
            if kills:
                events += self._on_halt(kills, positions, market_time)
            # Read the account after the halt acted: cancelled orders release buying power.
            account = self.broker.account()
            positions = self.broker.positions()
            self._record_events(events, market_time)
            return self._report(account, positions, market_time, 0, 0, 0, events, ())

    def _cycle(self, bars: dict[str, Bar]) -> IterationReport:
        """The body of a decision cycle, inside the cycle's transaction."""
        self.iteration += 1
        self._cycle_orders.clear()
        self._cycle_fills.clear()
        market_time = max(bar.timestamp for bar in bars.values())
        for symbol, bar in bars.items():
            self.last_prices[symbol] = bar.close
        notes: list[str] = []
        self.broker.on_bars(bars)
        fills = self._apply_updates(self.broker.drain_updates())
        signals = {symbol: self._update_strategies(bar) for symbol, bar in bars.items()}
        account = self.broker.account()
        positions = self.broker.positions()
        was_halted = self.risk.state.halted
        events = self.risk.on_equity(
            account.equity, self.session_day(market_time), account.last_equity
        )
        events += self._take_resume_request()
        was_halted = was_halted and self.risk.state.halted
        events += self._take_kill_requests()
        sent = refused = 0
        if self.learning is not None:
            self.learning.set_risk(
                self.risk.drawdown_pct(account.equity),
                self.risk.limits.max_drawdown_pct,
                self.risk.state.halted,
            )
        halted = self.risk.state.halted
        if halted and (not was_halted or self._flatten_requested):
            events = self._on_halt(events, positions, market_time)
        elif not self.risk.state.halted:
            waiting = self.broker.trading_ready()
            if waiting:
                notes.append(f"no new orders: {waiting}")
            else:
                sent, refused, more, notes = self._rebalance(
                    signals, account, positions, market_time
                )
                events += more
        self._record_events(events, market_time)
        self.audit.save_risk_state(self.risk.state)
        self.audit.snapshot(
            self.iteration,
            account,
            positions,
            self.risk.drawdown_pct(account.equity),
            self.risk.daily_pnl(account.equity),
            self.risk.state.state,
            market_time,
        )
        if self.learning is not None:
            self.learning.end_cycle(self.iteration, market_time)
        return self._report(account, positions, market_time, fills, sent, refused, events, notes)

    def _update_strategies(self, bar: Bar) -> dict[str, Signal]:
        """Feed one bar to every strategy (and a learning allocator); their signals for it."""
        signals = {s.name: s.on_bar(bar) for s in self.strategies}
        if self.learning is not None:
            self.learning.observe(bar, signals)
        return signals

    def _apply_updates(self, updates: list[OrderUpdate]) -> int:
        """Record order changes and new fills; return how many new fills there were."""
        fills = 0
        for update in updates:
            self.audit.order_update(update.order)
            self._cycle_orders.append(update.order)
            fill = update.fill
            if fill is None or not self.audit.fill(fill, fill.timestamp):
                continue
            fills += 1
            self._cycle_fills.append(fill)
            for trade in self.ledger.on_fill(fill):
                self.realized_pnl += trade.pnl
                self.audit.trade(trade)
        return fills

    # -- orders --------------------------------------------------------------------------------

    def _rebalance(
        self,
        signals: dict[str, dict[str, Signal]],
        account: Account,
        positions: dict[str, Position],
        market_time: datetime,
    ) -> tuple[int, int, list[RiskEvent], list[str]]:
        """Turn targets into orders; each passes the risk gate and the audit before the broker."""
        cfg = self.config
        equity = account.equity
        committed = {s: p.qty for s, p in positions.items()}
        for order in self.broker.open_orders():
            committed[order.symbol] = (
                committed.get(order.symbol, 0.0) + order.remaining_qty * order.side.sign
            )
        sent = refused = 0
        events: list[RiskEvent] = []
        notes: list[str] = []
        for symbol in sorted(signals):
            price = self.last_prices.get(symbol)
            if not price or equity <= 0:
                continue
            target = self.allocator.allocate(symbol, signals[symbol])
            budget = min(equity, cfg.capital) if cfg.capital else equity
            desired = self._round_qty(target.target * budget * cfg.allocation / price)
            held = committed.get(symbol, 0.0)
            delta = desired - held
            if abs(delta) < 1e-9:
                continue
            small = abs(delta) * price < cfg.min_trade_pct / 100.0 * equity
            if small and desired != 0:
                continue
            side = Side.BUY if delta > 0 else Side.SELL
            request = OrderRequest(
                symbol=symbol,
                side=side,
                qty=abs(delta),
                client_order_id=self._order_id(symbol, "r"),
                rationale=f"target {target.target:+.2f} -> {desired:g} sh; {target.reason}",
            )
            check = self.risk.check_order(request, price, equity, held)
            events.extend(check.events)
            if check.order is None:
                refused += 1
                continue
            ack = self._send(check.order, market_time)
            if ack is None:
                events.append(self._broker_doubt(check.order))
                break
            if ack.status is OrderStatus.REJECTED:
                refused += 1
                notes.append(
                    f"broker rejected {side} {check.order.qty:g} {symbol}: {ack.reject_reason}"
                )
            else:
                sent += 1
        return sent, refused, events, notes

    def _send(self, request: OrderRequest, market_time: datetime) -> Order | None:
        """Write the order row, then send; ``None`` if the broker's answer is in doubt."""
        self.audit.order_pending(request, self.iteration, market_time)
        try:
            ack = self.broker.submit(request)
        except BrokerError as exc:
            unknown = Order.from_request(request, OrderStatus.UNKNOWN, str(exc))
            self.audit.order_update(unknown)
            self._cycle_orders.append(unknown)
            return None
        self.audit.order_update(ack)
        self._cycle_orders.append(ack)
        return ack

    def _broker_doubt(self, request: OrderRequest) -> RiskEvent:
        """Halt because an order's fate is unknown: no more orders until a person looks."""
        detail = f"order {request.client_order_id} state unknown after a broker error"
        return self.risk.halt(BROKER_ERROR, 0.0, 0.0, detail)

    def _round_qty(self, qty: float) -> float:
        """Whole shares toward zero, or fractional to nine decimals."""
        if self.config.fractional:
            return math.trunc(qty * 1e9) / 1e9
        return float(math.trunc(qty))

    def _order_id(self, symbol: str, leg: str) -> str:
        """Deterministic client order id: session, iteration, symbol, leg."""
        return f"tt-{self.audit.session.key}-{self.iteration}-{symbol}-{leg}"

    # -- halting -------------------------------------------------------------------------------

    def _take_kill_requests(self) -> list[RiskEvent]:
        """Turn an in-process kill or a monitor's halt request into a halt."""
        with self._kill_lock:
            kill, self._kill = self._kill, None
        request = self.audit.halt_requested()
        if request is not None:
            self.audit.mark_handled(request)
            if kill is None:
                kill = _KillRequest(request.requested_by, request.flatten, request.reason)
        if kill is None:
            return []
        if kill.flatten:
            self._flatten_requested = True
        equity = self.broker.account().equity if self.started else 0.0
        detail = f"kill switch pressed by {kill.who}" + (f": {kill.reason}" if kill.reason else "")
        return [self.risk.halt(MANUAL_KILL, equity, 0.0, detail)]

    def _take_resume_request(self) -> list[RiskEvent]:
        """Act on a resume request: lift the halt if the risk state allows it, else say why not."""
        with self._kill_lock:
            who, self._resume = self._resume, None
        if who is None:
            return []
        refusal = self.resume_refusal()
        if refusal is not None:
            return [RiskEvent(RESUME_REFUSED, 0.0, 0.0, f"resume by {who} refused: {refusal}")]
        return [self.risk.reset(self.broker.account().equity, who)]

    def _on_halt(
        self, events: list[RiskEvent], positions: dict[str, Position], market_time: datetime
    ) -> list[RiskEvent]:
        """Cancel open orders and, if asked, flatten; say so in the halt event's action."""
        flatten = self.config.flatten_on_halt or self._flatten_requested
        self._flatten_requested = False
        cancelled = self.broker.cancel_all()
        for order in cancelled:
            self.audit.order_update(order)
            self._cycle_orders.append(order)
        action = f"; cancelled {len(cancelled)} open order(s)"
        if self.config.suspend_on_halt:
            self.broker.suspend_trading()
            action += "; trading suspended on the account"
        if flatten:
            closing = self._flatten(positions, market_time)
            action += f"; flattening {closing} position(s)"
        out = []
        for event in events:
            if event.action_taken.startswith("halted") and "cancelled" not in event.action_taken:
                event = replace(event, action_taken=event.action_taken + action)
            out.append(event)
        return out

    def _flatten(self, positions: dict[str, Position], market_time: datetime) -> int:
        """Send closing orders for every position (they pass the gate: they shrink exposure)."""
        count = 0
        for symbol in sorted(positions):
            position = positions[symbol]
            side = Side.SELL if position.qty > 0 else Side.BUY
            request = OrderRequest(
                symbol=symbol,
                side=side,
                qty=abs(position.qty),
                client_order_id=self._order_id(symbol, "flat"),
                rationale=f"flatten on halt ({self.risk.state.halt_reason})",
            )
            check = self.risk.check_order(
                request, self.last_prices.get(symbol, position.last_price), 1.0, position.qty
            )
            if check.order is not None and self._send(check.order, market_time) is not None:
                count += 1
        return count

    # -- reporting -----------------------------------------------------------------------------

    def _record_events(self, events: list[RiskEvent], market_time: datetime) -> None:
        """Write every risk event with the account it belongs to."""
        for event in events:
            self.audit.risk_event(event, self.account_key, market_time)
        if events:
            self.audit.save_risk_state(self.risk.state)

    def _report(
        self,
        account: Account,
        positions: dict[str, Position],
        market_time: datetime,
        fills: int,
        sent: int,
        refused: int,
        events: list[RiskEvent],
        notes: list[str] | tuple[str, ...],
    ) -> IterationReport:
        """Summarize the cycle for the front ends."""
        return IterationReport(
            iteration=self.iteration,
            market_time=market_time,
            cash=account.cash,
            equity=account.equity,
            buying_power=account.buying_power,
            fills=fills,
            orders_sent=sent,
            orders_refused=refused,
            state=self.risk.state.state,
            drawdown_pct=self.risk.drawdown_pct(account.equity),
            daily_pnl=self.risk.daily_pnl(account.equity),
            positions=tuple(positions[s] for s in sorted(positions)),
            prices=dict(self.last_prices),
            risk_events=tuple(events),
            notes=tuple(notes),
            orders=tuple(self._cycle_orders),
            new_fills=tuple(self._cycle_fills),
            orders_today=self.risk.state.orders_today,
            realized_pnl=self.realized_pnl,
            regimes=self.learning.regimes() if self.learning is not None else {},
            weights=self.learning.current_weights() if self.learning is not None else {},
        )
