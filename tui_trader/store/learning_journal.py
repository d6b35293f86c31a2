"""Saving and restoring what the learning system knows, in the learning tables.

Implements ``tui_trader.learning.journal.LearningJournal`` on the audit database: every
decision cycle's weights, regime calls and shadow records are appended in one transaction (the
cycle's, or their own on a remote broker's session, whose rows otherwise commit one by one), and
a new session on the same database restores the latest cycle saved for the same set of
strategies, whichever session wrote it. The blend's exposure record (``learning/exposure.py``)
rides in the shadow table as one row named ``(exposure)``, with its sum of squared returns in
``last_return``.
"""

from __future__ import annotations

import math
from datetime import datetime

from tui_trader.learning.exposure import EXPOSURE_RECORD, ExposureStats
from tui_trader.learning.journal import LearningState
from tui_trader.learning.regime import RegimeCall
from tui_trader.learning.shadow import ShadowStats
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import to_db_time
from tui_trader.store.learning_models import LearningWeightRow, RegimeCallRow, ShadowRow
from tui_trader.store.statements import db_value, insert_sql
from tui_trader.store.stored_numbers import required, required_count

_WEIGHT_SQL = insert_sql(LearningWeightRow)
_REGIME_SQL = insert_sql(RegimeCallRow)
_SHADOW_SQL = insert_sql(ShadowRow)


SHADOW = "learning_shadow"
"""The shadow records' table, as a refusal names it (its figures are checked finite only: the
exposure record keeps a sum of squared returns, which grows past any amount's bound)."""


class StoreLearningJournal:
    """The learning journal of one session, writing through its audit log's database."""

    def __init__(self, audit: AuditLog, strategies: tuple[str, ...]) -> None:
        self.audit = audit
        self.key = ",".join(strategies)

    def load(self, strategies: tuple[str, ...]) -> LearningState | None:
        """The latest saved cycle for this strategy set, or ``None`` if there is none."""
        key = ",".join(strategies)
        last = (
            LearningWeightRow.select()
            .where(LearningWeightRow.strategies == key)
            .order_by(LearningWeightRow.id.desc())
            .first()
        )
        if last is None:
            return None
        state = LearningState()
        # the cycle's rows are found by these two: a hand edit's text or inf in either ended
        # the start with a crash line, so each is held to a count's rule, naming the row
        session = required_count(last.session_id, "learning_weights", last.id, "session_id")
        cycle = required_count(last.iteration, "learning_weights", last.id, "iteration")
        rows = LearningWeightRow.select().where(
            (LearningWeightRow.session == session)
            & (LearningWeightRow.iteration == cycle)
            & (LearningWeightRow.strategies == key)
        )
        for row in rows:  # weights size every position: one nobody can read stops the start
            weight = required(row.weight, "learning_weights", row.id, "weight", nullable=False)
            state.weights.setdefault(row.regime, {})[row.strategy] = weight
        shadow = ShadowRow.select().where(
            (ShadowRow.session == session) & (ShadowRow.iteration == cycle)
        )
        for row in shadow:
            net = required(row.net_return, SHADOW, row.id, "net_return", False, math.inf)
            last_return = required(row.last_return, SHADOW, row.id, "last_return", False, math.inf)
            bars = required_count(row.bars, SHADOW, row.id, "bars")  # text crashed the 1st cycle
            if row.strategy == EXPOSURE_RECORD:  # the blend's record: sum of squares in last
                state.exposure = ExposureStats(bars, net, last_return)
                continue
            state.shadow.setdefault(row.regime, {})[row.strategy] = ShadowStats(
                bars, net, last_return
            )
        calls = RegimeCallRow.select().where(
            (RegimeCallRow.session == session) & (RegimeCallRow.iteration == cycle)
        )
        for row in calls:
            direction, _, level = row.regime.partition("/")
            state.regimes[row.symbol] = RegimeCall(
                direction, level, row.confidence, row.trend_t, row.vol_ratio
            )
        return state

    def save(self, iteration: int, market_time: datetime, state: LearningState) -> None:
        """Append this cycle's weights, regime calls and shadow records.

        Precompiled statements with ``executemany``: building these ~40 rows through peewee's
        query builder cost ~6 ms a cycle, most of a learning session's time.
        """
        session = self.audit.session
        if session is None:
            return
        now = db_value(to_db_time(self.audit.clock.now()))
        when = db_value(to_db_time(market_time))
        common = {"session": session.id, "iteration": iteration, "timestamp": now}
        common["market_time"] = when
        weights = [
            {**common, "strategies": self.key, "regime": regime, "strategy": name, "weight": w}
            for regime, by_name in sorted(state.weights.items())
            for name, w in by_name.items()
        ]
        calls = [
            {
                **common,
                "symbol": symbol,
                "regime": call.label,
                "confidence": call.confidence,
                "trend_t": call.trend_t,
                "vol_ratio": call.vol_ratio,
            }
            for symbol, call in sorted(state.regimes.items())
        ]
        shadow = [
            {
                **common,
                "strategy": name,
                "regime": regime,
                "bars": st.bars,
                "net_return": st.net_return,
                "last_return": st.last_return,
            }
            for regime, by_strategy in sorted(state.shadow.items())
            for name, st in by_strategy.items()
        ]
        if state.exposure is not None and state.exposure.bars:
            shadow.append(
                {
                    **common,
                    "strategy": EXPOSURE_RECORD,
                    "regime": "all",
                    "bars": state.exposure.bars,
                    "net_return": state.exposure.total,
                    "last_return": state.exposure.squares,
                }
            )
        db = self.audit.db
        # One commit (``AuditLog.together``: the cycle's, or its own on a remote broker's
        # session, whose rows otherwise commit one by one): a process killed mid-save left the
        # cycle's learning torn (some weights, no shadow records), and the next start restored
        # that. Now the whole cycle's learning, or the one before.
        with self.audit.together():
            for (sql, names), rows in (
                (_WEIGHT_SQL, weights),
                (_REGIME_SQL, calls),
                (_SHADOW_SQL, shadow),
            ):
                if rows:
                    db.raw_many(sql, [[row[n] for n in names] for row in rows])
