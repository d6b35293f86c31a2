"""Stop signals for the terminal commands: Ctrl+C, SIGTERM (``kill``, a service or container
stop) and SIGHUP (a closed terminal).

The first one asks the command to stop cleanly; a second one leaves at once.

A Python signal handler runs on the main thread between two of its bytecodes, possibly while
that thread holds a lock: the condition inside a ``threading.Event`` it is clearing or waiting
on, the console's, a buffered stream's. Whatever the handler does that needs such a lock waits
for itself, for ever. ``SessionRunner.stop`` sets two events, and calling it from the handler
hung ``live paper`` after a SIGHUP (the process printed "stopping after this iteration" and
never stopped: the signal had landed while the runner cleared its wake event). So the handler
takes no lock: it writes the signal's number to a pipe (``os.write`` is a system call) and a
thread of its own reads it and does the work there, where waiting for a lock is only waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from rich.console import Console

from tui_trader.cli.closed_output import on_terminal

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that end a session cleanly: Ctrl+C, ``kill``/a service stop, a closed terminal."""

AFTER_THIS_CYCLE = "stopping after this iteration"


@contextlib.contextmanager
def ctrl_c(
    stop: Callable[[], None], console: Console, doing: str = AFTER_THIS_CYCLE
) -> Iterator[None]:
    """Ctrl+C, SIGTERM or SIGHUP call ``stop`` (on the relay thread) and print ``doing``;
    a second one leaves at once, while the block runs.

    After a first signal the handlers stay installed: a second one, even during shutdown,
    exits at once."""
    interrupt = Interrupt(stop, console, doing)
    previous = {signum: signal.signal(signum, interrupt.handle) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        if not interrupt.presses:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        interrupt.close()


class RunStop:
    """The stop a signal asks for from the end of the start on: remembered until the run
    exists, then passed on to it.

    Between a session's start (``stopped_raised``) and its first cycle the command prints the
    header, asks the broker for the account and attaches alerts; a stop signal there met
    Python's defaults (SIGTERM and SIGHUP ended the process where it stood, Ctrl+C left with
    ``interrupted``) and the session row stayed ``running``. ``ctrl_c(RunStop())`` covers that
    window: a signal there is remembered, and the run, once it registers its own stop
    (``attach``), stops before its first cycle and ends its row ``stopped``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self.requested = False
        """True once a stop signal asked the run to stop."""

    def __call__(self) -> None:
        """A stop signal (on the relay thread): stop the run, or remember it for the run."""
        with self._lock:
            self.requested = True  # the signal's handler set it already (``Interrupt``)
            stop = self._stop
        if stop is not None:
            stop()

    def attach(self, stop: Callable[[], None]) -> None:
        """The run's own stop; called at once if a signal came before the run existed."""
        with self._lock:
            self._stop = stop
            requested = self.requested
        if requested:
            stop()


class Stopped(KeyboardInterrupt):
    """A stop signal ended a command that has nothing to finish cleanly, only to undo (a
    backup's unfinished copy). A ``KeyboardInterrupt``, so whatever does not handle it ends as
    Ctrl+C does: ``interrupted``, exit 130."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by this signal: 130 for Ctrl+C, 143 for
        SIGTERM, 129 for SIGHUP."""
        return 128 + self.signum


def stopped_while_starting(stop: Stopped) -> int:
    """Say in one line that a stop signal ended a session as it started (its row then says
    ``stopped``: ``session.stopped_start``); the exit code the shell gives that signal."""
    name = "Ctrl+C" if stop.signum == signal.SIGINT else signal.Signals(stop.signum).name
    with contextlib.suppress(OSError):  # the terminal gone (SIGHUP): nobody to tell
        print(f"{name}: stopped while the session started, before its first cycle", file=sys.stderr)
    return stop.exit_code


class Taken(list[int]):
    """The stop signals ``stopped_raised`` took in its block (the first was raised). Not empty
    after a block that ended normally: a step inside caught the ``Stopped`` and went on (a
    library's ``except BaseException``, a retry loop), and the caller stops all the same."""

    @property
    def stop(self) -> Stopped | None:
        """The stop the first signal asked for, or None if none came."""
        return Stopped(self[0]) if self else None


@contextlib.contextmanager
def stopped_raised() -> Iterator[Taken]:
    """Ctrl+C, SIGTERM or SIGHUP raise ``Stopped`` in the block (the default SIGTERM and
    SIGHUP ended the process where it stood, with no ``finally`` run). Only the first is
    raised: the ones after it are ignored while the block undoes its work (a file to delete),
    which a second exception would cut short. Off the main thread (a command run in-process
    by a test or an embedding program) Python installs no handler: the block runs as is.

    The block gets the signals taken (``Taken``): one swallowed inside the block (the start
    went on, and the desk traded with its trader's Ctrl+C lost, campaign32) is still there
    once it ends, for the caller to stop on."""
    raised = Taken()
    if threading.current_thread() is not threading.main_thread():
        yield raised
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if raised:
            return
        raised.append(signum)
        if signum == getattr(signal, "SIGHUP", None):
            _detach_from_terminal()
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}
    try:
        yield raised
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Interrupt:
    """First Ctrl+C (or SIGTERM, SIGHUP): stop after this cycle. Second: leave at once.

    Leaving at once is ``os._exit``: no cleanup code runs that a third press could interrupt
    into a traceback, and SQLite's write-ahead log keeps every committed cycle and rolls back
    the one in flight, so the database stays whole.
    """

    def __init__(
        self, stop: Callable[[], None], console: Console, doing: str = AFTER_THIS_CYCLE
    ) -> None:
        """``stop`` asks the run to end after the cycle in progress (called on the relay
        thread, never inside the signal handler)."""
        self.stop = stop
        self.console = console
        self.doing = doing
        self.presses = 0
        self._read, self._write = os.pipe()
        self._relay = threading.Thread(target=self._relay_signals, name="stop-signals", daemon=True)
        self._relay.start()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The handler of every stop signal: system calls only, no lock (see the module)."""
        self.presses += 1
        if self.presses == 1:
            if isinstance(self.stop, RunStop):  # an attribute set: no lock taken
                self.stop.requested = True  # a run that starts from now on never cycles
            if signum == getattr(signal, "SIGHUP", None):
                _detach_from_terminal()
            with contextlib.suppress(OSError):
                os.write(self._write, bytes([signum]))
            return
        with contextlib.suppress(Exception):
            sys.stdout.flush()  # a buffered stream refuses a re-entrant call; it never waits
        with contextlib.suppress(OSError):
            os.write(2, b"interrupted: leaving now\n")
        os._exit(130)

    def close(self) -> None:
        """End the relay once it has delivered what it was sent (so its line comes before
        the summary)."""
        with contextlib.suppress(OSError):
            os.close(self._write)
        self._relay.join(timeout=5)

    def _relay_signals(self) -> None:
        """The relay thread: for the first signal, say so and call ``stop``."""
        try:
            while data := os.read(self._read, 1):
                self._first(data[0])
        finally:
            os.close(self._read)

    def _first(self, signum: int) -> None:
        """Print what the first signal does, then ask the run to stop."""
        name = "Ctrl+C" if signum == signal.SIGINT else signal.Signals(signum).name
        try:  # rich raises SystemExit on a closed pipe: it ended this thread before ``stop``,
            # and a command whose output went to a reader that had quit never stopped
            with contextlib.suppress(Exception, SystemExit):
                self.console.print(f"[yellow]{name}: {self.doing} (Ctrl+C again to quit now)[/]")
        finally:
            self.stop()


def _detach_from_terminal() -> None:
    """After a hang-up the terminal is gone and writing to it fails (EIO): send what is left of
    the output to /dev/null, so the session still ends as it would after Ctrl+C. An output
    that is a file or a pipe (``2>>desk.log``) is kept."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            if on_terminal(fd):
                os.dup2(devnull, fd)
        os.close(devnull)
