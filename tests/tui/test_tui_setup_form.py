"""The setup rules, without a screen: each bad field gets its own reason; modes are plans."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_trader.tui.setup_form import DEFAULTS, validate


def _values(**changes: str) -> dict[str, str]:
    """The defaults with a database path and some changes."""
    return dict(DEFAULTS, db="desk.db", **changes)


def test_defaults_make_a_local_plan_with_the_phase4_limits() -> None:
    """Enter on an untouched form starts local, paced at 0.5 s, with 5/2/10/100 limits."""
    plan = validate(_values()).plan
    assert plan is not None and plan.mode == "local" and plan.every == 0.5
    limits = plan.settings.limits
    assert (limits.max_drawdown_pct, limits.max_daily_loss_pct) == (5.0, 2.0)
    assert (limits.max_position_pct, limits.max_orders_per_day) == (10.0, 100)


def test_every_bad_field_has_its_own_reason() -> None:
    """Several mistakes at once: one reason per field, and no plan."""
    result = validate(
        _values(symbols="SPY,,QQQ", interval="7x", max_orders="0", every="-1", start_cash="0")
    )
    assert result.plan is None
    assert set(result.errors) == {"symbols", "interval", "max_orders", "every", "start_cash"}
    assert "at least 1" in result.errors["max_orders"]


def test_starting_cash_below_a_cent_is_refused() -> None:
    """0.001 made a plan whose account showed $0.00 and ended 100% down without a trade."""
    tiny = validate(_values(start_cash="0.001"))
    assert tiny.plan is None and "at least 0.01" in tiny.errors["start_cash"]
    assert validate(_values(start_cash="0.01")).plan is not None


def test_the_cash_field_is_an_alpaca_sessions_cap_read_as_start_cash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """For an Alpaca mode the cash field is ``live paper --start-cash``: empty is the
    account's whole equity (no cap), a number caps it, and what ``--start-cash`` refuses is
    refused beside the field. Before, an Alpaca plan ignored the field whatever it held."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    whole = validate(_values(mode="paper", start_cash="")).plan
    assert whole is not None and whole.settings.capital is None
    capped = validate(_values(mode="paper", start_cash="2500")).plan
    assert capped is not None and capped.settings.capital == 2500.0
    for bad in ("lots", "0", "-5", "inf"):
        refused = validate(_values(mode="paper", start_cash=bad))
        assert refused.plan is None and refused.errors["start_cash"], bad
    assert validate(_values(start_cash="")).errors["start_cash"]  # local: a cash is needed


def test_replay_needs_an_existing_file(tmp_path) -> None:
    """Replay without a file, or with a missing one, is explained on the file field."""
    assert "choose" in validate(_values(data="replay")).errors["replay_file"]
    missing = validate(_values(data="replay", replay_file=str(tmp_path / "x.csv")))
    assert "no such file" in missing.errors["replay_file"]


def test_alpaca_modes_need_credentials_then_the_switch_and_the_warning(monkeypatch) -> None:
    """Paper without keys says what is missing; live first needs the switch, then the
    warning; with keys found, both become plans."""
    assert "no credentials found" in validate(_values(mode="paper")).errors["mode"]
    assert "--enable-live" in validate(_values(mode="live")).errors["mode"]
    unconfirmed = validate(_values(mode="live"), live_enabled=True)
    assert "warning" in unconfirmed.errors["mode"]
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    assert validate(_values(mode="paper")).plan.mode == "paper"
    confirmed = validate(_values(mode="live"), live_enabled=True, live_confirmed=True)
    assert confirmed.plan.mode == "live"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\xff\xfe\x00 not text", "is not a text file (UTF-8)"),
        (b'APCA_API_KEY_ID="PKA\nAPCA_API_SECRET_KEY=s3cr3t-value\n', "line 1 cannot be read"),
        (
            b"APCA_API_KEY_ID=PKA\nAPCA_API_KEY_ID=PKB\nAPCA_API_SECRET_KEY=s3cr3t-value\n",
            "APCA_API_KEY_ID is set twice, differently (lines 1 and 2)",
        ),
    ],
    ids=["binary", "unclosed-quote", "set-twice"],
)
def test_a_dotenv_the_session_would_refuse_is_the_modes_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, said: str
) -> None:
    """Choosing Alpaca paper with such a ``.env`` beside the desk raised ``ConfigError`` out of
    the form's check (the setup screen's handler); now the reason is the mode's error, no
    plan is made (Start stays off), and no value of the file is shown."""
    for name in [n for n in os.environ if n.startswith("APCA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(content)
    result = validate(_values(mode="paper"))
    assert result.plan is None and said in result.errors["mode"]
    assert "s3cr3t" not in result.errors["mode"] and "PKB" not in result.errors["mode"]


def test_stop_loss_and_take_profit_are_off_when_empty_and_checked_when_typed() -> None:
    """Empty fields: no protection. ``atr:2`` and ``8``: a plan with both. Bad text: each
    field says what it wants."""
    from tui_trader.risk.stops import StopRule

    plain = validate(_values()).plan
    assert plain is not None and plain.settings.stop_loss is None
    assert plain.settings.take_profit_pct is None
    plan = validate(_values(stop_loss="atr:2", take_profit="8")).plan
    assert plan is not None
    assert (plan.settings.stop_loss, plan.settings.take_profit_pct) == (StopRule(atr=2.0), 8.0)
    bad = validate(_values(stop_loss="tight", take_profit="-1"))
    assert bad.plan is None and set(bad.errors) == {"stop_loss", "take_profit"}
    assert "give a percent (e.g. 5) or atr:N" in bad.errors["stop_loss"]


def test_stop_loss_and_take_profit_fields_follow_the_number_rules_of_every_option() -> None:
    """The fields take what the command line takes: ``1_0``, ``５`` and a stop a billionth of a
    percent away were taken as a 10% stop, a 5% take-profit and a stop at the entry price;
    ``5%`` is five percent, as a trader writes it."""
    from tui_trader.risk.stops import StopRule

    for stop, profit in (("1_0", "５"), ("atr:1_0", "1e-9"), ("1e-300", "8_0")):
        bad = validate(_values(stop_loss=stop, take_profit=profit))
        assert bad.plan is None and set(bad.errors) == {"stop_loss", "take_profit"}, (stop, profit)
    plan = validate(_values(stop_loss="5%", take_profit="8 %")).plan
    assert plan is not None
    assert (plan.settings.stop_loss, plan.settings.take_profit_pct) == (StopRule(pct=5.0), 8.0)


def test_the_weights_and_learning_fields_reach_the_plan_and_are_checked() -> None:
    """The desk blends strategies as chosen: adaptive by default at the CLI's rate and floor,
    equal or one strategy when picked; a rate or floor the learner refuses is explained
    beside its own field and starts nothing."""
    from tui_trader.learning.setup import LearningSettings

    assert validate(_values()).plan.settings.learning == LearningSettings()
    chosen = validate(_values(weights="equal", learning_rate="0.1", weight_floor="0.02")).plan
    assert chosen is not None
    assert chosen.settings.learning == LearningSettings("equal", 0.1, 0.02)
    bad = validate(_values(learning_rate="2", weight_floor="0.5", weights="best"))
    assert bad.plan is None and set(bad.errors) == {"learning_rate", "weight_floor", "weights"}
    assert bad.errors["learning_rate"].startswith("must be between 0 and 1")
    assert "below 0.2" in bad.errors["weight_floor"]


def test_an_alpaca_session_from_the_desk_keeps_the_forms_choices(monkeypatch, tmp_path) -> None:
    """What the form (and the settings file behind it) chose reaches the Alpaca session: the
    weights, the protection and the allocation (the allocation was dropped before)."""
    from tui_trader.session import alpaca
    from tui_trader.tui.handles import SESSION_BUILDERS

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    built = []
    monkeypatch.setattr(
        alpaca, "build_alpaca_session", lambda s, e, clock=None, say=None: built.append(s)
    )
    values = _values(mode="paper", weights="equal", stop_loss="4", allocation="5")
    plan = validate(values).plan
    SESSION_BUILDERS["paper"](plan.settings)()
    (settings,) = built
    assert settings.learning.weights == "equal" and settings.stop_loss.pct == 4.0
    assert settings.allocation_pct == 5.0


def test_adopting_positions_is_off_by_default_for_alpaca_only_and_reaches_its_settings(
    monkeypatch,
) -> None:
    """Off unless chosen; chosen for a local session it means nothing (only that session moves
    a local account); chosen for paper it reaches the Alpaca session's settings."""
    from tui_trader.session import alpaca
    from tui_trader.tui.handles import SESSION_BUILDERS

    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    assert validate(_values(mode="paper")).plan.adopt_positions is False
    assert validate(_values(), adopt_positions=True).plan.adopt_positions is False
    plan = validate(_values(mode="paper"), adopt_positions=True).plan
    assert plan.adopt_positions is True
    built = []
    monkeypatch.setattr(
        alpaca, "build_alpaca_session", lambda s, e, clock=None, say=None: built.append(s)
    )
    SESSION_BUILDERS["paper"](plan.settings, adopt_positions=plan.adopt_positions)()
    (settings,) = built
    assert settings.adopt_positions is True
