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

from tests.conftest import Flipper, file_rows, make_session
from tui_trader.store.audit import AuditLog


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
