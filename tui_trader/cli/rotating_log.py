"""The library log's handler: rolls over by size, and every file it makes is the owner's only.

Apart from ``cli.logs`` so that ``logging.handlers`` (and the sockets and queues it imports) loads
only when a command opens the log, not for every ``--help``."""

from __future__ import annotations

from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from tui_trader.security.private_files import open_private


class PrivateRotatingHandler(RotatingFileHandler):
    """A ``RotatingFileHandler`` whose new files (after a roll-over) are 0600 like the first:
    the standard one opens them with the process's umask (0644 as a rule)."""

    def _open(self) -> IO[Any]:
        return open_private(
            Path(self.baseFilename), self.mode, encoding=self.encoding, errors=self.errors
        )
