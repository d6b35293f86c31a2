"""A database damaged so that SQLite's own complaint is not UTF-8 is refused in one line, exit 2.

A flipped byte inside a table's schema text (``ses\\x8cion_id``) made SQLite report "unknown
column "ses\\x8cion_id" in foreign key definition"; Python's sqlite3 cannot decode that message and
raised ``UnicodeDecodeError`` instead of ``DatabaseError``: every command on the file (``status``,
``history``, ``paper``, ``fleet halt``, ``db verify``, ...) died with exit 1, a crash.log and the
codec's words instead of "is damaged" and how to recover.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, run_main
from tui_trader.cli import main


def _schema_byte_flipped(db: Path) -> None:
    """Flip one byte of a foreign key's column name in the stored schema, as disk damage does."""
    conn = sqlite3.connect(db)
    try:
        query = "SELECT sql FROM sqlite_master WHERE name = 'halt_requests'"
        sql = conn.execute(query).fetchone()[0]
        broken = sql.encode().replace(
            b'FOREIGN KEY ("session_id")', b'FOREIGN KEY ("ses\x8cion_id")'
        )
        assert broken != sql.encode(), "the schema no longer has the foreign key this test damages"
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = CAST(? AS TEXT) WHERE name = 'halt_requests'",
            (broken,),
        )
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def damaged(place: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A session's database, then its schema text damaged."""
    db = Path("desk.db")  # relative, in ``place``: the line quotes it twice
    assert main(["paper", "--db", str(db), "--iterations", "2"]) == 0  # a session: main thread
    capsys.readouterr()
    _schema_byte_flipped(db)
    return db


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--db", "{db}"],
        ["history", "--db", "{db}"],
        ["fleet", "--db", "{db}", "halt", "--all", "--yes"],
    ],
    ids=["status", "history", "fleet-halt"],
)
def test_a_schema_damaged_into_bytes_that_are_not_text_is_refused_in_one_line(
    damaged: Path, place: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err, _ = run_main([a.format(db=damaged) for a in argv], capsys)
    assert_one_line_exit_2(code, out, err, "is damaged", place)
    assert "UnicodeDecodeError" not in err
    assert "restore it from a backup" in err


@pytest.mark.parametrize(
    "argv",
    [["db", "verify", "{db}"], ["db", "backup", "--db", "{db}"]],
    ids=["verify", "backup"],
)
def test_db_verify_and_backup_call_such_a_file_damaged_in_one_line_exit_1(
    damaged: Path, place: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err, _ = run_main([a.format(db=damaged) for a in argv], capsys)
    assert code == 1, f"exit {code}: {out}{err}"  # README: a check that fails exits 1
    assert err.splitlines() == [err.strip()] and "is damaged" in err, err
    assert "UnicodeDecodeError" not in err and "Traceback" not in err
    assert not list(place.rglob("crash.log")), "a crash was logged"
    assert not list(place.rglob("*.part")), "an unverified copy was left behind"
