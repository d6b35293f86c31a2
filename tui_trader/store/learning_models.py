"""The learning system's tables: weights, regime calls and shadow performance, every cycle.

Each decision cycle appends one row per (regime, strategy) weight, one per symbol's regime call
and one per (regime, strategy) shadow record, so the history of what the desk believed and why
can be queried like the trades. The latest cycle's rows are what a new session restores.
"""

from __future__ import annotations

from peewee import FloatField, ForeignKeyField

from tui_trader.store.models import BaseModel, SessionRow
from tui_trader.store.stored_fields import (
    StoredDateTime,
    StoredId,
    StoredInteger,
    StoredText,
)


class LearningWeightRow(BaseModel):
    """One strategy's weight in one regime after a decision cycle."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="learning_weights", on_delete="CASCADE")
    iteration = StoredInteger()
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    strategies = StoredText(index=True)
    """The comma-separated strategy set these weights belong to (what a restore matches on)."""
    regime = StoredText()
    strategy = StoredText()
    weight = FloatField()

    class Meta:
        table_name = "learning_weights"


class RegimeCallRow(BaseModel):
    """One symbol's regime call after a decision cycle."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="regime_calls", on_delete="CASCADE")
    iteration = StoredInteger()
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    symbol = StoredText(index=True)
    regime = StoredText()
    confidence = FloatField()
    trend_t = FloatField()
    vol_ratio = FloatField()

    class Meta:
        table_name = "learning_regimes"


class ShadowRow(BaseModel):
    """One strategy's shadow performance in one regime, cumulative, after a decision cycle."""

    id = StoredId()
    session = ForeignKeyField(SessionRow, backref="shadow_rows", on_delete="CASCADE")
    iteration = StoredInteger()
    timestamp = StoredDateTime()
    market_time = StoredDateTime(null=True)
    strategy = StoredText()
    regime = StoredText()
    bars = StoredInteger()
    net_return = FloatField()
    """Sum of per-bar net returns per unit of exposure, after costs."""
    last_return = FloatField()

    class Meta:
        table_name = "learning_shadow"


LEARNING_MODELS: tuple[type[BaseModel], ...] = (LearningWeightRow, RegimeCallRow, ShadowRow)
"""The learning tables, created with the others by ``open_database``."""
