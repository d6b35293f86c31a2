"""A session that fails on an unexpected error cancels its working orders before it ends.

When a cycle raises something the runner does not expect (a bug, a broker answer it cannot
use), the runner halts the account (``session_error``) and ends the session as ``failed``.
Every other halt cancels the desk's open orders; this one did not: a limit buy working at the
broker kept working after the desk said "failed ... halted", able to fill with nobody
following it. Now the end cancels it (best effort; protective stops stay), and when the broker
does not answer the end's notice says open orders may still be working there. Sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import (
    alpaca_session,
    sandbox_view,
    working_spy_limit,
)
from tests.integration.broker_protection import (
    open_stops,
    protected_spy_and_working_qqq_limit,
)
from tui_trader.brokers import BrokerError
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SESSION_ERROR, SessionRunner


def _bug(self: object, *args: object) -> object:
    """A strategy's bug: every bar it is fed raises."""
    raise ZeroDivisionError("division by zero")


def _unanswered(*args: object, **kwargs: object) -> object:
    """The broker does not answer the cancel (its retries spent)."""
    raise BrokerError("connection refused")


@pytest.mark.parametrize("answers", [True, False], ids=["broker-answers", "broker-silent"])
def test_a_failed_session_cancels_its_working_limit_buy(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: bool
) -> None:
    """A limit buy of SPY works; the next cycle's strategy raises. The run fails as before
    (the error said, the account halted); the limit buy is cancelled and recorded so, or,
    when the broker does not answer the cancel, the end's words say it may still work."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    ends: list[str] = []
    told = session._tell

    def tell(kind: str, *args: object) -> None:
        """What the session tells about its end, kept for the test."""
        ends.append(" ".join(str(a) for a in args))
        told(kind, *args)

    try:
        limit = working_spy_limit(session, sandbox)
        for strategy in session.strategies:
            monkeypatch.setattr(strategy, "on_bar", _bug.__get__(strategy))
        if not answers:
            monkeypatch.setattr(session.broker, "cancel_all", _unanswered)
        monkeypatch.setattr(session, "_tell", tell)
        sandbox.admin.step()
        with pytest.raises(ZeroDivisionError):
            SessionRunner(session, iterations=5).run()
        [(state, reason)] = file_rows(db, "SELECT state, halt_reason FROM risk_state")
        assert (state, reason) == ("halted", SESSION_ERROR), "the failure no longer halts"
        [(status,)] = file_rows(db, "SELECT status FROM sessions")
        assert status == "failed"
        working = sandbox_view(sandbox)[limit][0]
        [(row_status,)] = file_rows(
            db, "SELECT status FROM live_orders WHERE client_order_id = ?", limit
        )
        if answers:
            assert not working, "the failed session left its limit buy working at the broker"
            assert row_status in ("canceled", "pending_cancel"), row_status  # Alpaca cancels later
        else:
            assert working
            assert row_status not in ("canceled", "pending_cancel"), row_status
            assert any("open orders may still be working at the broker" in e for e in ends), ends
    finally:
        session.broker.close()


def test_a_failed_session_keeps_its_protective_stop(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk holds SPY under its ``--stop-loss 2`` stop and a limit buy of QQQ works; a
    strategy raises. The failure cancels the limit buy but not the stop: it protects the
    shares held, with no desk running."""
    session = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY", "QQQ"), stop_loss=StopRule(pct=2.0)
    )
    try:
        stop, limit = protected_spy_and_working_qqq_limit(sandbox, session)
        for strategy in session.strategies:
            monkeypatch.setattr(strategy, "on_bar", _bug.__get__(strategy))
        sandbox.admin.step()
        with pytest.raises(ZeroDivisionError):
            SessionRunner(session, iterations=50).run()
        assert not sandbox_view(sandbox)[limit][0], "the limit buy kept working"
        assert [o.client_order_id for o in open_stops(sandbox)] == [stop.client_order_id], (
            "the failure cancelled the protective stop"
        )
    finally:
        session.broker.close()
