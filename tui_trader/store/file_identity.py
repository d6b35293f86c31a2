"""Whether the audit database's path still names the file a session writes to.

A session on a SQLite file keeps that file open for its whole life. If the file is deleted
(``rm desk.db*``, a clean-up script) or another file is moved or copied over its path (a
restore by hand, ``mv other.db desk.db``), the session's connection goes on writing to the old
file, which nobody else can open any more: its orders' rows and a halt it writes are lost with
it, and a ``fleet halt``, ``risk`` command or second session on that path works on the new
file, which this session never reads again. So the session compares the file its path names
(device and inode) with the one it opened at every heartbeat, and stops, failing closed, when
they differ (``SessionRows.beat``). The file it holds open cannot be freed while it runs, so a
new file at the path never takes its inode: a difference is always a real change.

The write-ahead log (``PATH-wal``) is watched the same way: it holds every commit since the last
checkpoint (a local session's whole trail, often), and deleted alone, the session's commits
went on into the lost log while the next process to open the file found none of them (and
read errors meanwhile). SQLite deletes the log only when the last connection to the file
closes, which cannot happen while the session's own connection is open.

So is the log's shared-memory index (``PATH-shm``): every connection to the file maps it to
agree on which frames of the log hold which pages. Deleted (or replaced) under a running
session, the session keeps its mapping of the old one, and the next process to open the file
(a report, the monitor, a second session) builds a new index of its own: two processes writing
one log through two indexes is how a SQLite file is corrupted. The session stops at once
instead, its rows whole in the file and its log (its own index still maps them).

A PostgreSQL store has no file to watch (``of`` returns ``None``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """The file a SQLite store's path named when the session opened it."""

    shown: str
    """The path as the user gave it (for messages)."""
    path: str
    """The same path made absolute (what is checked)."""
    device: int
    inode: int
    wal: tuple[int, int] | None = None
    """The write-ahead log's device and inode, if it existed when the session started."""
    shm: tuple[int, int] | None = None
    """The log's shared-memory index's device and inode, if it existed then."""

    @classmethod
    def of(cls, db: Any) -> FileIdentity | None:
        """The file the SQLite store ``db`` uses, as its path names it now; ``None`` for a
        PostgreSQL store or a path that cannot be read."""
        if getattr(db, "is_postgres", False):
            return None
        shown = str(db.database)
        path = os.path.abspath(shown)
        try:
            st = os.stat(path)
        except OSError:
            return None
        wal, shm = _identity(path + "-wal"), _identity(path + "-shm")
        return cls(shown, path, st.st_dev, st.st_ino, wal, shm)

    def changed(self) -> str | None:
        """``None`` while the path still names the same file; else the one line the user
        reads (the session stops on it)."""
        lost = "what this session wrote is in the old file, not at that path"
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            what = "was deleted"
        except OSError as exc:
            what = f"can no longer be checked ({exc.strerror})"
        else:
            if (st.st_dev, st.st_ino) != (self.device, self.inode):
                what = "was replaced by another file"
            elif self.wal is not None and _identity(self.path + "-wal") != self.wal:
                what = f"lost its write-ahead log ({self.shown}-wal deleted or replaced)"
                lost = "what this session wrote since the last checkpoint went with that log"
            elif self.shm is not None and _identity(self.path + "-shm") != self.shm:
                what = f"lost its log's index ({self.shown}-shm deleted or replaced)"
                lost = (
                    "its rows are whole, but another process opening the file now would index "
                    "the log anew, and two indexes of one log corrupt the file"
                )
            else:
                return None
        return (
            f"the audit database {self.shown} {what} while the session ran: trading stopped, "
            f"no order sent without its row; {lost} (start the session again to go on)"
        )


def _identity(path: str) -> tuple[int, int] | None:
    """A file's device and inode, or ``None`` if there is none at ``path``."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
