"""What a ticker symbol may look like, the one rule for every place symbols come from.

``--symbols`` on the command line, the setup screen and the symbols inside a replay file are all
held to it: an upper-case letter first, then up to nine letters, digits, dots or dashes
(``BRK.B``, ``BF-B``), ASCII only.
"""

from __future__ import annotations

import re

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$", re.ASCII)
TICKER_RULE = "an upper-case letter, then up to 9 letters, digits, '.' or '-'"
"""The rule in words, for a refusal."""
MAX_SESSION_SYMBOLS = 1_000
"""The most symbols one trading session takes (``--symbols``, a settings file, the desk's
setup form, a replay file). A pasted universe of 5,000 ran 8.5 s for a 3-cycle ``--data sim``
session (its warm-up alone is 300,000 symbol-bars) and could not trade: the account split
5,000 ways left each position $20, less than one share of nearly every symbol, so the session
printed one note per symbol and sent no order."""


def too_many_symbols(count: int) -> str | None:
    """The refusal of a session of ``count`` symbols, or None when it is within the bound."""
    if count <= MAX_SESSION_SYMBOLS:
        return None
    return f"{count:,} symbols: a session trades at most {MAX_SESSION_SYMBOLS:,}"


def bad_symbols(symbols: list[str] | tuple[str, ...]) -> list[str]:
    """The symbols that break the rule, in the order given."""
    return [s for s in symbols if not isinstance(s, str) or not SYMBOL_RE.match(s)]
