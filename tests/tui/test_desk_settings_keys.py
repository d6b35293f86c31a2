"""Every settings-file key on the desk: a form field, carried to the session, or named on the
setup screen. The desk dropped ``live paper``'s own keys (``suspend-on-halt``,
``ignore-market-hours``, ``adopt-positions``, the readiness bar) without a word: a trader who set
``suspend-on-halt`` in the file and started an Alpaca session from the desk believed it on."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Static
from tui_helpers import wait_for

from tui_trader.cli import build_parser
from tui_trader.cli.common import UsageError
from tui_trader.cli.config_cmd import known_settings, setup_defaults
from tui_trader.ops.config_file import COMMAND_LINE_ONLY
from tui_trader.tui.app import make_app
from tui_trader.tui.setup_carried import carried_note
from tui_trader.tui.setup_form import DEFAULTS, validate

EVERY_KEY = {
    "adjusted": "true",
    "adopt_positions": "true",
    "alert": '["json://127.0.0.1:9/hook"]',
    "alert_deadline": "5",
    "alert_retries": "2",
    "alert_slippage_bps": "30",
    "allocation": "5",
    "allow_short": "true",
    "backup_dir": '"bk"',
    "backup_every": "30",
    "backup_keep": "4",
    "batch": "true",
    "cache_dir": '"cache"',
    "commission_min": "0.5",
    "commission_per_share": "0.002",
    "commit_every": "2",
    "data": '"yahoo"',
    "db": '"file.db"',
    "every": "1",
    "flatten_on_halt": "true",
    "fractional": "true",
    "ignore_market_hours": "true",
    "interval": '"1h"',
    "iterations": "9",
    "learning_rate": "0.05",
    "max_daily_loss": "1.5",
    "max_drawdown": "3",
    "max_drawdown_seen": "2",
    "max_halts": "1",
    "max_orders_per_day": "12",
    "max_position": "8",
    "min_days": "3",
    "min_iterations": "20",
    "min_pnl": "1",
    "offline": "true",
    "period": '"30d"',
    "requests_per_minute": "900",
    "seed": "11",
    "slippage_bps": "2",
    "snapshot_every": "3",
    "start_cash": "20000",
    "stop_loss": "3",
    "suspend_on_halt": "true",
    "symbols": '"QQQ"',
    "take_profit": "6",
    "timeout": "30",
    "weight_floor": "0.02",
    "weights": '"equal"',
}
"""A good value of every key a settings file may set."""


def test_every_key_the_file_sets_is_a_field_carried_or_named(tmp_path: Path) -> None:
    """Each key is on the form (its field or switch changed from the default) or named on the
    setup screen's line; a new option fails this test until the desk says what it does with
    it. Before, eight live-only keys vanished (``suspend_on_halt``, ``min_days``, ...)."""
    assert set(EVERY_KEY) == known_settings(build_parser()) - COMMAND_LINE_ONLY
    path = tmp_path / "desk.toml"
    path.write_text("".join(f"{key} = {value}\n" for key, value in EVERY_KEY.items()))
    fields = setup_defaults(path)
    assert fields is not None
    note = carried_note(fields)
    on_form = {k for k, v in fields.items() if DEFAULTS.get(k, "") != v}
    renamed = {"max_orders_per_day": "max_orders", "alert": "alerts"}
    silent = [k for k in EVERY_KEY if renamed.get(k, k) not in on_form and k not in note]
    assert silent == []


def test_the_files_live_keys_reach_a_desks_alpaca_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``suspend-on-halt``, ``ignore-market-hours``, ``timeout`` and ``start-cash`` are what
    ``live paper`` would run with: the desk's Alpaca session was built with the defaults (no
    suspend, market hours kept, 10 s, the whole equity) whatever the file said."""
    from tui_trader.session import alpaca
    from tui_trader.tui.handles import SESSION_BUILDERS

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    path = tmp_path / "desk.toml"
    path.write_text(
        "suspend-on-halt = true\nignore-market-hours = true\ntimeout = 30\nstart-cash = 2500\n"
    )
    fields = setup_defaults(path)
    assert fields is not None
    note = carried_note(fields)
    assert "ignore_market_hours True" in note and "timeout 30.0 s" in note
    assert "start_cash" not in note and "suspend_on_halt" not in note  # on its field, switch
    assert fields["start_cash"] == "2500" and fields["suspend_on_halt"] == "on"
    suspend = bool(fields["suspend_on_halt"])  # the switch's start, as the screen reads it
    plan = validate(dict(fields, db="desk.db", mode="paper"), suspend_on_halt=suspend).plan
    assert plan is not None
    built = []
    monkeypatch.setattr(
        alpaca, "build_alpaca_session", lambda s, e, clock=None, say=None: built.append(s)
    )
    SESSION_BUILDERS["paper"](plan.settings)()
    (settings,) = built
    assert settings.suspend_on_halt and not settings.require_open_market
    assert (settings.timeout, settings.capital) == (30.0, 2500.0)


def test_the_files_timeout_is_a_local_desks_yahoo_deadline_and_checked_as_alpacas(
    tmp_path: Path,
) -> None:
    """``timeout`` is Yahoo's deadline for a local session on Yahoo data (as for ``paper``);
    over 600 s the desk refuses the file as ``live paper`` does, naming line and key (the desk
    took it and dropped it)."""
    path = tmp_path / "desk.toml"
    path.write_text('data = "yahoo"\ntimeout = 45\n')
    fields = setup_defaults(path)
    assert fields is not None
    plan = validate(dict(fields, db="desk.db")).plan
    assert plan is not None and plan.settings.yahoo.timeout == 45.0
    path.write_text("seed = 3\ntimeout = 1000\n")
    with pytest.raises(UsageError, match=r"desk.toml:2: key 'timeout': at most 600 seconds"):
        setup_defaults(path)


async def test_the_setup_screen_names_the_files_readiness_bar_as_checked_for_live(
    db_path, tmp_path: Path
) -> None:
    """The readiness keys are named with their values on the setup screen before anything
    starts, as the bar Alpaca live is checked against (desk17 named them "NOT CHECKED": the
    desk had no gate), and ``adopt-positions`` sets the Adopt switch."""
    path = tmp_path / "desk.toml"
    path.write_text("min-days = 5\nmax-halts = 0\nadopt-positions = true\n")
    app = make_app(db_path, setup_defaults=setup_defaults(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: not app.screen.query_one("#start").disabled, "the check")
        note = app.screen.query_one("#carried", Static).render().plain
        assert note.startswith(
            "readiness bar for Alpaca live (checked at its start): min_days 5, max_halts 0"
        )
        assert "NOT CHECKED" not in note
        assert app.screen.query_one("#adopt", Checkbox).value is True


def test_the_files_operations_cadences_and_yahoo_keys_reach_the_desks_plan(
    tmp_path: Path,
) -> None:
    """Keys the desk named "not used" though its sessions take them: the alerts' deadline,
    retries and slippage bar and the backups' folder (every session), the snapshot and commit
    cadences (a local session), Yahoo's cache, adjusted prices and offline (a local session on
    Yahoo data). Only ``batch`` (replay a file to its end, a command-line run) is left unused."""
    path = tmp_path / "desk.toml"
    path.write_text(
        "alert-deadline = 4\nalert-retries = 0\nalert-slippage-bps = 25\n"
        f'backup-dir = "{tmp_path / "bk"}"\nsnapshot-every = 3\ncommit-every = 2\n'
        f'data = "yahoo"\ncache-dir = "{tmp_path / "cache"}"\nadjusted = true\noffline = true\n'
        "batch = true\n"
    )
    fields = setup_defaults(path)
    assert fields is not None
    assert carried_note(fields).endswith("\nnot used by the desk: batch")
    plan = validate(dict(fields, db="desk.db")).plan
    assert plan is not None
    ops, settings = plan.ops, plan.settings
    assert (ops.policy.deadline, ops.policy.retries, ops.slippage_alert_bps) == (4.0, 0, 25.0)
    assert ops.backup_dir == tmp_path / "bk"
    assert (settings.snapshot_every, settings.commit_every) == (3, 2)
    yahoo = settings.yahoo
    assert (yahoo.cache_dir, yahoo.adjusted, yahoo.offline) == (tmp_path / "cache", True, True)


def test_the_desk_refuses_alert_retries_past_ten_as_the_commands_do(tmp_path: Path) -> None:
    """``alert-retries = 1000000`` in the file was carried to a desk session: a dead alert URL
    then held its first notice for weeks (its failure said only at the session's end). The desk
    refuses the file as ``paper`` does, naming line and key; ten is still taken."""
    path = tmp_path / "desk.toml"
    path.write_text("alert-retries = 1000000\n")
    with pytest.raises(UsageError, match=r":1: key 'alert_retries': at most 10 "):
        setup_defaults(path)
    path.write_text("alert-retries = 10\n")
    fields = setup_defaults(path)
    assert fields is not None
    plan = validate(dict(fields, db="desk.db")).plan
    assert plan is not None and plan.ops.policy.retries == 10


def test_the_files_database_is_the_desks_unless_db_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db`` in the settings file is the desk's database, as it is ``paper``'s (the desk
    opened ``$TUI_TRADER_DB`` or the default one, and a session started there did not see the
    file's database's halts); ``--db`` wins over it."""
    from tui_trader.cli import main
    from tui_trader.tui import app as app_module

    opened: list[Path] = []

    class NoRun:
        def run(self) -> None:
            """Nothing."""

    monkeypatch.setattr(app_module, "make_app", lambda db, **_: opened.append(db) or NoRun())
    monkeypatch.setenv("TUI_TRADER_DB", str(tmp_path / "env.db"))
    path = tmp_path / "desk.toml"
    path.write_text(f'db = "{tmp_path / "file.db"}"\n')
    assert main(["--config", str(path)]) == 0
    assert main(["--config", str(path), "--db", str(tmp_path / "typed.db")]) == 0
    assert opened == [tmp_path / "file.db", tmp_path / "typed.db"]


async def test_the_live_warning_checks_the_files_readiness_bar(db_path, tmp_path: Path) -> None:
    """Going live from the desk, the real-money warning shows the paper record's verdict
    against the file's bar (it said the bar was not checked), and refuses."""
    from textual.widgets import Select

    from tui_trader.tui.screens.live_warning import LiveWarningScreen

    path = tmp_path / "desk.toml"
    path.write_text("min-days = 5\nmin-pnl = 100\n")
    app = make_app(db_path, live_enabled=True, setup_defaults=setup_defaults(path))
    async with app.run_test(size=(120, 36)) as pilot:
        app.screen.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        text = str(app.screen.query_one(".dialog-text", Static).render())
        assert "REFUSED, live trading cannot start: the paper record is not ready" in text
        assert "NOT checked" not in text


@pytest.mark.parametrize("file", ["start-cash = 2500\n", "start-cash = 100000\n", ""])
async def test_the_files_start_cash_fills_the_cash_field_for_every_mode(
    db_path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str
) -> None:
    """The file's ``start-cash`` is the field's text for a local session and stays there for
    an Alpaca one, as ``paper`` and ``live paper`` both read it (even when it is the local
    default: the file said so); with no such key the untouched local default gives way to an
    empty field (the account's whole equity) and comes back for a local session."""
    from textual.widgets import Input, Select

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    path = tmp_path / "desk.toml"
    path.write_text(file + "seed = 3\n")
    app = make_app(db_path, setup_defaults=setup_defaults(path))
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.screen
        cash = setup.query_one("#start_cash", Input)
        filed = file.split("= ")[1].strip() if file else ""
        assert cash.value == (filed or "100000")
        setup.query_one("#mode", Select).value = "paper"
        await wait_for(pilot, lambda: cash.value == filed, "the Alpaca session's cash")
        plan = setup.revalidate().plan
        assert plan is not None
        assert plan.settings.capital == (float(filed) if filed else None)
        setup.query_one("#mode", Select).value = "local"
        await wait_for(pilot, lambda: cash.value == (filed or "100000"), "the local cash")
