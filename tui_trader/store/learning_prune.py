"""Trimming the learning history: the only rows ``tui-trader db prune`` deletes.

Every decision cycle appends ~23 learning rows (a regime call per symbol, and the weights and
shadow records that changed), running or halted: the shadow records go on learning from the
market while nothing trades. That is most of the rows a desk writes (README "How big the
database gets"). Only the latest learning of each strategy set is ever read back
(``store.learning_journal.load``: a new session's start, from the restore window of the session
that saved last, ``store.learning_window``); the rest is history of what the desk believed, for
a user's own queries.

So rows written before a date the user names are deleted, except what a start may restore
(``Kept``: each key's newest row of each strategy set's latest session and of every session
still running), whatever its date: the learning's next start is the same after a prune as
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
from typing import Any

from peewee import Database, fn

from tui_trader.store.learning_models import (
    LEARNING_MODELS,
    LearningWeightRow,
    RegimeCallRow,
)
from tui_trader.store.learning_window import KEYFRAME, newest_by_key, recent_rows
from tui_trader.store.models import BaseModel, SessionRow

BATCH = 5_000
"""Rows deleted per transaction (~10-50 ms on SQLite): the longest a running desk's commit
waits for a prune."""


@dataclass(frozen=True, slots=True)
class Kept:
    """The rows a prune keeps whatever their date: what a start may restore from each strategy
    set's latest session and from every session still marked running (one may save again and
    be the one the next start restores): each key's newest weight and shadow row in the
    session's restore window (``store.learning_window``), and its last cycle's regime calls."""

    ids: dict[str, tuple[Any, ...]]
    """The ids kept, per learning table."""
    sets: int = 0
    """Strategy sets whose latest learning is kept."""

    def condition(self, model: type[BaseModel]) -> Any:
        """Whether a row of ``model`` is one of the kept."""
        ids = self.ids.get(model._meta.table_name)
        return model.id.in_(ids) if ids else None


def kept_cycles() -> Kept:
    """The rows a prune keeps (what any next start may read), and how many strategy sets."""
    latest = (
        LearningWeightRow.select(fn.MAX(LearningWeightRow.id))
        .group_by(LearningWeightRow.strategies)
        .tuples()
    )
    ids = [row_id for (row_id,) in latest if row_id is not None]
    sessions = {
        session
        for (session,) in LearningWeightRow.select(LearningWeightRow.session)
        .where(LearningWeightRow.id.in_(ids))
        .tuples()
    }
    running = SessionRow.select(SessionRow.id).where(SessionRow.status == "running").tuples()
    sessions |= {session for (session,) in running}
    kept: dict[str, list[Any]] = {model._meta.table_name: [] for model in LEARNING_MODELS}
    for session in sorted(sessions, key=repr):
        for model in LEARNING_MODELS:
            where = model.session == session
            if model is RegimeCallRow:  # every cycle's: the last cycle's
                rows = recent_rows(model, where, (), 1)
            else:  # each key's newest (weights: of each strategy set the session saved)
                key = (model.regime, model.strategy)
                if model is LearningWeightRow:
                    key = (model.strategies, *key)
                rows = newest_by_key(recent_rows(model, where, key, KEYFRAME), len(key))
            kept[model._meta.table_name].extend(row[0] for row in rows)
    return Kept({table: tuple(ids) for table, ids in kept.items()}, len(ids))


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
