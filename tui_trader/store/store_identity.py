"""This store's identity: a random id made once and kept in the store itself, whose short tag
every session key of the store carries (``core.order_ids.tagged_key``).

A halt cancels the working orders of its store's sessions and leaves those of sessions the
store does not hold, taken for another database's desk (``engine.halt_keeps``). A store
restored from an older backup does not hold the sessions started after that backup either:
their orders were left working by the kill switch. The tag tells them apart: a session whose
key carries this store's tag was made by this store, its row or not.

The id lives in the ``tui_trader_meta`` table (SQLite and PostgreSQL alike; on PostgreSQL the
table also holds the store's marks, ``store.pg_schema``), so it travels with the data: a backup
and its restore keep it, and so does a plain copy of the file (README, "Running several
desks": a copy shares its original's identity). It is made by the migration to schema 3
(``store.migrations``, ``store.pg_schema``), on a new store as on an older one.
"""

from __future__ import annotations

import secrets
from typing import Any

from tui_trader.store.pg import META_TABLE

STORE_ID = "store_id"
"""The row of ``META_TABLE`` that holds the store's identity (16 hex digits)."""
TAG_LENGTH = 6
"""Hex digits of the id a session key carries: 16 million tags, ids kept short (Alpaca's
client order id holds 128 characters). Two stores on one account sharing a tag by chance
(about 1 in 16 million a pair) only make each one's halt cancel the other's orders too: the
cautious side."""


def ensure_store_id(db: Any) -> None:
    """Give the store its identity unless it has one (creating ``META_TABLE`` if needed);
    run inside the migration's transaction."""
    param = db.param
    db.execute_sql(
        f'CREATE TABLE IF NOT EXISTS "{META_TABLE}" ("key" TEXT PRIMARY KEY, "value" TEXT)'
    )
    db.execute_sql(
        f'INSERT INTO "{META_TABLE}" ("key", "value") VALUES ({param}, {param}) '
        'ON CONFLICT ("key") DO NOTHING',
        (STORE_ID, secrets.token_hex(8)),
    )


def store_tag(db: Any) -> str | None:
    """The tag of this store's identity that its session keys carry; ``None`` when it has no
    identity row (its sessions' keys then carry no tag, as before identities existed)."""
    row = db.execute_sql(
        f'SELECT "value" FROM "{META_TABLE}" WHERE "key" = {db.param}', (STORE_ID,)
    ).fetchone()
    return row[0][:TAG_LENGTH] if row and row[0] else None
