"""Alpaca credentials and endpoints: what the ``APCA_*`` settings mean and whether they are safe.

The settings are read from one source, the process environment or ``.env`` (never a mix), by
``alpaca_env_file``; ``ConfigError`` is raised from there and here alike. The key id and secret
are checked before any connection (printable ASCII, no whitespace, a sane length) with messages
that never show them; the secret is held in an object whose ``repr`` hides it, is registered
with ``redact`` so that no rendered error can carry it, and no code path prints or stores it.
Which Alpaca environment a URL points at is decided by its parsed host name (any case, a
trailing dot, any port, path or user info), never by comparing strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tui_trader.brokers.alpaca_env_file import (
    NAMES,
    ConfigError,
    env_file_problem,
    mixed_sources,
    read_settings,
)
from tui_trader.core.web_address import http_url_problem
from tui_trader.security import redact

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
PAPER_HOST = "paper-api.alpaca.markets"
LIVE_HOST = "api.alpaca.markets"
MAX_CREDENTIAL_LENGTH = 256
"""Alpaca's key ids are 20 characters and secrets 40; anything past this is a pasting mistake."""


class Secret(str):
    """A string that never shows itself in ``repr`` or f-string debugging."""

    __slots__ = ()

    def __repr__(self) -> str:
        """Hidden."""
        return "Secret('****')"


@dataclass(frozen=True, slots=True)
class AlpacaEndpoint:
    """Where and as whom to talk to Alpaca (or something that speaks its API)."""

    key_id: str
    secret: Secret = field(repr=False)
    base_url: str
    data_url: str | None
    stream_url: str
    data_stream_url: str | None
    source: str
    """Where the credentials came from, for messages (never the values)."""

    @property
    def kind(self) -> str:
        """``paper``, ``live`` or ``other`` (the sandbox, a proxy) by the trading URL's host."""
        return url_kind(self.base_url)

    def urls(self) -> dict[str, str]:
        """Every URL this endpoint talks to, by the variable that sets it."""
        named = {
            "APCA_API_BASE_URL": self.base_url,
            "APCA_API_DATA_URL": self.data_url,
            "APCA_API_STREAM_URL": self.stream_url,
            "APCA_API_DATA_STREAM_URL": self.data_stream_url,
        }
        return {name: url for name, url in named.items() if url}

    @property
    def label(self) -> str:
        """How headers name the endpoint."""
        return {
            "paper": f"{self.base_url} (Alpaca paper)",
            "live": f"{self.base_url} (Alpaca LIVE, real money)",
        }.get(self.kind, f"{self.base_url} (not an Alpaca URL: a sandbox or proxy)")


def url_kind(url: str) -> str:
    """``live`` for Alpaca's live trading host, ``paper`` for its paper host, else ``other``.

    By the parsed host name: ``https://API.alpaca.markets.:443/v2`` and
    ``https://user@api.alpaca.markets`` are the live host as much as ``https://api.alpaca.markets``.
    """
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:  # an unparsable port or bracket: not Alpaca's, and checked elsewhere
        return "other"
    return {LIVE_HOST: "live", PAPER_HOST: "paper"}.get(host, "other")


def check_credential(name: str, value: str, source: str) -> None:
    """Refuse a key id or secret that cannot be one, naming the variable and where it came
    from, never the value (it would otherwise end up in an HTTP header error)."""
    where = f"{name} (from {source})"
    if len(value) > MAX_CREDENTIAL_LENGTH:
        raise ConfigError(f"{where} is {len(value)} characters long: not an Alpaca key")
    bad = [c for c in value if not "!" <= c <= "~"]
    if bad:
        kind = "whitespace" if all(c.isspace() for c in bad) else "a space, control or non-ASCII"
        raise ConfigError(
            f"{where} contains {kind} character(s): copy it again from the Alpaca dashboard "
            "(the value is not shown)"
        )


def load_endpoint(default_url: str, cwd: Path | None = None) -> AlpacaEndpoint:
    """Read credentials (environment first, then ``.env``); raise ``ConfigError`` if absent."""
    env_file = (cwd or Path.cwd()) / ".env"
    mixed = mixed_sources(env_file=env_file)
    if mixed:
        raise ConfigError(mixed)
    values, source = read_settings(env_file=env_file)
    source = "environment" if source == "environment" else str(env_file)
    key, secret = values.get("APCA_API_KEY_ID"), values.get("APCA_API_SECRET_KEY")
    if not key or not secret:
        missing = [n for n in NAMES[:2] if not values.get(n)]
        odd = env_file_problem(env_file)
        where = f"; {odd}" if odd else f" or in {env_file}"
        raise ConfigError(
            f"Alpaca credentials not found: {', '.join(missing)} not set in the environment"
            f"{where}. Get keys from the Alpaca dashboard (API keys), or rehearse "
            "offline with 'tui-trader sandbox'."
        )
    redact.remember(secret)
    check_credential("APCA_API_KEY_ID", key, source)
    check_credential("APCA_API_SECRET_KEY", secret, source)
    for name in NAMES[2:]:
        check_no_password(name, values.get(name) or "", source)
    base = _clean_url(values.get("APCA_API_BASE_URL") or default_url, "APCA_API_BASE_URL")
    alpaca = url_kind(base) != "other"
    data = values.get("APCA_API_DATA_URL")
    data_url = _clean_url(data, "APCA_API_DATA_URL") if data else (None if alpaca else base)
    stream = values.get("APCA_API_STREAM_URL") or _ws(base) + "/stream"
    data_stream = values.get("APCA_API_DATA_STREAM_URL")
    for name, url in (("APCA_API_STREAM_URL", stream), ("APCA_API_DATA_STREAM_URL", data_stream)):
        if url:
            _one_host(url.strip(), name)
    return AlpacaEndpoint(
        key_id=key,
        secret=Secret(secret),
        base_url=base,
        data_url=data_url,
        stream_url=stream.rstrip("/"),
        data_stream_url=data_stream,
        source=source,
    )


def check_no_password(name: str, url: str, source: str) -> None:
    """Refuse a URL that carries a password (``http://user:PASSWORD@proxy:8080``), naming the
    variable and its source, never the value. The URL is shown in the session's header
    ("Connected to: ...") and stored as the session's endpoint, so a password in it was
    printed and written to the database; Alpaca takes keys only in the two key variables."""
    try:
        password = urlsplit(url.strip()).password
    except ValueError:
        return  # not a URL at all: _clean_url says so
    if password:
        raise ConfigError(
            f"{name} (from {source}) carries a password: it would be shown and stored with the "
            "URL; put proxy credentials in HTTPS_PROXY instead (the value is not shown)"
        )


def _clean_url(url: str, name: str) -> str:
    """An http(s) origin without a trailing slash or a ``/v2`` suffix (alpaca-py adds it)."""
    url = url.strip().rstrip("/")
    if url.endswith("/v2"):
        url = url[: -len("/v2")]
    problem = http_url_problem(url)
    if problem:
        raise ConfigError(f"{name}={url!r} {problem}")
    _one_host(url, name)
    return url


def _one_host(url: str, name: str) -> None:
    """Refuse a URL whose host the desk's check and the HTTP client read differently.

    Which Alpaca environment a URL is (``url_kind``) is decided on Python's ``urlsplit``;
    alpaca-py's requests connect where urllib3's parser says. They disagree on a backslash
    (``https://api.alpaca.markets\\@paper-api.alpaca.markets``: paper to the check, the live
    host to requests) and on a %-escape in the host (``https://api%2Ealpaca.markets``: not
    Alpaca to the check, the live host to requests), so ``live paper`` sent its keys and
    orders to the live host. Refused before any connection, naming the variable."""
    checked, client = url_hosts(url)
    if client != checked:
        raise ConfigError(
            f"{name} is read as two different hosts ({checked or 'none'} by the desk's check, "
            f"{client or 'none'} by the HTTP client): write the host name plainly, with no "
            "backslash or %-escape in it"
        )


def url_hosts(url: str) -> tuple[str, str]:
    """The host of ``url`` as the desk's check reads it (``urlsplit``, as ``url_kind``) and as
    the HTTP client would connect (urllib3); the client's is empty when it finds none, and a
    URL ``urlsplit`` cannot read at all (an unclosed ``[``) is its ``ValueError``."""
    from urllib3.util import parse_url

    try:
        client = (parse_url(url).host or "").strip("[]").rstrip(".").lower()  # [::1] is ::1
    except ValueError:  # urllib3's LocationParseError: it would not connect at all
        client = ""
    return (urlsplit(url).hostname or "").rstrip(".").lower(), client


def agreed_kind(url: str) -> str:
    """``url_kind`` of a URL the desk did not vet as it was typed (a session's stored endpoint,
    which an older version or a hand edit wrote): ``other`` unless both parsers read one host."""
    try:
        checked, client = url_hosts(url.strip())
    except ValueError:
        return "other"
    return url_kind(url) if checked and checked == client else "other"


def _ws(url: str) -> str:
    """The websocket twin of an http(s) origin."""
    return "wss" + url[len("https") :] if url.startswith("https") else "ws" + url[len("http") :]
