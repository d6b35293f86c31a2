"""Integer columns that read back whatever a hand edit left in them, for the reader to judge.

peewee turns an integer column's value into ``int`` as it builds a row: ``inf`` (or any value
``int()`` overflows on) raised ``OverflowError`` there, so ``fleet``, ``status``, ``history``,
``report``, ``pnl``, ``risk show`` and a session's start each ended with a crash line before
any reader could name the row. A fraction (``1.5``: SQLite keeps it in an integer column) was
rounded toward zero, so ``orders_today = 1.5`` read as 1 in ``risk show`` and ``iteration`` 2.5
as 2, a value the row does not hold. Text (``'xyzzy'``) passed through peewee as text and crashed
later (``int('xyzzy')`` in the liveness check, ``'xyzzy' + 1`` in the learning record). These
fields return such a value as stored; every reader holds it to ``store.stored_numbers``' rules
(``shown_whole`` for display, ``required_count`` and ``required_whole`` for money paths), which
name the table, row and column. A foreign key reads through its target's id field, so the ids
are ``StoredId``.

Text and time columns holding binary data (a BLOB another program wrote) are refused instead:
peewee decoded such bytes as UTF-8 and raised ``UnicodeDecodeError`` (or handed them on as
bytes, ``'bytes' object has no attribute 'tzinfo'``), a crash line that named nothing. Like text
that is not UTF-8 (``cli._refuse_undecodable``), ``BinaryValue`` names the table and column and
nothing is read from such a store: a key read with its bytes replaced would miss its own row.
"""

from __future__ import annotations

from typing import Any

from peewee import AutoField, DateTimeField, IntegerField, TextField


class _AsStored:
    """Reads an integer column's value as peewee makes it, or as stored when it cannot."""

    def python_value(self, value: Any) -> Any:
        """``int(value)`` as peewee makes it, else ``value`` untouched (``inf``, text, and a
        fraction such as ``1.5``, which ``int()`` would round to 1 without a word)."""
        if isinstance(value, float) and not value.is_integer():
            return value
        try:
            return super().python_value(value)  # type: ignore[misc]
        except (OverflowError, ValueError, TypeError):
            return value


class StoredInteger(_AsStored, IntegerField):
    """An integer column: an int, or the stored value itself when it is none (a hand edit)."""


class StoredId(_AsStored, AutoField):
    """A row id, read like ``StoredInteger`` (a foreign key to it reads through it)."""


class BinaryValue(Exception):
    """A text or time column holds binary data no session writes: the store is not read on."""


def binary_refusal(table: str, column: str, value: bytes) -> BinaryValue:
    """The refusal of ``value`` in ``table``'s ``column`` (also for readers that bypass
    peewee: the paper-to-live gate's own connection)."""
    return BinaryValue(
        f"column {column!r} of {table} holds binary data ({len(value):,} bytes), not text "
        "(not written by tui-trader: a hand edit or another program)"
    )


def _refused(field: TextField | DateTimeField, value: bytes) -> BinaryValue:
    """The refusal of ``value`` in ``field``, naming its table and column."""
    return binary_refusal(field.model._meta.table_name, field.column_name, value)


class StoredText(TextField):
    """A text column: its text, or ``BinaryValue`` for bytes that are not UTF-8 text."""

    def python_value(self, value: Any) -> Any:
        """The text as peewee reads it; bytes are decoded when they are UTF-8, else refused."""
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise _refused(self, value) from None
        return super().python_value(value)


class StoredDateTime(DateTimeField):
    """A time column: its time as peewee reads it, or ``BinaryValue`` for bytes."""

    def python_value(self, value: Any) -> Any:
        """The time as peewee reads it; bytes (which it handed on as such) are refused."""
        if isinstance(value, bytes):
            raise _refused(self, value)
        return super().python_value(value)
