"""A strategy's order held beside another desk's flatten close is said once, at the hold's
onset, not at every cycle while that close works.

The account is short SPY; desk one and desk two take it as theirs. Desk two halts with flatten:
its cover fills in part and works on (the rest 3 bars later); the halt is lifted. Desk one's
strategies (long only) would cover the short: each bar they wait beside that close
(``engine.live_exits``, ``holds32``). Before, the same line was in every cycle's notes for as
long as the close worked (a dead desk's close, queued overnight, said it every bar all night),
where every other hold of the desk is said at its onset only (``engine.said_once``,
``review32d``). Now it is said in the first held cycle's notes, and again only if it changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_cover_beside_a_flatten_cover import HOLD, _buys, cover_half_filled
from tui_trader.sandbox.testing import SandboxHandle


def test_a_strategys_hold_beside_a_flatten_close_is_said_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    with cover_half_filled(sandbox, trading, tmp_path / "desk.db", rest_in=5) as (one, _two):
        said: list[list[str]] = []
        for _ in range(3):  # three bars while the close's rest works
            sandbox.admin.step()
            report = one.run_iteration()
            said.append([n for n in (report.notes if report else []) if HOLD in n])
        assert _buys(trading, one) == [], "desk one's strategy covered beside the close"
        assert len(said[0]) == 1 and "still buys back SPY" in said[0][0], said
        assert said[1:] == [[], []], "the same hold said again at every cycle"
