"""A desk with exits ended by its store's failure while the broker is silent too.

The end cancels the desk's working orders at the broker (``engine.lost_store_cancels``), then
names each position no exit at the broker covers, read from the broker
(``session.store_endings``). With the broker silent (every request read and never answered),
that read waited out the same silence a second time (the end took 150.5 s against 100.3 s
now at the default 10 s timeout), and its waits beat the heartbeat into the store just lost
(49 tries). Now a broker that did not
answer the cancel is not read again: the end says, plainly, that the positions could not be
checked, and no heartbeat is tried on the lost store. Sandbox, its REST made silent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.broker_protection import buy_and_protect, open_stops
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import database


def test_a_read_only_store_and_a_silent_broker_asks_it_once_and_says_what_went_unchecked(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk holds SPY under its stop; the sandbox stops answering, then the store takes no
    more writes (read-only) as the cycle writes its snapshot. The desk ends ``failed``: its
    line says the working orders could not be cancelled and that the positions could not be
    checked for their exits, because the broker did not answer; after the cancel failed, the
    broker is not asked again and no heartbeat is tried on the lost store. Before, the end
    read the silent broker's positions once more (15.5 s against 10.3 s here, at the tests'
    1 s timeout) and beat the heartbeat into the lost store meanwhile."""
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    reads: list[str] = []
    beats: list[float] = []
    broker = desk.broker
    for name in ("positions", "open_orders", "cancel_all"):
        call = getattr(broker, name)

        def counted(*args: object, _call=call, _name=name, **kwargs: object) -> object:
            reads.append(_name)
            return _call(*args, **kwargs)

        monkeypatch.setattr(broker, name, counted)
    beat = desk.audit.beat

    def counted_beat(*args: object, **kwargs: object) -> None:
        beats.append(time.monotonic())
        beat(*args, **kwargs)

    monkeypatch.setattr(desk.audit, "beat", counted_beat)
    snapshot = SessionRecords._snapshot
    failed_at: list[float] = []

    def read_only(self: TradingSession, *args: object) -> None:
        """The broker falls silent, then the store turns read-only as this cycle writes."""
        monkeypatch.setattr(SessionRecords, "_snapshot", snapshot)
        sandbox.admin.set_faults(hang_rate=1)
        self.audit.db.execute_sql("PRAGMA query_only = ON")
        del reads[:]
        failed_at.append(time.monotonic())
        snapshot(self, *args)

    monkeypatch.setattr(SessionRecords, "_snapshot", read_only)
    try:
        sandbox.admin.step()
        result = SessionRunner(desk, iterations=desk.iteration + 1).run()
        took = time.monotonic() - failed_at[0]
    finally:
        sandbox.admin.clear_faults()
        desk.broker.close()
        database.obj.close()
    assert result.status == "failed" and result.audit_failed, result
    assert result.error is not None and "became read-only" in result.error, result.error
    assert "could not be cancelled at the broker" in result.error, result.error
    assert (
        "the positions could not be checked for their exits (the broker did not answer the "
        "cancel just before: BrokerError)"
    ) in result.error, result.error
    cancel = reads.index("cancel_all")
    assert reads[cancel + 1 :] == [], f"asked the silent broker again after its cancel: {reads}"
    assert [b for b in beats if b > failed_at[0]] == [], "a heartbeat tried the lost store"
    print(f"the end took {took:.1f} s after the store failed; broker calls: {reads}")
