"""A halted desk on a trade-updates stream gone silent (connected, sending nothing: the
sandbox's ``ws_mute``): the cancels its halt sent, which Alpaca carried out unheard.

Alpaca answers a cancel with 204 and cancels afterwards; the desk hears the end on the stream
and, on a silent one, from a fresh listing of open orders that leaves the order out
(``brokers.alpaca_unlisted``). A halted desk read no listing once its halt was acted on, so
the cancelled order's row said ``pending_cancel`` for as long as the desk stayed halted, its
symbol counted as working. And a flatten acted on again (its first close refused) waited in
every symbol where such a cancel was unconfirmed ("an order there may still fill") until a
listing half a minute old ran out: the position stayed open while Alpaca had nothing working.
Now a halted desk reads the listing as a trading one does (every half minute at most), and a
flatten acted on again looks up the orders that hold a symbol back before it waits there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_flatten_refused import _hold_spy
from tests.integration.test_silent_stream_lookups import _offer, _row
from tui_trader.brokers import alpaca_reads
from tui_trader.sandbox.testing import SandboxHandle


def _suspend(trading: Any, suspended: bool) -> None:
    """The account's trading suspended (or not) in Alpaca's dashboard."""
    config = trading.get_account_configurations()
    config.suspend_trade = suspended
    trading.set_account_configurations(account_configurations=config)


def test_a_halted_desks_cancel_carried_out_unheard_is_recorded_from_its_next_listing(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The kill switch (no flatten) cancels a sell by hand while the stream is silent: within
    two cycles, each half a minute after the last listing, its row says cancelled and SPY no
    longer counts as working."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    try:
        sell = _offer(sandbox, desk, _hold_spy(sandbox, desk) / 2, 0.1)
        sandbox.admin.set_faults(ws_mute=1)
        desk.request_kill(reason="leaving for the day")
        desk.apply_kill_requests()
        assert _row(sell) == "pending_cancel"
        for _ in range(2):
            sandbox.admin.step()
            desk.broker._open_cache = None  # type: ignore[attr-defined]  # 30 s later
            desk.run_iteration()
        assert desk.broker.feed is not None and desk.broker.feed.connected
        assert _row(sell) == "canceled"
        assert "SPY" not in desk.broker.working_symbols()
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_flatten_acted_on_again_is_not_held_back_by_a_cancel_carried_out_unheard(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill with flatten while the account is suspended at Alpaca and the stream silent:
    the sell by hand is cancelled (unheard), the close refused. Once the suspension is lifted
    the next cycle's retry closes the position, a listing read a moment ago notwithstanding
    (before, it said "an order there may still fill" until that listing was half a minute
    old)."""
    monkeypatch.setattr(alpaca_reads, "OPEN_ORDERS_TTL", 3600.0)  # every listing "a moment ago"
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    try:
        held = _hold_spy(sandbox, desk)
        sell = _offer(sandbox, desk, held / 2, 0.1)
        sandbox.admin.set_faults(ws_mute=1)
        _suspend(trading, True)
        desk.request_kill(reason="test", flatten=True)
        [halt] = [e for e in desk.apply_kill_requests().risk_events if e.halts]
        assert f"NOT closed: {held:g} SPY (the broker rejected it" in halt.action_taken
        assert str(trading.get_order_by_client_id(sell).status.value) == "canceled"
        _suspend(trading, False)
        sandbox.admin.step()
        report = desk.run_iteration()
        assert report is not None
        assert any("sent 1 closing order(s)" in note for note in report.notes), report.notes
        assert "not closed yet" not in desk.halt_line()
        assert sandbox.admin.state()["positions"].get("SPY", 0) == 0
        sandbox.admin.step()
        desk.run_iteration()
        assert _row(sell) == "canceled"
    finally:
        desk.finish("stopped")
        desk.broker.close()
