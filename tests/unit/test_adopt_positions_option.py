"""``live paper --adopt-positions`` reaches the session's settings; without it nothing is
adopted (positions changed while no session ran are left alone)."""

from __future__ import annotations

from pathlib import Path

from tui_trader.cli import build_parser
from tui_trader.cli.alpaca_options import settings_from


def test_adopt_positions_is_off_unless_asked(tmp_path: Path) -> None:
    parser = build_parser()
    db = str(tmp_path / "d.db")
    asked = parser.parse_args(["live", "paper", "--adopt-positions", "--db", db])
    assert settings_from(asked, "paper").adopt_positions is True
    plain = parser.parse_args(["live", "paper", "--db", db])
    assert settings_from(plain, "paper").adopt_positions is False
