"""Helpers of the ``db prune`` tests: adaptive sessions on a frozen clock, row counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from peewee import fn

from tui_trader.core.clock import FrozenClock
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.setup import LearningSettings
from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.store.db import open_database
from tui_trader.store.learning_models import (
    LEARNING_MODELS,
    LearningWeightRow,
    RegimeCallRow,
    ShadowRow,
)
from tui_trader.store.models import MODELS
from tui_trader.store.pg_url import PgUrl

START = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
"""The learning rows' time: the sessions' frozen clock (before every --before used here)."""


def run_adaptive(db: Path | PgUrl, cycles: int, start: datetime = START) -> dict:
    """A finished local adaptive session of ``cycles`` cycles; its learned weights."""
    clock = FrozenClock(start, step=timedelta(seconds=1))
    settings = LocalSettings(db=db, seed=7, learning=LearningSettings(weights="adaptive"))
    session = build_local_session(settings, clock)
    for _ in range(cycles):
        session.run_iteration()
    session.finish("completed")
    assert isinstance(session.allocator, AdaptiveAllocator)
    return flat(session.allocator.weights.table)


def flat(table: dict) -> dict[tuple[str, str], float]:
    """Weights by (regime, strategy)."""
    return {(regime, name): w for regime, by in table.items() for name, w in by.items()}


def rows_per_table(db: Path | PgUrl) -> dict[str, int]:
    """Rows per table, every table."""
    opened = open_database(db)
    try:
        return {m._meta.table_name: m.select().count() for m in (*MODELS, *LEARNING_MODELS)}
    finally:
        opened.close()


def latest_rows(db: Path | PgUrl) -> dict[str, int]:
    """Rows per learning table a start may read: each weight's and shadow record's newest
    (one per key), the last cycle's regime calls."""
    opened = open_database(db)
    try:
        last = RegimeCallRow.select(fn.MAX(RegimeCallRow.iteration)).scalar()
        return {
            "learning_weights": LearningWeightRow.select(
                LearningWeightRow.strategies, LearningWeightRow.regime, LearningWeightRow.strategy
            )
            .distinct()
            .count(),
            "learning_shadow": ShadowRow.select(ShadowRow.regime, ShadowRow.strategy)
            .distinct()
            .count(),
            "learning_regimes": RegimeCallRow.select()
            .where(RegimeCallRow.iteration == last)
            .count(),
        }
    finally:
        opened.close()


def restored(db: Path | PgUrl) -> dict:
    """The weights a new session on ``db`` starts from."""
    clock = FrozenClock(START + timedelta(days=1), step=timedelta(seconds=1))
    settings = LocalSettings(db=db, seed=7, learning=LearningSettings(weights="adaptive"))
    session = build_local_session(settings, clock)
    try:
        assert isinstance(session.allocator, AdaptiveAllocator) and session.allocator.restored
        return flat(session.allocator.weights.table)
    finally:
        session.finish("completed")


def db_arg(store: Path | PgUrl) -> str:
    return str(store) if isinstance(store, Path) else store.dsn
