"""How the fleet's rows read: heartbeat ages, long account keys, dead and halted notes."""

from __future__ import annotations

from tui_trader.reporting.fleet_text import age_text, cells, note_text, shortened
from tui_trader.store.fleet import FleetRow


def _row(**changes: object) -> FleetRow:
    """A running session row, with ``changes``."""
    values: dict[str, object] = dict(
        session_id=1,
        key="ab12cd34",
        host="desk-a",
        pid=4242,
        mode="paper",
        account_key="alpaca:PA1",
        symbols=("SPY", "QQQ", "IWM", "DIA", "TLT"),
        equity=1_234_567.891,
        day_pnl=-12.5,
        state="running",
        heartbeat_age=75.0,
    )
    values.update(changes)
    return FleetRow(**values)  # type: ignore[arg-type]


def test_heartbeat_ages_read_at_a_glance() -> None:
    """Seconds, minutes, hours, days; "never" for a session that wrote none."""
    assert [age_text(s) for s in (0.4, 59, 75, 7_300, 200_000, None)] == [
        "0s",
        "59s",
        "1m",
        "2h",
        "2d",
        "never",
    ]


def test_long_account_keys_keep_both_ends() -> None:
    """An Alpaca account id cut to 16 characters keeps its start and its end."""
    key = "alpaca:4f1c2d3e-aaaa-bbbb-cccc-9e2a11112222"
    cut = shortened(key, 16)
    assert len(cut) == 16 and cut.startswith("alpaca:4") and cut.endswith("1112222")
    assert shortened("local:d904011e", 16) == "local:d904011e"


def test_cells_and_notes() -> None:
    """Money with separators and a sign for PnL, many symbols counted, DIED and HALTED loud."""
    row = _row()
    assert cells(row)[:8] == (
        "ab12cd34",
        "running",
        "1m",
        "paper",
        "alpaca:PA1",
        "1,234,567.89",
        "-12.50",
        "SPY,QQQ,IWM,DIA,+1",
    )
    dead = _row(state="died", dead_why="process 4242 is gone from desk-a")
    assert cells(dead)[1] == "DIED" and note_text(dead) == "DEAD: process 4242 is gone from desk-a"
    halted = _row(state="halted", halt_reason="manual_kill")
    assert cells(halted)[1] == "HALTED" and note_text(halted) == "account halted (manual_kill)"
