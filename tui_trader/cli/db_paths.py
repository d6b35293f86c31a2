"""What rules a database file path out before the database is opened: the same words for
``--db``, ``$TUI_TRADER_DB``, the settings file's ``db`` and the desk's Database field."""

from __future__ import annotations

from pathlib import Path

from tui_trader.core.shown import shown_path

MAX_PATH = 1024
"""The longest ``--db`` path accepted (Linux refuses a path past 4,096 bytes, a name past 255)."""


def quoted(text: str) -> str:
    """A user's value quoted for a message, cut short if long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def db_path_problem(db: Path) -> str | None:
    """What rules out a database file path before any look at the disk (``path is too long
    ...``, ``path holds a control character ...``), or ``None``: ``--db``, ``$TUI_TRADER_DB``
    and the desk's Database field alike."""
    text = str(db)
    if len(text) > MAX_PATH or any(len(part) > 255 for part in db.parts):
        return (
            f"path is too long ({len(text):,} characters; at most {MAX_PATH:,}, and 255 per "
            f"name): {quoted(text)}"
        )
    if any("\udc80" <= c <= "\udcff" for c in text):  # a byte the locale could not decode
        return f"path holds a byte that is not UTF-8: {quoted(text)}"
    if not text.isprintable():  # NUL, escapes, line breaks
        return f"path holds a control character: {quoted(text)}"
    return None


def dead_link_problem(db: Path) -> str | None:
    """A database path that is a link to nothing (its target gone, or a loop of links), or
    ``None``. SQLite made a new, empty database at a gone target: a store on a drive not
    mounted, or moved away, was silently replaced by one without its halts and risk state."""
    try:
        dead = db.is_symlink() and not db.exists()
    except OSError:  # a name too long: db_path_problem and opening say so
        return None
    if not dead:
        return None
    return (
        f"{shown_path(str(db))} is a link to no file (its target is gone, or the links lead "
        "back to themselves): no new database is made through it; name the database file itself"
    )


def folder_problem(db: Path) -> str | None:
    """A database path that is a folder, or ``None``: ``--db``, ``$TUI_TRADER_DB``, the
    settings file's ``db`` and the desk's Database field alike (a settings file's ``db = "/tmp"``
    was refused naming ``--db``, an option nobody typed, not the file, its line and the key)."""
    try:
        is_dir = db.is_dir()
    except OSError:  # a name too long: db_path_problem and opening say so
        return None
    return f"{db} is a directory, not a database file" if is_dir else None
