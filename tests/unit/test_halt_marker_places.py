"""A kept halt is found by the account's next start however its store is spelled, and writing
it never writes anywhere but its own file.

A halt the lost store could not take waits in a marker file (``store.halt_markers``) named after
the store. The same SQLite file reached through a symlink (a linked database file, a linked
folder such as ``~/desk -> /data/desk``) named another marker: the next start through the real
path found none and traded after a drawdown kill. The same PostgreSQL database with another
connection setting (``?sslmode=require``) missed it too, and a ``sslpassword`` in the URL was
written into the file. And the file was written through a temporary name anyone could guess
(its folder's and the process's), opened following a symlink: in a folder another user can
write, a link planted there made the desk overwrite whatever file it pointed to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui_trader.cli.kept_halt_lines import kept_halt_lines
from tui_trader.store.halt_markers import KeptHalt, find_marker, keep_halt, marker_path
from tui_trader.store.pg_url import PgUrl, parse_db_url

ACCOUNT = "alpaca:PA1"


@dataclass
class _SqliteStore:
    """What the markers read of a SQLite store: its file's name as the desk opened it."""

    database: str
    is_postgres: bool = False


@dataclass
class _PgStore:
    """What the markers read of a PostgreSQL store: its URL."""

    url: PgUrl
    is_postgres: bool = True


def _halt(store: str) -> KeptHalt:
    """A drawdown halt of ``ACCOUNT`` decided on ``store``."""
    return KeptHalt(
        ACCOUNT,
        store,
        "drawdown_kill_switch",
        "equity 95,000.00 is 5.00% below peak 100,000.00",
        "2026-12-07T06:00:00+00:00",
        "a1b2c3d4_e5f6a7",
    )


def test_a_halt_kept_through_a_symlinked_path_halts_the_start_through_the_real_one(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "desk.db").write_bytes(b"")
    (tmp_path / "linked.db").symlink_to(data / "desk.db")
    (tmp_path / "home").symlink_to(data, target_is_directory=True)
    (data / "sub").mkdir()
    real = _SqliteStore(str(data / "desk.db"))
    spellings = [
        _SqliteStore(str(tmp_path / "linked.db")),  # the file linked
        _SqliteStore(str(tmp_path / "home" / "desk.db")),  # its folder linked
        _SqliteStore(str(data / "sub" / ".." / "desk.db")),  # '..' in the path
    ]
    for kept_by in spellings:
        path = keep_halt(kept_by, _halt(_store_field(kept_by)))
        found = find_marker(real, ACCOUNT)
        assert found is not None, f"a start on {real.database} missed the halt kept in {path}"
        assert found.halt.reason == "drawdown_kill_switch", found.why
        back = find_marker(kept_by, ACCOUNT)
        assert back is not None and back.halt.reason == "drawdown_kill_switch", back
        path.unlink()


def test_a_planted_link_at_the_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's own file\n")
    store = _SqliteStore(str(shared / "desk.db"))
    target = marker_path(store, ACCOUNT)
    assert target is not None
    # the name the desk wrote through: its folder's, its file's and this process's
    (shared / f".{target.name}.{os.getpid()}.tmp").symlink_to(victim)
    path = keep_halt(store, _halt(_store_field(store)))
    assert victim.read_text() == "the user's own file\n", "the desk wrote through a planted link"
    found = find_marker(store, ACCOUNT)
    assert found is not None and found.halt.reason == "drawdown_kill_switch", found
    assert path.stat().st_mode & 0o077 == 0, "the marker is readable by other users"


def test_a_postgresql_halt_is_found_whatever_the_connection_settings_and_holds_no_secret(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    secret = "k3y-pa55"
    kept_by = _PgStore(
        parse_db_url(f"postgresql://trader@db.example/desk?sslmode=require&sslpassword={secret}")
    )
    plain = _PgStore(parse_db_url("postgresql://trader@db.example:5432/desk"))
    path = keep_halt(kept_by, _halt(_store_field(kept_by)))
    assert secret not in path.read_text(), "the client key's password was written to the marker"
    found = find_marker(plain, ACCOUNT)
    assert found is not None and found.halt.reason == "drawdown_kill_switch", found
    elsewhere = _PgStore(parse_db_url("postgresql://trader@db.example/desk?host=other.example"))
    assert find_marker(elsewhere, ACCOUNT) is None, "a desk on another server found the halt"


def _store_field(store: _SqliteStore | _PgStore) -> str:
    """The marker's ``store`` as the ending writes it (``store_name``)."""
    from tui_trader.store.halt_markers import store_name

    return store_name(store) or ""


def test_fleet_lists_a_halt_kept_beside_a_database_whose_name_looks_like_a_pattern(
    tmp_path: Path,
) -> None:
    store = _SqliteStore(str(tmp_path / "desk[1].db"))
    path = keep_halt(store, _halt(_store_field(store)))
    lines = kept_halt_lines(store)
    assert len(lines) == 1 and "halt kept on disk for alpaca:PA1" in lines[0], lines
    assert str(path) in lines[0]


def test_a_postgresql_halt_is_found_by_a_url_leaving_user_and_port_to_libpq(
    tmp_path: Path, monkeypatch
) -> None:
    """``--db postgresql://db.example/desk`` with ``PGUSER=trader`` and ``PGPORT=5433`` is the
    database ``postgresql://trader@db.example:5433/desk`` names: one desk's kept halt is the
    other's, and a desk on the server's other port does not take it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PGUSER", "trader")
    monkeypatch.setenv("PGPORT", "5433")
    spelled = _PgStore(parse_db_url("postgresql://trader@db.example:5433/desk"))
    keep_halt(spelled, _halt(_store_field(spelled)))
    left_to_libpq = _PgStore(parse_db_url("postgresql://db.example/desk"))
    found = find_marker(left_to_libpq, ACCOUNT)
    assert found is not None, "a start leaving user and port to libpq missed the kept halt"
    assert found.halt.reason == "drawdown_kill_switch", found.why
    in_query = _PgStore(parse_db_url("postgresql://db.example/x?dbname=desk&user=trader"))
    assert find_marker(in_query, ACCOUNT) is not None, "the query's dbname and user were not read"
    other_port = _PgStore(parse_db_url("postgresql://trader@db.example:5432/desk"))
    assert find_marker(other_port, ACCOUNT) is None, "a desk on another server found the halt"


def test_a_halt_kept_through_another_view_of_the_folder_is_read_as_the_halt_it_is(
    tmp_path: Path,
) -> None:
    """The database's folder seen through a bind mount (``/mnt/desk`` over ``/data/desk``):
    a desk there keeps its halt in the same folder, naming the file by its own real path. The
    start through the other path read it as a file naming another store: halted, but as
    ``halt_marker_unreadable``, the drawdown kill's words lost and the file moved aside. Now
    the same file (device and inode) is the same store; a marker naming another file still
    halts the start as unreadable. (The view is made with a hard link: a bind mount needs
    privileges a test does not have; the marker lands where the view's desk puts it.)"""
    data, view = tmp_path / "data", tmp_path / "view"
    data.mkdir()
    view.mkdir()
    (data / "desk.db").write_bytes(b"")
    os.link(data / "desk.db", view / "desk.db")
    real = _SqliteStore(str(data / "desk.db"))
    path = keep_halt(real, _halt(str(view / "desk.db")))  # as the desk in the view wrote it
    found = find_marker(real, ACCOUNT)
    assert found is not None and found.halt.reason == "drawdown_kill_switch", found
    path.unlink()
    (tmp_path / "other.db").write_bytes(b"")
    keep_halt(real, _halt(str(tmp_path / "other.db")))
    other = find_marker(real, ACCOUNT)
    assert other is not None and other.halt.reason == "halt_marker_unreadable", other
