"""The ``tui-trader`` command's first step: a Ctrl+C while the command line loads ends quietly.

The console script imports the command line before it runs it, and that import (Textual-free,
but the whole option table and its helpers) takes a tenth of a second or more on a busy
machine. A Ctrl+C in that tenth printed Python's traceback of the import (crash29): the promise
of ``tui_trader.cli`` (never a traceback) starts only once it is loaded. This module loads it
under a guard and says ``interrupted``, exit 130, as the command line does for a Ctrl+C later.
It imports nothing of its own before the guard, so the window left is the interpreter's start.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130
"""Exit code of a command stopped by Ctrl+C (128 + SIGINT), as ``tui_trader.cli`` uses."""


def main() -> int:
    """Load the command line and run it; ``interrupted`` and 130 for a Ctrl+C while it loads."""
    try:
        from tui_trader.cli import main as run
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    return run()
