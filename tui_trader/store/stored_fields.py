"""Integer columns that read back whatever a hand edit left in them, for the reader to judge.

peewee turns an integer column's value into ``int`` as it builds a row: ``inf`` (or any value
``int()`` overflows on) raised ``OverflowError`` there, so ``fleet``, ``status``, ``history``,
``report``, ``pnl``, ``risk show`` and a session's start each ended with a crash line before
any reader could name the row. Text (``'xyzzy'``) passed through peewee as text and crashed
later (``int('xyzzy')`` in the liveness check, ``'xyzzy' + 1`` in the learning record). These
fields return such a value as stored; every reader holds it to ``store.stored_numbers``' rules
(``shown_whole`` for display, ``required_count`` and ``required_whole`` for money paths), which
name the table, row and column. A foreign key reads through its target's id field, so the ids
are ``StoredId``.
"""

from __future__ import annotations

from typing import Any

from peewee import AutoField, IntegerField


class StoredInteger(IntegerField):
    """An integer column: an int, or the stored value itself when it is none (a hand edit)."""

    def python_value(self, value: Any) -> Any:
        """``int(value)`` as peewee makes it, else ``value`` untouched (``inf``, text)."""
        try:
            return super().python_value(value)
        except (OverflowError, ValueError, TypeError):
            return value


class StoredId(AutoField):
    """A row id, read like ``StoredInteger`` (a foreign key to it reads through it)."""

    def python_value(self, value: Any) -> Any:
        """``int(value)`` as peewee makes it, else ``value`` untouched (``inf``, text)."""
        try:
            return super().python_value(value)
        except (OverflowError, ValueError, TypeError):
            return value
