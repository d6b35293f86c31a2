"""A lost store's cancel that fails on the desk's own error is not said to be the broker's silence.

A desk ended by its store's failure cancels its working orders at the broker, then names each
position no exit covers, read from the broker (``engine.lost_store_cancels``,
``session.store_endings``). Any failure of that cancel was read as the broker's silence: the
end said "the broker did not answer the cancel just before", even when the broker had answered
and the error was the desk's own (a bug, an answer it cannot use, the store the cancel needed).
The trader was sent to look at a broker that worked. Now only the broker's own failures are
its silence; anything else is said as what it is, and the end still reads nothing more of the
broker (fail closed: it says the positions were not checked, and why). Sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.broker_protection import buy_and_protect, open_stops
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import database

BUG = "'NoneType' object has no attribute 'client_order_id'"


def test_a_cancel_failing_on_the_desks_own_error_is_named_as_such(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk holds SPY under its stop; the store turns read-only as a cycle writes its
    snapshot, and the end's cancel fails on an error of the desk's (an ``AttributeError``),
    the broker answering all along. The end line names that error, not the broker's silence;
    the positions are said unchecked, with that reason; the broker is not read again."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    reads: list[str] = []
    broker = desk.broker
    for name in ("positions", "open_orders"):
        call = getattr(broker, name)

        def counted(*args: object, _call=call, _name=name, **kwargs: object) -> object:
            reads.append(_name)
            return _call(*args, **kwargs)

        monkeypatch.setattr(broker, name, counted)

    def failing(*args: object, **kwargs: object) -> object:
        """The cancel fails in the desk's own code, the broker never asked."""
        reads.append("cancel_all")
        raise AttributeError(BUG)

    monkeypatch.setattr(broker, "cancel_all", failing)
    snapshot = SessionRecords._snapshot

    def read_only(self: TradingSession, *args: object) -> None:
        """The store turns read-only as this cycle writes its snapshot."""
        monkeypatch.setattr(SessionRecords, "_snapshot", snapshot)
        self.audit.db.execute_sql("PRAGMA query_only = ON")
        del reads[:]
        snapshot(self, *args)

    monkeypatch.setattr(SessionRecords, "_snapshot", read_only)
    try:
        sandbox.admin.step()
        result = SessionRunner(desk, iterations=desk.iteration + 1).run()
    finally:
        desk.broker.close()
        database.obj.close()
    assert result.status == "failed" and result.audit_failed, result
    said = result.error or ""
    assert "became read-only" in said, said
    assert "did not answer" not in said, f"the desk's own error said as the broker's: {said}"
    assert (
        "the desk's working orders could not be cancelled at the broker: the cancel failed on "
        f"an error of the desk's, not the broker's (AttributeError: {BUG})"
    ) in said, said
    assert (
        "the positions could not be checked for their exits (the cancel just before failed on "
        f"an error of the desk's, not the broker's: AttributeError: {BUG})"
    ) in said, said
    cancel = reads.index("cancel_all")
    assert reads[cancel + 1 :] == [], f"the broker was read after the failed cancel: {reads}"
