"""The kill switch pressed while an Alpaca desk reads its realized PnL from every fill of the
account (its first look, or one after a fill committed late): the look gives way.

The desk's worker turns a press into a halt at its next step; the realized PnL's look runs on
that worker at the end of each cycle (``engine.realized_line``), and a look that reads every
fill of an account of 200,000 takes 2 s of CPU (8 s under a load of 6 on 2 cores, tens of
seconds under more): ctrl+k waited for it to end before the halt's cancels went out. It is
asked every thousand fills now: the look stops, the line keeps its figure, the next cycle
halts, and the look after it reads every fill again (the figure ``report`` shows).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.reporting.account_trips import Book, account_trips
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveFill, SessionRow

TRIPS = 3_000
"""Round trips of +1 each the account's fills close (6,000 fills)."""


def test_a_kill_pressed_during_the_realized_look_is_not_kept_waiting(
    sandbox: SandboxHandle, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = alpaca_session(sandbox, db_path, symbols=("SPY",))
    try:
        session = desk.audit.session
        assert session is not None
        t0 = datetime(2026, 3, 2, 14, 30)
        rows = [
            {"session": session.id, "fill_key": f"old-{n}-{k}", "symbol": "SPY", "side": side,
             "quantity": 1.0, "price": price, "timestamp": t0 + timedelta(seconds=2 * n + k),
             "market_time": t0 + timedelta(seconds=2 * n + k)}
            for n in range(TRIPS)
            for k, (side, price) in enumerate((("buy", 100.0), ("sell", 101.0)))
        ]  # fmt: skip
        with desk.audit.db.atomic():
            for at in range(0, len(rows), 500):
                LiveFill.insert_many(rows[at : at + 500]).execute()

        taken = [0]
        take = Book.take

        def counted(book: Book, *args: Any) -> Any:
            taken[0] += 1
            if taken[0] == 10:
                desk.request_kill("user")  # ctrl+k, from the desk's screen
            return take(book, *args)

        monkeypatch.setattr(Book, "take", counted)
        assert desk.realized_now() == 0.0  # the look gave way: the figure shown so far
        assert taken[0] < 2 * 1_000, f"the look read {taken[0]} fills after the press"

        sandbox.admin.step()
        report = desk.run_iteration()  # the press taken: a halt, then the look read whole
        assert desk.risk.state.halted and desk.risk.state.halt_reason == MANUAL_KILL
        reported = sum(t.trade.pnl for t in account_trips([SessionRow.get_by_id(session.id)]))
        assert reported == pytest.approx(TRIPS * 1.0)
        assert report is not None and report.realized_pnl == pytest.approx(reported)
    finally:
        desk.finish("stopped")
        desk.broker.close()
