"""The full-screen app as the command line opens it: ``tui-trader`` with no command.

Its own options (``--db``, ``--config``, ``--enable-live``, ``--skip-readiness``) are read
here; Textual is imported only when the app opens, so ``--help`` and every command stay light."""

from __future__ import annotations

import argparse


def run_app(args: argparse.Namespace) -> int:
    """No subcommand: open the full-screen app (Textual is imported only now)."""
    from tui_trader.cli.common import UsageError, resolve_db

    if args.app_skip_readiness and not args.app_enable_live:
        from tui_trader.ops.readiness import SKIP_ALONE

        raise UsageError(SKIP_ALONE)

    db = resolve_db(args.app_db) if args.app_db is not None else None
    from tui_trader.cli.config_cmd import setup_defaults

    defaults = setup_defaults(args.app_config)
    if db is None:  # the settings file's db, as for 'paper'; else $TUI_TRADER_DB or the default
        db = resolve_db((defaults or {}).get("db"))
    from tui_trader.cli.logs import log_or_warn
    from tui_trader.tui.app import make_app

    log_or_warn()  # a failed alert or backup is said in the log: the screen is Textual's
    extra = {"setup_defaults": defaults} if defaults is not None else {}
    make_app(
        db,
        live_enabled=args.app_enable_live,
        skip_readiness=args.app_skip_readiness,
        **extra,
    ).run()
    return 0


def app_options_given(args: argparse.Namespace) -> str | None:
    """The first of the app's own options (``--db``, ``--config``, ``--enable-live`` before any
    command) given on a command line that names a command, which would not read it."""
    for option, given in (
        ("--db", args.app_db is not None),
        ("--config", args.app_config is not None),
        ("--enable-live", args.app_enable_live),
        ("--skip-readiness", args.app_skip_readiness),
    ):
        if given:
            return option
    return None
