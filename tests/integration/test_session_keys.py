"""Session and account keys typed by hand: a key that names nothing is one line and exit 2.

The reports (``history``, ``pnl``, ``status``, ``report``), the monitor, ``risk reset`` and
``fleet halt`` look a session up by its key or numeric id, or an account by its key. Uses the
real ``main()`` under a deadline (``test_bad_input``'s harness) on one database with one
finished session.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_bad_input import assert_one_line_exit_2, run_main

READERS = (["history"], ["pnl"], ["status"], ["report"], ["live", "monitor"])


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one finished local session (id 1)."""
    folder = tmp_path_factory.mktemp("keys")
    done = run_cli(folder, "paper", "--iterations", "3", "--db", str(folder / "desk.db"))
    assert done.returncode == 0, done.stderr
    return folder / "desk.db"


@pytest.mark.parametrize("key", ["99999999999999999999999", "9223372036854775808", "１"])
@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_an_id_that_is_no_row_id_names_no_session(
    desk: Path, place: Path, capsys: pytest.CaptureFixture[str], command: list[str], key: str
) -> None:
    """A 23-digit id (or 2**63) reached the database driver, which raised ``OverflowError``:
    exit 1 and a crash.log, from every reader. A full-width ``１`` was read as id 1 and showed
    session 1. Both now name no session: one line, exit 2."""
    code, out, err, _ = run_main([*command, "--session", key, "--db", str(desk)], capsys)
    words = "nothing to follow" if command == ["live", "monitor"] else "no session"
    assert_one_line_exit_2(code, out, err, words, place)
    assert key in err


@pytest.fixture
def halted(desk: Path, place: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A copy of the desk whose (only) account is halted by ``fleet halt``."""
    copy = place / "halted.db"
    with closing(sqlite3.connect(desk)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # with what the write-ahead log still holds
    code, out, err, _ = run_main(
        ["fleet", "halt", "--session", "1", "--yes", "--db", str(copy)], capsys
    )
    assert code == 0 and "HALTED" in out, err
    return copy


def _states(db: Path) -> list[tuple[str, str]]:
    """Every account's key and risk state, as stored."""
    with closing(sqlite3.connect(db)) as conn:
        return sorted(conn.execute("SELECT account_key, state FROM risk_state").fetchall())


@pytest.mark.parametrize("key", ["", "   ", "\x1b[2J\x1b[31mX", "a\nb"])
@pytest.mark.parametrize(
    "command",
    [
        ["risk", "reset", "--account"],
        ["fleet", "halt", "--account"],
        ["fleet", "halt", "--session"],
    ],
    ids=" ".join,
)
def test_a_blank_or_control_key_is_refused_and_changes_nothing(
    halted: Path, place: Path, capsys: pytest.CaptureFixture[str], command: list[str], key: str
) -> None:
    """``risk reset --account ""`` (an unset shell variable) fell back to the latest session's
    account and lifted its halt; ``fleet halt --session ""`` crashed (exit 1, TypeError);
    ``fleet halt --account`` stored a blank key, or one with an escape sequence that ``risk
    show`` then printed raw (clearing the screen). Each is now one line, exit 2, and the
    account stays halted with no other account added."""
    before = _states(halted)
    code, out, err, _ = run_main([*command, key, "--yes", "--db", str(halted)], capsys)
    words = "is empty" if not key.strip() else "holds a control character"
    assert_one_line_exit_2(code, out, err, f"argument {command[-1]}: {words}", place)
    assert _states(halted) == before
    assert [state for _key, state in before] == ["halted"]


@pytest.mark.parametrize("command", [*READERS, ["fleet", "halt"]], ids=" ".join)
def test_a_blank_session_is_refused_by_every_command(
    desk: Path, place: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """``--session ""`` showed the latest session (a report) or crashed (``fleet halt``)."""
    code, out, err, _ = run_main([*command, "--session", "", "--db", str(desk)], capsys)
    assert_one_line_exit_2(code, out, err, "argument --session: is empty", place)


@pytest.mark.parametrize("command", [*READERS, ["fleet", "halt"]], ids=" ".join)
def test_an_id_of_thousands_of_digits_names_no_session(
    desk: Path, place: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """A pasted run of 5,000 digits as ``--session`` reached Python's ``int()``, which refuses
    numbers over 4,300 digits: exit 1, ``ValueError: Exceeds the limit ...`` and a crash.log
    from every reader and ``fleet halt``. It names no session now: one line, exit 2."""
    key = "9" * 5000
    argv = [*command, "--session", key, "--db", str(desk)]
    code, out, err, _ = run_main([*argv, "--yes"] if command[0] == "fleet" else argv, capsys)
    words = "nothing to follow" if command == ["live", "monitor"] else "no session"
    assert_one_line_exit_2(code, out, err, words, place)
    assert "99999" in err and "ValueError" not in err
