"""Alpaca answering valid JSON with numbers no account holds: the desk waits, it does not act.

alpaca-py keeps an account's money and a position's quantity as the strings Alpaca sent, so
``"NaN"``, ``"1e400"``, ``""`` or a missing field pass its model. Before: an equity of NaN or
1e400 crashed the cycle (``cannot convert float NaN to integer``); a missing or empty one read
as 0 and halted the account for the day on a loss that never happened; 1e300 became the
account's peak and the cycle died on the store refusing it as "edited by hand"; a position's
quantity of NaN crashed the audit trail's write, an empty one the cycle. Now each is an
unreadable answer: read again, then the broker's silence (the cycle skipped, no order sent);
once the broker answers sense again, the desk trades.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.brokers import BrokerError
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow, RiskStateRow


class Rewrite:
    """Rewrites one field of every 200 answer to ``GET <path>`` on the desk's alpaca-py
    session while ``on``: the bytes came over HTTP from the sandbox, a field is changed."""

    def __init__(self, session: Any, path: str, edit: Any) -> None:
        self.on = True
        http = session.broker.client._session
        send = http.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = send(method, url, *args, **kwargs)
            hit = method == "GET" and url.split("?")[0].endswith(path)
            if self.on and hit and response.status_code == 200:
                response._content = json.dumps(edit(response.json())).encode()
            return response

        http.request = request


def _set(body: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """``body`` with ``name`` set to ``value`` (left out when ``value`` is ``KeyError``)."""
    if value is KeyError:
        body.pop(name, None)
    else:
        body[name] = value
    return body


def _trades_once_sound(sandbox: SandboxHandle, session: Any, rewrite: Rewrite) -> None:
    """The answers sound again: the rally's cycles send orders, the risk state readable."""
    rewrite.on = False
    for _ in range(8):
        sandbox.admin.step(shock=RALLY)
        session.run_iteration()
        if LiveOrder.select().count():
            break
    assert LiveOrder.select().count(), "no order once the broker answered sense again"
    state = RiskStateRow.get()
    assert state.state == "active"
    assert 50_000 < state.peak_equity < 200_000


@pytest.mark.parametrize("equity", ["NaN", "1e400", "", KeyError, "1e300"])
def test_an_equity_no_account_holds_skips_the_cycle(
    sandbox: SandboxHandle, tmp_path: Path, equity: Any
):
    """Each cycle on such an answer fails as the broker's silence does, saying which number;
    nothing is sent, nothing halts, the peak stays the account's; sense again, it trades."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    try:
        rewrite = Rewrite(session, "/v2/account", lambda b: _set(b, "equity", equity))
        for _ in range(3):
            sandbox.admin.step(shock=RALLY)
            with pytest.raises(BrokerError, match="unreadable answer: the account's equity"):
                session.run_iteration()  # NaN: ValueError; '': a daily-loss halt, on main
        assert LiveOrder.select().count() == 0
        assert RiskEventRow.select().count() == 0
        _trades_once_sound(sandbox, session, rewrite)
    finally:
        session.broker.close()


def _first_position(body: list[dict[str, Any]], name: str, value: Any) -> list[dict[str, Any]]:
    """The positions with the first one's ``name`` set to ``value``; ``"twice"`` lists the
    first position a second time instead."""
    if value == "twice":
        return [*body, dict(body[0])]
    _set(body[0], name, value)
    return body


@pytest.mark.parametrize("qty", ["NaN", "", "twice"])
def test_a_position_no_account_holds_skips_the_cycle(
    sandbox: SandboxHandle, tmp_path: Path, qty: str
):
    """Shares held, then the positions answer a quantity of NaN or '' for one symbol, or one
    symbol twice: the cycle is skipped as in the broker's silence, no crash, nothing sent."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    try:
        for _ in range(8):
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
            if session.broker.positions():
                break
        assert session.broker.positions(), "the rally bought nothing"
        sent = LiveOrder.select().count()
        rewrite = Rewrite(session, "/v2/positions", lambda b: _first_position(b, "qty", qty))
        for _ in range(3):
            sandbox.admin.step()
            with pytest.raises(BrokerError, match=r"unreadable answer: .*(quantity|twice)"):
                session.run_iteration()  # NaN: IntegrityError, '': ValueError, on main
        assert LiveOrder.select().count() == sent
        rewrite.on = False
        sandbox.admin.step()
        session.run_iteration()
    finally:
        session.broker.close()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_market_clock_of_year_1_or_9999_skips_the_cycle(
    sandbox: SandboxHandle, tmp_path: Path, when: str
):
    """The clock says closed until year 1 (or 9999): before, ``OverflowError`` out of the
    cycle showing the next open in New York time; now the broker's silence, then trading."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    try:

        def closed_until(body: dict[str, Any]) -> dict[str, Any]:
            return {**body, "is_open": False, "next_open": when}

        rewrite = Rewrite(session, "/v2/clock", closed_until)
        session.broker._clock = None  # (the start's reading, cached for 30 s)
        sandbox.admin.step(shock=RALLY)
        with pytest.raises(BrokerError, match="unreadable answer: the market clock's next_open"):
            session.run_iteration()
        assert LiveOrder.select().count() == 0
        session.broker._clock = None
        _trades_once_sound(sandbox, session, rewrite)
    finally:
        session.broker.close()
