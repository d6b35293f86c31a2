"""A sell for which a protective stop was cancelled, and which then did not go out: the stop
is placed again at once, at the price it had, said in plain words.

Before a sell, the desk cancels the symbol's stop (Alpaca holds the shares for it) and waits
for the cancel's confirmation. The sell could still fail to go out: refused by the broker, or
by the account's halt found in its send gap. The position was then left without a stop: for a
desk without exits (one that had taken over an ended desk's stop) until a desk with exits took
the symbol over. Now the stop goes back at its own price; if that fails, the position is said
NOT protected and the desk tries again every cycle. A sell in doubt is never followed by a
stop for the same shares (both could sell them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import sandbox_orders, settle
from tests.integration.broker_protection import buy_and_protect, open_pairs, open_stops
from tests.integration.ended_stop import ended_desks_stop
from tui_trader.core.domain import TradingState
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import LiveOrder, RiskEventRow, database

SLIDE = {"SPY": -0.6}
JUMP = {"SPY": 10.0}
"""A bar that turns the strategies back to holding SPY: no sell in that cycle."""


def _stops(trading: Any) -> list[tuple[str, float, float]]:
    """(client order id, quantity, stop price) of each stop working at the sandbox."""
    return [
        (o.client_order_id, float(o.qty), float(o.stop_price))
        for o in sandbox_orders(trading)
        if o.order_type.value == "stop" and o.status.value in ("new", "accepted", "pending_new")
    ]


def _held(trading: Any) -> float:
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}.get("SPY", 0.0)


@contextmanager
def _sells_refused(
    sandbox: SandboxHandle, desk: TradingSession, stops_too: bool = False
) -> Iterator[list[str]]:
    """The broker refuses the desk's market sells (Alpaca's 403 "rejected by user request",
    as when the account's trading is suspended for the moment of the sell), and its stops
    too if ``stops_too``; the client ids of the sells refused."""
    engine = sandbox.sandbox.engine
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    refused: list[str] = []

    def submit_order(order_data: Any) -> Any:
        sell = order_data.side.value == "sell" and order_data.type.value == "market"
        if sell:
            refused.append(order_data.client_order_id)
        engine.suspend_trade = sell or stops_too
        try:
            return real(order_data=order_data)
        finally:
            engine.suspend_trade = False

    client.submit_order = submit_order
    try:
        yield refused
    finally:
        client.submit_order = real


def _ended_desks_stop(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """``ended_desks_stop`` whose desk two settles an order in doubt after 0.5 s."""
    return ended_desks_stop(sandbox, db, settle_window=0.5)


def test_a_refused_sell_puts_back_the_ended_desks_stop_it_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two keeps no exits: before its sell it cancels desk one's stop, and the broker
    refuses the sell. The stop goes back at desk one's price, for the shares held, said and
    audited; the next sell cancels it again and goes out."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, qty, price)] = _stops(trading)
        held = _held(trading)
        assert qty == held > 0
        notes: list[str] = []
        with _sells_refused(sandbox, two) as refused:
            for _ in range(14):
                sandbox.admin.step(shock=SLIDE)
                notes += two.run_iteration().notes
                if refused:
                    break
        assert refused, "the slide made desk two sell"
        assert _held(trading) == held
        [(again, again_qty, again_price)] = _stops(trading)
        assert again != left and (again_qty, again_price) == (held, price)
        row = LiveOrder.get(LiveOrder.client_order_id == again)
        assert row.session_id == two.audit.session.id and left in row.rationale
        said = [n for n in notes if "placed again" in n]
        assert said == [
            f"sell {held:g} SPY refused (the broker rejected it: new orders are rejected by "
            f"user request): its stop at {price:.2f} placed again"
        ], notes
        for _ in range(4):  # the slide goes on: the next sell cancels the stop and goes out
            sandbox.admin.step(shock=SLIDE)
            two.run_iteration()
            if not _held(trading):
                break
        assert _held(trading) == 0 and _stops(trading) == []
    finally:
        two.finish("stopped")
        two.broker.close()


@contextmanager
def _sells_lost(
    sandbox: SandboxHandle, desk: TradingSession, side: str = "sell"
) -> Iterator[list[str]]:
    """The desk's market sells (buys, with ``side``) never reach the broker (every submission
    answered 503 before it arrives: in doubt, ``unknown``); the client ids of those lost."""
    client = desk.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    lost: list[str] = []

    def submit_order(order_data: Any) -> Any:
        sell = order_data.side.value == side and order_data.type.value == "market"
        if not sell:
            return real(order_data=order_data)
        lost.append(order_data.client_order_id)
        sandbox.admin.set_faults(order_fail_rate=1.0, error_status=503)
        try:
            return real(order_data=order_data)
        finally:
            sandbox.admin.clear_faults()

    client.submit_order = submit_order
    try:
        yield lost
    finally:
        client.submit_order = real


def _not_received(desk: TradingSession, cid: str) -> None:
    """Look the lost order up until it is ``not_received`` (past its settlement window)."""
    wait_until(
        lambda: (
            desk.sync_orders() is not None
            and LiveOrder.get(LiveOrder.client_order_id == cid).status == "not_received"
        ),
        timeout=10,
        what="the lost sell settled as not received",
    )


def test_a_sell_in_doubt_gets_no_stop_beside_it_until_the_broker_never_received_it(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A desk with a stop loss sells its position; the sell's answer is lost and the broker
    does not know it (in doubt: it may still arrive). Before, the end of the cycle placed a
    stop for the whole position beside it (the sell in doubt is not a working order): should
    the sell arrive, both could sell the shares. Now no stop goes out for the shares the sell
    may sell, said NOT protected; once the sell is ``not_received``, the stop goes back at its
    price."""
    desk = buy_and_protect(
        sandbox,
        tmp_path / "desk.db",
        protected=open_stops,
        shock=1.0,
        learning=LearningSettings("momentum"),
        settle_window=0.5,
    )
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        events: list[Any] = []
        with _sells_lost(sandbox, desk) as lost:
            for _ in range(14):
                sandbox.admin.step(shock={"SPY": -0.6})
                events += desk.run_iteration().risk_events
                if lost:
                    break
        assert lost, "the slide made the desk sell"
        [doubt] = set(lost)  # (submitted twice, as the broker adapter does on a 503)
        assert LiveOrder.get(LiveOrder.client_order_id == doubt).status == "unknown"
        assert _stops(trading) == [], "a stop placed beside the sell in doubt"
        said = [e.action_taken for e in events if e.event_type == "protective_stop"]
        assert said == [
            f"SPY is NOT protected: sell {held:g} SPY is in doubt (sent, no answer), so its stop "
            f"at {price:.2f} is not placed again while that order may still sell the same "
            "shares; it goes back once the broker says it never received the order; trying "
            "again next cycle"
        ], said
        _not_received(desk, doubt)
        sandbox.admin.step(shock=JUMP)
        desk.run_iteration()
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
    finally:
        desk.broker.close()


def test_a_sell_in_doubt_puts_back_the_ended_desks_stop_once_never_received(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two keeps no exits and cancelled desk one's stop before its sell, whose answer was
    lost: no stop while the sell is in doubt; once the broker never received it, desk one's
    stop goes back at its price (before, the position stayed without one for good)."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_lost(sandbox, two) as lost:
            for _ in range(14):
                sandbox.admin.step(shock=SLIDE)
                two.run_iteration()
                if lost:
                    break
        assert lost, "the slide made desk two sell"
        assert _stops(trading) == [], "a stop placed beside the sell in doubt"
        _not_received(two, lost[0])
        sandbox.admin.step(shock=JUMP)
        notes = two.run_iteration().notes
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        assert f"sell {held:g} SPY never went out: its stop at {price:.2f} placed again" in notes
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_sell_found_halted_in_its_send_gap_puts_its_stop_back_at_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk with a stop loss cancels its stop before its sell; the process freezes between
    the sell's slot and its sending while another process halts the account, so the sell is
    not sent (``engine.send_gap``). The stop goes back in that cycle at its price, said, and
    stays working through the halt the cycle then acts on."""
    desk = buy_and_protect(
        sandbox,
        tmp_path / "desk.db",
        protected=open_stops,
        shock=1.0,
        learning=LearningSettings("momentum"),
    )
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        boot = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
        lost = [0.0]
        real_clock = time.clock_gettime
        monkeypatch.setattr(
            time, "clock_gettime", lambda c: real_clock(c) + (lost[0] if c == boot else 0.0)
        )
        reserve = desk._reserve_slot
        frozen: list[str] = []

        def reserve_then_freeze(request: Any) -> Any:
            out = reserve(request)
            if out is None and request.side.value == "sell" and not frozen:
                frozen.append(request.client_order_id)
                lost[0] += 12.0  # stopped 12 s, while another process halts the account
                halt_account(database.obj, desk.risk.state.account_key, "fleet halt (test)")
            return out

        monkeypatch.setattr(desk, "_reserve_slot", reserve_then_freeze)
        notes: list[str] = []
        for _ in range(14):
            sandbox.admin.step(shock=SLIDE)
            report = desk.run_iteration()
            notes += report.notes
            if frozen:
                break
        assert frozen, "the slide made the desk sell"
        assert report.state is TradingState.HALTED
        assert _held(trading) == held, "the sell went out"
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        [said] = [n for n in notes if "placed again" in n]
        assert said.startswith(
            f"sell {held:g} SPY refused (not sent: the account was halted by another process "
            "(manual_kill) during the "
        ), said
        assert said.endswith(f"): its stop at {price:.2f} placed again"), said
        sandbox.admin.step()
        desk.run_iteration()  # halted: the stop stays, no second one
        assert _stops(trading) == [(again, qty, again_price)]
    finally:
        desk.broker.close()


def test_a_close_by_hand_the_broker_refuses_puts_the_stop_back_between_bars(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A close by hand between bars cancels the position's stop, then the broker refuses the
    close. Before, the position waited without a stop until the next bar's cycle placed one;
    now the stop is back at once, at its price, and the refusal says so."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_refused(sandbox, desk) as refused:
            desk.request_close("SPY")
            report = desk.apply_kill_requests()
        assert refused and report is not None
        assert _held(trading) == held
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        said = [e.action_taken for e in report.risk_events if e.event_type == "exit_placed_again"]
        assert said == [
            f"sell {held:g} SPY refused (the broker rejected it: new orders are rejected by "
            f"user request): its stop at {price:.2f} placed again"
        ], report.risk_events
        recorded = RiskEventRow.select().where(RiskEventRow.event_type == "exit_placed_again")
        assert [r.action_taken for r in recorded] == said  # in the audit trail
        row = LiveOrder.get(LiveOrder.client_order_id == again)
        assert row.rationale.startswith(f"stop at {price:.2f} placed again: sell {held:g} SPY")
    finally:
        desk.broker.close()


def test_a_stop_that_cannot_be_placed_again_is_said_not_protected_and_tried_each_cycle(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two's sell is refused, and so is the stop it places again (the account refuses
    every order for the moment): the position is said NOT protected, and the next cycle
    places the stop again at desk one's price."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(_left, _qty, price)] = _stops(trading)
        held = _held(trading)
        events: list[Any] = []
        with _sells_refused(sandbox, two, stops_too=True) as refused:
            for _ in range(14):
                sandbox.admin.step(shock=SLIDE)
                events += two.run_iteration().risk_events
                if refused:
                    break
        assert refused and _stops(trading) == []
        said = [e.action_taken for e in events if e.event_type == "protective_stop"]
        assert said == [
            f"SPY is NOT protected: sell {held:g} SPY refused (the broker rejected it: new "
            f"orders are rejected by user request); its stop at {price:.2f} could not be "
            "placed again: new orders are rejected by user request; trying again next cycle"
        ], said
        sandbox.admin.step(shock=JUMP)
        two.run_iteration()
        [(_again, qty, again_price)] = _stops(trading)
        assert (qty, again_price) == (held, price)
    finally:
        two.finish("stopped")
        two.broker.close()


def test_a_sell_rejected_after_it_was_accepted_puts_back_the_ended_desks_stop(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two (no exits) cancelled desk one's stop before its sell; the broker accepted the
    sell, then rejected it (Alpaca can: the exchange refusing it). Once the rejection is known
    (here, at the end of the same cycle) the stop goes back at its price, said; before, the
    position stayed without one."""
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    client = two.broker.client  # type: ignore[attr-defined]
    real = client.submit_order
    sells: list[str] = []

    def submit_order(order_data: Any) -> Any:
        sell = order_data.side.value == "sell" and order_data.type.value == "market"
        if not sell:
            return real(order_data=order_data)
        sells.append(order_data.client_order_id)
        sandbox.admin.set_faults(reject_rate=1.0)  # accepted, then rejected at once
        try:
            return real(order_data=order_data)
        finally:
            sandbox.admin.clear_faults()

    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        client.submit_order = submit_order
        notes: list[str] = []
        for _ in range(14):
            sandbox.admin.step(shock=SLIDE)
            notes += two.run_iteration().notes
            if sells:
                break
        client.submit_order = real
        assert sells, "the slide made desk two sell"
        settle(sandbox, two)
        assert LiveOrder.get(LiveOrder.client_order_id == sells[0]).status == "rejected"
        assert _held(trading) == held
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        [said] = [n for n in notes if "placed again" in n]
        assert said.startswith(f"sell {held:g} SPY ended rejected, nothing filled"), said
        assert said.endswith(f": its stop at {price:.2f} placed again"), said
    finally:
        client.submit_order = real
        two.finish("stopped")
        two.broker.close()


def test_a_refused_close_puts_back_the_oco_pair_with_both_its_prices(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """With a stop loss and a take profit the exit is an OCO pair; a close by hand cancels it
    and is refused: the pair goes back with its take-profit limit and its stop leg at their
    prices, said."""
    sandbox.admin.set_speed(0)
    desk = buy_and_protect(
        sandbox, tmp_path / "desk.db", protected=open_pairs, shock=0.5, take_profit_pct=5.0
    )
    try:
        [pair] = open_pairs(sandbox)
        limit, stop = float(pair.limit_price), float(pair.legs[0].stop_price)
        with _sells_refused(sandbox, desk) as refused:
            desk.request_close("SPY")
            report = desk.apply_kill_requests()
        assert refused and report is not None
        [again] = open_pairs(sandbox)
        assert again.client_order_id != pair.client_order_id
        assert (float(again.qty), float(again.limit_price)) == (float(pair.qty), limit)
        assert float(again.legs[0].stop_price) == stop
        said = [e.action_taken for e in report.risk_events if e.event_type == "exit_placed_again"]
        assert len(said) == 1 and said[0].endswith(
            f": its exit (take profit {limit:.2f}, stop {stop:.2f}) placed again"
        ), said
    finally:
        desk.broker.close()


def test_an_add_in_doubt_gets_its_stop_back_at_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A buy by hand in a protected symbol cancels the stop first (Alpaca would refuse the buy
    as a wash trade beside it); the buy's answer is lost (in doubt). A buy sells none of the
    shares, so the stop goes back at once at its price; the next cycle keeps it (no second
    one, and no hold on the position while the buy is in doubt). Before, the position waited
    without a stop until the next bar."""
    room = RiskLimits(max_position_pct=30.0)  # (room for the add beside the position)
    desk = buy_and_protect(
        sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0, limits=room
    )
    try:
        [(left, _qty, price)] = _stops(trading)
        held = _held(trading)
        with _sells_lost(sandbox, desk, side="buy") as lost:
            desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=2))
            report = desk.apply_kill_requests()
        assert lost and report is not None
        [(again, qty, again_price)] = _stops(trading)
        assert again != left and (qty, again_price) == (held, price)
        said = [e.action_taken for e in report.risk_events if e.event_type == "exit_placed_again"]
        assert said == [
            "buy 2 SPY is in doubt (sent, no answer); an exit beside it sells none of it: its "
            f"stop at {price:.2f} placed again"
        ], report.risk_events
        sandbox.admin.step()
        desk.run_iteration()
        assert _stops(trading) == [(again, qty, again_price)]
    finally:
        desk.broker.close()
