"""A halt kept on disk for a PostgreSQL store never holds the store's password.

The marker (``store.halt_markers``) is named after the server, port, database and user, so a
URL given with its password and the same URL without it (``PGPASSWORD``) find the same kept
halt, and the file written holds neither the password nor a hint of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_trader.store.halt_markers import KeptHalt, find_marker, keep_halt, marker_path
from tui_trader.store.pg_url import PgUrl, parse_db_url

SECRET = "s3cr3t-pw"


@dataclass
class _PgStore:
    """What the markers read of a PostgreSQL store: its URL."""

    url: PgUrl
    is_postgres: bool = True


def test_a_kept_halt_holds_no_password_and_is_found_without_it(tmp_path: Path) -> None:
    with_pw = _PgStore(parse_db_url(f"postgresql://trader:{SECRET}@db.example:5433/desk"))
    without = _PgStore(parse_db_url("postgresql://trader@db.example:5433/desk"))
    query_pw = _PgStore(parse_db_url(f"postgresql://trader@db.example:5433/desk?password={SECRET}"))
    assert marker_path(with_pw, "alpaca:PA1") == marker_path(without, "alpaca:PA1")
    assert marker_path(query_pw, "alpaca:PA1") == marker_path(without, "alpaca:PA1")
    halt = KeptHalt(
        "alpaca:PA1",
        "postgresql://trader@db.example:5433/desk",
        "drawdown_kill_switch",
        "equity 95,000.00 is 5.00% below peak 100,000.00",
        "2026-12-07T06:00:00+00:00",
        "a1b2c3d4_e5f6a7",
    )
    path = keep_halt(with_pw, halt)
    assert SECRET not in path.read_text() and SECRET not in str(path)
    found = find_marker(without, "alpaca:PA1")
    assert found is not None and found.halt == halt, "the halt was not found without the password"
    other = _PgStore(parse_db_url("postgresql://trader@db.example:5433/other"))
    assert find_marker(other, "alpaca:PA1") is None, "another database's desk found the halt"
