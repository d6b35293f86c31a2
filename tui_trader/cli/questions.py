"""Questions asked at the terminal: one typed line, and a word typed in full before an action.

Off a terminal nobody can answer: input that ends answers no, and an action that must be
confirmed by typing is refused (exit 2) rather than taken.
"""

from __future__ import annotations

import os
import sys

from tui_trader.cli.common import UsageError


def ask(prompt: str) -> str:
    """One line typed at the terminal; ``""`` when input ends (Ctrl+D answers no).

    On a terminal the line is waited for with ``select`` first: Ctrl+C must end the question
    (exit 130, "interrupted"). polars (2.x) replaces the process's SIGINT handler when it is
    imported with one that restarts an interrupted ``read``, so ``input()`` alone never woke
    for Python to raise ``KeyboardInterrupt``: ``data clear``'s question (asked after polars
    is loaded) ignored Ctrl+C for good. ``select`` is never restarted after a signal."""
    try:
        if not _is_terminal(sys.stdin):
            return input(prompt)
        import select

        sys.stdout.write(prompt)
        sys.stdout.flush()
        select.select([sys.stdin], [], [])  # Ctrl+C: KeyboardInterrupt here
        line = sys.stdin.readline()
        if not line:
            return ""
        return line.rstrip("\r\n")
    except EOFError:
        return ""


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
