"""The account's shared risk-state row as a session's cycles read, merge and count it (the
``AuditLog``'s side of ``store.risk_store``): the merge at each cycle or commit, and the day's
order slots taken before each order is sent (``reserve_order``) and given back when it is not.

A mixin of ``store.batching.CycleTransactions``, which owns the transactions these run in (see
that module for when a cycle's writes commit and why the risk row's write lock matters).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tui_trader.risk.merge import merge_risk_state
from tui_trader.risk.state import RiskState
from tui_trader.store.risk_store import (
    add_reserved_orders,
    read_risk_state,
    release_order_slot,
    reserve_order_slot,
    sync_risk_state,
)


class AccountRiskRows:
    """Reading, merging and counting the account's risk row (see the module)."""

    db: Any
    commit_every: int
    _batch: Any
    _risk_state: RiskState | None
    _risk_base: RiskState | None
    _risk_merged: tuple[RiskState, RiskState] | None
    _local_cycles = 0
    """Open local cycle transactions (``_LocalCycle``): their order rows wait for its end."""
    _reserved = 0
    """Order slots a local cycle counted against the locked risk row (``reserve_order``)."""
    _risk_locked = False
    """True while this local cycle's transaction holds the risk row's write lock."""

    def load_risk(self, account_key: str) -> RiskState:
        """The account's risk state as the database holds it (the start of every merge)."""
        state = read_risk_state(self.db, account_key) or RiskState(account_key=account_key)
        self._risk_base = state
        self._reserved = 0
        self._risk_locked = False
        return state

    def _write_risk(self, mine: RiskState) -> RiskState:
        """Merge ``mine`` into the account's row now; the row as written. Inside a local
        cycle the row's write lock is then this cycle's until it commits."""
        merged = sync_risk_state(self.db, self._risk_base, mine)
        self._risk_base = merged
        self._reserved = 0  # the merge added them (``mine`` counts them)
        self._risk_locked = self._local_cycles > 0
        return merged

    @contextlib.contextmanager
    def risk_rolls_back(
        self, transaction: contextlib.AbstractContextManager[Any]
    ) -> Iterator[None]:
        """Run the block in ``transaction``; should it roll back (an error inside, or its
        commit refused: a PostgreSQL server lost at ``COMMIT``, a disk I/O error), what this
        log believes the account's row holds (``_risk_base``) goes back with it. Kept, a halt
        merged in the lost transaction read as already written: the failure's own halt
        (``session.runner``) then found nothing to write, and the account's row stayed
        active under an event saying trading halted until reset (the next start traded)."""
        base = self._risk_base
        try:
            with transaction:
                yield
        except BaseException:
            self._risk_base = base
            raise

    def sync_risk(self, mine: RiskState) -> RiskState:
        """The session's risk state merged with the account's row: read, merged and written
        now when cycles commit one by one; within batches of cycles, what the last commit's
        merge found is merged in memory (no SQL per cycle)."""
        if self.commit_every == 1:
            return self._write_risk(mine)
        pending, self._risk_merged = self._risk_merged, None
        if pending is None:
            return mine
        sent, merged = pending
        return merge_risk_state(merged, sent, mine)

    def save_risk_state(self, state: RiskState) -> RiskState:
        """Merge the risk manager's memory into its account's row (within a batch: at its
        commit); returns the state the session goes on with."""
        if self._batch is not None:
            self._risk_state = state
            return state
        if state == self._risk_base:
            return state  # nothing changed since the last merge
        return self._write_risk(state)

    def reserve_order(self, state: RiskState, limit: int) -> tuple[bool, RiskState]:
        """Take a slot of the account's daily order count for one order the risk manager
        passed: ``(True, state)`` with the order counted, ``(False, state)`` at the limit.

        Cycles that commit one by one reserve in the database with one conditional update,
        so the limit holds across processes. Inside a local cycle whose transaction already
        merged the account's row (``_write_risk`` took its write lock, held until the cycle
        commits), nobody else can change the count meanwhile: the slots are counted against
        the row as read and added to it before the commit (``_flush_reserved``), the same
        limit for one statement less per order. Batched replay cycles keep the count in
        memory (the replay's account is its own) and add it to the row at each commit.

        An order decided while ``state`` says the account is active is fenced: where slots
        are reserved in the database, the reservation also requires the account's row not
        halted, and if another process halted it since this session read it, the answer is
        ``(False, the row)``: the order must not be sent (the caller says so and leaves the
        halt to be adopted and acted on as the cycle saves its state). A halted session's own
        orders (a flatten, protective exits) are not fenced.

        A row missing, or on another trading day than ``state`` (another process began the
        next day since this cycle's merge), is merged first and the slot taken on the merged
        row's day; the state returned is then the merged row's (the session goes on with it).
        """
        if self.commit_every > 1:
            count = state.orders_today
            return (False, state) if count >= limit else (True, state.with_orders(count + 1))
        base = self._risk_base
        if self._risk_locked and base is not None and state.day == base.day:
            count = base.orders_today + self._reserved
            if count >= limit:
                return False, state.with_orders(count)
            self._reserved += 1
            return True, state.with_orders(count + 1)
        key, fence = state.account_key, not state.halted
        ok, count = reserve_order_slot(self.db, key, state.day, limit, fence)
        if not ok and fence:
            row = read_risk_state(self.db, key)
            if row is not None and row.halted:  # halted elsewhere since: fenced off
                return False, row
        if not ok and count < limit:  # the row is missing or on another day: merge, retry
            # on the row as merged: another process may have begun a later trading day since
            # this cycle's merge (the order is that day's), and a state other than the merged
            # base would read as this session's changes at its next merge (a lower peak: a reset)
            state = self._write_risk(state)
            ok, count = reserve_order_slot(self.db, key, state.day, limit, fence)
        if self._risk_base is not None:
            self._risk_base = self._risk_base.with_orders(count)
        return ok, state.with_orders(count)

    def release_order(self, state: RiskState) -> RiskState:
        """Give back the slot ``reserve_order`` just took for an order then not sent (it
        waits for a stop's cancel: ``engine.order_send``); ``state`` with the count as now."""
        if self.commit_every > 1:  # counted in memory only
            return state.with_orders(max(state.orders_today - 1, 0))
        base = self._risk_base
        if self._risk_locked and base is not None and state.day == base.day:
            self._reserved = max(self._reserved - 1, 0)
            return state.with_orders(base.orders_today + self._reserved)
        count = release_order_slot(self.db, state.account_key, state.day)
        if count is None:  # the row is on another day: that slot is not today's to give back
            return state
        if self._risk_base is not None:
            self._risk_base = self._risk_base.with_orders(count)
        return state.with_orders(count)

    def _flush_reserved(self) -> None:
        """Add the slots a local cycle reserved since its last merge to the account's row
        (still under the cycle's write lock), and let go of the lock's knowledge."""
        reserved, self._reserved = self._reserved, 0
        self._risk_locked = False
        if reserved and self._risk_base is not None:
            base = self._risk_base
            self._risk_base = add_reserved_orders(self.db, base, reserved)
