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
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return _LONG_WORD.sub(lambda m: shown_path(m.group()), text)
