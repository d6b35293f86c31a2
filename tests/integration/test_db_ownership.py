"""The database is ours or it is refused: marks, refusal byte for byte, adoption, migration,
damage (issue 12, section 4)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tui_trader.cli import main
from tui_trader.store.db import open_database
from tui_trader.store.models import database
from tui_trader.store.ownership import APPLICATION_ID, SCHEMA_VERSION, check_database

COMMANDS = {
    "paper": ("paper", "--iterations", "2", "--period", "30d"),
    "history": ("history",),
    "pnl": ("pnl",),
    "status": ("status",),
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in this process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _files(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _marks(path: Path) -> tuple[int, int]:
    """``application_id`` and ``user_version`` of a closed file."""
    conn = sqlite3.connect(path)
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        return app, conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _foreign(path: Path) -> None:
    """Another program's database, in WAL mode as many are, closed cleanly."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [("x" * 50,)] * 200)
    conn.commit()
    conn.close()


def _ours(path: Path) -> None:
    """One of our databases after a short session."""
    open_database(path).close()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_another_programs_database_is_refused_and_left_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Today a foreign file gets 12 tables, a view and WAL, and the command exits 1."""
    folder = tmp_path / "other"
    folder.mkdir()
    path = folder / "notes.sqlite"
    _foreign(path)
    before = _files(folder)
    code, _out, err = _run(capsys, *COMMANDS[command], "--db", str(path))
    assert code == 2
    assert err.count("\n") == 1 and str(path) in err and "not a tui-trader database" in err
    assert _files(folder) == before  # not a byte changed, no -wal or -shm left beside it


@pytest.mark.parametrize("command", ["paper", "status"])
def test_a_file_that_is_not_sqlite_or_marked_by_another_program_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A text file, and a SQLite file whose application_id is someone else's."""
    text = tmp_path / "notes.txt"
    text.write_bytes(b"SQLite? no, a shopping list\n" * 20)
    marked = tmp_path / "geo.gpkg"
    conn = sqlite3.connect(marked)
    conn.execute("PRAGMA application_id = 1196444487")  # GeoPackage's 'GPKG'
    conn.execute("CREATE TABLE sessions (id INTEGER, key TEXT)")
    conn.commit()
    conn.close()
    for path, why in ((text, "not a SQLite database"), (marked, "another program")):
        before = path.read_bytes()
        code, _out, err = _run(capsys, *COMMANDS[command], "--db", str(path))
        assert code == 2 and why in err and str(path) in err and err.count("\n") == 1
        assert path.read_bytes() == before


@pytest.mark.parametrize("command", ["paper", "pnl"])
def test_a_newer_schema_is_refused_and_left_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """A file a later tui-trader wrote: this one must not guess at its tables."""
    path = tmp_path / "future.db"
    _ours(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _files(tmp_path)
    code, _out, err = _run(capsys, *COMMANDS[command], "--db", str(path))
    assert code == 2 and "newer tui-trader" in err and err.count("\n") == 1
    assert _files(tmp_path) == before


def test_a_new_file_is_created_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``paper`` on a path that does not exist, and on an empty file, makes our database."""
    fresh, empty = tmp_path / "fresh.db", tmp_path / "empty.db"
    empty.touch()
    for path in (fresh, empty):
        code, _out, err = _run(capsys, *COMMANDS["paper"], "--db", str(path))
        assert code == 0, err
        assert _marks(path) == (APPLICATION_ID, SCHEMA_VERSION)
        assert check_database(path) is None


def _unmarked_main_database(path: Path) -> None:
    """A database as main wrote it before the marks (and before the learning tables): our
    tables, a session with an order, no application_id, user_version 0."""
    db = open_database(path)
    db.execute_sql(
        "INSERT INTO sessions (key, mode, broker, data_source, symbols, parameters, account_key,"
        " started_at, status, iterations) VALUES ('old1', 'local', 'paper', 'sim', 'SPY', '{}',"
        " 'local:old1', '2026-11-20 14:30:00', 'completed', 3)"
    )
    db.execute_sql(
        "INSERT INTO live_orders (session_id, client_order_id, symbol, side, quantity,"
        " order_type, status, timestamp, updated_at, filled_qty, rationale) VALUES (1, 'c1',"
        " 'SPY', 'buy', 2, 'market', 'filled', '2026-11-20 14:30:01', '2026-11-20 14:30:01', 2,"
        " '')"
    )
    for table in ("learning_weights", "learning_regimes", "learning_shadow"):
        db.execute_sql(f'DROP TABLE "{table}"')
    db.execute_sql('CREATE INDEX "live_orders_timestamp" ON "live_orders" ("timestamp")')
    db.execute_sql("PRAGMA application_id = 0")
    db.execute_sql("PRAGMA user_version = 0")
    db.close()


def test_a_database_from_before_the_marks_is_adopted_and_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unmarked but holding only our tables: the reports read it, and it is marked, given the
    tables it lacks and rid of the unused index, its rows kept."""
    path = tmp_path / "old.db"
    _unmarked_main_database(path)
    assert _marks(path) == (0, 0)
    code, out, err = _run(capsys, "status", "--db", str(path), "--session", "old1")
    assert code == 0, err
    assert "old1" in out
    assert _marks(path) == (APPLICATION_ID, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    orders = conn.execute("SELECT client_order_id, filled_qty FROM live_orders").fetchall()
    conn.close()
    assert {"learning_weights", "learning_regimes", "learning_shadow"} <= names
    assert "live_orders_timestamp" not in names
    assert orders == [("c1", 2.0)]
    code, _out, err = _run(capsys, *COMMANDS["paper"], "--db", str(path))
    assert code == 0, err


def test_columns_a_model_has_and_the_table_lacks_are_added(tmp_path: Path) -> None:
    """The generic step: a table missing a nullable column and a column with a default (what
    a new model field is) gets both; the existing rows take the default."""
    path = tmp_path / "cols.db"
    _unmarked_main_database(path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE sessions DROP COLUMN endpoint")
    conn.execute("ALTER TABLE sessions DROP COLUMN iterations")
    conn.execute("ALTER TABLE live_orders DROP COLUMN rationale")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.commit()
    conn.close()
    db = open_database(path)
    try:
        row = db.execute_sql("SELECT endpoint, iterations FROM sessions").fetchone()
        assert row == (None, 0)
        assert db.execute_sql("SELECT rationale FROM live_orders").fetchone() == ("",)
    finally:
        db.close()


def _damage(path: Path) -> None:
    """Random bytes written into the middle of the file, as a failing disk or a stray
    program would."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(os.urandom(4096))


@pytest.mark.parametrize("command", ["paper", "history"])
def test_a_damaged_database_is_refused_with_what_to_do_and_never_appended_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Today ``paper`` exits 0 and keeps appending to the malformed file."""
    path = tmp_path / "audit.db"
    code, _out, err = _run(capsys, "paper", "--iterations", "40", "--db", str(path))
    assert code == 0, err
    database.obj.close()  # as the process's exit would: the log goes into the file
    assert not path.with_name("audit.db-wal").exists()
    _damage(path)
    before = path.read_bytes()
    code, _out, err = _run(capsys, *COMMANDS[command], "--db", str(path))
    assert code == 2
    assert err.count("\n") == 1 and "damaged" in err and ".recover" in err and "backup" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [("fleet",), ("report",), ("status",)])
def test_a_whole_file_sqlite_cannot_open_is_not_called_damaged(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    """SQLite must open or create ``-wal`` and ``-shm`` beside a database it reads; where it
    cannot (a read-only folder; here a folder in the ``-wal`` file's place, the same refusal
    for root) the file was called damaged, with advice to restore it from a backup."""
    path = tmp_path / "audit.db"
    _ours(path)
    before = path.read_bytes()
    (tmp_path / "audit.db-wal").mkdir()
    code, out, err = _run(capsys, *command, "--db", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "damaged" not in err and "backup" not in err
    assert "SQLite could not open or create audit.db-wal or audit.db-shm beside it" in err
    monkeypatch.setattr("tui_trader.store.ownership.os.access", lambda *_: False)
    code, out, err = _run(capsys, *command, "--db", str(path))
    assert code == 2 and "damaged" not in err
    assert f"its folder {tmp_path} is read-only" in err and "copy it to a writable" in err
    assert path.read_bytes() == before


def test_a_pipe_or_device_as_the_sessions_database_is_refused_at_once(tmp_path: Path) -> None:
    """``paper --db`` naming a named pipe hung for ever (reading its header waits for a
    writer); ``/dev/null`` said "disk I/O error". Both: one line, exit 2. (Reports already
    refused them: "no database at ...".)"""
    pipe = tmp_path / "desk.db"
    os.mkfifo(pipe)
    for path in (pipe, Path(os.devnull)):
        out = run_cli(tmp_path, *COMMANDS["paper"], "--db", str(path), timeout=60)
        assert out.returncode == 2, out.stderr
        assert out.stderr == (
            f"tui-trader: error: {path} is not a regular file (a device, pipe or socket): "
            "not a database\n"
        )
