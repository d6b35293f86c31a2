"""Helpers for tests of the desk's Alpaca path against the sandbox."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from tui_trader.brokers.alpaca_config import AlpacaEndpoint, Secret
from tui_trader.core.clock import WallClock
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.sim_order import OPEN_STATUSES
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.alpaca import AlpacaSettings, build_alpaca_session
from tui_trader.store.models import LiveFill, LiveOrder


def endpoint_for(sb: SandboxHandle) -> AlpacaEndpoint:
    """The endpoint a user would export for this sandbox."""
    return AlpacaEndpoint(
        key_id=sb.key_id,
        secret=Secret(sb.secret),
        base_url=sb.base_url,
        data_url=sb.base_url,
        stream_url=sb.trading_stream_url,
        data_stream_url=sb.data_stream_url,
        source="test",
    )


@contextlib.contextmanager
def pumping(sb: SandboxHandle) -> Iterator[None]:
    """While the block runs, a thread moves ``sb``'s market one bar every 30 ms."""
    stop = threading.Event()

    def pump() -> None:
        while not stop.wait(0.03):
            sb.admin.step()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def sandbox_env(sb: SandboxHandle) -> dict[str, str]:
    """The environment variables ``tui-trader sandbox`` tells the user to export."""
    return {
        "APCA_API_KEY_ID": sb.key_id,
        "APCA_API_SECRET_KEY": sb.secret,
        "APCA_API_BASE_URL": sb.base_url,
        "APCA_API_STREAM_URL": sb.trading_stream_url,
        "APCA_API_DATA_STREAM_URL": sb.data_stream_url,
    }


TEST_REQUESTS_PER_MINUTE = 60_000.0
"""The client-side request budget of a test's session (``requests_per_minute``), unless the
test sets its own: a test runs its cycles back to back, so Alpaca's budget (180 a minute, a
burst of 10) would hold every cycle after the first few for a third of a second per request,
time that checks nothing (``test_rate_limit`` is the budget's own test, with its own figure).
The sandbox's 200-a-minute limit stays on: a 429's headers are still Alpaca's."""

FAST_BUDGET = ("--requests-per-minute", f"{TEST_REQUESTS_PER_MINUTE:.0f}")
"""The same budget for a ``tui-trader live paper`` child a test starts: the desk's 180 a minute
(shared by the sessions on the account, half a burst at the start) held each of a child's
cycles for ~0.7 s (two sessions on the account: ~1.3 s), and the tests that wait on a child's
cycles, orders or halts spent most of their time there, checking nothing. The budget's own
tests (``test_rate_limit``, ``test_shared_request_budget``) keep theirs."""


def alpaca_session(
    sb: SandboxHandle, db: Path, timeout: float = 1.0, **overrides: Any
) -> TradingSession:
    """A started Alpaca paper session on the sandbox (1m bars, one day of warm-up, unless
    ``interval``/``period`` say otherwise; no client-side budget wait: see
    ``TEST_REQUESTS_PER_MINUTE``)."""
    say = overrides.pop("say", None)  # the start's words, when a test reads them
    settings = AlpacaSettings(
        mode="paper",
        db=db,
        interval=overrides.pop("interval", "1m"),
        period=overrides.pop("period", "1d"),
        timeout=timeout,
        retry_backoff=0.01,
        requests_per_minute=overrides.pop("requests_per_minute", TEST_REQUESTS_PER_MINUTE),
        learning=overrides.pop("learning", LearningSettings("trend")),
        limits=overrides.pop("limits", RiskLimits()),
        **overrides,
    )
    return build_alpaca_session(settings, endpoint_for(sb), clock=WallClock(), say=say)


def run_steps(sb: SandboxHandle, session: TradingSession, n: int) -> list[Any]:
    """Move the sandbox market one bar and run one cycle, ``n`` times."""
    reports = []
    for _ in range(n):
        sb.admin.step()
        report = session.run_iteration()
        if report is not None:
            reports.append(report)
    return reports


def settle(sb: SandboxHandle, session: TradingSession, timeout: float = 10.0) -> None:
    """Record arriving updates (no new bars) until the database agrees with the sandbox: as
    many open order rows as open orders there, and every order of the sandbox that has a row
    open there exactly when it is open at the sandbox, with the sandbox's filled quantity in
    both the row and its fills. Comparing open orders alone was not enough: a partial fill
    leaves the order open on both sides, so on a busy machine ``settle`` could return before
    the fill's news had been recorded."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    behind: list[str] = []
    while time.monotonic() < deadline:
        session.sync_orders()
        orders = sb.admin.state()["orders"]  # a pair's leg has no row: the pair is one order
        opened = orders["open"] - orders["open_legs"]
        behind = [f"{opened} open order(s) at the sandbox, {open_rows()} open row(s)"]
        if opened == open_rows():
            behind = rows_behind(sb)
            if not behind and stream_quiet(session):
                return
        pause.wait(0.02)
    raise AssertionError(f"orders did not settle in {timeout:g} s: " + "; ".join(behind))


OPEN_ROWS = ("pending_new", "new", "partially_filled", "pending_cancel")
"""Row statuses of an order that may still fill (a cancel not confirmed yet included)."""


def day_count_and_orders(session: TradingSession) -> tuple[int, int]:
    """The account's count of the day's orders (its risk row) and the orders the audit trail
    holds of that day's trading session, protective exits left out (the count leaves them
    out): equal when the count is right. The day is the trading session from one 04:00 New
    York pre-market to the next: stepped bars run ahead of the clock, so a test run shortly
    before 09:00 UTC in winter sees the next session begin and the count start afresh (three
    tests failed then, on the total of the run's orders)."""
    from tui_trader.market.calendar import session_day
    from tui_trader.store.risk_store import read_risk_state

    row = read_risk_state(session.audit.db, session.risk.state.account_key)
    assert row is not None
    orders = LiveOrder.select().where(~LiveOrder.client_order_id.contains("-ps"))
    times = [o.market_time for o in orders if o.market_time is not None]
    days = [session_day(t if t.tzinfo is not None else t.replace(tzinfo=UTC)) for t in times]
    return row.orders_today, days.count(row.day)


def open_rows() -> int:
    """Order rows the database still thinks are open (a cancel not confirmed yet included)."""
    return LiveOrder.select().where(LiveOrder.status.in_(OPEN_ROWS)).count()


def sandbox_view(sb: SandboxHandle) -> dict[str, tuple[bool, float]]:
    """Every order the sandbox has (its true state, whatever faults its REST answers show) by
    client order id: open or not, and quantity filled. An OCO pair is one order, as the desk
    follows it: filled once either leg filled, open while either works, its fills both legs'."""
    engine = sb.sandbox.engine
    out: dict[str, tuple[bool, float]] = {}
    with engine.lock:
        for order in engine.orders_by_id.values():  # as they are, not as REST shows them
            if order.parent is not None:
                continue
            members = [order, *order.legs] if order.ticket.order_class == "oco" else [order]
            done = any(m.status == "filled" for m in members)
            working = any(m.status in OPEN_STATUSES for m in members)
            filled = sum(m.filled_qty for m in members)
            out[order.ticket.client_order_id] = (working and not done, filled)
    return out


def rows_behind(sb: SandboxHandle) -> list[str]:
    """Rows (of orders the sandbox has) that do not say yet what the sandbox says: open or
    not, the filled quantity, the fills recorded. Orders without a row (another database's,
    placed by hand) are left out; the open counts cover rows the sandbox never had."""
    view = sandbox_view(sb)
    fills = filled_by_order()
    behind = []
    for row in LiveOrder.select().where(LiveOrder.client_order_id.in_(list(view))):
        working, filled = view[row.client_order_id]
        recorded = fills.get(row.client_order_id, 0.0)
        if (
            (row.status in OPEN_ROWS) != working
            or abs((row.filled_qty or 0.0) - filled) > 1e-6
            or abs(recorded - filled) > 1e-6
        ):
            behind.append(
                f"{row.client_order_id}: {row.status} with {row.filled_qty or 0:g} filled and "
                f"{recorded:g} in fills, the sandbox: {'open' if working else 'closed'} with "
                f"{filled:g} filled"
            )
    return behind


def stream_quiet(session: TradingSession) -> bool:
    """No trade update waiting to be applied."""
    feed = session.broker.feed  # type: ignore[attr-defined]
    return feed is None or feed.events.empty()


def sandbox_orders(trading_client: Any) -> list[Any]:
    """Every order the sandbox has, whatever its status."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    return list(
        trading_client.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500))
    )


def filled_by_order() -> dict[str, float]:
    """Quantity recorded as filled per client order id, from the fills table."""
    out: dict[str, float] = {}
    for fill in LiveFill.select(LiveFill, LiveOrder).join(LiveOrder):
        cid = fill.order.client_order_id
        out[cid] = out.get(cid, 0.0) + fill.quantity
    return out


def stream_heard(session: Any) -> list[str]:
    """The names of the trade-stream events ``session``'s broker receives from now on
    (``order_cancel_rejected``, ``fill``, ...), in order, each still passed on as before."""
    feed = session.broker.feed
    assert feed is not None
    heard: list[str] = []
    put = feed.events.put

    def hear(item: Any, *args: Any, **kwargs: Any) -> None:
        heard.append(item[0])
        put(item, *args, **kwargs)

    feed.events.put = hear
    return heard


def working_spy_limit(session: Any, sandbox: SandboxHandle, qty: float = 10) -> str:
    """A manual buy limit for ``qty`` SPY 3% below the market, working; its client id."""
    from tui_trader.core.orders import OrderType, Side
    from tui_trader.engine.manual_orders import ManualOrder

    sandbox.admin.step()
    session.run_iteration()
    price = float(sandbox.admin.state()["prices"]["SPY"])
    session.request_manual_order(
        ManualOrder(
            "SPY", Side.BUY, qty=qty, order_type=OrderType.LIMIT, limit_price=round(price * 0.97, 2)
        )
    )
    [order] = session.apply_kill_requests().orders
    assert order.status.is_open
    return order.client_order_id


def kill_between_bars(session: Any) -> Any:
    """The desk's ctrl+k: halt now, between bars; the halt's risk event."""
    from tui_trader.core.domain import TradingState
    from tui_trader.risk.gate import MANUAL_KILL

    session.request_kill(who="test")
    report = session.apply_kill_requests()
    assert report is not None and report.state is TradingState.HALTED
    (event,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
    return event


def killed_at_first_fill(action: Any) -> None:
    """Run ``action()`` (a session's start, a cycle) as a process killed as it writes its
    first fill row: ``KeyboardInterrupt`` there; the stream of a broker it built is closed."""
    import pytest

    from tui_trader.brokers.alpaca import AlpacaBroker
    from tui_trader.store.audit import AuditLog

    made: list[AlpacaBroker] = []
    build = AlpacaBroker.__init__

    def remembered(self: AlpacaBroker, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        made.append(self)

    def killed(self: AuditLog, fill: object, market_time: object) -> bool:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AuditLog, "fill", killed)
        patch.setattr(AlpacaBroker, "__init__", remembered)
        try:
            with pytest.raises(KeyboardInterrupt):
                action()
        finally:
            for broker in made:  # the killed process's stream goes with it
                broker.close()


def spend_key_minute(sb: SandboxHandle, left: int) -> None:
    """Another program on the same key: the trading API's minute spent down to ``left``
    requests (read from the answers' ``X-RateLimit-Remaining``)."""
    import requests

    headers = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": sb.secret}
    with requests.Session() as other:
        while True:
            answer = other.get(sb.base_url + "/v2/clock", headers=headers, timeout=5)
            if int(answer.headers["X-RateLimit-Remaining"]) <= left:
                return
