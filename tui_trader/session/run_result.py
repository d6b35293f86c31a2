"""How a session's run ended: what the CLI, the desk and the tests read once it stops."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended."""

    status: str
    """``completed``, ``end_of_data``, ``stopped`` (Ctrl+C or quit) or ``failed``."""
    iterations: int
    error: str | None = None
    audit_failed: bool = False
    """The session could not go on with its audit trail (disk full, store lost or locked, its
    row recorded ended under it): ``error`` says why, in the one line on stderr."""
    stops_left: tuple[str, ...] = ()
    """Positions the session left without the exit it had cancelled, and why, one line each
    (``engine.stops_at_finish``): said where the session's end is shown."""
