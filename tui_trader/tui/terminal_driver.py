"""The desk's terminal driver: Textual's Linux driver, safe for a terminal that goes away.

Textual writes to the terminal through a thread with a 30-write queue. When the terminal goes
away (a closed window, ``tmux kill-session``, a dropped SSH link) that thread dies on its first
failed write; the next 30 writes fill its queue, and the one after blocks the app's event loop
for ever. The hang-up signal that should stop the session is then never handled: the desk
hangs instead of ending its session (eleven such desks were found left over from the desk's
benchmark). Here a write never waits on a dead thread: while the thread lives a write waits in
short slices (a paused terminal still holds the desk back, as it should); once the thread is
dead the write is dropped, since nobody is left to read it.
"""

from __future__ import annotations

import os
import sys
from queue import Full

from textual.drivers.linux_driver import LinuxDriver

WRITE_SLICE_S = 0.25
"""How long one attempt to queue a write waits before checking that the writer still lives."""

CLOSE_WAIT_S = 5.0
"""How long quitting waits for the last writes to reach a terminal that has stopped reading."""


def missing_terminal() -> str | None:
    """Which standard stream the desk's terminal driver needs is no terminal, or None.

    The driver reads keys from standard input and draws on standard error. Without a terminal
    there (``tui-trader < /dev/null``, ``2> log``, a cron job) the desk drew into the void and
    waited for keys that never came, for ever; with standard input closed (``<&-``) Textual's
    driver crashed with a traceback. None when a driver is named in the environment (the
    browser front's, ``TEXTUAL_DRIVER``) or on Windows (another driver)."""
    if os.environ.get("TEXTUAL_DRIVER") or sys.platform == "win32":
        return None
    for fd, name in ((0, "standard input"), (2, "standard error")):
        try:
            if not os.isatty(fd):
                return name
        except OSError:
            return name
    return None


class DeskDriver(LinuxDriver):
    """Textual's Linux driver whose writes and close never block on a dead output thread."""

    def write(self, data: str) -> None:
        """Queue ``data`` for the terminal, or drop it once the terminal is gone."""
        writer = self._writer_thread
        assert writer is not None, "Driver must be in application mode"
        _offer(writer, data)

    def close(self) -> None:
        """Stop the output thread: its last writes go out if the terminal still reads them."""
        writer = self._writer_thread
        if writer is None:
            return
        _offer(writer, None)
        writer.join(timeout=CLOSE_WAIT_S)


def _offer(writer, item: str | None) -> None:
    """Put ``item`` on the writer's queue while the writer lives; give up once it has died."""
    queue = writer._queue  # Textual's WriterThread keeps no public handle on its queue
    while writer.is_alive():
        try:
            queue.put(item, timeout=WRITE_SLICE_S)
            return
        except Full:
            continue
