"""The settings file, ``tui-trader.toml``: defaults for every option of the trading commands.

It is looked for in the working directory, then in the user's config folder, unless ``--config``
names one. It is one flat TOML table whose keys are option names (``max-drawdown`` or
``max_drawdown``): symbols, interval, risk limits, alerts, backups, learning. The command line
wins over it. Keys and secrets never belong in it: a key named like a credential, or an alert URL
carrying a password or token, is refused with its line. Every problem is one ``ConfigFileError``
naming the file, the line and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_trader.core.shown import shown_path

CONFIG_NAME = "tui-trader.toml"
COMMAND_LINE_ONLY = frozenset({"enable_live", "skip_readiness"})
"""Real-money switches: typed each time on the command line, never read from a file."""
_SECRET_NAME = re.compile(r"(key|secret|token|password|passwd|apca|credential)", re.IGNORECASE)
_TOML_LINE = re.compile(r"at line (\d+)")
_LONG_NUMBER = re.compile(r"\d{4301}")


def _long_number_line(text: str) -> int | str:
    """The first line holding a number too long for ``int()`` (``?`` if none is found)."""
    for number, line in enumerate(text.splitlines(), 1):
        if _LONG_NUMBER.search(line.replace("_", "")):
            return number
    return "?"


class ConfigFileError(ValueError):
    """A settings file that cannot be used: ``FILE:LINE: key 'name': why``."""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A loaded settings file: values by option name (underscores), and their lines."""

    path: Path
    values: dict[str, Any]
    lines: dict[str, int]
    written: dict[str, str] = field(default_factory=dict)
    """Each key's value as the line spells it (``1e12``, which TOML hands over as a float whose
    text is ``1000000000000.0``), for the messages to quote what was typed."""

    def where(self, name: str) -> str:
        """``FILE:LINE`` of a key, for messages and ``config show``."""
        return f"{self.path}:{self.lines.get(name, 0)}"

    def error(self, name: str, why: str) -> ConfigFileError:
        """The one-line error about key ``name``."""
        return ConfigFileError(f"{self.where(name)}: key '{name}': {why}")


def user_config_path() -> Path:
    """``tui-trader.toml`` in the user's config folder."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("tui-trader", appauthor=False)) / CONFIG_NAME


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """The settings file to use: ``--config``, else the working directory's, else the user's."""
    if explicit is not None:
        try:
            found = explicit.is_file()
        except OSError as exc:  # a name longer than the file system allows, a loop of links
            raise ConfigFileError(
                f"{shown_path(explicit)}: cannot open the settings file (--config): "
                f"{exc.strerror or exc}"
            ) from None
        if not found:
            raise ConfigFileError(f"{shown_path(explicit)}: {_not_a_file(explicit)} (--config)")
        return explicit
    for candidate in ((cwd or Path.cwd()) / CONFIG_NAME, user_config_path()):
        if candidate.is_file():
            return candidate
        if os.path.lexists(candidate):  # there, but no file to read: its settings would be lost
            raise ConfigFileError(
                f"{shown_path(candidate)}: {_not_a_file(candidate)}; its settings (risk limits "
                "among them) cannot be read: fix it, remove it, or name another with --config"
            )
    return None


def _not_a_file(path: Path) -> str:
    """Why a settings file's name names no file to read."""
    try:
        if path.is_dir():
            return "a folder, not a settings file"
        if path.is_symlink() and not path.exists():
            return "a link to nothing (or a loop of links), not a settings file"
        if path.exists():
            return "not a regular file (a device, pipe or socket), not a settings file"
    except OSError as exc:
        return f"cannot be looked up ({exc.strerror or exc})"
    return "no such settings file"


MAX_CONFIG_BYTES = 1_000_000
"""A settings file larger than this is none (a log or a dump named by mistake): a 300 MB file
of comments was read whole (680 MB of memory, 6 s) and one of some GB would exhaust it."""


def load_config(path: Path, known: set[str]) -> ConfigFile:
    """Read and check a settings file: TOML, flat, known keys, no secrets."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigFileError(f"{path}: larger than 1 MB: not a settings file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read the settings file: {exc}") from None
    # a byte order mark (Windows Notepad's "UTF-8 with BOM") is no TOML: tomllib called such a
    # file "not valid TOML: Invalid statement (at line 1, column 1)"
    text = text.removeprefix("\ufeff")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = match.group(1) if match else "?"
        raise ConfigFileError(f"{path}:{line}: not valid TOML: {exc}") from None
    except ValueError:  # int()'s 4,300-digit limit: not a TOMLDecodeError (exit 1, crash.log)
        raise ConfigFileError(
            f"{path}:{_long_number_line(text)}: not valid TOML: a number of more than 4,300 digits"
        ) from None
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        raise ConfigFileError(
            f"{path}: nested too deeply to be a settings file (one flat table of options)"
        ) from None
    lines, written = _key_lines(text)
    values: dict[str, Any] = {}
    line_of: dict[str, int] = {}
    first_key: dict[str, str] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name in first_key:  # 'max-drawdown' and 'max_drawdown': TOML keeps both, we cannot
            line_of[key] = lines.get(key, 0)
            raise ConfigFile(path, values, line_of).error(
                key,
                f"the same option as '{first_key[name]}' on line {line_of[first_key[name]]}: "
                "set it once",
            )
        first_key[name] = key
        line_of[key] = line_of[name] = lines.get(key, 0)
        cfg = ConfigFile(path, values, line_of)
        if name in COMMAND_LINE_ONLY:
            raise cfg.error(
                key, "real-money switches are typed on the command line each time, not set here"
            )
        if name not in known:
            if _SECRET_NAME.search(name):
                raise cfg.error(
                    key,
                    "keys and secrets never belong in the settings file: keep them in the "
                    "environment or .env",
                )
            raise cfg.error(key, "not an option of the trading commands")
        if isinstance(value, dict):
            raise cfg.error(key, "the settings file is one flat table, not sections")
        for text_value in value if isinstance(value, list) else [value]:
            if isinstance(text_value, str) and _carries_secret(text_value):
                where = (  # the database's password has its own place, not --alert
                    "put the password in PGPASSWORD or ~/.pgpass"
                    if name == "db"
                    else "pass it with --alert on the command line"
                )
                raise cfg.error(
                    key,
                    "this URL carries a password or token: secrets never belong in the "
                    f"settings file; {where}",
                )
        values[name] = value
        if key in written:
            written[name] = written[key]
    return ConfigFile(path, values, line_of, written)


def _carries_secret(text: str) -> bool:
    """Whether an alert URL holds a password or token (apprise masks something in it)."""
    if "://" not in text:
        return False
    from tui_trader.ops.alerts import redact

    shown = redact(text)
    return "****" in shown or "..." in shown


def _key_lines(text: str) -> tuple[dict[str, int], dict[str, str]]:
    """The line each top-level key is set on, and the first word after its ``=`` (a number's
    spelling: ``1e12``, ``+5``)."""
    out: dict[str, int] = {}
    written: dict[str, str] = {}
    pattern = re.compile(r"""^\s*\[?\s*["']?([A-Za-z0-9_\-]+)["']?\s*([=\]])\s*([^\s#]*)""")
    for number, line in enumerate(text.splitlines(), start=1):
        match = pattern.match(line)
        if match and match.group(1) not in out:
            out[match.group(1)] = number
            if match.group(2) == "=":
                written[match.group(1)] = match.group(3)
    return out, written
