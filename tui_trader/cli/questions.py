"""Questions asked at the terminal: one typed line, and a word typed in full before an action.

Off a terminal nobody can answer: input that ends answers no, and an action that must be
confirmed by typing is refused (exit 2) rather than taken.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tui_trader.cli.common import UsageError


def ask(prompt: str) -> str:
    """One line typed at the terminal; ``""`` when input ends (Ctrl+D answers no).

    On a terminal the line is waited for with ``select`` first: Ctrl+C must end the question
    (exit 130, "interrupted"). polars (2.x) replaces the process's SIGINT handler when it is
    imported with one that restarts an interrupted ``read``, so ``input()`` alone never woke
    for Python to raise ``KeyboardInterrupt``: ``data clear``'s question (asked after polars
    is loaded) ignored Ctrl+C for good. ``select`` is never restarted after a signal; it also
    wakes for a Ctrl+C the kernel handed to another thread (``_wait_for_line``)."""
    try:
        if not _is_terminal(sys.stdin):
            return input(prompt)
        sys.stdout.write(prompt)
        sys.stdout.flush()
        _wait_for_line(sys.stdin)  # Ctrl+C: KeyboardInterrupt here
        line = sys.stdin.readline()
        if not line:
            return ""
        return line.rstrip("\r\n")
    except EOFError:
        return ""


def _wait_for_line(stream: TextIO) -> None:
    """Wait until ``stream`` has a line to read; a signal's Python handler (Ctrl+C's
    ``KeyboardInterrupt``) runs meanwhile.

    A signal goes to the process: the kernel may hand it to any thread that does not block it
    (polars' cleanup thread blocks none), and a main thread asleep in ``select`` on the
    terminal alone never woke for it. The wait also watches Python's wakeup file, which the
    signal writes to from whichever thread took it; the handler then runs in this thread."""
    import select
    import signal

    readable, writable = os.pipe()
    os.set_blocking(readable, False)
    os.set_blocking(writable, False)
    try:
        try:
            before = signal.set_wakeup_fd(writable, warn_on_full_buffer=False)
        except ValueError:  # not the main thread: signals are not this thread's to take
            select.select([stream], [], [])
            return
        try:
            while stream not in select.select([stream, readable], [], [])[0]:
                os.read(readable, 512)  # a signal came; its handler runs before the next look
        finally:
            signal.set_wakeup_fd(before)
    finally:
        os.close(readable)
        os.close(writable)


def _is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a file descriptor open on a terminal (a stand-in stream has none)."""
    try:
        return os.isatty(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def confirmed_by_typing(word: str, heading: str, prompt: str, refusal: str) -> bool:
    """Say what is about to happen and ask for ``word`` typed in full. Off a terminal nobody
    can answer, so the action is refused (``refusal``, exit 2) rather than taken."""
    if not sys.stdin.isatty():
        raise UsageError(refusal)
    print(heading)
    return ask(prompt).strip() == word
