"""How a user's file name appears in a one-line message.

Refusals name the file they refuse, on one line. A name pasted by mistake (a blob, a runaway
shell variable) can be thousands of characters long: it is shown by its two ends instead.
"""

from __future__ import annotations

from pathlib import Path

LONGEST = 120
"""Characters of a name shown whole; a longer one is cut to its start and end."""


def shown_path(path: Path | str) -> str:
    """``path`` whole, or its first 60 and last 40 characters when longer than ``LONGEST``."""
    text = str(path)
    return text if len(text) <= LONGEST else f"{text[:60]}...{text[-40:]}"
