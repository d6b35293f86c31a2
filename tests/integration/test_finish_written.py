"""A session's end is written even when the rows before it cannot be.

``finish`` writes the last snapshot, the risk memory, then the session's end. A full disk or a
file-size limit refused the snapshot's new row, and the end, a change to an existing row that
still fitted, was never tried: the session row said ``running`` and reports called it dead,
not stopped or failed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import file_rows, make_session


def test_the_end_is_written_when_the_last_snapshot_is_refused(db_path: Path) -> None:
    session = make_session(db_path)
    session._snapshot_every = 100  # as --snapshot-every 100 (a replay's cadence)
    for _ in range(3):
        session.run_iteration()
    assert session._unsnapped is not None  # the cadence skipped this cycle's snapshot

    def refused(*_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    session._snapshot = refused  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        session.finish("stopped")
    assert file_rows(db_path, "SELECT status, iterations FROM sessions") == [("stopped", 3)]
