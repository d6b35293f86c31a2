"""The desk's operations: the setup form starts from the settings file; its alerts field sends
a session's halt to a webhook; bad alert URLs are explained beside the field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select, Static
from tui_helpers import wait_for

from tui_trader.cli import main
from tui_trader.cli.config_cmd import setup_defaults
from tui_trader.risk.stops import StopRule
from tui_trader.tui import app as app_module
from tui_trader.tui.app import make_app
from tui_trader.tui.setup_defaults import config_defaults
from tui_trader.tui.setup_form import DEFAULTS, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.integration.ops_servers import webhook

SIZE = (120, 40)


def test_the_form_starts_from_the_settings_file(tmp_path: Path) -> None:
    """Settings-file values fill the fields they name; the rest keep their defaults."""
    path = tmp_path / "desk.toml"
    path.write_text(
        'symbols = ["QQQ", "IWM"]\nmax_drawdown = 3\nbackup_every = 30\nbackup_keep = 5\n'
        'alert = ["ntfy://127.0.0.1/desk"]\ndata = "yahoo"\nweights = "equal"\n'
        "learning_rate = 0.05\n"
    )
    fields = setup_defaults(path)
    assert fields is not None
    assert fields["symbols"] == "QQQ, IWM" and fields["max_drawdown"] == "3"
    assert (fields["backup_every"], fields["backup_keep"]) == ("30", "5")
    assert fields["alerts"] == "ntfy://127.0.0.1/desk" and fields["data"] == "yahoo"
    assert (fields["weights"], fields["learning_rate"]) == ("equal", "0.05")
    assert fields["max_daily_loss"] == DEFAULTS["max_daily_loss"]
    assert config_defaults({"data": "replay:/x/bars.csv"})["replay_file"] == "/x/bars.csv"


def test_percentages_written_with_their_sign_in_the_settings_file_reach_the_plan(
    tmp_path: Path,
) -> None:
    """``allocation = "5%"`` (no field on the form: carried) and ``max_drawdown = "4%"`` (a
    field): the options take '5%' as 5, and the desk's plan has both; the carried value was
    converted with float() alone, which raised ValueError in the form's check."""
    path = tmp_path / "desk.toml"
    path.write_text('allocation = "5%"\nmax_drawdown = "4%"\n')
    fields = setup_defaults(path)
    assert fields is not None
    plan = validate(dict(fields, db="desk.db")).plan
    assert plan is not None
    assert (plan.settings.allocation_pct, plan.settings.limits.max_drawdown_pct) == (5.0, 4.0)


def test_the_settings_files_request_rate_reaches_a_desks_alpaca_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``requests-per-minute`` in the settings file (no field on the form: carried, and named on
    the setup screen) is the Alpaca session's budget, as for ``live paper``; before, the desk
    refused the file ("not an option of the trading commands") and had no rate but 180."""
    from tui_trader.session import alpaca
    from tui_trader.tui.handles import SESSION_BUILDERS
    from tui_trader.tui.setup_carried import carried_note

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    path = tmp_path / "desk.toml"
    path.write_text("requests-per-minute = 900\n")
    fields = setup_defaults(path)
    assert fields is not None
    assert "requests_per_minute 900" in carried_note(fields)
    plan = validate(dict(fields, db="desk.db", mode="paper")).plan
    assert plan is not None
    built = []
    monkeypatch.setattr(
        alpaca, "build_alpaca_session", lambda s, e, clock=None, say=None: built.append(s)
    )
    SESSION_BUILDERS["paper"](plan.settings)()
    assert [s.requests_per_minute for s in built] == [900.0]


def test_alert_and_backup_fields_are_checked_and_planned() -> None:
    """A URL apprise does not know is explained on the alerts field; good ones reach the plan."""
    base = dict(DEFAULTS, db="desk.db")
    bad = validate(dict(base, alerts="jsno://127.0.0.1/hook", backup_keep="-1"))
    assert bad.plan is None
    assert "not an alert URL apprise understands" in bad.errors["alerts"]
    assert "must not be negative" in bad.errors["backup_keep"]
    good = validate(dict(base, alerts="json://127.0.0.1:9/a, ntfy://127.0.0.1/b", backup_every="5"))
    assert good.plan is not None
    assert good.plan.ops.alerts == ("json://127.0.0.1:9/a", "ntfy://127.0.0.1/b")
    assert good.plan.ops.backup_every == 5.0


async def test_a_desk_session_sends_its_halt_to_the_alerts_field_url(db_path, frozen) -> None:
    """Alerts typed on the setup screen: the desk's drawdown halt arrives at the webhook."""
    with webhook() as hook:
        defaults = dict(DEFAULTS, alerts=hook.url, max_drawdown="0.3")
        app = make_app(db_path, clock=frozen, iterations=25, every=0, setup_defaults=defaults)
        async with app.run_test(size=SIZE) as pilot:
            assert app.screen.query_one("#alerts", Input).value == hook.url
            assert app.screen.query_one("#alerts-error", Static).render().plain == ""
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.desk.ended == "completed", "the session to end")
            await wait_for(pilot, lambda: len(hook.bodies) >= 2, "the alerts to arrive")
    titles = [body["title"] for body in hook.bodies]
    assert titles[0] == "tui-trader LOCAL: drawdown_kill_switch"
    assert titles[-1] == "tui-trader LOCAL: session_end"


async def test_the_desk_trades_the_weights_the_setup_screen_shows(db_path, frozen) -> None:
    """A settings file's ``weights = "momentum"`` is what the setup screen shows and what the
    desk's session trades (it used to run the adaptive blend whatever the file said); the
    learning fields stand aside while the weights are fixed."""
    defaults = dict(DEFAULTS, weights="momentum")
    app = make_app(db_path, clock=frozen, iterations=3, every=0, setup_defaults=defaults)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.screen.query_one("#start").disabled, "the check")
        assert app.screen.query_one("#weights", Select).value == "momentum"
        assert not app.screen.query_one("#learning_rate-row").display
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended == "completed", "the session to end")
        assert [s.name for s in app.handle.session.strategies] == ["momentum"]


async def test_the_settings_files_protection_and_costs_are_the_desks(db_path, tmp_path) -> None:
    """``stop-loss``, ``take-profit`` and ``flatten-on-halt`` in the settings file fill their
    setup fields (the desk used to start unprotected whatever the file said); keys without a
    field (costs, shorting) are in force and listed on the screen; keys the desk does not use
    are named, not dropped silently."""
    path = tmp_path / "desk.toml"
    path.write_text(
        'stop-loss = 3\ntake_profit = "6"\nflatten-on-halt = true\nslippage-bps = 2\n'
        "allow-short = true\nbatch = true\n"
    )
    defaults = setup_defaults(path)
    app = make_app(db_path, setup_defaults=defaults)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.screen.query_one("#start").disabled, "the check")
        screen = app.screen
        assert screen.query_one("#stop_loss", Input).value == "3"
        assert screen.query_one("#flatten", Checkbox).value is True
        note = screen.query_one("#carried", Static).render().plain
        assert "slippage_bps 2" in note and "allow_short True" in note
        assert "not used by the desk: batch" in note
        settings = screen.result.plan.settings
    assert (settings.stop_loss, settings.take_profit_pct) == (StopRule(pct=3.0), 6.0)
    assert settings.flatten_on_halt and settings.allow_short and settings.slippage_bps == 2.0


def test_the_app_opens_on_the_settings_file_and_refuses_a_bad_one(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """``tui-trader --config FILE`` hands the file's fields to the setup screen; a bad file is
    one line and exit 2 before the screen opens."""
    calls = []
    monkeypatch.setattr(app_module, "make_app", lambda *a, **k: calls.append(k) or _NoRun())
    good = tmp_path / "good.toml"
    good.write_text("max_orders_per_day = 12\n")
    assert main(["--db", str(tmp_path / "a.db"), "--config", str(good)]) == 0
    assert calls[0]["setup_defaults"]["max_orders"] == "12"
    bad = tmp_path / "bad.toml"
    bad.write_text("max_orders_per_day = 'many'\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", str(tmp_path / "a.db"), "--config", str(bad)])
    assert exit_info.value.code == 2
    assert f"{bad}:1: key 'max_orders_per_day': not a whole number" in capsys.readouterr().err
    assert len(calls) == 1


class _NoRun:
    """Stands in for the app: running it does nothing."""

    def run(self) -> None:
        """Nothing."""
