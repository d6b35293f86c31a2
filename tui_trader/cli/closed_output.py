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

A terminal that hangs up (its window closed, ``tmux kill-session``, a dropped SSH link) is the
same for the output: every write to it fails with EIO. A session's cycle line often hits that
before the hang-up's SIGHUP is handled (``cli.stop_signals``), and the error failed the session
(``session_error: OSError: [Errno 5] Input/output error``: the account halted until reset, a
crash log); so EIO is taken as the reader gone too, with its own line (``HUNG_UP``), which goes
to stderr if stderr is still somewhere.

A write that fails otherwise (``> /dev/full``, a full disk or an I/O error under a redirect)
is handled alike, its reason kept (``write_error``): a session stops cleanly saying so, and
``cli.main`` ends any command with one line and exit 2 instead of a crash report (``status >
/dev/full`` ended with "OSError: [Errno 28] No space left on device" and a crash log). The
session's output is not its audit trail: an unwritable log stops the session, it does not fail
it (an Alpaca account halted until reset by a full disk under a log file).

Every other command runs behind the same guard (``cli.main`` puts it there with
``session=False``): ``tui-trader fleet | head -1`` or ``config show | true`` ended in
``BrokenPipeError`` (exit 1, a crash log). Such a command finishes its work, its output going
nowhere, and exits as it would have, quietly: the reader left on purpose.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from typing import IO, Any

NOTICE = (
    "tui-trader: standard output was closed (broken pipe): stopping the session cleanly; "
    "nothing more is printed"
)
HUNG_UP = (
    "tui-trader: the terminal was closed (hung up): stopping the session cleanly; nothing more "
    "is printed"
)


class ClosedOutputGuard:
    """A stand-in for ``sys.stdout`` that survives its reader going away (see the module)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.closed_pipe = False
        """True once a write or flush found the reader gone."""
        self.notice = NOTICE
        """The line that says how the reader went (a closed pipe, a hung-up terminal)."""
        self.write_error = ""
        """Why standard output could not be written, other than a closed pipe or a hung-up
        terminal ("" if it could)."""
        self.on_close: Callable[[], None] | None = None
        """What stops the running session (set while one runs)."""
        self.session = False
        """True once a session command took the guard: a close is then said on stderr."""

    def write(self, text: str) -> int:
        """Write through; on a closed pipe, stop instead of failing."""
        if self.closed_pipe:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._reader_gone(exc)
            return len(text)

    def flush(self) -> None:
        """Flush through; on a closed pipe, stop instead of failing."""
        if self.closed_pipe:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            self._reader_gone(exc)

    def stop_with(self, stop: Callable[[], None]) -> None:
        """Register the running session's stop; called at once if the reader is already gone."""
        self.on_close = stop
        if self.closed_pipe:
            stop()

    def _reader_gone(self, exc: OSError) -> None:
        """Send what follows to /dev/null, say so once on stderr, stop the session. How the
        line reads: a closed pipe, a terminal that hung up (EIO on a terminal), or why the
        output cannot be written (``write_error``: EIO from a file is a failing disk)."""
        if exc.errno == errno.EIO and self._on_a_device():
            self.notice = HUNG_UP
        elif exc.errno != errno.EPIPE:
            self.write_error = exc.strerror or str(exc)
            why = f"cannot be written ({self.write_error})"
            self.notice = NOTICE.replace("was closed (broken pipe)", why)
        self.closed_pipe = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no descriptor to point elsewhere: writes are dropped
            pass
        if self.session:
            self.say_closed()
        if self.on_close is not None:
            self.on_close()

    def _on_a_device(self) -> bool:
        """True if the output is a terminal, hung up or not (``on_terminal``)."""
        try:
            return on_terminal(self._stream.fileno())
        except (OSError, ValueError):
            return False

    def say_closed(self) -> None:
        """The one line a session's stop on a closed output gives, on stderr."""
        with contextlib.suppress(OSError):  # stderr gone too: nobody to tell
            print(self.notice, file=sys.stderr, flush=True)

    def __getattr__(self, name: str) -> Any:
        """Everything else (``isatty``, ``fileno``, ``encoding``...) is the stream's."""
        return getattr(self._stream, name)


def watch_stdout(session: bool = True) -> ClosedOutputGuard:
    """The guard in front of ``sys.stdout``, put there on the first call. ``session``: a
    session command takes it (a close is said, at once if it came before); ``cli.main`` takes
    it for every command with False."""
    current = sys.stdout
    if isinstance(current, ClosedOutputGuard):
        guard = current
    else:
        guard = ClosedOutputGuard(current)
        sys.stdout = guard  # type: ignore[assignment]
    if session and not guard.session and guard.closed_pipe:
        guard.say_closed()
    guard.session = session
    return guard


def on_terminal(fd: int) -> bool:
    """True if ``fd`` is a terminal, or one that hung up: once its window closed (or ``tmux
    kill-session``), ``isatty`` calls it no terminal at all, and only a write says it is gone
    (an empty write is a no-op anywhere else). Also ``cli.stop_signals``' test before it
    points a hung-up terminal at /dev/null."""
    if os.isatty(fd):
        return True
    try:
        os.write(fd, b"")
    except OSError as exc:
        return exc.errno == errno.EIO
    return False
