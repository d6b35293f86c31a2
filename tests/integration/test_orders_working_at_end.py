"""An Alpaca session that ends with its own orders still on their way says so.

A market order sent in a session's last cycle (or a limit not reached) fills at the broker after
the session has ended: no session follows it then, so the closing lines and the audit trail do
not show that fill until the next start on the database records it. The closing lines said
nothing of it: the cash and the positions they showed looked final."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.cli.session_output import still_working, summary
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.session.runner import RunResult


def _closing_lines(session) -> str:
    """What ``live paper`` prints when the session ends."""
    out = io.StringIO()
    summary(Console(file=out, width=300), session, RunResult("completed", 1), "[LIVE]")
    return out.getvalue()


def test_an_order_still_on_its_way_is_named_when_the_session_ends(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "a.db", symbols=("SPY",), allocation_pct=10.0)
        try:
            for _ in range(12):  # a rally until the trend buys (the buy fills at the next bar)
                sb.admin.step(shock={"SPY": 1.0})
                if session.run_iteration().orders:
                    break
            else:
                raise AssertionError("the rally did not buy")
            assert still_working(session) == ["SPY"]
            lines = _closing_lines(session)
            assert "Still working at the broker: the session's orders in SPY" in lines, lines
            assert "recorded by the next start on this database" in lines
            sb.admin.step()  # the next bar fills it
            settle(sb, session)
            assert still_working(session) == []
            assert "Still working" not in _closing_lines(session)
        finally:
            session.broker.close()
