"""How a user's file name, or any value quoted back, appears in a one-line message.

Refusals name what they refuse, on one line. A value pasted by mistake (a blob, a runaway shell
variable) can be thousands of characters long: it is shown by its two ends instead.
"""

from __future__ import annotations

import re
from pathlib import Path

LONGEST = 120
"""Characters of a name shown whole; a longer one is cut to its start and end."""


def shown_path(path: Path | str) -> str:
    """``path`` whole, or its first 60 and last 40 characters when longer than ``LONGEST``."""
    text = str(path)
    return text if len(text) <= LONGEST else f"{text[:60]}...{text[-40:]}"


_LONG_WORD = re.compile(rf"\S{{{LONGEST + 1},}}")


def shown_line(text: str) -> str:
    """``text`` with every character a terminal would act on written as its escape (``\\x1b``)
    and every run of more than ``LONGEST`` non-blank characters cut as ``shown_path`` cuts a
    name (argparse quotes a refused value in full). An error line quotes what the user typed:
    ``tui-trader paper $'\\e[2J'`` was refused with the escape sequence printed raw, which
    cleared the screen the one line was on."""
    return _LONG_WORD.sub(lambda m: shown_path(m.group()), shown_text(text))


def shown_text(text: str) -> str:
    """``text`` with every character a terminal would act on (escape, bell, carriage return,
    newline) written as its escape (``\\x1b``), nothing cut. What is read back from the audit
    store and shown (host names, account keys, halt details, notes) goes through it: on a
    shared store another writer could have put ``\\x1b]0;...\\x07`` (a window title),
    ``\\x1b[2J`` (a cleared screen) or a newline and a fake ``ACTIVE`` line there."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
