"""Alpaca credentials and endpoints, from the environment or a ``.env`` file.

alpaca-py reads no environment variables, so the desk reads the old SDK's names itself:
``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``, ``APCA_API_BASE_URL`` (and, for the project's
sandbox or a proxy, ``APCA_API_DATA_URL``, ``APCA_API_STREAM_URL``, ``APCA_API_DATA_STREAM_URL``).
The process environment wins over ``.env`` in the working directory. The secret is held in an
object whose ``repr`` hides it, and no code path prints or stores it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
_NAMES = (
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
    "APCA_API_BASE_URL",
    "APCA_API_DATA_URL",
    "APCA_API_STREAM_URL",
    "APCA_API_DATA_STREAM_URL",
)


class ConfigError(ValueError):
    """Credentials or endpoints that cannot be used, said in plain words."""


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
        """``paper``, ``live`` or ``other`` (the sandbox, a proxy) by the trading URL."""
        if self.base_url == PAPER_URL:
            return "paper"
        if self.base_url == LIVE_URL:
            return "live"
        return "other"

    @property
    def label(self) -> str:
        """How headers name the endpoint."""
        return {
            "paper": f"{self.base_url} (Alpaca paper)",
            "live": f"{self.base_url} (Alpaca LIVE, real money)",
        }.get(self.kind, f"{self.base_url} (not an Alpaca URL: a sandbox or proxy)")


def read_settings(
    env: dict[str, str] | None = None, env_file: Path | None = None
) -> tuple[dict[str, str], str]:
    """The ``APCA_*`` values (the process environment wins over ``.env``) and where the key id
    came from, for messages. The one place the desk looks for credentials."""
    environ = os.environ if env is None else env
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    values: dict[str, str] = {}
    if env_file.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v and k in _NAMES})
    from_env = {k: environ[k] for k in _NAMES if environ.get(k)}
    source = "environment" if "APCA_API_KEY_ID" in from_env or not values else env_file.name
    values.update(from_env)
    return values, source


def load_endpoint(default_url: str, cwd: Path | None = None) -> AlpacaEndpoint:
    """Read credentials (environment first, then ``.env``); raise ``ConfigError`` if absent."""
    env_file = (cwd or Path.cwd()) / ".env"
    values, source = read_settings(env_file=env_file)
    key, secret = values.get("APCA_API_KEY_ID"), values.get("APCA_API_SECRET_KEY")
    if not key or not secret:
        missing = [n for n in _NAMES[:2] if not values.get(n)]
        raise ConfigError(
            f"Alpaca credentials not found: {', '.join(missing)} not set in the environment "
            f"or in {env_file}. Get keys from the Alpaca dashboard (API keys), or rehearse "
            "offline with 'tui-trader sandbox'."
        )
    base = _clean_url(values.get("APCA_API_BASE_URL") or default_url, "APCA_API_BASE_URL")
    alpaca = base in (PAPER_URL, LIVE_URL)
    data = values.get("APCA_API_DATA_URL")
    data_url = _clean_url(data, "APCA_API_DATA_URL") if data else (None if alpaca else base)
    stream = values.get("APCA_API_STREAM_URL") or _ws(base) + "/stream"
    data_stream = values.get("APCA_API_DATA_STREAM_URL")
    source = "environment" if source == "environment" else str(env_file)
    return AlpacaEndpoint(
        key_id=key,
        secret=Secret(secret),
        base_url=base,
        data_url=data_url,
        stream_url=stream.rstrip("/"),
        data_stream_url=data_stream,
        source=source,
    )


def _clean_url(url: str, name: str) -> str:
    """An http(s) origin without a trailing slash or a ``/v2`` suffix (alpaca-py adds it)."""
    url = url.strip().rstrip("/")
    if url.endswith("/v2"):
        url = url[: -len("/v2")]
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name}={url!r} is not an http(s) URL")
    return url


def _ws(url: str) -> str:
    """The websocket twin of an http(s) origin."""
    return "wss" + url[len("https") :] if url.startswith("https") else "ws" + url[len("http") :]
