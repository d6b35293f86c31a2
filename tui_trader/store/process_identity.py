"""Which process runs a session, and is that very process still there? Asked of the kernel.

A process id alone says little: after a process ends, the kernel may give its id to another
program. On Linux a process is named for good by three things the kernel keeps and no wall clock
touches: its id, its start time (``/proc/<pid>/stat`` field 22, clock ticks since boot) and the
boot it runs in (``/proc/sys/kernel/random/boot_id``, new at every boot). A session records them
when it starts; another process on the same machine then asks ``/proc`` whether that very
process still exists (``look_up``).

``uptime`` is the machine's boot clock (``/proc/uptime``: seconds since boot, counting time
spent suspended). Every process of one boot reads the same value, whatever its wall clock says:
a clock stepped by NTP or by hand, or a process run under libfaketime (which fakes the clock
calls, not the reading of a file). A heartbeat stamped with it can be aged by any process of the
same boot (``store.liveness``).

Where ``/proc`` is missing (another system, a sandbox without it) every function here returns
``None`` or ``UNKNOWN``, and liveness falls back to the heartbeat's wall-clock time.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
"""The kernel's process file system (a test may point it at a folder without it)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """What names one process of one boot of one machine, for good."""

    pid: int
    start: int
    """Clock ticks after boot at which the process started (``/proc/<pid>/stat`` field 22)."""
    boot_id: str
    """The boot it runs in (``/proc/sys/kernel/random/boot_id``)."""


class Found(enum.Enum):
    """What ``/proc`` says of a recorded process."""

    THERE = "there"
    """The very process (same id, same start, same boot) still exists, running or stopped."""
    GONE = "gone"
    """No process has its id any more, or it has exited (a zombie no one has reaped yet)."""
    REUSED = "reused"
    """Its id now belongs to a process that started later: another program."""
    REBOOTED = "rebooted"
    """The machine has started again since: every process of the old boot is gone."""
    UNKNOWN = "unknown"
    """``/proc`` cannot tell (missing, or the process is hidden from this user)."""


_BOOT: dict[Path, str | None] = {}
"""This boot's id, read once per ``PROC`` (it cannot change while this process lives)."""


def boot_id() -> str | None:
    """This boot's id, or ``None`` without ``/proc``."""
    if PROC not in _BOOT:
        try:
            _BOOT[PROC] = (PROC / "sys/kernel/random/boot_id").read_text().strip() or None
        except OSError:
            _BOOT[PROC] = None
    return _BOOT[PROC]


def uptime() -> float | None:
    """Seconds since this machine booted (time suspended included), or ``None`` without
    ``/proc``: the clock a same-machine heartbeat is aged by."""
    try:
        return float((PROC / "uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time of process ``pid``, or ``None`` if ``/proc`` has no
    such process. The command name (field 2) may hold spaces and parentheses: the fields
    after it are counted from its last ``)``."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    try:
        fields = text[text.rindex(")") + 2 :].split()
        return fields[0], int(fields[19])  # fields 3 and 22
    except (ValueError, IndexError):
        return None


def is_stopped(pid: int) -> bool:
    """True if process ``pid`` of this machine is stopped (SIGSTOP, Ctrl+Z, a debugger:
    state ``T`` or ``t``); False if it runs or ``/proc`` has no such process."""
    stat = _stat(pid)
    return stat is not None and stat[0] in ("T", "t")


_OWN: dict[int, Identity | None] = {}
"""This process's identity, by pid (a forked child is a new process)."""


def own_identity() -> Identity | None:
    """This process's identity, or ``None`` without ``/proc``."""
    pid = os.getpid()
    if pid not in _OWN:
        boot, stat = boot_id(), _stat(pid)
        _OWN[pid] = Identity(pid, stat[1], boot) if boot and stat else None
    return _OWN[pid]


def look_up(pid: int, start: int, boot: str) -> Found:
    """Does the process recorded as ``(pid, start, boot)`` still exist on this machine?"""
    now_boot = boot_id()
    if now_boot is None:
        return Found.UNKNOWN
    if now_boot != boot:
        return Found.REBOOTED
    stat = _stat(pid)
    if stat is None:
        # not in /proc: gone, unless the kernel still knows the id (/proc mounted with
        # hidepid hides other users' processes): then /proc cannot tell
        return Found.UNKNOWN if _id_in_use(pid) else Found.GONE
    state, started = stat
    if started != start:
        return Found.REUSED
    if state in ("Z", "X"):
        return Found.GONE
    return Found.THERE


def _id_in_use(pid: int) -> bool:
    """True if some process (maybe another user's) has the id ``pid``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, and is not ours
        return True
    return True
