"""An order's change, its fill and the round trip it closes are recorded together.

A session on a remote broker (Alpaca) commits its rows one by one. The order row's update, the
fill and the closed trade were three commits: a process killed between them left the fill
without its trade (or the order recorded filled without its fill), and the restart, finding
them recorded, never wrote the rest: the round trip was missing from ``trades`` and from every
PnL report. Now they commit as one, so a kill leaves all three for the restart to record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Flipper, file_rows, make_session, simulate_death
from tests.integration.alpaca_helpers import (
    OPEN_ROWS,
    alpaca_session,
    filled_by_order,
    killed_at_first_fill,
    sandbox_view,
    working_spy_limit,
)
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.audit import AuditLog
from tui_trader.store.models import LiveOrder


def test_a_kill_before_the_trade_row_leaves_the_closing_fill_unrecorded_too(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the closing sell's fill was recorded and its round trip was not."""
    session = make_session(db_path, commit_before_send=True, strategies=[Flipper()])

    def killed(self: AuditLog, trade: object) -> None:
        """The process dies as the round trip's row is about to be written."""
        raise KeyboardInterrupt

    monkeypatch.setattr(AuditLog, "trade", killed)
    with pytest.raises(KeyboardInterrupt):
        for _ in range(20):
            session.run_iteration()
    session.audit.db.close()

    sells = file_rows(db_path, "SELECT order_id FROM live_fills WHERE side = 'sell'")
    filled = file_rows(db_path, "SELECT id FROM live_orders WHERE status = 'filled'")
    bought = file_rows(db_path, "SELECT order_id FROM live_fills WHERE side = 'buy'")
    assert bought, "the round trip's opening fill is recorded"
    assert sells == [], "no closing fill without its trade row"
    assert sorted(filled) == sorted(bought), "no order recorded filled without its fill"
    assert file_rows(db_path, "SELECT COUNT(*) FROM live_trades") == [(0,)]


def test_a_kill_while_start_up_records_a_missed_fill_leaves_it_for_the_next_start(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """An earlier run's limit buy filled while no session watched. The next start is killed as
    it records that fill: its order row and its fill commit together, so the start after it
    finds the row still open and records the fill (before, the row was already written
    ``filled`` without its fill, and no later start looked at it again: the shares were
    missing from the audit trail for good)."""
    db = tmp_path / "start.db"
    first = alpaca_session(sandbox, db)
    cid = working_spy_limit(first, sandbox, qty=10)
    first.broker.close()  # the process dies with the limit working
    simulate_death(first)
    sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the limit: it fills
    assert sandbox_view(sandbox)[cid] == (False, 10.0)

    killed_at_first_fill(lambda: alpaca_session(sandbox, db))
    row = LiveOrder.get(LiveOrder.client_order_id == cid)
    assert row.status in OPEN_ROWS, f"the row says {row.status} without its fill"
    third = alpaca_session(sandbox, db)
    third.broker.close()
    assert filled_by_order() == {cid: 10.0}
    assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "filled"


def test_a_kill_after_a_lost_answer_found_the_order_filled_leaves_the_fill_to_the_restart(
    tmp_path: Path,
) -> None:
    """The answer to an order is lost (a 504) and the look-up by client id finds it already
    filled. The order's row is written working and unfilled; its state comes with its fill, in
    one commit, from the broker's next update. The process dies before that: the restart finds
    the row open and records the fill (before, the row was written ``filled`` at once, with its
    fill left for the next cycle: the restart found a final row and never recorded the fill)."""
    from tests.integration.test_alpaca_trading import RALLY

    db = tmp_path / "ack.db"
    with running_sandbox() as sb:
        first = alpaca_session(sb, db)
        sb.admin.set_faults(lost_ack_rate=1.0)  # each order arrives; its answer is lost
        try:
            for _ in range(8):  # rally until the strategy buys
                sb.admin.step(shock=RALLY)
                if first.run_iteration().orders_sent:
                    break
        finally:
            first.broker.close()  # the process dies before its next cycle
        simulate_death(first)
        sb.admin.clear_faults()
        at_broker = {cid: filled for cid, (_, filled) in sandbox_view(sb).items()}
        assert at_broker and all(at_broker.values()), "the orders filled at the broker"
        assert not filled_by_order(), "no fill recorded yet (none reached the stream's drain)"
        for cid in at_broker:
            row = LiveOrder.get(LiveOrder.client_order_id == cid)
            assert row.status in OPEN_ROWS, f"{cid}: the row says {row.status} without its fill"
        second = alpaca_session(sb, db)
        second.broker.close()
        assert filled_by_order() == at_broker
