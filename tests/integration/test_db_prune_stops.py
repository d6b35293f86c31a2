"""``db prune`` stopped midway (Ctrl+C, a store error), ``--vacuum``, and a PostgreSQL store's
options: whole batches kept and said, the file shrunk only with no desk on it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.prune_helpers import rows_per_table, run_adaptive
from tui_trader.cli import main


def test_a_prune_stopped_midway_keeps_whole_batches_and_says_so(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+C after the first batch: that batch stays deleted, the rest are there; one line
    says how many went (exit 130, no traceback), and a second run finishes."""
    from tui_trader.store import learning_prune

    db = tmp_path / "desk.db"
    run_adaptive(db, 5)
    before = rows_per_table(db)["learning_weights"]
    monkeypatch.setattr(learning_prune, "BATCH", 10)
    real = learning_prune.prune_older

    def stopped_after_one_batch(opened, when, kept, done):
        def then_stop(table: str, rows: int) -> None:
            done(table, rows)
            raise KeyboardInterrupt

        return real(opened, when, kept, then_stop)

    monkeypatch.setattr(learning_prune, "prune_older", stopped_after_one_batch)
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 130
    assert capsys.readouterr().err == (
        "interrupted: 10 learning rows pruned before the stop (whole batches); the others are "
        "still there: run it again to finish\n"
    )
    assert rows_per_table(db)["learning_weights"] == before - 10
    monkeypatch.setattr(learning_prune, "prune_older", real)
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 0
    assert 0 < rows_per_table(db)["learning_weights"] < before - 10


def test_a_postgresql_store_takes_no_backup_dir(pg_url: str, tmp_path: Path, capsys) -> None:
    """tui-trader backs up no PostgreSQL store (pg_dump does): --backup-dir with one is a
    mistake said in one line, exit 2, nothing deleted."""
    from tui_trader.store.pg_url import parse_db_url

    store = parse_db_url(pg_url)
    run_adaptive(store, 3)
    counts = rows_per_table(store)
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["db", "prune", "--before", "2026-11-25", "--db", pg_url, "--yes",
              "--backup-dir", str(tmp_path / "bk")])  # fmt: skip
    assert refused.value.code == 2
    assert capsys.readouterr().err == (
        "tui-trader: error: --backup-dir is for a SQLite file: back a PostgreSQL store up with "
        "pg_dump\n"
    )
    assert rows_per_table(store) == counts
    assert not (tmp_path / "bk").exists()


def test_a_store_error_after_some_batches_says_how_many_went(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database locked past the busy timeout (or the server gone) after the first batch:
    one line saying how many rows went and that the others are there, exit 1; the standard
    'nothing was changed' would have been untrue."""
    from peewee import OperationalError

    from tui_trader.store import learning_prune

    db = tmp_path / "desk.db"
    run_adaptive(db, 5)
    before = rows_per_table(db)["learning_weights"]
    monkeypatch.setattr(learning_prune, "BATCH", 10)
    real = learning_prune.prune_older

    def locked_after_one_batch(opened, when, kept, done):
        def then_locked(table: str, rows: int) -> None:
            done(table, rows)
            raise OperationalError("database is locked")

        return real(opened, when, kept, then_locked)

    monkeypatch.setattr(learning_prune, "prune_older", locked_after_one_batch)
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes"]) == 1
    assert capsys.readouterr().err == (
        "tui-trader: error: the prune stopped after 10 learning rows (whole batches): "
        "OperationalError: database is locked; the others are still there: run it again to "
        "finish\n"
    )
    assert rows_per_table(db)["learning_weights"] == before - 10


def test_vacuum_gives_the_space_back(tmp_path: Path, capsys) -> None:
    """--vacuum: the file after the prune is smaller than before it (without, it keeps its
    size and says how to shrink it)."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 60)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    was = db.stat().st_size
    capsys.readouterr()
    assert main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes",
                 "--vacuum"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "vacuumed: " in out and "the file keeps its size" not in out
    wal = db.with_name("desk.db-wal")
    assert db.stat().st_size + (wal.stat().st_size if wal.exists() else 0) < was * 0.6


def test_vacuum_is_refused_up_front_while_a_session_runs(tmp_path: Path, capsys) -> None:
    """A session running on the file: --vacuum is refused before any backup or delete (VACUUM
    holds the whole file: the desk's next commit would wait past its busy timeout)."""
    db = tmp_path / "desk.db"
    run_adaptive(db, 3)
    running = make_session(db)
    try:
        counts = rows_per_table(db)
        capsys.readouterr()
        with pytest.raises(SystemExit) as refused:
            main(["db", "prune", "--before", "2026-11-25", "--db", str(db), "--yes", "--vacuum"])
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert f"a session is running on {db} ({running.audit.session.key})" in err
        assert err.count("\n") == 1
        assert rows_per_table(db) == counts
        assert not (tmp_path / "backups").exists()
    finally:
        running.finish("completed")


def test_vacuum_on_postgresql_is_refused(pg_url: str, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["db", "prune", "--before", "2026-11-25", "--db", pg_url, "--yes", "--vacuum"])
    assert refused.value.code == 2
    assert "--vacuum is for a SQLite file" in capsys.readouterr().err
