"""A stop being replaced, listed by Alpaca as ``pending_replace`` while the stream is down.

The desk resizes its protective stop by a replace (``PATCH /v2/orders/{id}``). Until the
exchange answers, Alpaca shows the old stop ``pending_replace``, an open status: its listing of
open orders holds both the old stop and its replacement. With the trade-updates stream down the
desk reads that listing every cycle, and saw two stops for one position: it cancelled the
replacement and tried to replace the old stop once more (refused: it is being replaced). Had
the replace then gone through, the position was left with no stop at all. Now the old stop,
which the desk's own record says is replaced, is not counted beside its replacement: the desk
waits, keeps the replacement, sends nothing, and follows the old stop until Alpaca's word (here
the race Alpaca warns of: the old stop fills, the replacement is rejected).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, settle
from tests.integration.broker_protection import buy_and_protect, open_stops, spy_held
from tests.integration.test_replace_race import _stop_smaller_than_the_position
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.models import LiveOrder

PENDING_BARS = 3
"""Bars the exchange leaves the replace unanswered (``race_bars``): cycles run meanwhile."""


def _stops() -> list[tuple[str, str]]:
    """The desk's stop rows: client id and status, oldest first."""
    rows = LiveOrder.select().where(LiveOrder.order_type == "stop").order_by(LiveOrder.id)
    return [(row.client_order_id, row.status) for row in rows]


def _sent_lost() -> list[str]:
    """Stops sent that the broker never knew (``not_received``): a replace of a stop Alpaca
    was still replacing. One the adapter refused before sending is left out: a cycle that
    decides while the race's outcome is still on its way may ask to resize a stop that has
    just ended, and the adapter's "not sent: the stop to replace is not working" keeps it
    from the broker (the next cycle places a fresh stop)."""
    rows = LiveOrder.select().where(
        (LiveOrder.order_type == "stop") & (LiveOrder.status == "not_received")
    )
    return [row.client_order_id for row in rows if not (row.error or "").startswith("not sent")]


def test_the_desk_waits_for_a_replace_alpaca_lists_as_pending(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, tmp_path / "p.db", protected=open_stops, shock=1.0)
        try:
            old, sold = _stop_smaller_than_the_position(sb, session)
            held = spy_held(sb)
            sb.admin.set_faults(replace_fill_rate=1, race_bars=PENDING_BARS, ws_drop=1)
            sb.admin.drop_streams()  # the trade-updates stream is down: the desk polls
            feed = session.broker.feed
            wait_until(lambda: not feed.connected, what="the stream down")

            sb.admin.step()
            session.run_iteration()  # the stop is resized by a replace the exchange holds
            listed = {(o.client_order_id, str(o.status.value)) for o in open_stops(sb)}
            [(new, _)] = [stop for stop in listed if stop[0] != old]
            assert listed == {(old, "pending_replace"), (new, "pending_new")}
            rows = _stops()

            for _ in range(PENDING_BARS - 1):  # cycles while Alpaca lists both as open
                sb.admin.step()
                report = session.run_iteration()
                assert report.orders_sent == 0
                assert {o.client_order_id for o in report.orders} <= {old, new}
                assert _stops() == rows, "no second stop, the replacement kept"
                assert {o.client_order_id for o in open_stops(sb)} == {old, new}

            sb.admin.step()  # the exchange answers: the old stop filled first
            session.run_iteration()
            wait_until(lambda: spy_held(sb) == held - sold, what="the old stop's fill")
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and dict(_stops())[new] == "rejected"
                    and dict(_stops())[old] == "filled"
                ),
                what="the race's outcome recorded",
            )
            assert filled_by_order()[old] == sold  # recorded once, against the old stop
            assert new not in filled_by_order()
            assert not _sent_lost(), "no replace of a stop being replaced"
            [stop] = open_stops(sb)  # the position left is protected by one stop
            assert float(stop.qty) == spy_held(sb)
        finally:
            session.broker.close()


def test_a_start_while_a_replace_is_pending_keeps_the_replacement(tmp_path: Path) -> None:
    """The desk dies right after its replace; the next start finds Alpaca listing the old
    stop ``pending_replace`` beside its replacement. It keeps the replacement, places no
    other stop while the replace is pending, and records how the race ended."""
    db = tmp_path / "s.db"
    with running_sandbox(faults="rate_limit=0") as sb:  # two desks' reads and the test's
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        old, sold = _stop_smaller_than_the_position(sb, first)
        sb.admin.set_faults(replace_fill_rate=1, race_bars=PENDING_BARS)
        sb.admin.step()
        first.run_iteration()  # the stop is resized by a replace the exchange holds
        first.broker.close()
        simulate_death(first)  # the process dies before Alpaca's word
        [new] = [o.client_order_id for o in open_stops(sb) if o.client_order_id != old]
        rows = _stops()

        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        try:
            assert _stops() == rows, "no stop cancelled or placed at start"
            assert {o.client_order_id for o in open_stops(sb)} == {old, new}
            for _ in range(PENDING_BARS - 1):  # cycles while Alpaca lists both as open
                sb.admin.step()
                second.run_iteration()
                assert _stops() == rows, "no second stop, the replacement kept"
            sb.admin.step()  # the exchange answers: the old stop filled first
            second.run_iteration()
            wait_until(
                lambda: second.sync_orders() is not None and dict(_stops())[old] == "filled",
                what="the old stop's fill recorded",
            )
            assert dict(_stops())[new] == "rejected"
            assert filled_by_order()[old] == sold  # recorded once, against the old stop
            assert not _sent_lost(), "no replace of a stop being replaced"
            for _ in range(3):  # what is left is protected again (a buy of the strategies
                sb.admin.step()  # meanwhile: its stop comes with its fill)
                second.run_iteration()
                settle(sb, second)
            [stop] = open_stops(sb)
            assert float(stop.qty) == spy_held(sb)
        finally:
            second.broker.close()
