"""Where the bar cache lives: ``$TUI_TRADER_CACHE_DIR``, else the user's cache directory.

Apart from ``market.cache`` (which needs polars) so that the command line can name the default
directory in ``--help`` without loading polars.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "TUI_TRADER_CACHE_DIR"
"""Environment variable that moves the cache (tests point it at a temporary directory)."""


def default_cache_dir() -> Path:
    """``$TUI_TRADER_CACHE_DIR`` if set, else the user's cache directory for tui-trader."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override:
        return Path(os.path.expanduser(override))  # '~nosuch' stays as typed: refused by name
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tui-trader", appauthor=False))
