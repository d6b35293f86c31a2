"""Standard streams closed before the program started (``tui-trader paper >&-``, ``2>&-``,
a service manager that closes them): each is pointed at ``/dev/null`` first thing.

Python leaves ``sys.stdout`` (``stderr``, ``stdin``) ``None`` when its descriptor is closed at
start-up. The next file opened then takes that descriptor: the audit database or the crash log
would become "standard output", and a print (or ``cli.closed_output``, which points fd 1 at
``/dev/null`` when output goes away) would write into it, or hit ``None`` and crash with the
session row left ``running``. Re-opening the closed descriptors on ``/dev/null`` before
anything else is opened runs the command as with ``>/dev/null``: its output is discarded, the
session runs and ends as recorded, the exit code tells how it went.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))


def reopen_closed_streams() -> list[str]:
    """Point every closed standard descriptor at ``/dev/null`` (and give Python a stream on
    it); the names of those that were closed."""
    reopened = []
    for fd, name, mode in _STREAMS:
        if _is_open(fd):
            continue
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        reopened.append(name)
        if getattr(sys, name) is None:
            setattr(sys, name, _text(fd, mode))
    return reopened


def _is_open(fd: int) -> bool:
    """True if ``fd`` is an open descriptor."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _text(fd: int, mode: str) -> TextIO:
    """A text stream on ``fd`` that never closes it."""
    stream = open(fd, mode, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    with contextlib.suppress(AttributeError, ValueError):
        stream.reconfigure(line_buffering=True)
    return stream


def encode_what_the_terminal_cannot() -> None:
    """Let standard output write a character its encoding lacks as an escape (``\\xfc``),
    as Python's standard error already does. Under ``PYTHONIOENCODING=ascii`` (an ASCII-only
    terminal) a path such as ``ü.db`` in a session's header raised ``UnicodeEncodeError``: the
    session crashed after it had started (its row ``died``), and ``report --html é.html``
    crashed after writing its page."""
    stream = sys.stdout
    if getattr(stream, "errors", None) == "strict":
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
