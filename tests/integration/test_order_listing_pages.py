"""The desk sees every open order on a busy Alpaca account, not the first 500.

``GET /v2/orders`` answers at most 500 orders, and the desk asked once. On an account with more
(hand orders, GTC limits, several desks) the rest were invisible: a kill switch left the desk's
own orders beyond the first page working, and the position limit's "open orders included"
missed working buys. Listings now page (newest first, ``until`` the oldest seen) to a bound of
5,000; past it a halt cancels what it saw and says it could not see the rest, and the desk
sends no new orders on a partial view. These run the real alpaca-py client on the sandbox; the
hand orders are put straight into the sandbox's engine (501 POSTs would cross its 200-a-minute
limit), as the user's program would have placed them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, kill_between_bars, working_spy_limit
from tui_trader.brokers import Partial, alpaca_pages, unseen
from tui_trader.brokers.alpaca_pages import LIST_PAGE
from tui_trader.core.order_ids import make_order_id
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox


def _hand_orders(
    sb: SandboxHandle, count: int, ids: Callable[[int], str] = lambda n: f"my-dip-{n}"
) -> None:
    """``count`` GTC QQQ limit buys far below the market, placed by the user's own program
    (client ids ``ids(n)``)."""
    for n in range(count):
        sb.sandbox.engine.submit(
            {
                "symbol": "QQQ",
                "qty": "1",
                "side": "buy",
                "type": "limit",
                "time_in_force": "gtc",
                "limit_price": "1",
                "client_order_id": ids(n),
            }
        )


def _status(session: Any, client_order_id: str) -> str:
    """The sandbox's status of one order."""
    order = session.broker.client.get_order_by_client_id(client_order_id)
    return str(getattr(order.status, "value", order.status))


def test_a_kill_cancels_the_desks_order_behind_500_newer_ones(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The desk's working buy is older than 501 of the user's orders: before, the halt's one
    page held only the user's (all kept) and the desk's buy went on working after the kill."""
    session = alpaca_session(sandbox, tmp_path / "k.db")
    try:
        own = working_spy_limit(session, sandbox, qty=7)
        _hand_orders(sandbox, LIST_PAGE + 1)
        event = kill_between_bars(session)
        assert _status(session, own) == "canceled"
        assert sandbox.admin.state()["orders"]["open"] == LIST_PAGE + 1  # the user's, working
        assert "cancelled 1 open order(s)" in event.action_taken
        assert f"{LIST_PAGE + 1} order(s) placed outside tui-trader left working" in (
            event.action_taken
        )
        assert "could" not in event.action_taken  # everything was seen: nothing to confess
    finally:
        session.broker.close()


def test_a_kill_past_the_listings_bound_says_it_could_not_see_the_rest(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the bound at one page (500), the desk's buy lies beyond 501 of the user's orders,
    all of which a halt keeps: the halt says in plain words that older orders may still be
    working and that the user must cancel them at the broker; it does not list again and
    again in vain (its cancels took nothing off the listing)."""
    monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 1)
    session = alpaca_session(sandbox, tmp_path / "k.db")
    try:
        own = working_spy_limit(session, sandbox, qty=7)
        _hand_orders(sandbox, LIST_PAGE + 1)
        event = kill_between_bars(session)
        assert "more open orders than a halt can list (500 seen" in event.action_taken
        assert "cancel the desk's older orders (client ids tt-...) at the broker" in (
            event.action_taken
        )
        assert _status(session, own) != "canceled"  # unseen: the words are the truth
        assert session.apply_kill_requests() is None  # nothing to gain by listing again
    finally:
        session.broker.close()


def test_a_kill_past_the_bound_acts_again_until_the_desks_orders_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """501 working orders of this database's session, the bound at one page: the halt
    cancels the 500 it saw and acts again at the next wake, reaching the last one."""
    monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 1)
    with running_sandbox(faults="rate_limit=0") as sb:  # 501 cancels: past 200 a minute
        session = alpaca_session(sb, tmp_path / "k.db")
        try:
            key = session.audit.session.key
            _hand_orders(sb, LIST_PAGE + 1, ids=lambda n: make_order_id(key, 1, "QQQ", f"m{n}"))
            event = kill_between_bars(session)
            assert "the halt tries again next cycle" in event.action_taken
            assert sb.admin.state()["orders"]["open"] == 1
            again = session.apply_kill_requests()
            assert again is not None and any("the halt acted again" in n for n in again.notes)
            assert sb.admin.state()["orders"]["open"] == 0
            assert session.apply_kill_requests() is None  # done
        finally:
            session.broker.close()


def test_open_orders_past_one_page_and_a_cut_listing_stops_new_orders(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk's view of working orders holds all 502 (before: 500). With the bound at one
    page the view is partial: no new orders, said in plain words, until it is whole."""
    _hand_orders(sandbox, LIST_PAGE + 2)
    session = alpaca_session(sandbox, tmp_path / "k.db")
    try:
        listed = session.broker.open_orders()
        assert len(listed) == LIST_PAGE + 2 and not unseen(listed)
        assert len({o.client_order_id for o in listed}) == LIST_PAGE + 2

        monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 1)
        session.broker._open_cache = None  # the next cycle lists afresh
        sandbox.admin.step()
        report = session.run_iteration()
        assert any(
            note.startswith("no new orders: the account has more open orders than the desk")
            for note in report.notes
        ), report.notes
        assert [o for o in report.orders if not o.status.is_final] == []

        monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 10)  # whole again: trading resumes
        session.broker._open_cache = None
        session.broker.open_orders()
        assert "open orders" not in (session.broker.trading_ready() or "")
    finally:
        session.broker.close()


def test_the_look_for_lost_rows_says_when_it_stopped_at_the_bound(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``orders_since`` past its bound: before, the older orders were dropped in silence."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    _hand_orders(sandbox, LIST_PAGE + 2)
    session = alpaca_session(sandbox, tmp_path / "k.db")
    try:
        whole = session.broker.orders_since(since)
        assert len(whole) == LIST_PAGE + 2 and not unseen(whole)
        monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 1)
        cut = session.broker.orders_since(since)
        assert isinstance(cut, Partial) and len(cut) == LIST_PAGE
        assert "lost rows among older ones were not looked for" in unseen(cut)
    finally:
        session.broker.close()


def test_live_status_says_when_it_could_not_list_every_open_order(
    sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``live status`` counts and lists the open orders: past the listing's bound its count is
    a floor, and it says so (before, "500 open order(s)" on an account with more, silently)."""
    from tests.integration.alpaca_helpers import sandbox_env
    from tui_trader.cli import main

    _hand_orders(sandbox, LIST_PAGE + 2)
    for name, value in sandbox_env(sandbox).items():
        monkeypatch.setenv(name, value)
    assert main(["live", "status"]) == 0
    assert f"{LIST_PAGE + 2} open order(s)" in capsys.readouterr().out
    monkeypatch.setattr(alpaca_pages, "LIST_PAGES", 1)
    assert main(["live", "status"]) == 0
    out = capsys.readouterr().out
    assert f"{LIST_PAGE} open order(s)" in out
    assert "NOT ALL SHOWN" in out and "more open orders than the desk can list" in out, out
