"""Where a session's latest learning lies in the learning tables: its restore window.

The journal (``store.learning_journal``) writes a weight or shadow row only when the value
differs from the last one the session wrote for the same key (regime and strategy), and every
key once every ``KEYFRAME`` saves, at the session's first save and after a cycle that rolled
back (a *keyframe*). So the latest value of every key lies in the session's last ``KEYFRAME``
saves that wrote a row of the table; a restore reads those (newest first, a page at a time, by
the session's index: never the whole session) and takes each key's newest row. A store written
in the old every-cycle format is read the same way: its last cycle is a keyframe.

``db prune`` (``store.learning_prune``) keeps each key's newest row in the windows of the
sessions a start may restore: deleting older rows only brings those nearer the newest, so they
stay in the window, and a prune never takes a row the next start reads.
"""

from __future__ import annotations

from typing import Any

from tui_trader.store.models import BaseModel
from tui_trader.store.stored_numbers import required_count

KEYFRAME = 50
"""Saves between two full writes of every key: what bounds a restore's reading (the newest
``KEYFRAME`` saves that wrote a row, ~1,500 rows a table at most: a few ms) and costs ~1.2 rows
a save. At 200 a start read ~18,000 rows through peewee's conversions: ~1 s on a loaded
machine, against 37 ms for the old format's last cycle. Never lower it: a restore finds a
store's last keyframe only within the window its writer used (a higher one reads further back,
which is always right)."""

PAGE = 2_000
"""Rows read per query while walking back through a session's rows."""


def recent_rows(model: type[BaseModel], where: Any, fields: tuple[Any, ...], runs: int) -> list:
    """The rows of ``model`` matching ``where``, newest first, as tuples ``(id, iteration,
    *fields)``, of the newest ``runs`` runs of one iteration (the rows a save wrote share its
    iteration; a save that wrote none leaves no run). An iteration nobody can read (a hand
    edit's text) stops the start, naming the row."""
    table = model._meta.table_name
    columns = (model.id, model.iteration, *fields)
    rows: list = []
    seen = 0
    current: Any = None
    before: Any = None
    while True:
        page_where = where if before is None else where & (model.id < before)
        query = model.select(*columns).where(page_where).order_by(model.id.desc()).limit(PAGE)
        page = model._meta.database.execute(query).fetchall()  # raw: each value checked below
        for row in page:
            iteration = required_count(row[1], table, row[0], "iteration")
            if iteration != current:
                seen += 1
                if seen > runs:
                    return rows
                current = iteration
            rows.append(row)
        if len(page) < PAGE:
            return rows
        before = page[-1][0]


def newest_by_key(rows: list, key_width: int) -> list:
    """Each key's newest row (the key: the ``key_width`` fields after id and iteration), in
    the order the keys were first written within the rows (a keyframe's order), oldest first."""
    newest: dict[tuple, Any] = {}
    first: dict[tuple, Any] = {}
    for row in rows:  # newest first
        key = tuple(row[2 : 2 + key_width])
        newest.setdefault(key, row)
        first[key] = row[0]
    return [newest[key] for key in sorted(newest, key=first.__getitem__)]
