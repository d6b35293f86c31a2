"""Lines of a ``.env`` file that set nothing: which line of which file, and why, never its text.

python-dotenv skips a line that is no ``NAME=value`` (``garbage line``, ``=x``) or sets a name
without a value (a line with no ``=``) and goes on; the user whose key sits on such a line read
"credentials not found" with no word about it. ``skipped_lines`` says which lines were skipped
and why, and ``take_notes`` hands each such note out once a process, for the command line to
print on stderr (the desk shows them on its setup screen instead: stderr is its screen). A
line's text is never quoted: it may hold a secret pasted on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

_PENDING: list[str] = []
"""Notes not yet handed out by ``take_notes``."""
_SAID: set[str] = set()
"""Every note handed to ``_PENDING`` this process: a file read twice is noted once."""
_LAST: dict[str, list[tuple[int, str]]] = {}
"""Each file's skipped lines at its last reading (``last_skipped``)."""


def skipped_lines(bindings: Iterable[Any]) -> list[tuple[int, str]]:
    """The (line number, why) of each python-dotenv binding that sets nothing but is no blank
    or comment line, numbered as an editor numbers it (``line_of``)."""
    out = []
    for binding in bindings:
        text = binding.original.string
        if binding.error:
            why = "no name before '='" if text.lstrip().startswith("=") else "not NAME=value"
        elif binding.key is not None and binding.value is None:
            why = "a name with no '='"
        else:
            continue
        out.append((line_of(binding), why))
    return out


def line_of(binding: Any) -> int:
    """The line a python-dotenv binding's text is on, as an editor numbers it: its
    ``original.line`` is where the blank lines before it start (``A=1``, two blank lines,
    then an unclosed quote on line 4 was "line 2"), so the line is counted from its first
    non-blank character. Every message naming a ``.env`` line uses it."""
    text = binding.original.string
    blank = text[: len(text) - len(text.lstrip())]
    return int(binding.original.line) + blank.count("\n")


def describe(env_file: Path, line: int, why: str) -> str:
    """One note: the file, the line number, why it was skipped; not the line."""
    return f"{env_file}: line {line} skipped ({why}; its text is not shown)"


def note(env_file: Path, skipped: list[tuple[int, str]]) -> None:
    """Keep each skipped line's note for ``take_notes``, once a process."""
    _LAST[str(env_file)] = skipped
    for line, why in skipped:
        said = describe(env_file, line, why)
        if said not in _SAID:
            _SAID.add(said)
            _PENDING.append(said)


def last_skipped(env_file: Path) -> list[tuple[int, str]]:
    """The skipped lines of ``env_file`` at its last reading (none if it was not read)."""
    return _LAST.get(str(env_file), [])


def take_notes() -> list[str]:
    """The notes not yet handed out (each is handed out once)."""
    out = list(_PENDING)
    _PENDING.clear()
    return out


def summary(skipped: list[tuple[int, str]]) -> str:
    """The skipped lines in a few words for one status line (the desk's setup screen):
    ``.env lines 1, 3 skipped (no NAME=value; text not shown)``; empty when none."""
    if not skipped:
        return ""
    numbers = ", ".join(str(line) for line, _ in skipped[:5])
    more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    lines = "line" if len(skipped) == 1 else "lines"
    return f".env {lines} {numbers}{more} skipped (no NAME=value; text not shown)"
