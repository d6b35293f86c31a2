"""The kill switch: a press in this process, or a monitor's halt request, turned into a halt.

A press arrives from any thread (the desk's ctrl+k, a signal: ``request_kill``) and a monitor's
request from another process (a ``halt_requests`` row); the session's own thread turns them into
one ``manual_kill`` halt at its next step (``_take_kill_requests``), claiming a monitor's request
so that of two sessions reading it only one takes it. What a halt then does (cancels, flatten,
suspend) is ``engine.halts``'s; kept apart so that each file does one thing.

A mixin of ``TradingSession`` under ``SessionHalts``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tui_trader.core.domain import Account, RiskEvent
from tui_trader.risk.gate import MANUAL_KILL, RiskManager

if TYPE_CHECKING:
    from tui_trader.store.audit import AuditLog


@dataclass(slots=True)
class _KillRequest:
    """A kill-switch press waiting for the worker to act on it."""

    who: str
    flatten: bool
    reason: str


class KillSwitch:
    """Take kill-switch presses and monitors' halt requests; the session supplies its state."""

    audit: AuditLog
    risk: RiskManager
    started: bool
    wake: threading.Event
    last_account: Account | None
    _kill_lock: threading.Lock
    _kill: _KillRequest | None
    _kill_seen: str | None
    """Who asked for a kill the store holds, found before an order (``engine.kill_fence``)."""
    _kills_taken: list[int]
    """Monitor requests acted on whose halt is not recorded yet: marked taken with it."""
    _flatten_requested: bool
    _sync_risk: Callable[[], list[RiskEvent]]
    """Merge the account's risk row, adopting another process's halt (``SessionHalts``)."""

    def request_kill(self, who: str = "user", flatten: bool = False, reason: str = "") -> None:
        """Ask the session to halt at once (any thread); the worker acts before its next order."""
        with self._kill_lock:
            self._kill = _KillRequest(who, flatten, reason)
        self.wake.set()

    def kill_pressed(self) -> bool:
        """Whether a press waits for the worker (any thread; read without the lock: a press
        landing just after is taken at the worker's next step all the same)."""
        return self._kill is not None

    def _take_kill_requests(self) -> list[RiskEvent]:
        """Turn an in-process kill or a monitor's halt request into a halt. The request is
        marked taken only with its halt's record (``_record_events``, one transaction): marked
        at once, as it was, a session on a remote broker committed the mark before the halt's
        cancels and its own commit, and a process killed in between lost the press. A press
        in this process and a monitor's request taken in the same cycle make one halt that
        flattens if either asked to (the request is marked taken with it). A request is
        claimed before it is acted on (``store.kill_requests.claim``): of two sessions that
        read it at once, one halts (and flattens, if asked); the other adopts that halt from
        the account's row, or, while it is not written yet (the taker cancels first, and may
        die before), halts too without flattening: before, it traded on in that window."""
        if self._kill is None and self._kill_seen is None and not self.audit.halt_poll_due:
            return []  # nothing pressed, no poll of the database due (read without the lock:
            # a press landing now is taken next cycle, as one landing after the lock would be)
        with self._kill_lock:
            kill, self._kill = self._kill, None
        self._kill_seen = None  # a request found before an order (``KillFence``): read now
        request = self.audit.halt_requested(self._kills_taken)
        lost: list[RiskEvent] = []
        detail = ""
        if request is not None and not self.audit.claim_kill(request):
            # another live session took it since it was read: it halts the account, and this
            # one adopts that halt (read now, and fenced at every order), not halting again
            lost = self._sync_risk()
            if kill is None and not self.risk.state.halted:
                # its halt is not written yet (its cancels go first, and it may die before):
                # this session stops new orders now, without the flatten (the taker's to do)
                kill = _KillRequest(request.requested_by, False, request.reason)
                detail = (
                    f"kill switch pressed by {request.requested_by}, taken by another session "
                    "of this account (it flattens if asked); this one halts meanwhile"
                )
            request = None
        also = ""
        if request is not None:
            self._kills_taken.append(request.id)
            if kill is None:
                kill = _KillRequest(request.requested_by, request.flatten, request.reason)
                detail = request.orphaned
            else:  # both in one cycle: the request is taken too, so its flatten is done
                kill = replace(kill, flatten=kill.flatten or request.flatten)
                also = request.orphaned or f"kill switch pressed by {request.requested_by}"
                also = f"; also {also}" + (f": {request.reason}" if request.reason else "")
        if kill is None:
            return lost
        if kill.flatten:
            self._flatten_requested = True
        detail = detail or f"kill switch pressed by {kill.who}"
        detail += (f": {kill.reason}" if kill.reason else "") + also
        return [*lost, self.risk.halt(MANUAL_KILL, self._equity_known(), 0.0, detail)]

    def _equity_known(self) -> float:
        """The account's equity as last read (this cycle's read in a cycle, the last one
        between bars), for a kill's event: a kill never waits on the broker. Read from the
        broker first, as it was, the halt waited behind a spent request budget or a read
        retrying for seconds, its orders working meanwhile."""
        account = self.last_account
        return account.equity if self.started and account is not None else 0.0
