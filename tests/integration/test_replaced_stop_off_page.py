"""An ended desk's stop found replaced by a look-up of its own (not on the one-page listing
``look_up_many`` reads) drops the desk's cached listing of open orders, as the listing's find
does: the replacement, placed after that listing, is seen at the next read.

Desk one (``--stop-loss``) replaces its stop (a resize) and is killed before its rows say so;
desk two (with exits) lists the old stop from its half-minute listing, takes it over and looks
it up: replaced, nothing goes out beside it this cycle. ``look_up_many`` reads one page of an
account's orders; a stop off that page (500 newer orders in the symbol since it) is asked alone
(``get_order``), and that path kept the cached listing: the old stop, now known ended, left
the desk's view, the replacement was not in it yet, and the next cycle sent a second stop for
the position beside the replacement: the broker refused it (the shares were held for the
replacement) and the desk said ``SPY is NOT protected: the broker rejected the exit:
insufficient qty available`` while the replacement protected it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_taken_over_stop_cancelled_before import _killed, _stops, _two_desks
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def test_a_replaced_stop_asked_alone_gets_no_second_stop_beside_its_replacement(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, stop = _two_desks(sandbox, trading, tmp_path, two_keeps_exits=True)
    try:
        position = one.broker.positions()["SPY"]
        [old] = [o for o in one.broker.open_orders() if o.client_order_id == stop.client_order_id]
        one._place_exit(position, position.qty, datetime.now(UTC), False, old)
        [new] = _stops(trading)
        assert new != stop.client_order_id, "replaced at the sandbox"
        old_row = LiveOrder.client_order_id == stop.client_order_id
        LiveOrder.update(status="new").where(old_row).execute()  # killed before it said so
        monkeypatch.setattr(two.broker, "look_up_many", lambda ids: {})  # off its one page
        _killed(one, two, sandbox)  # takes the old stop over: replaced, nothing beside it
        said: list[str] = []
        for _ in range(3):
            assert list(_stops(trading)) == [new], "a second stop beside the replacement"
            sandbox.admin.step()
            said += [e.action_taken for e in two.run_iteration().risk_events]
        assert len(_stops(trading)) == 1
        alarms = [a for a in said if "NOT protected" in a or "rejected" in a]
        assert alarms == [], "a second stop was tried beside the replacement (refused)"
        rejected = LiveOrder.select().where(LiveOrder.status == "rejected")
        assert [r.client_order_id for r in rejected] == []
    finally:
        two.finish("stopped")
        two.broker.close()
