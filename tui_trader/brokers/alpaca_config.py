"""Alpaca credentials and endpoints, from the environment or a ``.env`` file.

alpaca-py reads no environment variables, so the desk reads the old SDK's names itself:
``APCA_API_KEY_ID``, ``APCA_API_SECRET_KEY``, ``APCA_API_BASE_URL`` (and, for the project's
sandbox or a proxy, ``APCA_API_DATA_URL``, ``APCA_API_STREAM_URL``, ``APCA_API_DATA_STREAM_URL``).
They come from one place: the process environment if it sets any of them, else ``.env`` in the
working directory. A mix (keys in the environment, a URL in ``.env``, or the other way round)
is refused, because it would send one source's keys to the other's URL. The key id and secret
are checked before any connection (printable ASCII, no whitespace, a sane length) with messages
that never show them; the secret is held in an object whose ``repr`` hides it, is registered
with ``redact`` so that no rendered error can carry it, and no code path prints or stores it.
Which Alpaca environment a URL points at is decided by its parsed host name (any case, a
trailing dot, any port, path or user info), never by comparing strings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tui_trader.core.web_address import http_url_problem
from tui_trader.security import redact

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
PAPER_HOST = "paper-api.alpaca.markets"
LIVE_HOST = "api.alpaca.markets"
MAX_CREDENTIAL_LENGTH = 256
"""Alpaca's key ids are 20 characters and secrets 40; anything past this is a pasting mistake."""
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


def read_settings(
    env: dict[str, str] | None = None, env_file: Path | None = None
) -> tuple[dict[str, str], str]:
    """The ``APCA_*`` values from one source and its name, for messages: the process environment
    if it sets any of them, otherwise the ``.env`` file. Never a mix (see ``mixed_sources``)."""
    environ = os.environ if env is None else env
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    from_env = {k: environ[k] for k in _NAMES if environ.get(k)}
    if from_env:
        return from_env, "environment"
    return _from_file(env_file), env_file.name


def mixed_sources(env: dict[str, str] | None = None, env_file: Path | None = None) -> str | None:
    """Why the environment and ``.env`` would be combined (names and places, never values), or
    ``None`` when one source holds every ``APCA_*`` value it would use."""
    environ = os.environ if env is None else env
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    from_env = [k for k in _NAMES if environ.get(k)]
    if not from_env:
        return None
    extra = [k for k in _from_file(env_file) if k not in from_env]
    if not extra:
        return None
    return (
        f"Alpaca settings come from two places: {', '.join(from_env)} from the environment and "
        f"{', '.join(extra)} from {env_file}. Keys and URLs must come from one source (a key "
        "could otherwise be sent to a URL you did not choose): set them all in the "
        f"environment, or all in {env_file.name}, and unset the others"
    )


def env_file_problem(env_file: Path) -> str:
    """What ``env_file`` is when it is there but no file to read settings from (a folder, a
    link that loops or leads nowhere, a pipe), in words naming it; empty for a plain file or
    none. Such a ``.env`` is skipped (a virtualenv is often named ``.env``), and a user whose
    credentials are not found is told why instead of only "not found"."""
    import errno
    import stat

    from tui_trader.core.shown import shown_line

    name = shown_line(str(env_file))
    try:
        mode = env_file.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{name} is a symbolic link that loops (it leads back to itself)"
        if env_file.is_symlink():
            target = shown_line(os.readlink(env_file))
            return f"{name} is a symbolic link to {target}, which does not exist"
        if exc.errno == errno.ENOENT:
            return ""
        return f"{name} cannot be read: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return f"{name} is a folder, not a settings file (credentials are read from a file)"
    if not stat.S_ISREG(mode):
        return f"{name} is not a plain file (a pipe or a device), not a settings file"
    return ""


MAX_ENV_FILE_BYTES = 1_000_000
"""A ``.env`` larger than this is not a settings file (a pasted dump, a log)."""


def _from_file(env_file: Path) -> dict[str, str]:
    """The ``APCA_*`` values a ``.env`` file sets (empty if there is no such file).

    ``ConfigError`` for a file that cannot be one (unreadable, not UTF-8 text, huge) and for an
    ``APCA_*`` line python-dotenv cannot parse (an unclosed quote): it would skip that line
    with a log message, and the user would read "credentials not found" about a file that
    holds them. No value is ever quoted."""
    if not env_file.is_file():
        return {}
    import io

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    from tui_trader.brokers import env_lines

    try:
        if env_file.stat().st_size > MAX_ENV_FILE_BYTES:
            raise ConfigError(f"{env_file} is larger than 1 MB: not a settings file")
        text = env_file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {env_file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{env_file} is not a text file (UTF-8): not a settings file") from None
    seen: dict[str, tuple[int, str | None]] = {}
    bindings: list[tuple[str, str | None]] = []
    parsed = list(parse_stream(io.StringIO(text)))
    for binding in parsed:
        if binding.key is not None:
            bindings.append((binding.key, binding.value))
        if binding.error and "APCA_" in binding.original.string:
            raise ConfigError(
                f"{env_file}: line {env_lines.line_of(binding)} cannot be read (an unclosed "
                "quote?); write each setting as NAME=value on its own line"
            )
        hidden = _hidden_name(binding.key)
        if hidden:
            raise ConfigError(
                f"{env_file}: line {env_lines.line_of(binding)}: {hidden} is written with an "
                "invisible character in or before its name (a byte order mark, as when two "
                "files are joined): retype the name (the value is not shown)"
            )
        if binding.key in _NAMES:
            line, value = seen.setdefault(binding.key, (env_lines.line_of(binding), binding.value))
            if value != binding.value:  # the last would win, silently: which keys trade?
                raise ConfigError(
                    f"{env_file}: {binding.key} is set twice, differently (lines {line} and "
                    f"{env_lines.line_of(binding)}): keep one (the values are not shown)"
                )
    grown = _grown_past_limit(bindings)
    if grown:
        raise ConfigError(
            f"{env_file}: {grown} grows past 1 MB once its ${{...}} references are filled in: "
            "not a settings file (the values are not shown)"
        )
    env_lines.note(env_file, env_lines.skipped_lines(parsed))  # said once, by line number
    values = dotenv_values(stream=io.StringIO(text))
    return {k: v for k, v in values.items() if v and k in _NAMES}


def _grown_past_limit(bindings: list[tuple[str, str | None]]) -> str | None:
    """The first name whose value python-dotenv would expand past ``MAX_ENV_FILE_BYTES``, or
    None. Its ``${A}`` references are filled in as it does, so a few lines that each double the
    one before (``A2=${A1}${A1}``) grow without end: a 1 KB ``.env`` of 30 such lines took 48 s
    and 8 GB of memory before ``live status`` said anything. Sizes are added up, never built."""
    from dotenv.variables import Literal, parse_variables

    sizes: dict[str, int] = {}
    for key, value in bindings:
        size = 0
        for atom in parse_variables(value or ""):
            if isinstance(atom, Literal):
                size += len(atom.value)
            elif atom.name in sizes:  # the file's own value wins over the environment's
                size += sizes[atom.name]
            else:
                size += len(os.environ.get(atom.name, atom.default or ""))
        if size > MAX_ENV_FILE_BYTES:
            return key
        sizes[key] = size
    return None


_INVISIBLE = ("\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u00a0")
"""Characters a name may carry unseen: a byte order mark, zero-width ones, a no-break space."""


def _hidden_name(key: str | None) -> str | None:
    """The ``APCA_*`` name a ``.env`` key is once its invisible characters are dropped, when it
    is not that name as written: python-dotenv took ``\ufeffAPCA_API_SECRET_KEY`` (a file
    joined after one saved with a byte order mark) as another variable, and the user read "not
    set ... in .env" about a file that sets it."""
    if not key or key in _NAMES:
        return None
    visible = key
    for mark in _INVISIBLE:
        visible = visible.replace(mark, "")
    visible = visible.strip()
    return visible if visible in _NAMES else None


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
        missing = [n for n in _NAMES[:2] if not values.get(n)]
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
    for name in _NAMES[2:]:
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
