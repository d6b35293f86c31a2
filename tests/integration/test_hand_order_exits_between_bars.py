"""An order by hand between bars on a desk that keeps stops, on a local session: the stop it
cancelled first is back as soon as the order has ended, not at the next bar.

Before, the stop cancelled for a sell by hand was placed again only by the next bar's cycle: on
daily bars (these tests'), a position stayed a whole day without its stop after a sell by hand
that ended unfilled between bars. The local broker fills only on bars, so an order that ends
between bars here is one cancelled (by hand, or at the broker); a sell filled between bars is
the sandbox's test (``test_alpaca_hand_exits_between_bars``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_protective_stops import _held, _session, _step, _stops
from tui_trader.brokers import BrokerError
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.hand_exits import HAND_LOOK_S
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import LiveOrder


def _protected(db_path: Path):
    """A daily-bar session holding 100 SPY bought at 100, its stop for 100 at 95 working."""
    session, market, strategy = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    return session, market, strategy


def _limit_sell(session, qty: float, price: float) -> str:
    """A GTC limit sell by hand between bars, working; its client id."""
    session.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=qty,
            order_type=OrderType.LIMIT,
            limit_price=price,
            time_in_force=TimeInForce.GTC,
        )
    )
    report = session.apply_kill_requests()
    [sell] = [o for o in report.orders if o.order_type is OrderType.LIMIT]
    assert sell.status.is_open
    return sell.client_order_id


def test_a_sell_by_hand_cancelled_between_bars_puts_the_stop_back_at_once(db_path) -> None:
    """Half the position offered by hand at 110 (the stop cancelled first, no stop while the
    sell works: it waits), then the sell cancelled by hand, still between bars: the stop for
    all 100 shares at 95 is back in that same wake, and the desk says so; no bar ran."""
    session, _market, _ = _protected(db_path)
    bars = session.iteration
    cid = _limit_sell(session, 50, 110.0)
    assert _stops(session) == []  # working: nothing yet
    assert session.apply_kill_requests() is None  # a wake while it works changes nothing
    assert _stops(session) == []
    session.request_cancel(cid)
    report = session.apply_kill_requests()
    assert session.iteration == bars  # between bars
    [stop] = _stops(session)
    assert (stop.side, stop.qty, stop.stop_price) == (Side.SELL, 100, 95.0)
    assert LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id).status == "new"
    assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "canceled"
    assert (
        "SPY: protective exit placed for 100 shares as soon as the order by hand ended, "
        "not at the next bar"
    ) in report.notes
    assert _held(session) == 100


def test_the_runner_looks_a_working_hand_order_up_between_bars(db_path) -> None:
    """A paced desk waiting an hour for its next bar: the sell by hand ends at the broker
    (cancelled there, no request of the desk's); within ``HAND_LOOK_S`` of the wait the stop
    covers all 100 shares again, not an hour later, and only one stop works (the local
    desk's finish then cancels it: not checked after the run)."""
    session, market, _ = _protected(db_path)
    cid = _limit_sell(session, 50, 110.0)
    market.push(100, 101, 99, 100)  # the next bar: the cycle stops what the sell leaves
    seen: list[tuple[float, list[tuple[float, float | None]]]] = []
    start = session.clock.now()

    def on_report(report) -> None:
        if not seen:  # the bar's cycle: then the sell ends at the broker
            assert [(s.qty, s.stop_price) for s in _stops(session)] == [(50, 95.0)]
            session.broker.cancel(cid)
        waited = (session.clock.now() - start).total_seconds()
        seen.append((waited, [(s.qty, s.stop_price) for s in _stops(session)]))

    SessionRunner(session, session.iteration + 1, every=3600.0, on_report=on_report).run()
    first, second = seen[0], seen[1]
    assert second[1] == [(100, 95.0)]
    assert second[0] - first[0] < 60  # seconds after the cycle, not the hour


def test_a_halted_desk_gets_its_stop_back_once_a_sell_by_hand_ends(db_path) -> None:
    """Halted by the kill switch (no flatten): the desk keeps its stop and sends no trade of
    its own, but a sell by hand still passes (it shrinks the position) and cancels the stop
    first; cancelled by hand, still between bars, the stop is back at once: a halt never
    leaves the position without it."""
    session, _market, _ = _protected(db_path)
    session.request_kill(who="test")
    assert session.apply_kill_requests().state.value == "halted"
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    cid = _limit_sell(session, 50, 110.0)
    assert _stops(session) == []
    session.request_cancel(cid)
    session.apply_kill_requests()
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    assert session.risk.state.halted


def test_a_broker_silent_as_the_sell_ends_gets_the_stop_back_at_the_next_look(
    db_path, monkeypatch
) -> None:
    """The sell by hand cancelled between bars, but the broker does not answer the desk's
    look-up then: the wake says so (and reports the cancel) and places nothing; the desk keeps
    looking (the runner's ``HAND_LOOK_S``), and the next look, the broker answering again,
    puts the stop for all 100 shares back, still between bars. Before, the wake reported
    nothing at all, the symbol was forgotten, and the position waited for the next bar's
    cycle: a day on daily bars."""

    session, _market, _ = _protected(db_path)
    bars = session.iteration
    cid = _limit_sell(session, 50, 110.0)
    silent = [True]

    def look_up(symbol: str) -> None:
        if silent.pop() if silent else False:
            raise BrokerError("looking up orders failed: connection reset")

    monkeypatch.setattr(session.broker, "look_up_orders", look_up)
    session.request_cancel(cid)
    report = session.apply_kill_requests()
    assert report is not None, "the cancel by hand went unreported"
    assert any(
        n.startswith("SPY: the broker did not answer as the order by hand ended")
        and "looked at again in 2 s" in n
        for n in report.notes
    ), report.notes
    assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "canceled"
    assert _stops(session) == []
    assert session.follows_hand  # looked at again between bars
    again = session.apply_kill_requests()
    assert session.iteration == bars
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    assert (
        again is not None
        and (
            "SPY: protective exit placed for 100 shares as soon as the order by hand ended, "
            "not at the next bar"
        )
        in again.notes
    )


def test_a_broker_silent_at_the_look_that_finds_the_sell_ended_looks_again(
    db_path, monkeypatch
) -> None:
    """The sell by hand ends at the broker (cancelled there) and the look that finds it ended
    gets no answer to the positions read (a broker hiccup, a spent request budget): the stop
    is not lost with that look. The next look between bars, the broker answering again,
    puts the stop for all 100 shares back, no bar run. Before, the ended sell was forgotten
    with the failed look and the position stayed without its stop until the next bar's
    cycle (a day on these daily bars)."""
    session, _market, _ = _protected(db_path)
    bars = session.iteration
    cid = _limit_sell(session, 50, 110.0)
    session.broker.cancel(cid)  # ended at the broker, no request of the desk's
    read = session.broker.positions

    def silent() -> dict:
        raise BrokerError("reading positions: 503 Service Unavailable")

    monkeypatch.setattr(session.broker, "positions", silent)
    session.apply_kill_requests()  # the look that finds it ended: no answer
    assert _stops(session) == []
    monkeypatch.setattr(session.broker, "positions", read)
    assert session.follows_hand  # the runner looks again in HAND_LOOK_S
    report = session.apply_kill_requests()
    assert session.iteration == bars  # between bars
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    assert (
        report is not None
        and (
            "SPY: protective exit placed for 100 shares as soon as the order by hand ended, "
            "not at the next bar"
        )
        in report.notes
    )
    assert not session.follows_hand  # nothing left to look at


def test_several_sells_by_hand_working_cost_one_look_up_a_look_not_one_each(
    db_path, monkeypatch
) -> None:
    """Six limit sells by hand working while a paced desk waits a minute for its next bar:
    the desk asks the broker about one of them a look (every ``HAND_LOOK_S``), about 30
    requests in the minute, not six a look (180: Alpaca's whole budget of a key, the desk's
    own cycles then throttled); yet each is still looked at in turn, and one that ends at the
    broker gets the stop back for what is left within six looks, no bar run."""
    session, market, _ = _protected(db_path)
    cids = [_limit_sell(session, 10, 110.0 + i) for i in range(6)]
    market.push(100, 101, 99, 100)  # the next bar: the cycle stops what the sells leave
    asked: list[str] = []
    get_order = session.broker.get_order

    def counted(cid: str):
        asked.append(cid)
        return get_order(cid)

    def on_report(_report) -> None:
        assert [(s.qty, s.stop_price) for s in _stops(session)] == [(40, 95.0)]
        asked.clear()  # the wait's looks only, from the cycle's report on
        monkeypatch.setattr(session.broker, "get_order", counted)

    runner = SessionRunner(session, session.iteration + 1, every=60.0, on_report=on_report)
    monkeypatch.setattr(session, "finish", lambda *a, **k: None)  # the desk stays as it is
    runner.run()
    looks = 60 / HAND_LOOK_S
    assert len(asked) <= looks + 1, f"{len(asked)} look-ups in a minute"
    assert set(asked) == set(cids)  # each asked in turn
    bars = session.iteration
    session.broker.cancel(cids[2])  # one ends at the broker
    for _ in range(len(cids)):
        session.apply_kill_requests()
    assert session.iteration == bars
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(50, 95.0)]


@pytest.mark.parametrize("silent_request", ["positions", "look_up_orders"])
def test_a_minute_of_broker_silence_after_a_sell_ends_is_said_once(
    db_path, monkeypatch, silent_request: str
) -> None:
    """The sell by hand ends at the broker (cancelled there), and the broker then answers
    nothing for a minute of the desk's looks (30, ``HAND_LOOK_S`` apart): the position has no
    stop meanwhile. The desk says so once, at the first look, not at every look; once the
    broker answers, the stop is back and said. Before: silent at the positions read, no word
    in the whole minute (the position without its stop, nothing said); silent at the orders'
    look-up, the same line 30 times a minute, 1,800 an hour of outage."""
    session, _market, _ = _protected(db_path)
    cid = _limit_sell(session, 50, 110.0)
    session.broker.cancel(cid)  # ended at the broker, no request of the desk's
    answering = getattr(session.broker, silent_request)

    def silent(*args: object) -> None:
        raise BrokerError("503 Service Unavailable")

    monkeypatch.setattr(session.broker, silent_request, silent)
    looks = round(60 / HAND_LOOK_S)
    reports = [session.apply_kill_requests() for _ in range(looks)]
    said = [n for r in reports if r is not None for n in r.notes if "did not answer" in n]
    assert said == [
        "SPY: the broker did not answer as the order by hand ended (503 Service Unavailable); "
        "its protective exit is looked at again in 2 s"
    ], f"{len(said)} notes in {looks} looks: {said[:2]}"
    assert _stops(session) == [] and session.follows_hand
    monkeypatch.setattr(session.broker, silent_request, answering)
    back = session.apply_kill_requests()
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    assert back is not None and any("protective exit placed for 100" in n for n in back.notes)
