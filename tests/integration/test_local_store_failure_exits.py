"""A local desk (the simulated paper account) that keeps exits, ended by its store's failure
right after a buy filled, before that position's stop was placed.

A desk on a real broker names, as its store fails, each position no exit at the broker covers
(``session.store_endings``): those shares stay at the broker, exposed, after the desk ends. A
simulated account ends with its session: no position outlives the process, and there is no
broker to look at. Its end must not tell the trader to look at a position at the broker (the
normal end of a local desk says nothing of the sort either: ``SessionFinish._stops_at_end``).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Flipper, make_session
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.stops import StopRule
from tui_trader.session.runner import SessionRunner


def test_a_local_desk_ended_by_a_full_disk_after_a_fill_names_no_position_at_a_broker(
    db_path: Path,
) -> None:
    """The buy fills at the simulated account, then the disk is full: the desk ends
    ``failed`` with its one line about the full disk, and no line sends the trader to a
    broker that does not exist."""
    session = make_session(
        db_path, commit_before_send=True, strategies=[Flipper()], stop_loss=StopRule(pct=3.0)
    )
    submit = session.broker.submit

    def fills_then_full(request):  # type: ignore[no-untyped-def]
        ack = submit(request)
        if request.side is Side.BUY:  # bought: the stop's row, next, finds no room
            session.audit.db.execute_sql("PRAGMA max_page_count = 1")
        return ack

    session.broker.submit = fills_then_full  # type: ignore[method-assign]
    result = SessionRunner(session, iterations=50).run()
    session.audit.db.close()
    assert result.status == "failed" and result.audit_failed, result
    assert result.error is not None and result.error.startswith("disk full"), result.error
    assert any(p.qty for p in session.broker.positions().values()), "the buy filled"
    for words in ("have no exit at the broker", "look at the position at the broker"):
        assert words not in result.error, result.error
        assert not [line for line in result.stops_left if words in line], result.stops_left


def test_a_local_desk_whose_store_turns_read_only_says_its_orders_end_with_it(
    db_path: Path,
) -> None:
    """A limit buy by hand works at the simulated account, far below the market; the store
    then takes no more writes. The desk cancels the buy as its store is lost, and its line
    says so in words true of a simulated account: cancelled at that account, which ends with
    the desk. Before, it said "cancelled 1 working order(s) at the broker, not recorded ...;
    the next start records them": there is no broker, and a desk whose end was written is
    never found dead, so no start records them."""
    session = make_session(db_path)
    session.run_iteration()
    low = round(session.last_prices["IWM"] * 0.5, 2)
    session.request_manual_order(
        ManualOrder(
            "IWM",
            Side.BUY,
            qty=3,
            order_type=OrderType.LIMIT,
            limit_price=low,
            time_in_force=TimeInForce.GTC,
        )
    )
    [order] = session.apply_kill_requests().orders
    assert order.status.is_open
    cycle = session.run_iteration

    def read_only_first():  # type: ignore[no-untyped-def]
        session.audit.db.execute_sql("PRAGMA query_only = ON")  # as the next cycle begins
        return cycle()

    session.run_iteration = read_only_first  # type: ignore[method-assign]
    result = SessionRunner(session, iterations=50).run()
    session.audit.db.close()
    assert result.status == "failed" and result.audit_failed, result
    assert result.error is not None and "became read-only" in result.error, result.error
    assert session.broker.open_orders() == [], "the limit buy kept working"
    assert (
        "cancelled 1 working order(s) of the simulated account, not recorded: the audit store "
        "is lost; that account ends with this desk, so nothing can fill them"
    ) in result.error, result.error
    for words in ("at the broker", "the next start records them"):
        assert words not in result.error, result.error
