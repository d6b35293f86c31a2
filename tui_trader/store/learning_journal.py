"""Saving and restoring what the learning system knows, in the learning tables.

Implements ``tui_trader.learning.journal.LearningJournal`` on the audit database: every
decision cycle's regime calls, and the weights and shadow records whose value changed since the
session last wrote them (all of them at a keyframe, ``store.learning_window``), are appended in
one transaction (the cycle's, or their own on a remote broker's session, whose rows otherwise
commit one by one), and a new session on the same database restores the latest learning saved
for the same set of strategies, whichever session wrote it. A desk wrote ~58 rows a cycle, 60%
of its weights and 69% of its shadow records the same as the cycle before's; now ~23.
The blend's exposure record (``learning/exposure.py``) rides in the shadow table as one row
named ``(exposure)``, with its sum of squared returns in ``last_return``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from tui_trader.learning.exposure import EXPOSURE_RECORD, ExposureStats
from tui_trader.learning.journal import LearningState
from tui_trader.learning.regime import RegimeCall
from tui_trader.learning.shadow import ShadowStats
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import to_db_time
from tui_trader.store.learning_models import LearningWeightRow, RegimeCallRow, ShadowRow
from tui_trader.store.learning_window import KEYFRAME, newest_by_key, recent_rows
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
        self._written: dict[tuple[str, str, str], Any] = {}
        """The value this session last wrote for each weight ("w", regime, strategy) and
        shadow record ("s", regime, strategy): a save writes only the keys whose value differs."""
        self._saves = 0
        """Saves since the last keyframe, that one included."""
        self._rollbacks = audit.rollbacks

    def load(self, strategies: tuple[str, ...]) -> LearningState | None:
        """The latest learning saved for this strategy set, or ``None`` if there is none: the
        session that saved last, each key's newest row in its restore window
        (``store.learning_window``)."""
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
        # the session's rows are found by it: a hand edit's text or inf in it ended the start
        # with a crash line, so it is held to a count's rule, naming the row
        session = required_count(last.session_id, "learning_weights", last.id, "session_id")
        weights = recent_rows(
            LearningWeightRow,
            (LearningWeightRow.session == session) & (LearningWeightRow.strategies == key),
            (LearningWeightRow.regime, LearningWeightRow.strategy, LearningWeightRow.weight),
            KEYFRAME,
        )
        for row_id, _, regime, name, weight in newest_by_key(weights, 2):
            # weights size every position: one nobody can read stops the start
            weight = required(weight, "learning_weights", row_id, "weight", nullable=False)
            state.weights.setdefault(regime, {})[name] = weight
        shadow = recent_rows(
            ShadowRow,
            ShadowRow.session == session,
            (
                ShadowRow.regime,
                ShadowRow.strategy,
                ShadowRow.bars,
                ShadowRow.net_return,
                ShadowRow.last_return,
            ),
            KEYFRAME,
        )
        for row_id, _, regime, name, bars, net, last_return in newest_by_key(shadow, 2):
            net = required(net, SHADOW, row_id, "net_return", False, math.inf)
            last_return = required(last_return, SHADOW, row_id, "last_return", False, math.inf)
            bars = required_count(bars, SHADOW, row_id, "bars")  # text crashed the 1st cycle
            if name == EXPOSURE_RECORD:  # the blend's record: sum of squares in last
                state.exposure = ExposureStats(bars, net, last_return)
                continue
            state.shadow.setdefault(regime, {})[name] = ShadowStats(bars, net, last_return)
        calls = recent_rows(  # written every cycle (they change every bar): the last cycle's
            RegimeCallRow,
            RegimeCallRow.session == session,
            (
                RegimeCallRow.symbol,
                RegimeCallRow.regime,
                RegimeCallRow.confidence,
                RegimeCallRow.trend_t,
                RegimeCallRow.vol_ratio,
            ),
            1,
        )
        for _, _, symbol, label, confidence, trend_t, vol_ratio in reversed(calls):
            direction, _, level = label.partition("/")
            state.regimes[symbol] = RegimeCall(direction, level, confidence, trend_t, vol_ratio)
        return state

    def save(self, iteration: int, market_time: datetime, state: LearningState) -> None:
        """Append this cycle's regime calls, and the weights and shadow records that changed
        since the session last wrote them (every one at a keyframe: ``_keyframe_due``).

        Precompiled statements with ``executemany``: building these rows through peewee's
        query builder cost ~6 ms a cycle, most of a learning session's time.
        """
        session = self.audit.session
        if session is None:
            return
        full = self._keyframe_due()
        last = {} if full else self._written
        changed: dict[tuple[str, str, str], Any] = {}
        now = db_value(to_db_time(self.audit.clock.now()))
        when = db_value(to_db_time(market_time))
        common = {"session": session.id, "iteration": iteration, "timestamp": now}
        common["market_time"] = when
        weights = []
        for regime, by_name in sorted(state.weights.items()):
            for name, w in by_name.items():
                if last.get(("w", regime, name)) != w:
                    changed["w", regime, name] = w
                    row = {**common, "strategies": self.key, "regime": regime, "strategy": name}
                    weights.append({**row, "weight": w})
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
        records = [
            (regime, name, (st.bars, st.net_return, st.last_return))
            for regime, by_strategy in sorted(state.shadow.items())
            for name, st in by_strategy.items()
        ]
        if state.exposure is not None and state.exposure.bars:
            exposure = state.exposure
            sums = (exposure.bars, exposure.total, exposure.squares)
            records.append(("all", EXPOSURE_RECORD, sums))
        shadow = []
        for regime, name, value in records:
            if last.get(("s", regime, name)) != value:
                changed["s", regime, name] = value
                bars, net, squares = value
                row = {**common, "strategy": name, "regime": regime, "bars": bars}
                shadow.append({**row, "net_return": net, "last_return": squares})
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
        # only once written (a failed save raised above): a cycle that rolls back later is
        # seen by ``_keyframe_due`` through the log's count of rollbacks
        if full:
            self._written = changed
            self._saves = 1
        else:
            self._written.update(changed)
            self._saves += 1

    def _keyframe_due(self) -> bool:
        """Whether this save writes every key: the session's first, one every ``KEYFRAME``
        saves (what bounds a restore's reading), and the first after a cycle or batch of
        cycles rolled back (the rows this journal remembers writing may be gone with it)."""
        rollbacks = self.audit.rollbacks
        if rollbacks != self._rollbacks:
            self._rollbacks = rollbacks
            self._written = {}  # forgotten now: a save that fails as well leaves the next full
            return True
        return not self._written or self._saves >= KEYFRAME
