"""Protective stops held by the sandbox (Alpaca's contract): placed after the entry, still
working after the session dies, filled by a falling market while nobody watches, and reconciled
by the next session; a position found naked at start-up gets its stop back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import (
    FAST_BUDGET,
    alpaca_session,
    day_count_and_orders,
    filled_by_order,
    settle,
)
from tests.integration.broker_protection import (
    buy_and_protect,
    buy_more,
    client,
    open_pairs,
    open_sells,
    open_stops,
    spy_held,
)
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade
from tui_trader.store.pg_url import PgUrl


def test_a_stop_at_the_broker_outlives_the_session_and_the_next_one_reconciles_it(
    tmp_path: Path,
) -> None:
    """``--stop-loss 2``: the stop is working at the sandbox; the session dies; prices fall 10%
    and the sandbox fills the stop; the restarted session records the fill and the trade."""
    db = tmp_path / "s.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        [stop] = open_stops(sb)
        held = spy_held(sb)
        assert (float(stop.qty), str(stop.time_in_force.value)) == (held, "gtc")
        row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
        assert row.rationale.startswith("protective stop 2% below entry")
        first.broker.close()  # the process dies: no finish, no cancel
        simulate_death(first)
        assert len(open_stops(sb)) == 1, "the stop is still working at the broker"
        sb.admin.step(shock={"SPY": -10.0})
        wait_until(lambda: spy_held(sb) == 0, what="the stop to fill at the sandbox")
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        second.broker.close()
        assert LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id).status == "filled"
        assert filled_by_order()[str(stop.client_order_id)] == held
        details = " | ".join(
            e.detail for e in second.startup_events if e.event_type == RECONCILIATION
        )
        assert f"order {stop.client_order_id}: " in details
        assert "in the database, filled at the broker" in details
        assert open_stops(sb) == []
        # The round trip is booked once: the stop's fill closes the long the first session
        # bought (the broker's positions already held it: no phantom short of -held was left
        # for the next buy to "close" with a made-up profit).
        [trade] = LiveTrade.select().where(LiveTrade.symbol == "SPY")
        buys = [f for f in LiveFill.select() if f.side == "buy" and f.symbol == "SPY"]
        entry = sum(f.price * f.quantity for f in buys) / sum(f.quantity for f in buys)
        exit_fill = LiveFill.get(
            LiveFill.order == LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
        )
        assert (trade.side, trade.quantity) == ("buy", held)
        assert trade.entry_price == pytest.approx(entry)
        assert trade.exit_price == pytest.approx(exit_fill.price)
        assert trade.pnl < 0  # a stop below the entry
        assert second.ledger.held("SPY") == 0.0


def test_a_position_found_without_its_stop_gets_one_at_start_up(tmp_path: Path) -> None:
    """The stop was cancelled by hand while no session ran: the next session places it again
    and says so."""
    db = tmp_path / "n.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        [stop] = open_stops(sb)
        held = spy_held(sb)
        first.broker.close()
        simulate_death(first)
        client(sb).cancel_order_by_id(stop.id)
        wait_until(lambda: open_stops(sb) == [], what="the cancel")
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        second.broker.close()
        [placed] = open_stops(sb)
        assert float(placed.qty) == held and placed.client_order_id != stop.client_order_id
        assert any("had no protective stop" in e.detail for e in second.startup_events)


def test_closing_a_position_cancels_its_stop_before_selling(tmp_path: Path) -> None:
    """The sandbox refuses a sell for shares a working stop holds (Alpaca: insufficient qty
    available); the desk's close cancels the stop first, waits for the confirmation, and the
    sell fills."""
    db = tmp_path / "x.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        try:
            [stop] = open_stops(sb)
            session.request_close("SPY")
            report = session.apply_kill_requests()
            assert report is not None
            assert not [n for n in report.notes if "rejected" in n], report.notes
            wait_until(lambda: session.sync_orders() is not None and spy_held(sb) == 0, what="sell")
            assert open_stops(sb) == []
            status = client(sb).get_order_by_id(stop.id).status
            assert str(getattr(status, "value", status)) == "canceled"
            row = LiveOrder.get(LiveOrder.client_order_id == stop.client_order_id)
            assert row.status == "canceled"
        finally:
            session.broker.close()


def test_an_add_cancels_the_stop_and_is_not_refused_as_a_wash_trade(tmp_path: Path) -> None:
    """Five more shares bought by hand: the sandbox would refuse the buy beside the working sell
    stop (potential wash trade); the desk cancels the stop first, the buy fills, and the next
    cycle protects the whole position with one stop."""
    from tui_trader.risk.limits import RiskLimits

    db = tmp_path / "a.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(
            sb, db, protected=open_stops, shock=1.0, limits=RiskLimits(max_position_pct=50.0)
        )
        try:
            [old] = open_stops(sb)
            held = spy_held(sb)
            buy_more(sb, session, 5)
            assert spy_held(sb) == held + 5
            for _ in range(3):  # the strategy may trim back to its target meanwhile
                sb.admin.step()
                session.run_iteration()
                settle(sb, session)
            [new] = open_stops(sb)
            selling = sum(float(o.qty) for o in open_sells(sb) if o.id != new.id)
            assert float(new.qty) + selling == spy_held(sb) and new.id != old.id
        finally:
            session.broker.close()


def test_live_paper_killed_with_kill_9_leaves_its_stops_and_the_restart_reports_them(
    tmp_path: Path,
) -> None:
    """The issue's acceptance: ``live paper --stop-loss 3 --take-profit 5`` runs until every
    position has a working OCO pair (take profit and stop) at the broker; ``kill -9``; the pair
    is still there; a restarted session's reconciliation reports it and keeps it."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import threading

    from tests.integration.alpaca_helpers import sandbox_env
    from tests.integration.cli_helpers import cli_env

    db = tmp_path / "k.db"
    # No rate limit: the test's own polling would share the session's 200 requests a minute.
    with running_sandbox(faults="rate_limit=0") as sb:
        sb.admin.set_speed(0)
        stop = threading.Event()

        def pump() -> None:
            n = 0
            while not stop.wait(0.05):
                sb.admin.step(shock={"SPY": 1.0} if n < 8 else None)
                n += 1

        pumping = threading.Thread(target=pump, daemon=True)
        pumping.start()
        env = cli_env(tmp_path)
        env.update(sandbox_env(sb))
        argv = [sys.executable, "-m", "tui_trader", "live", "paper", "--symbols", "SPY"]
        argv += ["--every", "0.05", "--stop-loss", "3", "--take-profit", "5"]
        argv += ["--ignore-market-hours", *FAST_BUDGET, "--db", str(db)]
        child = subprocess.Popen(
            [*argv, "--iterations", "0"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            pause = threading.Event()

            def protected() -> bool:
                pause.wait(0.2)  # the sandbox's rate limit is shared with the session
                held = spy_held(sb)
                return held > 0 and sum(float(o.qty) for o in open_stops(sb)) == held

            wait_until(protected, timeout=60, what="a position with its stop at the broker")
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
            held = spy_held(sb)
            [working] = open_stops(sb)
            assert float(working.qty) == held, "the stop outlived the desk"
            [pair] = open_pairs(sb)
            assert [leg.id for leg in pair.legs] == [working.id], "the stop is the pair's leg"
            assert float(pair.qty) == held and pair.limit_price is not None
            again = subprocess.run(  # the pump keeps the bars coming (no more shocks)
                [*argv, "--iterations", "1"],
                env=env,
                cwd=tmp_path,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(timeout=10)
            stop.set()
            pumping.join(timeout=5)
        assert again.returncode == 0, again.stderr
        with sqlite3.connect(db) as con:
            details = [r[0] for r in con.execute("SELECT detail FROM live_risk_events")]
        expected = (
            f"protective stops working at the broker: sell {held:g} SPY take profit "
            f"{float(pair.limit_price):g}, stop {float(working.stop_price):g} (OCO)"
        )
        assert expected in details, details
        now_held = spy_held(sb)
        if now_held > held:
            # Killed short of its target, the restart's one cycle bought the rest: an add
            # cancels the pair first (the next cycle protects the whole position again).
            assert open_pairs(sb) == [], "an add went out beside the old pair"
        elif now_held < held:
            # The bars kept coming while the restart started: a leg of the pair filled at the
            # broker (or the restart's cycle sold, cancelling it first). Either way the pair is
            # done, and no second one was left working beside what is held.
            assert sum(float(p.qty) for p in open_pairs(sb)) <= now_held
        else:
            assert [p.id for p in open_pairs(sb)] == [pair.id], "the restart kept the pair"


def test_an_order_waiting_for_its_stops_cancel_spends_none_of_the_days_orders(
    store: Path | PgUrl,
) -> None:
    """On one SQLite file, and on one PostgreSQL store. A sell first cancels its symbol's
    stop (the stop holds the shares); while the broker refuses that cancel the sell waits,
    unsent, cycle after cycle. Its slot of the account's daily order count was taken before
    the cancel and kept: each cycle of the wait spent one order of the day per symbol
    (measured: three sells waiting three cycles and one manual close refused the same way
    took the account's count from 3 to 13, with 3 orders sent). Now the slot is given back:
    the count is the orders sent."""
    from tui_trader.engine.manual_orders import MANUAL_REFUSED
    from tui_trader.learning.setup import LearningSettings

    rally = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
    slide = {"SPY": -0.6, "QQQ": -0.6, "IWM": -0.6}
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = alpaca_session(  # a stop far away: the slide turns the targets, not the stops
            sb, store, learning=LearningSettings("momentum"), stop_loss=StopRule(50.0)
        )

        def sent() -> int:
            return LiveOrder.select().where(~LiveOrder.client_order_id.contains("-ps")).count()

        try:
            for _ in range(6):
                sb.admin.step(shock=rally)
                session.run_iteration()
            settle(sb, session)
            assert sent() == 3, "three buys, three stops"
            counted, made = day_count_and_orders(session)
            assert counted == made, "the day's count is not the orders sent"
            sb.admin.set_faults(cancel_refuse_rate=1)  # every cancel of a stop is refused
            waited = 0
            for _ in range(14):
                sb.admin.step(shock=slide)
                notes = session.run_iteration().notes
                waited += any("waits for the next cycle: the cancel of" in n for n in notes)
                if waited == 3:
                    break
            assert waited == 3, "the sells waited for their stops' cancels"
            session.request_close("SPY")
            report = session.apply_kill_requests()
            assert report is not None
            [refusal] = [e for e in report.risk_events if e.event_type == MANUAL_REFUSED]
            assert "manual sell SPY not sent" in refusal.action_taken
            assert sent() == 3
            counted, made = day_count_and_orders(session)
            assert counted == made, "orders that waited unsent were counted as sent"
            assert session.risk.state.orders_today == counted
            sb.admin.clear_faults()
            sb.admin.step(shock=slide)
            assert session.run_iteration().orders_sent == 3, "the sells go once the stops are off"
            assert sent() == 6
            counted, made = day_count_and_orders(session)
            assert counted == made, "the day's count is not the orders sent"
            settle(sb, session)
        finally:
            session.finish("stopped")
            session.broker.close()
