"""The desk's client order ids: ``tt-<session key>-<cycle>-<symbol>-<leg>``, made and read back.

Every order a session sends carries one (a rebalance leg, a manual order ``mN``, a protective
exit ``psN``, a flattening ``flat``, ``flatN`` sent again in its cycle): deterministic, so after
a lost answer the broker can be asked whether it already has the order. The form says "made by a
tui_trader desk" and names the session; only the audit store says which account that session
traded (its ``sessions`` row), so an id is this desk's own only when its session is in the store
and on the account at hand (``engine.lost_rows``). Pure values.

A session key is ``<8 hex>_<tag>``: a random part and the short tag of its store's identity
(``store.store_identity``), so that a halt can tell a session of its own store whose row the
store lost (a restore from an older backup) from another database's (``engine.halt_keeps``).
Keys made before stores had an identity are 8 hex digits alone, with no tag (``key_tag``
``None``): they keep their meaning, "a session this store holds or another database's".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "tt-"
TAG_SEPARATOR = "_"
"""Between a session key's random part and its store's tag (never ``-``: the id's separator)."""
_FORM = re.compile(r"^tt-(?P<key>[^-]+)-(?P<iteration>\d+)-(?P<symbol>.+)-(?P<leg>[a-z]+\d*)$")


@dataclass(frozen=True, slots=True)
class OwnOrderId:
    """What a desk's client order id says: the session that sent it, in which cycle, for
    which symbol, and which of the cycle's orders it was."""

    session_key: str
    iteration: int
    symbol: str
    leg: str


def make_order_id(session_key: str, iteration: int, symbol: str, leg: str) -> str:
    """The client order id of a session's order (``read_order_id`` reads it back)."""
    return f"{PREFIX}{session_key}-{iteration}-{symbol}-{leg}"


def read_order_id(client_order_id: str) -> OwnOrderId | None:
    """The parts of a desk's client order id; ``None`` when the id is not of the desk's form
    (an order placed by hand, by another program, or a pair's leg named by the broker)."""
    found = _FORM.match(client_order_id)
    if found is None:
        return None
    return OwnOrderId(found["key"], int(found["iteration"]), found["symbol"], found["leg"])


def sent_by_another(client_order_id: str, session_key: str | None) -> bool:
    """Whether ``client_order_id`` is a desk's order sent by another session than the one of
    ``session_key`` (an ended desk's order this session follows: another desk may follow it
    too); False for this session's own, and for an id not of the desk's form."""
    parts = read_order_id(client_order_id)
    return parts is not None and session_key is not None and parts.session_key != session_key


def tagged_key(random_part: str, store_tag: str | None) -> str:
    """A session key: ``random_part`` with its store's tag (alone when the store has none)."""
    return f"{random_part}{TAG_SEPARATOR}{store_tag}" if store_tag else random_part


def key_tag(session_key: str) -> str | None:
    """The store tag a session key carries, ``None`` for a key without one (an older key)."""
    head, separator, tag = session_key.rpartition(TAG_SEPARATOR)
    return tag if separator and head and tag else None


def short_key(session_key: str) -> str:
    """The key without its store's tag (every session of a store carries the same one): what a
    list of one store's sessions shows where a line has room for little more than 8 characters."""
    return session_key.partition(TAG_SEPARATOR)[0] if key_tag(session_key) else session_key


def flatten_closer_key(client_order_id: str) -> str | None:
    """The key of the session whose halt flatten close (leg ``flat``, ``flatN``) the order of
    ``client_order_id`` is; ``None`` if it is none."""
    parts = read_order_id(client_order_id)
    return parts.session_key if parts and parts.leg.rstrip("0123456789") == "flat" else None
