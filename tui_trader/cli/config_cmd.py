"""The settings file on the command line: merging it into a trading command, and ``config show``.

A trading command's options come from three places, strongest first: the command line, the
settings file (``--config`` or ``tui-trader.toml``, see ``tui_trader.ops.config_file``), the
built-in defaults. File values go through the same checks as typed ones; a bad one is one line
naming the file, the line and the key, and exit 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tui_trader.cli.common import UsageError

_NOT_SETTINGS = {"help", "config", "config_parser", "handler"}
_PATHS = {"db", "cache_dir", "backup_dir"}
"""Settings naming a file, folder or URL: any text is a path, so a TOML number or date given
for one (``db = 5``) is refused here, not turned into the path ``5``."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``config show``."""
    config = subparsers.add_parser("config", help="the settings file (tui-trader.toml)")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="the effective settings of 'paper' and where each came from",
        description="Print every setting of a trading command (default: paper), its value and "
        "its source: the command line, FILE:LINE, or the default. Options after the command "
        "name are taken as typed, e.g. 'config show live paper --max-drawdown 3'.",
    )
    show.add_argument("command_line", nargs=argparse.REMAINDER, metavar="[COMMAND] [OPTIONS]")
    show.set_defaults(handler=run_config_show)


def trading_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The trading commands' parsers by name (``paper``, ``live paper``, ``live trading``)."""
    top = _choices(parser)
    live = _choices(top["live"]) if "live" in top else {}
    out = {"paper": top["paper"]}
    for name in ("paper", "trading"):
        if name in live:
            out[f"live {name}"] = live[name]
    return out


def known_settings(parser: argparse.ArgumentParser) -> set[str]:
    """Every option name a settings file may set."""
    return {
        action.dest
        for sub in trading_parsers(parser).values()
        for action in sub._actions
        if action.option_strings and action.dest not in _NOT_SETTINGS
    }


def merge_config(
    args: argparse.Namespace,
    argv: list[str],
    parser: argparse.ArgumentParser,
    load_commands: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Fill ``args`` from the settings file where the command line said nothing; returns the
    source of every setting (``command line``, ``FILE:LINE`` or ``default``).

    ``load_commands`` registers every trading command's options (``parser``'s lazy ones), called
    only once a file is found: a file's key is checked against every command's options, but
    without a file a local ``paper`` need not import the Alpaca session's options (and
    ``requests``: ~0.1 s of CPU a process)."""
    from tui_trader.ops.config_file import ConfigFileError, find_config, load_config

    sub: argparse.ArgumentParser = args.config_parser
    given = _given(sub, argv)
    actions = {a.dest: a for a in sub._actions if a.option_strings and a.dest not in _NOT_SETTINGS}
    sources = {dest: "command line" if dest in given else "default" for dest in actions}
    try:
        path = find_config(args.config)
        if path is None:
            return sources
        if load_commands is not None:
            load_commands()
        cfg = load_config(path, known_settings(parser))
        others = _other_commands_actions(parser)
        for dest, value in cfg.values.items():
            # every value is checked, even one the command line overrides or another command
            # reads: a bad value is a broken file ('iterations = 1.5' ran under --iterations 1
            # and waited for the next command that left it unset)
            converted = _convert(actions.get(dest) or others[dest], value, cfg, dest)
            if dest in given or dest not in actions:
                continue
            setattr(args, dest, converted)
            sources[dest] = cfg.where(dest)
    except ConfigFileError as exc:
        raise UsageError(str(exc)) from None
    return sources


def _other_commands_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The option of each setting in the trading commands (``paper``'s first), to check a
    file's key that the command being run does not read."""
    out: dict[str, argparse.Action] = {}
    for sub in trading_parsers(parser).values():
        for action in sub._actions:
            if action.option_strings and action.dest not in _NOT_SETTINGS:
                out.setdefault(action.dest, action)
    return out


def _convert(action: argparse.Action, value: Any, cfg, dest: str) -> Any:
    """A file value checked and converted as argparse would a typed one."""
    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise cfg.error(dest, "must be true or false")
        return value
    if isinstance(value, bool):
        raise cfg.error(dest, f"must be a value, not {str(value).lower()}")
    if dest in _PATHS and not isinstance(value, str):  # str(5) made a database file named '5'
        shown = _as_written(value, cfg.written.get(dest, ""))
        shown = shown if len(shown) <= 40 else f"{shown[:37]}..."
        raise cfg.error(dest, f"must be text in quotes (a file, folder or URL), not {shown}")
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) for i in items):
            raise cfg.error(dest, "must be a string or a list of strings")
        return list(items)
    if isinstance(value, list):
        if dest != "symbols" or not all(isinstance(i, str) for i in value):
            raise cfg.error(dest, "must be a single value")
        value = ",".join(value)
    text = _as_written(value, cfg.written.get(dest, ""))
    try:
        converted = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        raise cfg.error(dest, str(exc)) from None
    if action.choices is not None and converted not in action.choices:
        raise cfg.error(dest, f"must be one of {', '.join(map(str, action.choices))}")
    return converted


def _as_written(value: Any, written: str) -> str:
    """The text an option's parser reads for a file's value: the number as the line spells it
    when that spelling means the same number (``1e12``: the refusal quoted '1000000000000.0',
    which nobody typed), else ``str(value)`` (TOML's ``1_000`` and ``0x10`` are its own), or
    the spelling when ``str()`` refuses it (``0xfff...`` of 4,000 digits: ``ValueError``, a
    traceback)."""
    if isinstance(value, (int, float)) and written.isascii() and "_" not in written:
        try:
            if float(written) == value:
                return written
        except ValueError:
            pass
    try:
        return str(value)
    except ValueError:  # an int of more than 4,300 digits: TOML reads 0x/0o/0b ones unbounded
        return written or "a number of more than 4,300 digits"


def _given(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The settings typed on the command line (unique prefixes count, as argparse allows)."""
    options = {opt: a.dest for a in parser._actions for opt in a.option_strings}
    given = set()
    for token in argv:
        if not token.startswith("-") or token == "--":
            continue
        name = token.split("=", 1)[0]
        if name in options:
            given.add(options[name])
            continue
        matches = {dest for opt, dest in options.items() if opt.startswith(name)}
        if len(matches) == 1:
            given |= matches
    return given


def setup_defaults(explicit) -> dict[str, str] | None:
    """The desk's setup form, started from the settings file (``None``: no file)."""
    from tui_trader.cli import build_parser
    from tui_trader.ops.config_file import ConfigFileError, find_config, load_config
    from tui_trader.tui.setup_carried import CARRIED, READINESS
    from tui_trader.tui.setup_defaults import config_defaults

    try:
        path = find_config(explicit)
        if path is None:
            return None
        parser = build_parser()
        cfg = load_config(path, known_settings(parser))
        commands = trading_parsers(parser)
        paper = {a.dest: a for a in commands["paper"]._actions if a.option_strings}
        live = {a.dest: a for a in commands["live paper"]._actions if a.option_strings}
        others = _other_commands_actions(parser)  # a live command's key is checked too
        # a carried key is read as the desk's Alpaca sessions read it ('timeout' at most 600 s)
        checked = {
            dest: _convert(
                (live.get(dest) if dest in CARRIED else None) or paper.get(dest) or others[dest],
                value,
                cfg,
                dest,
            )
            for dest, value in cfg.values.items()
        }
    except ConfigFileError as exc:
        raise UsageError(str(exc)) from None
    # a form field keeps the file's text (its own check reads it again); a key without one is
    # carried as the number the option read ('5%' is 5: float() alone would refuse it). Every
    # key goes on: the form names those the desk does not use (live-only keys were dropped
    # here unseen, 'suspend-on-halt' among them).
    raw = {k: checked[k] if k in (*CARRIED, *READINESS) else v for k, v in cfg.values.items()}
    return config_defaults(raw)


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's subcommands by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def run_config_show(args: argparse.Namespace) -> int:
    """Merge as the command would, then print each setting, its value and its source."""
    from tui_trader.cli import build_parser

    words = list(args.command_line)
    command = ["paper"]
    if words[:2] in (["live", "paper"], ["live", "trading"]):
        command, words = words[:2], words[2:]
    elif words[:1] == ["paper"]:
        words = words[1:]
    parser = build_parser()
    parsed = parser.parse_args([*command, *words])
    sources = merge_config(parsed, words, parser)
    print(f"settings of '{' '.join(command)}'")
    for dest in sorted(sources):
        print(f"  {dest:22} {_show(dest, getattr(parsed, dest, None)):32} {sources[dest]}")
    return 0


def _show(dest: str, value: Any) -> str:
    """A setting's value for the table, every alert URL masked (by the setting, not by the
    look of its first value: ``--alert oops --alert json://u:PASSWORD@host`` showed the
    password)."""
    if dest == "alert" and value:
        from tui_trader.ops.alerts import redact

        return ", ".join(redact(v) for v in value)
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return "-" if value is None else str(value)
