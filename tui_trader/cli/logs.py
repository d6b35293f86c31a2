"""Where tui-trader writes about itself: the log folder, the crash log, the library log.

Both files are the owner's only (0600 in a 0700 folder) and pass through ``security.redact``:
a secret reaches neither the screen nor a file. Both are bounded: ``tui-trader.log`` rolls over
at ``LOG_MAX_BYTES`` into ``.1`` .. ``.3`` (the oldest dropped), ``crash.log`` at
``CRASH_MAX_BYTES`` into ``crash.log.1``; they grew without end before (a desk run for months,
a stream that reconnects all night)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from tui_trader.cli.common import EXIT_CRASH
from tui_trader.security.private_files import create_private_file, make_private_dir, open_private

LOG_MAX_BYTES = 5_000_000
"""``tui-trader.log``'s size at which it rolls over (~25,000 lines)."""
LOG_KEPT = 3
"""Rolled-over library logs kept (``tui-trader.log.1`` newest): at most ~20 MB in all."""
CRASH_MAX_BYTES = 1_000_000
"""``crash.log``'s size past which the next crash starts a new one (the old kept as
``crash.log.1``, the one before dropped): a few hundred tracebacks each."""


def _rolled_crash_log(path: Path) -> None:
    """Move ``crash.log`` to ``crash.log.1`` once it passed ``CRASH_MAX_BYTES``."""
    try:
        if path.stat().st_size >= CRASH_MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def log_dir() -> Path:
    """The user's log directory for tui-trader."""
    from platformdirs import user_log_dir

    return Path(user_log_dir("tui-trader", appauthor=False))


def report_crash(exc: BaseException) -> int:
    """Write the traceback to the log file and tell the user in one line where it is.

    Both pass through ``redact``: an exception raised while a request was built can quote its
    headers, and a secret must reach neither the screen nor the file."""
    from tui_trader.security.redact import describe, redact

    try:
        folder = make_private_dir(log_dir())
        path = folder / "crash.log"
        _rolled_crash_log(path)
        with open_private(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat()}\n")
            fh.write(redact("".join(traceback.format_exception(exc))))
        where = f" (details in {path})"
    except OSError:
        where = ""
    from tui_trader.core.shown import shown_line

    print(f"tui-trader: error: {shown_line(describe(exc))}{where}", file=sys.stderr)
    return EXIT_CRASH


def setup_logging() -> Path:
    """Send library logs (alpaca-py's reconnect warnings, ours) to a file, never the screen."""
    folder = make_private_dir(log_dir())
    path = folder / "tui-trader.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        create_private_file(path)  # the handler appends to it, keeping its 0600
        from tui_trader.cli.rotating_log import PrivateRotatingHandler
        from tui_trader.security.redact import LogRedactor

        handler = PrivateRotatingHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_KEPT, encoding="utf-8"
        )
        handler.addFilter(LogRedactor())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return path


def log_or_warn() -> None:
    """``setup_logging``, or, when the log folder cannot be made (a file in its place, no
    permission), one warning line on stderr and no log: the command or the desk goes on. The
    desk did so already (``app_cmd``); ``live paper`` and ``live status`` ended with
    ``error: NotADirectoryError: ...``, exit 1, before a word about the account (review29a)."""
    try:
        setup_logging()
    except OSError as exc:
        reason = exc.strerror or exc
        print(
            f"tui-trader: warning: no log file ({reason}): failed alerts and backups go unlogged",
            file=sys.stderr,
        )
