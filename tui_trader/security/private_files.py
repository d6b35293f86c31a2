"""Files and folders only their owner can read: the audit database, logs, crash reports, exports.

They hold account keys' traces, orders, positions and money: nothing another user of the machine
should read. Every file we create goes through here, so it is born mode 0600 (the umask can only
take permissions away, never add them) and every folder we create 0700. Files that already
exist keep the mode their owner gave them.
"""

from __future__ import annotations

import os
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
