"""A desk waiting for its next bar takes another process's kill request within seconds.

``live monitor``'s ctrl+k and ``tui-trader fleet halt`` write a request to the store; a desk
waiting for its next bar read it only when that wait ended: on daily bars the next day, its
orders working at the broker all the while. The runner now looks every ``KILL_LOOK_S`` while it
waits (one short transaction, with the heartbeat it beat anyway).
"""

from __future__ import annotations

from tests.integration.test_protective_stops import _session, _step, _stops
from tui_trader.session.runner import SessionRunner
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import RiskEventRow


def test_a_desk_waiting_an_hour_halts_within_seconds_of_a_monitors_press(db_path) -> None:
    """A paced desk (a bar an hour) holding 100 SPY with its stop: the monitor presses ctrl+k
    (with flatten) just after the bar's cycle. The desk halts a few seconds into its wait, not
    an hour later: the stop gives way to the flatten's market sell of the 100 shares, and the
    halt's record names the monitor's press."""
    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    assert [(s.qty, s.stop_price) for s in _stops(session)] == [(100, 95.0)]
    market.push(100, 101, 99, 100)  # the next bar's cycle, then an hour's wait
    assert session.audit.session is not None
    desk = session.audit.session.id
    start = session.clock.now()
    seen: list[tuple[float, bool]] = []
    working: list[list[tuple[str, float, str]]] = []

    def on_report(report) -> None:
        if not seen:  # the bar's cycle: the monitor presses now (another process's write)
            write_halt_request(desk, session.clock.now(), "monitor", "", True)
        waited = (session.clock.now() - start).total_seconds()
        seen.append((waited, report.state.value == "halted"))
        working.append(
            [(o.side.value, o.qty, o.order_type.value) for o in session.broker.open_orders()]
        )

    SessionRunner(session, session.iteration + 1, every=3600.0, on_report=on_report).run()
    at = next(i for i, (_waited, halted) in enumerate(seen) if halted)
    halted_at = seen[at][0]
    # seconds into the wait, not the hour (the test's clock also moves a second a read)
    assert halted_at - seen[0][0] < 60
    assert working[at] == [("sell", 100.0, "market")]  # the flatten's close, the stop gone
    [halt] = RiskEventRow.select().where(RiskEventRow.event_type == "manual_kill")
    assert "kill switch pressed by monitor" in f"{halt.action_taken} {halt.detail}"


def test_a_desk_waiting_an_hour_takes_the_fleets_halt_of_its_account_within_seconds(
    db_path,
) -> None:
    """``tui-trader fleet halt`` halts the account (its shared risk state) just after the
    bar's cycle of a desk waiting an hour: the desk adopts the halt a few seconds into its
    wait, not an hour later, and keeps the position's stop (no flatten asked)."""
    from tui_trader.store.db import database
    from tui_trader.store.fleet_halts import halt_account

    session, market, _ = _session(db_path)
    _step(session, market, 100, 101, 99, 100)
    _step(session, market, 100, 101, 99, 100)
    market.push(100, 101, 99, 100)
    start = session.clock.now()
    seen: list[tuple[float, bool]] = []
    working: list[list[tuple[str, float, str]]] = []

    def on_report(report) -> None:
        if not seen:  # the bar's cycle: the fleet halts the account now
            halt_account(database, session.account_key, "fleet halt (test)")
        seen.append(((session.clock.now() - start).total_seconds(), report.state.value == "halted"))
        working.append(
            [(o.side.value, o.qty, o.order_type.value) for o in session.broker.open_orders()]
        )

    SessionRunner(session, session.iteration + 1, every=3600.0, on_report=on_report).run()
    at = next(i for i, (_waited, halted) in enumerate(seen) if halted)
    assert seen[at][0] - seen[0][0] < 60  # seconds into the wait, not the hour
    assert working[at] == [("sell", 100.0, "stop")]  # a halt keeps the protective stop
