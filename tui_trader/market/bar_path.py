"""Why a path the user gave as a bar file is none: one reason, said the same way everywhere.

The replay and ``learn evaluate`` read the file (``market.bar_file``), and the desk's Setup form
checks the replay file field before a session is planned: both name a folder, a pipe or device,
and a link to nothing as what it is. The form said "no such file" for each. This module imports
no polars, so the Setup screen can use it without loading the data stack.
"""

from __future__ import annotations

from pathlib import Path


def not_a_bar_file(path: Path) -> str:
    """Why ``path`` (which is no regular file) is no bar file to read: a folder, a device, pipe
    or socket, a link to nothing, or missing. May raise ``OSError`` (a name too long)."""
    if path.is_dir():
        return "is a folder, not a bar file"
    if path.exists():
        return "is not a regular file (a device, pipe or socket)"
    if path.is_symlink():
        return "is a link to no file (its target is gone, or the links lead back to themselves)"
    return "no such file"
