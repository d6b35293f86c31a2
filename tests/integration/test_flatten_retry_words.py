"""A flatten acted on again whose close another desk's went out first says no close was sent.

Two desks of one Alpaca account flatten SPY on one halt; the broker rejects both closes (after
accepting them), so both act on the halt again. On desk B's pass again, desk A's close goes
out and fills between B's read of the store and B's close: B's claim on the close row fails and
its close is not sent (``engine.close_claims``, halts30). Before, B's note for that pass counted
every flatten close among the pass's orders as sent, the one not sent too: "the halt acted
again: ... sent 1 closing order(s)", while nothing had gone out from B. Now only the closes that
went out are counted; the one not sent is said among what the flatten left open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, rows_behind, settle
from tests.integration.broker_protection import client
from tests.integration.test_flatten_beside_store import _until_flat
from tests.integration.test_flatten_never_shorts import _held, rally_until_bought
from tui_trader.cli import main
from tui_trader.core.orders import OrderStatus
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox, wait_until


def test_a_close_not_sent_on_a_pass_again_is_not_said_sent(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with running_sandbox() as sb:
        trading = client(sb)
        a = alpaca_session(sb, db, symbols=("SPY",), flatten_on_halt=True)
        b = None
        try:
            rally_until_bought(sb, a, trading)  # desk A buys SPY
            b = alpaca_session(sb, db, symbols=("SPY",), flatten_on_halt=True)
            sb.admin.step()
            b.run_iteration()
            a.run_iteration()
            settle(sb, a)
            assert _held(trading).get("SPY", 0.0) > 0

            sb.admin.set_faults("reject_rate=1")  # both first closes: accepted, then rejected
            assert b.audit.session is not None
            halt = ["fleet", "halt", "--session", b.audit.session.key, "--yes", "--db", str(db)]
            assert main(halt) == 0
            b.run_iteration()
            a.run_iteration()
            _both_settled(sb, a, b)
            assert a.risk.state.halted and b.risk.state.halted
            assert _held(trading).get("SPY", 0.0) > 0  # nothing closed: both act again
            sb.admin.clear_faults()

            beside = b._closed_beside
            raced: list[bool] = []

            def a_closes_after_the_read(symbol: str, *args: Any) -> float:
                """B has read the store for SPY; A's pass again sends its close, which fills."""
                seen = beside(symbol, *args)
                if symbol == "SPY" and not raced:
                    raced.append(True)
                    a.run_iteration()
                    _until_flat(trading, "SPY")
                return seen

            b._closed_beside = a_closes_after_the_read  # type: ignore[method-assign]
            report = b.run_iteration()
            assert raced and report is not None
            unsent = [
                o for o in report.orders if o.symbol == "SPY" and o.status is OrderStatus.REJECTED
            ]
            assert unsent and "another desk's flatten close" in (unsent[0].reject_reason or "")
            said = [n for n in report.notes if "the halt acted again" in n]
            assert said, report.notes
            assert "closing order" not in said[0], f"a close not sent said sent: {said[0]}"
        finally:
            a.broker.close()
            if b is not None:
                b.broker.close()


def _both_settled(sb: SandboxHandle, *desks: TradingSession) -> None:
    """Each desk records its news until every row says what the sandbox says."""

    def agreed() -> bool:
        for desk in desks:
            desk.sync_orders()
        return not rows_behind(sb)

    wait_until(agreed, what="both desks' rows agreeing with the sandbox")
