"""What a shared audit store holds is shown, never acted on by the terminal.

On a shared PostgreSQL or SQLite store another writer (or a hand edit) can put escape
sequences in a host name, an account key or a halt detail: ``\\x1b]0;...\\x07`` retitles the
window, ``\\x1b[2J`` clears the screen, a newline and ``ACTIVE`` fakes a line saying the account
trades. ``fleet``, ``risk show`` and ``status`` print such text with its control characters
written as escapes (``core.shown.shown_text``), on one line.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.models import RiskStateRow, SessionRow, database

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
FAKE = "\nACTIVE"


def _seed(db: Path) -> str:
    """One session whose host holds a window-title sequence, its account halted with a detail
    that clears the screen and fakes an ACTIVE line; returns the session's key."""
    audit = AuditLog(open_database(db), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    SessionRow.update(host=f"box{TITLE}").where(SessionRow.key == row.key).execute()
    RiskStateRow.insert(
        account_key=row.account_key,
        state="halted",
        halt_reason="manual",
        halt_detail=f"{CLEAR}ok{FAKE}",
        updated_at=to_db_time(datetime.now(UTC)),
    ).on_conflict_replace().execute()
    database.close()
    return row.key


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["fleet"], "box\\x1b]0;pwned\\x07"),
        (["risk", "show"], "\\x1b[2Jok\\nACTIVE"),
        (["status"], "\\x1b[2Jok\\nACTIVE"),
    ],
)
def test_stored_escape_sequences_are_shown_not_sent(
    tmp_path: Path, command: list[str], shown: str
) -> None:
    """No escape character reaches the terminal; the stored text reads as escapes, and the
    fake ACTIVE never starts a line of its own."""
    db = tmp_path / "shared.db"
    _seed(db)
    out = run_cli(tmp_path, *command, "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    assert shown in out.stdout
    assert not any(line.startswith("ACTIVE") for line in out.stdout.splitlines())


MARKUP_KEY = "acct[bold]x"
MARKUP_DETAIL = "[/bold] closed [/] [bold]y [link=https://evil.example]z"


def _seed_markup(db: Path) -> None:
    """One session whose account key and host hold markup, its account halted with a reason
    and a detail that do: a closing tag that matches nothing, a bare ``[/]``, a style, a link."""
    audit = AuditLog(open_database(db), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    SessionRow.update(host="box[/]", account_key=MARKUP_KEY).where(
        SessionRow.key == row.key
    ).execute()
    RiskStateRow.insert(
        account_key=MARKUP_KEY,
        state="halted",
        halt_reason="manual[red]",
        halt_detail=MARKUP_DETAIL,
        updated_at=to_db_time(datetime.now(UTC)),
    ).on_conflict_replace().execute()
    database.close()


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["risk", "show"], f"{MARKUP_KEY}:"),
        (["risk", "show"], f"manual[red]: {MARKUP_DETAIL}"),
        (["status"], f"manual[red]: {MARKUP_DETAIL}"),
        (["fleet"], "box[/]"),
    ],
    ids=["risk-show-key", "risk-show-detail", "status-detail", "fleet-host"],
)
def test_stored_square_brackets_are_shown_not_read_as_markup(
    tmp_path: Path, command: list[str], shown: str
) -> None:
    """Stored text is shown as written: rich read ``[bold]x`` in an account key as a style (the
    key showed as ``acctx``), dropped ``[/]`` and links, and ``status`` ended with a crash line
    (MarkupError, exit 1) on a halt detail whose closing tag matched nothing."""
    db = tmp_path / "shared.db"
    _seed_markup(db)
    out = run_cli(tmp_path, *command, "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert shown in " ".join(out.stdout.split()), out.stdout  # lines wrap at 80 columns


def test_the_readiness_record_shows_stored_account_keys_as_written(tmp_path: Path) -> None:
    """``live readiness`` lists each account of the paper record: a stored key holding
    ``[/bold]`` ended it with a crash line (MarkupError, exit 1) and an escape sequence went
    to the terminal raw."""
    db = tmp_path / "shared.db"
    key = _seed(db)
    open_database(db)
    SessionRow.update(account_key=f"acct[/bold]{CLEAR}").where(SessionRow.key == key).execute()
    database.close()
    out = run_cli(tmp_path, "live", "readiness", "--db", str(db))
    assert out.returncode == 1 and "not ready" in out.stdout, out.stderr  # no Alpaca paper yet
    assert "acct[/bold]\\x1b[2J" in out.stdout and "\x1b" not in out.stdout


@pytest.mark.parametrize("command", [["fleet"], ["status"], ["history"], ["report"]])
def test_stored_text_that_is_not_utf8_is_named_not_a_crash(
    tmp_path: Path, command: list[str]
) -> None:
    """Another program (or a hand edit) wrote a host name as bytes that are not UTF-8: SQLite's
    reader raised on the row, and every report ended with a crash line quoting the bytes
    ("OperationalError: Could not decode to UTF-8 column 'host'"), exit 1."""
    db = tmp_path / "shared.db"
    key = _seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET host = CAST(x'626f78ff' AS TEXT) WHERE key = ?", (key,))
    out = run_cli(tmp_path, *command, "--db", str(db))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr == (
        f"tui-trader: error: {db}: column 'host' holds text that is not UTF-8 (not written by "
        "tui-trader: a hand edit or another program)\n"
    )


@pytest.mark.parametrize("column", ["host", "heartbeat_at"])
@pytest.mark.parametrize("command", [["fleet"], ["status"], ["history"], ["report"], ["pnl"]])
def test_binary_data_in_a_text_column_is_named_not_a_crash(
    tmp_path: Path, command: list[str], column: str
) -> None:
    """Another program wrote a BLOB (bytes, not text) into a host name or a heartbeat time:
    peewee decoded the bytes as UTF-8 and every report ended with a crash line
    ("UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff"), or handed them on as
    bytes ("'bytes' object has no attribute 'tzinfo'"), exit 1. Now one line naming the
    table and column, exit 2, as for text that is not UTF-8."""
    db = tmp_path / "shared.db"
    key = _seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE sessions SET {column} = x'626f78ff00' WHERE key = ?", (key,))
    out = run_cli(tmp_path, *command, "--db", str(db))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr == (
        f"tui-trader: error: {db}: column {column!r} of sessions holds binary data (5 bytes), "
        "not text (not written by tui-trader: a hand edit or another program)\n"
    )


def test_the_readiness_record_names_an_account_key_of_binary_data(tmp_path: Path) -> None:
    """The paper-to-live gate reads the store through its own connection, where a BLOB
    account key came back as bytes: ``live readiness`` ended with a crash line
    ("'bytes' object has no attribute 'isprintable'"). Now the one line, exit 2."""
    db = tmp_path / "shared.db"
    key = _seed(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET account_key = x'626f78ff00' WHERE key = ?", (key,))
    out = run_cli(tmp_path, "live", "readiness", "--db", str(db))
    assert out.returncode == 2 and out.stdout == "", out.stdout + out.stderr
    assert out.stderr == (
        f"tui-trader: error: {db}: column 'account_key' of sessions holds binary data "
        "(5 bytes), not text (not written by tui-trader: a hand edit or another program)\n"
    )
