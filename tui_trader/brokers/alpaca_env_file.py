"""Where the desk's Alpaca settings come from: the process environment or a ``.env`` file.

alpaca-py reads no environment variables, so the desk reads the old SDK's ``APCA_*`` names
itself, from one place: the environment if it sets any of them, else ``.env`` in the working
directory, never a mix (it would send one source's keys to the other's URL). A ``.env`` that
cannot be a settings file (a folder, unreadable, not UTF-8, huge, an unclosed quote, a name
hidden behind an invisible character, ``${...}`` references that grow without end) is said so
in plain words instead of "credentials not found"; no value is ever quoted. What the values
mean (keys, URLs, which Alpaca environment) is ``alpaca_config``'s.
"""

from __future__ import annotations

import os
from pathlib import Path

NAMES = (
    "APCA_API_KEY_ID",
    "APCA_API_SECRET_KEY",
    "APCA_API_BASE_URL",
    "APCA_API_DATA_URL",
    "APCA_API_STREAM_URL",
    "APCA_API_DATA_STREAM_URL",
)
"""The settings the desk reads, key id and secret first."""


class ConfigError(ValueError):
    """Credentials or endpoints that cannot be used, said in plain words."""


def read_settings(
    env: dict[str, str] | None = None, env_file: Path | None = None
) -> tuple[dict[str, str], str]:
    """The ``APCA_*`` values from one source and its name, for messages: the process environment
    if it sets any of them, otherwise the ``.env`` file. Never a mix (see ``mixed_sources``)."""
    environ = os.environ if env is None else env
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    from_env = {k: environ[k] for k in NAMES if environ.get(k)}
    if from_env:
        return from_env, "environment"
    return _from_file(env_file), env_file.name


def mixed_sources(env: dict[str, str] | None = None, env_file: Path | None = None) -> str | None:
    """Why the environment and ``.env`` would be combined (names and places, never values), or
    ``None`` when one source holds every ``APCA_*`` value it would use."""
    environ = os.environ if env is None else env
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    from_env = [k for k in NAMES if environ.get(k)]
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
        if binding.key in NAMES:
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
    return {k: v for k, v in values.items() if v and k in NAMES}


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
    if not key or key in NAMES:
        return None
    visible = key
    for mark in _INVISIBLE:
        visible = visible.replace(mark, "")
    visible = visible.strip()
    return visible if visible in NAMES else None
