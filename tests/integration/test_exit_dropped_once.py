"""An ended desk's stop dropped before a flatten close the broker keeps refusing: said once.

Desk two keeps no exits and holds SPY under the stop desk one left. A kill with flatten cancels
that stop before its close (``exit_dropped``); the broker refuses the close, the stop goes back
(``exit_placed_again``), and the flatten tries again every cycle, cancelling the stop again
first. Before, each try wrote the same ``exit_dropped`` line and risk event: one per cycle for
as long as the broker refused. Now the first is recorded and said, the later ones are counted,
and one more event says how many once the close goes out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_stop_put_back import _ended_desks_stop, _held, _sells_refused, _stops
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow

DROPPED = "exit_dropped"
TRIES = 4
"""Cycles in which the flatten's close is refused again after the kill's own try."""


def _dropped_rows() -> list[tuple[float, str]]:
    """The ``exit_dropped`` events recorded: (value, action)."""
    rows = RiskEventRow.select().where(RiskEventRow.event_type == DROPPED).order_by(RiskEventRow.id)
    return [(row.value, row.action_taken) for row in rows]


def test_a_flatten_close_refused_cycle_after_cycle_records_the_dropped_stop_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    two = _ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        [(left, _qty, _price)] = _stops(trading)
        held = _held(trading)
        notes: list[str] = []
        with _sells_refused(sandbox, two) as refused:
            two.request_kill(flatten=True)
            report = two.apply_kill_requests()
            assert report is not None
            notes += report.notes
            for _ in range(TRIES):
                sandbox.admin.step()
                notes += two.run_iteration().notes
        assert len(refused) == 1 + TRIES and _held(trading) == held, "every close refused"
        assert len(_stops(trading)) == 1, "the stop is back after each refused close"
        cancels = LiveOrder.select().where(LiveOrder.error.contains("before its sell"))
        assert cancels.count() == 1 + TRIES, "each cancel keeps its order row"

        said = [note for note in notes if "cancelled the protective exit" in note]
        assert said == [
            f"SPY: cancelled the protective exit {left} that session "
            f"{two.adopted_from(left) or 'another'} left working, to sell: this desk keeps no "
            "exits (no --stop-loss or --take-profit), so what the sell leaves of the SPY "
            "position has no protective exit"
        ], said
        [(shares, action)] = _dropped_rows()
        assert shares == held and "counted without another event" in action, action

        for _ in range(4):  # the broker takes the close now: it goes out and fills
            sandbox.admin.step()
            two.run_iteration()
            if _held(trading) == 0 and len(_dropped_rows()) == 2:
                break
        assert _held(trading) == 0 and _stops(trading) == []
        _first, (more, summary) = _dropped_rows()
        assert more == TRIES + 1, "the cancels after the first (the last one before the fill)"
        assert summary == "exit cancelled again", summary
    finally:
        two.finish("stopped")
        two.broker.close()
