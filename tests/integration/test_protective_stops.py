"""Protective stops held by the broker, on a local session end to end: placed after the entry
fills, resized with the position, cancelled before exits, kept by the kill switch, removed by a
flatten, re-placed by start-up reconciliation, triggered by a falling market."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_session, simulate_death
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar, Signal
from tui_trader.core.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from tui_trader.core.timeframes import parse_interval
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.limits import RiskLimits
from tui_trader.risk.stops import StopRule
from tui_trader.store.models import LiveOrder, RiskEventRow

T0 = datetime(2026, 10, 1, 14, 30, tzinfo=UTC)


class Script:
    """A market that gives the bars a test appends, one per ``next_bars`` (SPY only)."""

    symbols = ("SPY",)
    interval = parse_interval("1d")

    def __init__(self, spacing: timedelta = timedelta(days=1)) -> None:
        self.queue: list[Bar] = []
        self.day = 20
        self.spacing = spacing

    def warmup(self) -> dict[str, list[Bar]]:
        """Twenty quiet days at 100 (true range 2)."""
        return {"SPY": [_bar(d, 100, 101, 99, 100, self.spacing) for d in range(20)]}

    def push(self, o: float, h: float, lo: float, c: float) -> None:
        """Queue the next day's bar."""
        self.queue.append(_bar(self.day, o, h, lo, c, self.spacing))
        self.day += 1

    def next_bars(self) -> dict[str, Bar] | None:
        """The next queued bar, ``None`` when none is queued."""
        return {"SPY": self.queue.pop(0)} if self.queue else None

    def close(self) -> None:
        """Nothing to release."""


def _bar(step: int, o: float, h: float, lo: float, c: float, spacing: timedelta) -> Bar:
    return Bar("SPY", T0 + step * spacing, o, h, lo, c, 1_000_000)


class Target:
    """A strategy whose target the test sets."""

    name = "target"

    def __init__(self) -> None:
        self.target = 1.0

    def on_bar(self, bar: Bar) -> Signal:
        """The target the test chose."""
        return Signal(self.target, "test target")


FIVE_PCT = StopRule(pct=5.0)


def _session(db_path: Path, rule: StopRule | None = FIVE_PCT, **kw):
    """A started one-symbol session whose strategy the test drives; 100 shares at full target
    ($10,000 of $100,000 at 100)."""
    market, strategy = Script(kw.pop("spacing", timedelta(days=1))), Target()
    session = make_session(
        db_path,
        market=market,
        strategies=[strategy],
        costs=kw.pop("costs", PaperCosts(0.0, 0.0, 0.0)),
        allocation_pct=10.0,
        stop_loss=rule,
        **kw,
    )
    return session, market, strategy


def _stops(session) -> list[Order]:
    return [o for o in session.broker.open_orders() if o.order_type is OrderType.STOP]


def _step(session, market: Script, o: float, h: float, lo: float, c: float):
    market.push(o, h, lo, c)
    return session.run_iteration()


def _held(session) -> float:
    position = session.broker.positions().get("SPY")
    return position.qty if position else 0.0


def test_an_entry_gets_a_gtc_stop_at_the_broker_with_its_reason(db_path) -> None:
    """The buy fills at the next open; the same cycle leaves a GTC sell stop for the whole
    position 5% below the entry, audited with why."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)  # the buy goes out
    assert _stops(session) == []
    _step(session, market, 100, 101, 99, 100)  # it fills at 100
    [stop] = _stops(session)
    assert (stop.side, stop.qty, stop.stop_price) == (Side.SELL, 100, 95.0)
    assert stop.time_in_force is TimeInForce.GTC
    row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
    assert row.rationale == "protective stop 5% below entry 100.00 at 95"
    assert row.order_type == "stop"


def test_a_falling_market_fills_the_stop_at_the_broker(db_path) -> None:
    """A bar that trades down through 95 sells at the stop; the fill is recorded as a trade."""
    session, market, strategy = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    strategy.target = 0.0  # the strategy would exit anyway: no re-entry to muddle the check
    report = _step(session, market, 97, 97.5, 90, 91)
    assert _held(session) == 0
    [fill] = [f for f in report.new_fills if f.client_order_id == stop.client_order_id]
    assert fill.price == 95.0 and fill.qty == 100
    assert LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id).status == "filled"
    assert session.realized_pnl == pytest.approx(-500.0)


def test_a_partial_exit_cancels_the_stop_first_then_resizes_it(db_path) -> None:
    """Halving the target: the stop is cancelled before the sell (the broker would refuse the
    shares twice), a stop for what the exit leaves is placed at once, and after the fill the
    stop matches the position."""
    session, market, strategy = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [first] = _stops(session)
    strategy.target = 0.5
    report = _step(session, market, 100, 101, 99, 100)
    sells = [o for o in report.orders if o.order_type is OrderType.MARKET]
    assert [(o.side, o.qty, o.status) for o in sells] == [(Side.SELL, 50, "new")]
    assert LiveOrder.get(LiveOrder.client_order_id == first.client_order_id).status == "canceled"
    [second] = _stops(session)
    assert second.qty == 50
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 50
    assert [s.qty for s in _stops(session)] == [50]


def test_an_add_cancels_the_stop_and_the_fill_brings_a_stop_for_all_shares(db_path) -> None:
    """From half to full size at a higher price: the stop is cancelled before the buy goes out
    (Alpaca refuses a buy beside the account's own sell stop as a potential wash trade), no stop
    is placed while the buy works, and after its fill one stop covers all shares, 5% below the
    new average entry."""
    session, market, strategy = _session(db_path)
    strategy.target = 0.5
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [first] = _stops(session)
    assert first.qty == 50
    strategy.target = 1.0
    _step(session, market, 110, 111, 109, 110)  # equity 100,500: 91 shares at 110
    assert LiveOrder.get(LiveOrder.client_order_id == first.client_order_id).status == "canceled"
    assert _stops(session) == []
    _step(session, market, 110, 111, 109, 110)  # the add fills at 110
    held = session.broker.positions()["SPY"]
    [stop] = _stops(session)
    assert stop.qty == held.qty == 91
    assert stop.stop_price == round(held.avg_entry_price * 0.95, 2)


def test_a_stop_of_the_wrong_size_is_replaced_in_one_step(db_path) -> None:
    """The position grew while no session ran (shares bought outside the desk): the next
    session takes the ended session's stop over and replaces it by one for all shares, never
    cancelling it first; both rows say from which session it came."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    broker = session.broker
    [first] = _stops(session)
    simulate_death(session)
    broker.submit(OrderRequest("SPY", Side.BUY, 20, "by-hand"))
    broker.on_bars({"SPY": _bar(99, 100, 101, 99, 100, timedelta(days=1))})
    assert broker.positions()["SPY"].qty == 120
    again, _, _ = _session(db_path, broker=broker, account_key=session.account_key)
    [stop] = _stops(again)
    assert stop.qty == 120
    old = LiveOrder.get(LiveOrder.client_order_id == first.client_order_id)
    assert (old.status, old.error) == ("canceled", f"replaced by {stop.client_order_id}")
    row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
    assert "resized to the 120 share position" in row.rationale
    came = session.audit.session.key.split("_")[0]  # the ended session's stop, taken over
    assert f"replaces {first.client_order_id}, taken over from session {came}" in row.rationale
    assert f"taken over from session {came}" in old.rationale
    [event] = [e for e in again.startup_events if "protective stop for 100" in e.detail]
    assert event.action_taken.startswith("placed stop sell 120 SPY")


def test_a_replace_whose_fate_is_unknown_is_followed_until_settled(db_path) -> None:
    """The stop's replace fails and so does the look-up of the new stop (the broker does not
    answer): the session halts, and the new stop's row, ``unknown``, is looked up again each
    cycle like any unsettled order. Absent past the settlement window, it ends
    ``not_received`` (before, it stayed ``unknown`` all session: nothing looked it up)."""
    from tui_trader.brokers import BrokerError
    from tui_trader.core.clock import FrozenClock

    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    broker = session.broker
    simulate_death(session)
    broker.submit(OrderRequest("SPY", Side.BUY, 20, "by-hand"))
    broker.on_bars({"SPY": _bar(99, 100, 101, 99, 100, timedelta(days=1))})

    def unanswered(client_order_id: str, request: OrderRequest) -> Order | None:
        raise BrokerError(f"replacing order {client_order_id}: no answer")

    replace_stop, broker.replace = broker.replace, unanswered
    clock = FrozenClock(T0 + timedelta(days=40), step=timedelta(seconds=30))
    again, market, _ = _session(
        db_path, broker=broker, account_key=session.account_key, clock=clock
    )
    assert again.risk.state.halted and again.risk.state.halt_reason == "broker_error"
    [doubt] = LiveOrder.select().where(LiveOrder.status == "unknown")
    broker.replace = replace_stop
    for _ in range(3):  # each cycle past the window (the clock steps 30 s a reading)
        _step(again, market, 100, 101, 99, 100)
    row = LiveOrder.get(LiveOrder.client_order_id == doubt.client_order_id)
    assert row.status == "not_received"


def test_start_up_reports_the_stops_it_found_working(db_path) -> None:
    """A restart finds the position's stop still working: reconciliation says so and keeps it."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    simulate_death(session)
    again, _, _ = _session(db_path, broker=session.broker, account_key=session.account_key)
    assert _stops(again) == [stop]
    [event] = [e for e in again.startup_events if e.action_taken == "kept"]
    assert event.detail == "protective stops working at the broker: sell 100 SPY stop 95"


def test_closing_the_position_cancels_its_stop(db_path) -> None:
    """Target zero: the stop is cancelled, the position sold, and no stop is left behind."""
    session, market, strategy = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    strategy.target = 0.0
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 0
    assert _stops(session) == []


def test_the_kill_switch_keeps_the_stops_and_a_flatten_removes_them(db_path) -> None:
    """A plain kill cancels the strategies' orders but leaves the position protected; a kill
    that flattens cancels the stop first, then closes the position."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    session.request_kill("test")
    session.apply_kill_requests()
    assert _stops(session) == [stop]
    _step(session, market, 100, 101, 99, 100)  # halted: the stop stays, still the right size
    assert _stops(session) == [stop]
    session.request_kill("test", flatten=True)
    session.apply_kill_requests()
    assert _stops(session) == []
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 0
    assert _stops(session) == []


def test_reconciliation_places_a_missing_stop_and_says_so(db_path) -> None:
    """A session dies; its stop is gone from the broker (cancelled by hand, lost). The next
    session on the account finds the naked position and places a stop, audited."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    broker = session.broker
    [stop] = _stops(session)
    broker.cancel(stop.client_order_id)
    simulate_death(session)
    again, _, _ = _session(db_path, broker=broker, account_key=session.account_key)
    [placed] = _stops(again)
    assert placed.qty == 100 and placed.stop_price == 95.0
    [event] = [e for e in again.startup_events if "protective stop" in e.detail]
    assert event.event_type == "reconciliation"
    assert event.action_taken.startswith("placed stop sell 100 SPY")
    assert RiskEventRow.select().where(RiskEventRow.event_type == "reconciliation").count() >= 1


def test_a_stop_is_placed_at_the_days_order_limit_and_is_not_counted(db_path) -> None:
    """With one order a day allowed, the entry uses it; the stop still goes out (a refused stop
    would leave the position naked) and the count stays at one."""
    session, market, _ = _session(
        db_path, limits=RiskLimits(max_orders_per_day=1), spacing=timedelta(minutes=1)
    )
    _step(session, market, 100, 101, 99, 100)
    report = _step(session, market, 100, 101, 99, 100)
    assert [s.qty for s in _stops(session)] == [100]
    assert report.orders_today == 1


def test_an_atr_stop_sits_n_average_true_ranges_below_entry(db_path) -> None:
    """``atr:2`` on bars with a true range of 2: the stop is 4 below the entry of 100."""
    session, market, _ = _session(db_path, rule=StopRule(atr=2.0))
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    assert stop.stop_price == 96.0
    row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
    assert row.rationale == "protective stop 2 ATR (2.00) below entry 100.00 at 96"


def test_without_stop_loss_no_stop_is_placed(db_path) -> None:
    """The feature is opt-in: a session without ``--stop-loss`` sends no stop orders."""
    session, market, _ = _session(db_path, rule=None)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 100
    assert _stops(session) == []


def test_a_session_without_stops_leaves_an_earlier_sessions_exit_under_its_buys(
    db_path,
) -> None:
    """Yesterday's session kept a stop; today's runs without ``--stop-loss`` and wants more.
    A buy beside the stop would be refused (Alpaca: "potential wash trade detected"; by hand on
    the sandbox it sent a refused buy every cycle), and cancelling the stop to buy would leave
    the larger position unprotected. So the buy waits: it sends none, takes no order slot, and
    says why and what to do."""
    session, market, first = _session(db_path)
    first.target = 0.5  # yesterday's: 50 shares, under a stop
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    simulate_death(session)
    again, market, strategy = _session(
        db_path, rule=None, broker=session.broker, account_key=session.account_key
    )
    strategy.target = 1.0  # today's strategy wants 100 shares
    orders_before = again.risk.state.orders_today
    report = _step(again, market, 100, 101, 99, 100)
    _step(again, market, 100, 101, 99, 100)
    assert _stops(again) == [stop] and _held(again) == 50
    assert LiveOrder.select().where(LiveOrder.session == again.audit.session.id).count() == 0
    assert again.risk.state.orders_today == orders_before
    [note] = [n for n in report.notes if "not sent" in n]
    assert f"buy 50 SPY not sent: its protective exit {stop.client_order_id} is working" in note
    assert "cancel it at the broker, or run with --stop-loss/--take-profit" in note


def test_a_session_without_stops_cancels_an_ended_sessions_exit_before_selling(
    db_path,
) -> None:
    """Yesterday's session kept a stop and died; today's runs without ``--stop-loss`` and
    wants out. Before, it held its sell for good ("cancel it at the broker"), the position
    neither sold nor ever managed. Now it cancels the stop first, says so once in plain words
    (a note, an ``exit_dropped`` event, the stop's row), and sells in the same cycle."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    simulate_death(session)
    again, market, strategy = _session(
        db_path, rule=None, broker=session.broker, account_key=session.account_key
    )
    strategy.target = 0.5  # today's strategy wants 50 of the 100 shares
    report = _step(again, market, 100, 101, 99, 100)
    later = [_step(again, market, 100, 101, 99, 100) for _ in range(2)]
    assert _held(again) == 50 and _stops(again) == []
    [line] = [n for r in [report, *later] for n in r.notes if stop.client_order_id in n]
    assert line.startswith(f"SPY: cancelled the protective exit {stop.client_order_id}")
    assert "what the sell leaves of the SPY position has no protective exit" in line
    row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
    assert row.status == "canceled" and "before its sell: it keeps no exits" in row.error
    assert row.session_id == again.audit.session.id  # taken over, its history kept:
    assert f"taken over from session {session.audit.session.key.split('_')[0]}" in row.rationale
    mine = RiskEventRow.session == again.audit.session.id
    kinds = [e.event_type for e in RiskEventRow.select().where(mine)]
    assert kinds.count("exit_dropped") == 1 and kinds.count("exit_taken_over") == 1
    assert not LiveOrder.select().where(LiveOrder.status == "rejected").count()


def test_a_manual_sell_cancels_an_ended_sessions_exit_first_too(db_path) -> None:
    """The same session, the trader's ticket instead of the strategies: a sell of the shares
    an ended session's stop holds cancels the stop first, recorded as ``exit_dropped`` (before,
    it was refused: "its protective exit ... is working")."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    simulate_death(session)
    again, market, _ = _session(
        db_path, rule=None, broker=session.broker, account_key=session.account_key
    )
    _step(again, market, 100, 101, 99, 100)  # the strategies want the 100 shares held
    again.request_manual_order(ManualOrder("SPY", Side.SELL, qty=40))
    report = again.apply_kill_requests()
    _step(again, market, 100, 101, 99, 100)
    assert _held(again) == 60 and _stops(again) == []
    assert [e.event_type for e in report.risk_events].count("exit_dropped") == 1
    row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
    assert row.status == "canceled" and "before its sell" in row.error


def test_an_exit_the_session_does_not_keep_is_said_once_per_onset_not_every_cycle(
    db_path,
) -> None:
    """The same held-back buy, cycle after cycle, used to print the same "not sent: its
    protective exit ... is working" line every cycle. Now the line and one ``exit_not_kept``
    event come at the hold's onset; later cycles hold the buy back silently. When another exit
    takes the first one's place, the hold is said again, once."""
    session, market, first = _session(db_path)
    first.target = 0.5  # yesterday's: 50 shares, under a stop
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    simulate_death(session)
    again, market, strategy = _session(
        db_path, rule=None, broker=session.broker, account_key=session.account_key
    )
    strategy.target = 1.0  # today's strategy wants more, every cycle

    def held_lines(cycles: int) -> list[str]:
        """The cycles' notes that an exit holds the buy back."""
        reports = [_step(again, market, 100, 101, 99, 100) for _ in range(cycles)]
        return [n for r in reports for n in r.notes if "not sent:" in n and "exit" in n]

    def events() -> list[RiskEventRow]:
        """This session's ``exit_not_kept`` events."""
        mine = RiskEventRow.session == again.audit.session.id
        return list(
            RiskEventRow.select().where(mine & (RiskEventRow.event_type == "exit_not_kept"))
        )

    [line] = held_lines(5)
    assert f"buy 50 SPY not sent: its protective exit {stop.client_order_id} is working" in line
    [event] = events()
    assert event.symbol == "SPY" and stop.client_order_id in event.detail
    assert "said once" in event.action_taken
    assert _held(again) == 50 and _stops(again) == [stop]
    # Another exit takes its place (placed as a desk on another database would).
    again.broker.cancel(stop.client_order_id, confirm=True)
    other = stop.client_order_id.replace("-ps1", "-ps7")
    again.broker.submit(
        OrderRequest(
            "SPY", Side.SELL, 50, other, OrderType.STOP, None, TimeInForce.GTC, stop_price=90.0
        )
    )
    [changed] = held_lines(4)
    assert f"a protective exit {other} that no session of this store sent" in changed
    assert len(events()) == 2
    assert LiveOrder.select().where(LiveOrder.session == again.audit.session.id).count() == 0


class SlowCancels(PaperBroker):
    """A paper broker whose cancels are not confirmed while ``slow`` (Alpaca's asynchronous
    cancel still pending)."""

    slow = True

    def cancel(self, client_order_id: str, confirm: bool = False) -> Order | None:
        if confirm and self.slow:
            return None
        return super().cancel(client_order_id, confirm)


def test_an_exit_waits_while_its_stops_cancel_is_unconfirmed(db_path) -> None:
    """The sell does not go out on top of a stop that may still be working (the broker would
    refuse it, or both could fill); the position stays protected, the note says why, and the
    next cycle sells once the cancel is confirmed."""
    broker = SlowCancels(100_000.0, ("SPY",), PaperCosts(0.0, 0.0, 0.0))
    session, market, strategy = _session(db_path, broker=broker)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    strategy.target = 0.0
    report = _step(session, market, 100, 101, 99, 100)
    assert report.orders_sent == 0
    assert any("is not confirmed" in note for note in report.notes), report.notes
    assert _stops(session) == [stop]
    broker.slow = False
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 0 and _stops(session) == []


def test_closing_a_position_by_hand_cancels_its_stop_first(db_path) -> None:
    """The desk's close (``c``): the stop is cancelled, the closing sell goes out, and nothing
    is left working once it fills."""
    session, market, strategy = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    [stop] = _stops(session)
    strategy.target = 0.0
    session.request_close("SPY")
    report = session.apply_kill_requests()
    assert [(o.side, o.qty) for o in report.orders if o.order_type is OrderType.MARKET] == [
        (Side.SELL, 100)
    ]
    assert LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id).status == "canceled"
    _step(session, market, 100, 101, 99, 100)
    assert _held(session) == 0 and session.broker.open_orders() == []
