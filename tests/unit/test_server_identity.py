"""A PostgreSQL server that does not say which database it is: the kept halt goes by the URL.

The desk names a PostgreSQL store's kept halt after the database its server says it reached
(``store.server_identity``). A server that does not let the user read ``pg_control_system()``
(a managed service may not) gives no identity: the halt is kept and found by the URL as libpq
fills it in, as before, and the server is asked once, not at every look (the desk's screen
thread looks too). A server that cannot be asked now is asked again next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tui_trader.store.halt_markers import KeptHalt, find_marker, keep_halt, store_name
from tui_trader.store.pg_url import PgUrl, parse_db_url
from tui_trader.store.server_identity import server_identity


@dataclass(eq=False)
class _Server:
    """A PostgreSQL store whose server answers the identity questions as told."""

    url: PgUrl
    allowed: bool | None = False
    """What ``has_function_privilege`` answers (``None``: the connection is gone)."""
    asked: list[str] = field(default_factory=list)
    is_postgres: bool = True

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        """Answer one question, or fail as a lost connection does."""
        self.asked.append(sql)
        if self.allowed is None:
            raise ConnectionError("server closed the connection unexpectedly")
        answer = (self.allowed, "desk", "public") if "privilege" in sql else (7716,)
        return _Cursor(answer)


@dataclass
class _Cursor:
    """The answer's one row."""

    row: tuple

    def fetchone(self) -> tuple:
        """The row."""
        return self.row


def test_a_server_that_does_not_say_keeps_and_finds_the_halt_by_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("PGPORT", raising=False)  # (no port in the URL: libpq's 5432)
    kept_by = _Server(parse_db_url("postgresql://trader@db.example/desk"))
    assert server_identity(kept_by) is None
    assert server_identity(kept_by) is None and len(kept_by.asked) == 1, "asked at every look"
    halt = KeptHalt(
        "alpaca:PA1",
        store_name(kept_by) or "",
        "drawdown_kill_switch",
        "w",
        "2026-12-07T06:00:00+00:00",
        "s1",
        server_identity(kept_by, ask=False) or "",
    )
    keep_halt(kept_by, halt)
    same_url = _Server(parse_db_url("postgresql://trader@db.example:5432/desk"))
    found = find_marker(same_url, "alpaca:PA1")
    assert found is not None and found.halt.reason == "drawdown_kill_switch", found


def test_a_server_that_cannot_be_asked_now_is_asked_again() -> None:
    store = _Server(parse_db_url("postgresql://trader@db.example/desk"), allowed=None)
    assert server_identity(store) is None
    store.allowed = True
    assert server_identity(store) == "system 7716 database desk schema public"
    assert server_identity(store, ask=False) == "system 7716 database desk schema public"
