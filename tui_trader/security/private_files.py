"""Files and folders only their owner can read: the audit database, logs, crash reports, exports.

They hold account keys' traces, orders, positions and money: nothing another user of the machine
should read. Every file we create goes through here, so it is born mode 0600 (the umask can only
take permissions away, never add them) and every folder we create 0700. Files that already
exist keep the mode their owner gave them, but for those written whole beside and renamed over
(``replace_privately_with``): a new file, 0600.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dir(folder: Path) -> Path:
    """Create ``folder`` and any missing parents, each new one 0700; returns ``folder``."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(path, DIR_MODE)  # mkdir's mode passes through the umask
    return folder


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 if it does not exist; True if this call made it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _private_opener(path: str, flags: int) -> int:
    """``open``'s opener: a file it creates is 0600."""
    return os.open(path, flags, FILE_MODE)


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode)``, except that a file it creates is readable by its owner only."""
    return open(path, mode, opener=_private_opener, **kwargs)


def replace_privately(path: Path, text: str, durable: bool = False) -> None:
    """Write ``text`` to ``path`` whole or not at all (``replace_privately_with``)."""
    replace_privately_with(path, lambda out: out.write(text.encode("utf-8")), durable)


def replace_privately_with(
    path: Path, write: Callable[[IO[bytes]], object], durable: bool = False
) -> None:
    """Have ``write`` write ``path`` whole or not at all: into a new file of a name no one can
    guess (``mkstemp``: ``O_EXCL``, 0600, so a link planted in a folder others can write is
    never written through), then renamed over ``path``; a reader never sees half a file, and a
    write cut off (a full disk, a quota, ``ulimit -f``) leaves what was there before and no
    other file. ``durable``: flushed to the disk, with the folder's entry, before it returns (a
    halt kept on disk must survive a power loss). ``OSError`` if it cannot be written."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def read_small_file(path: Path, max_bytes: int, own: bool = False) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes``, never followed through a
    link nor waited on (a pipe or a device put there would hang the reader or feed it forever).
    ``own``: it must also be this user's and writable by no one else (in a folder others can
    write, their file could say anything). ``ValueError`` says which it is not; ``OSError`` if
    it cannot be opened (a link is refused so)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if own and (info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            raise ValueError("not this user's own file, or others may write it")
        if info.st_size > max_bytes:
            raise ValueError(f"{info.st_size} bytes, more than it may hold")
        data = src.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError("more than it may hold")
    return data
