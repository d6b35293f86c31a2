"""Standard output closed under a running session (``tui-trader paper | head``, a ``tee`` or a
log shipper that died): say so once on stderr and stop the session cleanly.

Without this the first write after the reader went away raised ``BrokenPipeError``; rich turns
that into ``SystemExit(1)``, so the process left at once with nothing on stderr, its session row
still ``running``, a local session's working orders never recorded as ended, and an Alpaca
session's orders working at the broker with no desk behind them. Ending is what a program whose
reader has gone does (that is what SIGPIPE means), and stopping new orders is the side to err
on; ending *cleanly* is what a trading session owes its audit trail.

``watch_stdout`` puts a guard in front of ``sys.stdout``: a write or flush that finds the pipe
closed points file descriptor 1 at ``/dev/null`` (so later prints, and the interpreter's last
flush, go nowhere instead of failing), writes one line to stderr and calls the stop that the
running session registered (``on_close``), once. A close before the session runs is remembered
(``closed``) so the run can stop before its first cycle.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import IO, Any

NOTICE = (
    "tui-trader: standard output was closed (broken pipe): stopping the session cleanly; "
    "nothing more is printed"
)


class ClosedOutputGuard:
    """A stand-in for ``sys.stdout`` that survives its reader going away (see the module)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.closed_pipe = False
        """True once a write or flush found the reader gone."""
        self.on_close: Callable[[], None] | None = None
        """What stops the running session (set while one runs)."""

    def write(self, text: str) -> int:
        """Write through; on a closed pipe, stop instead of failing."""
        if self.closed_pipe:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self) -> None:
        """Flush through; on a closed pipe, stop instead of failing."""
        if self.closed_pipe:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def stop_with(self, stop: Callable[[], None]) -> None:
        """Register the running session's stop; called at once if the reader is already gone."""
        self.on_close = stop
        if self.closed_pipe:
            stop()

    def _reader_gone(self) -> None:
        """Send what follows to /dev/null, say so once on stderr, stop the session."""
        self.closed_pipe = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no descriptor to point elsewhere: writes are dropped
            pass
        with contextlib.suppress(OSError):  # stderr gone too: nobody to tell
            print(NOTICE, file=sys.stderr, flush=True)
        if self.on_close is not None:
            self.on_close()

    def __getattr__(self, name: str) -> Any:
        """Everything else (``isatty``, ``fileno``, ``encoding``...) is the stream's."""
        return getattr(self._stream, name)


def watch_stdout() -> ClosedOutputGuard:
    """The guard in front of ``sys.stdout``, put there on the first call."""
    current = sys.stdout
    if isinstance(current, ClosedOutputGuard):
        return current
    guard = ClosedOutputGuard(current)
    sys.stdout = guard  # type: ignore[assignment]
    return guard
