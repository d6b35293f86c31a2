"""The exchange calendar's sessions kept on disk, so that a command need not load pandas for it.

Built from exchange-calendars, the calendar costs about 0.7 s of CPU in a fresh process (the
import of pandas alone about 0.3 s): ``tui-trader status`` paid it on every call, the desk at
each start (off its UI thread, on the same two cores) and every Alpaca session. The sessions are
few (about 8,300 since 1995) and depend only on the library's version (its holiday rules) and on
the day they were built (the library's calendar ends a year after it). So the first process of
the day writes them to ``<cache dir>/calendar/XNYS-<version>-<day>-<uid>.json`` (each user's
own: ``$TUI_TRADER_CACHE_DIR`` may be a folder users share, and no one removes or writes over
another user's files) and the others read them back in a few milliseconds.

The file is trusted no further than it checks out: a regular file of this user's that no one
else can write (written 0600; ``$TUI_TRADER_CACHE_DIR`` may be a folder others share), its key,
one ``[day, open, close]`` triple per session with days rising and each open before its close.
Anything else (truncated, hand-edited, another version's, another user's, a pipe) is not used:
the calendar is built from the library again and the file written anew. A cache that cannot be
read or written (a read-only home, a full disk) costs the build, never the command.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from tui_trader.security.private_files import read_small_file, replace_privately

FOLDER = "calendar"
"""The cache directory's sub-folder for calendars (beside the bar cache's files)."""

MAX_BYTES = 4_000_000
"""More than any calendar stored (about 250 kB): a bigger file is not one of ours."""


def today() -> date:
    """The day a calendar file is keyed by: the local date. One place to read it, so that a
    test can hold it still (a run crossing midnight would otherwise see two days' files)."""
    return date.today()


def cache_file(name: str, version: str, day: date) -> Path:
    """Where this user's calendar ``name`` built by exchange-calendars ``version`` on ``day``
    lives: named after the user too, so that in a folder users share each keeps their own (one
    name for all, each user's process wrote over the other's file, which it could not trust)."""
    from tui_trader.market.cache_dir import default_cache_dir

    return default_cache_dir() / FOLDER / f"{name}-{version}-{day.isoformat()}-{os.geteuid()}.json"


def library_version() -> str | None:
    """exchange-calendars' installed version, read from its metadata (no import of pandas);
    ``None`` when it cannot be read (then nothing is cached)."""
    from importlib import metadata

    try:
        return metadata.version("exchange-calendars")
    except metadata.PackageNotFoundError:
        return None


def read(path: Path, key: str) -> list[tuple[date, datetime, datetime]] | None:
    """The sessions stored at ``path`` under ``key``; ``None`` when the file is missing,
    unreadable, written under another key, or not a calendar (see the module's checks)."""
    try:  # only this user's own file (in a shared cache folder another user's file could
        # say the exchange is open on a holiday, and no check of its shape can tell)
        stored = json.loads(read_small_file(path, MAX_BYTES, own=True).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    rows = stored.get("sessions")
    if not isinstance(rows, list) or not rows:
        return None
    out: list[tuple[date, datetime, datetime]] = []
    last = 0
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) != 3
            or not all(type(v) is int for v in row)
            or not last < row[0] < date.max.toordinal()
            or not 0 < row[1] < row[2]
        ):
            return None
        last = row[0]
        try:
            opened = datetime.fromtimestamp(row[1], UTC)
            closed = datetime.fromtimestamp(row[2], UTC)
        except (OverflowError, OSError, ValueError):
            return None
        out.append((date.fromordinal(row[0]), opened, closed))
    return out


def write(path: Path, key: str, sessions: Sequence[tuple[date, datetime, datetime]]) -> None:
    """Store ``sessions`` at ``path`` under ``key`` (a temporary file renamed over it: a reader
    never sees half a file); this user's older calendars of the same name in the folder are
    removed, never another user's (in a shared folder they are theirs to keep: removed, each
    user's next process paid the build again). Best effort: a folder that cannot be written
    leaves no cache."""
    rows = [[d.toordinal(), int(o.timestamp()), int(c.timestamp())] for d, o, c in sessions]
    body = json.dumps({"key": key, "sessions": rows}, separators=(",", ":"))
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_privately(path, body)
        name = path.name.split("-", 1)[0]
        for old in path.parent.glob(f"{name}-*.json"):
            with contextlib.suppress(OSError):
                if old != path and old.lstat().st_uid == os.geteuid():
                    old.unlink()
