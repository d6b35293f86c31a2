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


def bad_symbols(symbols: list[str] | tuple[str, ...]) -> list[str]:
    """The symbols that break the rule, in the order given."""
    return [s for s in symbols if not isinstance(s, str) or not SYMBOL_RE.match(s)]
