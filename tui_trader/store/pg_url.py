"""What ``--db`` names when it is not a file: a PostgreSQL server's URL, checked at the edge and
shown without its password.

``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB`` (``postgres://`` too, and libpq's query
parameters such as ``?sslmode=require``). The password is best left out: libpq then reads
``PGPASSWORD`` or ``~/.pgpass`` itself. When a URL carries one anyway it is registered with
``security.redact`` and ``str()`` of a ``PgUrl`` masks it, so no message, log line or screen
shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from tui_trader.security.redact import MASK, remember

SCHEMES = ("postgresql", "postgres")
"""The URL schemes libpq accepts for a PostgreSQL server."""
EXAMPLE = "postgresql://USER@HOST:PORT/DB"


def looks_like_url(text: str) -> bool:
    """True if ``--db`` was given a URL (``scheme://...``) rather than a file path."""
    head, sep, _rest = text.partition("://")
    return bool(sep) and head.replace("+", "").replace("-", "").isalnum()


@dataclass(frozen=True, slots=True)
class PgUrl:
    """A checked PostgreSQL URL. ``str()`` and ``repr()`` mask its password; ``dsn`` is what
    the driver gets, always spelled ``postgresql://``: peewee hands the driver a URL only when
    it starts so, and passes ``postgres://...`` (or ``PostgreSQL://...``) on as a database name,
    so libpq went to the default local socket instead of the host the URL names."""

    dsn: str = field(repr=False)
    shown: str

    def __str__(self) -> str:
        """The URL as users see it (password masked)."""
        return self.shown

    def __repr__(self) -> str:
        """As ``str()``: a ``PgUrl`` in a traceback or a log line must not show the password."""
        return f"PgUrl({self.shown!r})"

    @property
    def has_password(self) -> bool:
        """True if the URL itself carries a password (better kept in ``PGPASSWORD``)."""
        parts = urlsplit(self.dsn)
        return parts.password is not None or "password=" in parts.query.lower()

    @property
    def without_password(self) -> str:
        """The URL with no password in it (nor ``sslpassword``), nothing masked: what a
        command shown to the user may name as ``--db`` (libpq reads the password from
        ``PGPASSWORD`` or ``~/.pgpass``, as the README advises)."""
        parts = urlsplit(self.dsn)
        netloc = parts.netloc.rpartition("@")[2]
        if parts.username is not None:
            netloc = f"{parts.netloc.rpartition('@')[0].partition(':')[0]}@{netloc}"
        kept = [p for p in parts.query.split("&") if p and "password" not in p.lower()]
        query = f"?{'&'.join(kept)}" if kept else ""
        return f"{parts.scheme}://{netloc}{parts.path}{query}"

    @property
    def name(self) -> str:
        """Shown where a file's name would be (a backup's name, a title)."""
        return self.shown


def parse_db_url(text: str) -> PgUrl:
    """``text`` as a ``PgUrl``; ``ValueError`` with one line that says what is wrong (the
    password never in it)."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        problem = _no_password(str(exc))
        raise ValueError(f"--db URL is not valid ({problem}): use {EXAMPLE}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(
            f"--db URL scheme {parts.scheme + '://'!r} is not supported: use a file path for "
            f"SQLite or {EXAMPLE}"
        )
    if not parts.hostname:
        raise ValueError(f"--db URL names no host: use {EXAMPLE}")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ValueError(f"--db URL names no database (or more than one): use {EXAMPLE}")
    if any(not ch.isprintable() for ch in text):
        raise ValueError("--db URL holds a control character")
    if parts.password:
        remember(parts.password)
        remember(unquote(parts.password))
    user = parts.username or ""
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    auth = f"{user}:{MASK}@" if parts.password is not None else (f"{user}@" if user else "")
    netloc = f"{auth}{host}" + (f":{port}" if port is not None else "")
    params = [_masked(p) for p in parts.query.split("&")] if parts.query else []
    query = f"?{'&'.join(params)}" if params else ""
    dsn = f"{SCHEMES[0]}://{text.split('://', 1)[1]}"
    return PgUrl(dsn=dsn, shown=f"{parts.scheme}://{netloc}/{parts.path.lstrip('/')}{query}")


def _masked(param: str) -> str:
    """One ``key=value`` query parameter, its value masked if it is the password."""
    key, sep, value = param.partition("=")
    if key.lower() == "password" and sep:
        remember(unquote(value))
        return f"{key}={MASK}"
    return param


def _no_password(message: str) -> str:
    """A parser's complaint without anything after the ``://`` (it may quote the password)."""
    return message.split("://", 1)[0]
