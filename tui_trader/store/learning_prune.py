"""Trimming the learning history: the only rows ``tui-trader db prune`` deletes.

Every decision cycle appends ~50 learning rows (one per regime and strategy weight, one per
symbol's regime call, one per shadow record), running or halted: the shadow records go on
learning from the market while nothing trades. That is 95% of the rows a desk writes (a
desk at its 0.5 s pace: ~400,000 rows an hour, README "How big the database gets"). Only the
latest cycle of each strategy set is ever read back (``store.learning_journal.load``: a new
session's start); the rest is history of what the desk believed, for a user's own queries.

So rows written before a date the user names are deleted, except the latest saved cycle of
each strategy set, whatever its date: the learning's next start is the same after a prune as
before it. Orders, fills, trades, account snapshots (reports and start-up reconciliation read
them), risk events, risk state, halts, claims, alerts and sessions are never touched.

Deletes run in batches of ``BATCH`` rows, each its own short transaction, oldest first, so a
desk running on the database waits at most one batch for its next commit, never the whole
prune; a prune interrupted keeps the batches done and no half of one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from peewee import Database, fn

from tui_trader.store.learning_models import (
    LEARNING_MODELS,
    LearningWeightRow,
)
from tui_trader.store.models import BaseModel

BATCH = 5_000
"""Rows deleted per transaction (~10-50 ms on SQLite): the longest a running desk's commit
waits for a prune."""


@dataclass(frozen=True, slots=True)
class Kept:
    """The cycles a prune keeps whatever their date: the latest of each strategy set."""

    cycles: tuple[tuple[Any, Any], ...]
    """``(session_id, iteration)`` of each strategy set's latest saved cycle."""

    def condition(self, model: type[BaseModel]) -> Any:
        """Whether a row of ``model`` belongs to one of the kept cycles."""
        if not self.cycles:
            return None
        each = [
            (model.session == session) & (model.iteration == cycle)
            for session, cycle in self.cycles
        ]
        return reduce(or_, each)


def kept_cycles() -> Kept:
    """The latest saved cycle of each strategy set (what a new session restores)."""
    latest = (
        LearningWeightRow.select(fn.MAX(LearningWeightRow.id))
        .group_by(LearningWeightRow.strategies)
        .tuples()
    )
    ids = [row_id for (row_id,) in latest if row_id is not None]
    if not ids:
        return Kept(())
    rows = (
        LearningWeightRow.select(LearningWeightRow.session, LearningWeightRow.iteration)
        .where(LearningWeightRow.id.in_(ids))
        .tuples()
    )
    return Kept(tuple(sorted({(session, cycle) for session, cycle in rows}, key=repr)))


def _older(model: type[BaseModel], before: datetime, kept: Kept) -> Any:
    """Rows of ``model`` written before ``before`` and in no kept cycle."""
    condition = model.timestamp < before
    keep = kept.condition(model)
    return condition if keep is None else condition & ~keep


def count_older(before: datetime, kept: Kept) -> dict[str, int]:
    """Rows per learning table a prune before ``before`` deletes."""
    return {
        model._meta.table_name: model.select().where(_older(model, before, kept)).count()
        for model in LEARNING_MODELS
    }


def prune_older(
    db: Database,
    before: datetime,
    kept: Kept,
    done: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Delete the learning rows written before ``before`` (naive UTC, as stored), keeping the
    ``kept`` cycles, ``BATCH`` rows per transaction; returns rows deleted per table.
    ``done(table, rows)`` is called after each batch committed."""
    deleted: dict[str, int] = {}
    for model in LEARNING_MODELS:
        table = model._meta.table_name
        deleted[table] = 0
        while True:
            batch = (
                model.select(model.id)
                .where(_older(model, before, kept))
                .order_by(model.id)
                .limit(BATCH)
            )
            with db.atomic():
                gone = model.delete().where(model.id.in_(batch)).execute()
            if not gone:
                break
            deleted[table] += gone
            if done is not None:
                done(table, deleted[table])
    return deleted
