"""The setup form's rules: field values in, a session plan or per-field reasons out.

Kept apart from the screen (and from Textual) so that every rule is a plain function a test can
call. A mode is just another kind of plan; Alpaca plans are described here but refused until the
Alpaca session lands in this build.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_trader.cli.common import db_arg, path_text, session_symbols_arg
from tui_trader.cli.db_paths import db_path_problem
from tui_trader.cli.numbers import (
    backup_every_arg,
    backups_kept,
    cash_arg,
    every_arg,
    integer,
    non_negative_float,
    non_negative_int,
    percent,
    stop_loss_arg,
    take_profit_arg,
)
from tui_trader.core.shown import shown_path
from tui_trader.core.timeframes import TimeframeError, parse_interval, parse_period
from tui_trader.learning.choices import DEFAULT_FLOOR, DEFAULT_LEARNING_RATE, WEIGHT_MODES
from tui_trader.market.bar_path import not_a_bar_file
from tui_trader.ops.backup_keep import DEFAULT_BACKUP_KEEP
from tui_trader.risk.limits import RiskLimits
from tui_trader.tui.alpaca_status import alpaca_status
from tui_trader.tui.setup_carried import (
    CARRIED,
    OPS,
    POLICY,
    YAHOO,
)

if TYPE_CHECKING:  # imported when a plan is made: the engine and store are not needed to draw
    from tui_trader.learning.setup import LearningSettings  # the setup screen (issue 17)
    from tui_trader.ops.session_ops import OpsSettings
    from tui_trader.session.local import LocalSettings
    from tui_trader.store.pg_url import PgUrl

MODES = ("local", "paper", "live")
"""Session modes: the local simulated desk, Alpaca paper, Alpaca live."""
MODE_LABELS = {
    "local": "Local (simulated, offline)",
    "paper": "Alpaca paper",
    "live": "Alpaca live",
}
DATA_SOURCES = ("sim", "replay", "yahoo")
WEIGHT_LABELS = {
    "adaptive": "Adaptive (learns from results)",
    "equal": "Equal weights",
    **{name: f"{name} alone" for name in WEIGHT_MODES[2:]},
}
"""How each ``--weights`` choice reads on the setup screen, in ``WEIGHT_MODES``' order."""
ALPACA_UNAVAILABLE = "Alpaca trading is not available in this build; choose Local"
LIVE_PHRASE = "YES I UNDERSTAND"
"""The exact words that unlock live trading in the warning dialog."""
LOCAL_CASH = "100000"
"""The cash field's default for a local session; an Alpaca session's is empty (its whole
equity), and the screen swaps them while the field is untouched."""
CASH_LABELS = {
    "local": ("Starting cash (local)", "dollars"),
    "alpaca": ("Equity cap (Alpaca)", "empty = all; limits are % of cap"),
}
"""The cash field's label and placeholder: a local account's starting cash, or for Alpaca
``live paper --start-cash``: trade as if the account held at most this much."""
DEFAULTS: dict[str, str] = {
    "mode": "local",
    "symbols": "SPY,QQQ,IWM",
    "interval": "1d",
    "period": "60d",
    "iterations": "0",
    "every": "0.5",
    "start_cash": LOCAL_CASH,
    "data": "sim",
    "replay_file": "",
    "seed": "7",
    "max_drawdown": "5.0",
    "max_daily_loss": "2.0",
    "max_position": "10.0",
    "max_orders": "100",
    "stop_loss": "",
    "take_profit": "",
    "alerts": "",
    "backup_every": "0",
    "backup_keep": str(DEFAULT_BACKUP_KEEP),
    "weights": "adaptive",
    "learning_rate": f"{DEFAULT_LEARNING_RATE:g}",
    "weight_floor": f"{DEFAULT_FLOOR:g}",
}
"""Every text field's default (risk limits: the Phase 4 document's)."""


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """A validated session to start: its mode, its settings, how long and how fast."""

    mode: str
    settings: LocalSettings
    iterations: int
    every: float
    ops: OpsSettings = field(default_factory=lambda: _ops_settings())
    """Alerts and periodic backups for the session."""
    adopt_positions: bool = False
    """``--adopt-positions`` (Alpaca modes only): at start, shares that differ from the
    account's recorded fills are taken as the desk's own instead of being left alone."""
    readiness_skipped: str | None = None
    """Live only: the paper record's verdict when the desk goes live without a ready record
    (``--skip-readiness``), written as a risk event of the session (``ops.readiness``)."""


def _ops_settings(**values: Any) -> OpsSettings:
    """``OpsSettings(**values)``, importing the ops module only when a plan is made."""
    from tui_trader.ops.session_ops import OpsSettings

    return OpsSettings(**values)


@dataclass(slots=True)
class FormResult:
    """The outcome of checking the form: a plan, or the reason for each bad field."""

    plan: SessionPlan | None
    errors: dict[str, str] = field(default_factory=dict)


def _check(errors: dict[str, str], name: str, parse, text: str):
    """Run one parser; record its one-line complaint under ``name``."""
    try:
        return parse(text.strip())
    except (argparse.ArgumentTypeError, TimeframeError, ValueError) as exc:
        errors[name] = str(exc)
        return None


def _optional(errors: dict[str, str], name: str, parse, text: str):
    """``_check`` for a field that may stay empty (``None``: the feature is off)."""
    return _check(errors, name, parse, text) if text.strip() else None


def typed_capital(values: dict[str, str]) -> float | None:
    """The equity cap an Alpaca session's form asks for (its cash field), as ``validate``
    reads it; ``None`` when empty or not yet a valid amount. The live warning names it."""
    text = values.get("start_cash", "")
    try:
        return cash_arg(text) if text.strip() else None
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        return None


def typed_limits(values: dict[str, str]) -> RiskLimits | None:
    """The risk limits as the form's check reads its fields (``5%`` is 5), or ``None`` while
    one is invalid: the live warning names these. ``float()`` of the text read '5%' as no
    number, and the warning showed the default limits above a session that would run on the
    typed ones."""
    try:
        return RiskLimits(
            percent(values["max_drawdown"]),
            percent(values["max_daily_loss"]),
            percent(values["max_position"]),
            _orders(values["max_orders"]),
        )
    except argparse.ArgumentTypeError:
        return None


def typed_db(values: dict[str, str]) -> Path | PgUrl | None:
    """The database as the form's check reads its field, or ``None`` while it is invalid: the
    live warning reads the paper record there, where the live session will write."""
    try:
        return _db(values["db"])
    except (argparse.ArgumentTypeError, OSError):
        return None


def _orders(text: str) -> int:
    """A rate limit of at least one order a day."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _db(text: str) -> Path | PgUrl:
    """A database file path or a PostgreSQL URL, read as ``--db`` reads it (its folder is
    created when the session starts). The desk started with ``--db postgresql://...`` took
    the URL shown here as a file path: its sessions went to a SQLite file under a folder named
    ``postgresql:``. A path too long for the system made the check raise ``OSError``."""
    from tui_trader.store.pg_url import PgUrl

    if not text:
        raise argparse.ArgumentTypeError("a database path is required")
    path = db_arg(text)
    if isinstance(path, PgUrl):
        return path
    problem = db_path_problem(path)  # a folder: db_arg's folder_problem, as --db
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def validate(
    values: dict[str, str],
    *,
    flatten_on_halt: bool = False,
    adopt_positions: bool = False,
    live_enabled: bool = False,
    live_confirmed: bool = False,
    suspend_on_halt: bool = False,
) -> FormResult:
    """Check every field; a plan only when all are valid and the mode can run in this build.
    ``adopt_positions`` and ``suspend_on_halt`` (``--suspend-on-halt``: a halt also sets the
    account's ``suspend_trade``) count for the Alpaca modes only (only this session moves a
    local account: there is nothing to adopt nor to suspend). The data source, replay file and
    seed are the local offline market's: an Alpaca session trades on Alpaca's data, so they are
    not checked for it (a replay source chosen for a local session kept an Alpaca session from
    starting until a file it would never read was found)."""
    errors: dict[str, str] = {}
    mode = values.get("mode", "local")
    local = mode == "local"
    symbols = _check(errors, "symbols", session_symbols_arg, values["symbols"])
    interval = _check(errors, "interval", parse_interval, values["interval"])
    period = _check(errors, "period", parse_period, values["period"])
    iterations = _check(errors, "iterations", non_negative_int, values["iterations"])
    every = _check(errors, "every", every_arg, values["every"])  # as --every
    seed = _check(errors, "seed", integer, values["seed"]) if local else None  # as --seed
    db = _check(errors, "db", _db, values["db"])
    limits = {
        name: _check(errors, name, percent, values[name])
        for name in ("max_drawdown", "max_daily_loss", "max_position")
    }
    max_orders = _check(errors, "max_orders", _orders, values["max_orders"])
    stop_text = values.get("stop_loss", "").strip()
    stop_loss = _check(errors, "stop_loss", stop_loss_arg, stop_text) if stop_text else None
    profit_text = values.get("take_profit", "").strip()
    take_profit = (
        _check(errors, "take_profit", take_profit_arg, profit_text) if profit_text else None
    )
    alerts = _check(errors, "alerts", _alerts, values.get("alerts", ""))
    backup_every = _check(
        errors, "backup_every", backup_every_arg, values.get("backup_every", "0")
    )  # as --backup-every
    kept = values.get("backup_keep", str(DEFAULT_BACKUP_KEEP))
    backup_keep = _check(errors, "backup_keep", backups_kept, kept)
    learning = _learning(errors, values)
    carried = {
        field: (values[key] == "True" if kind is bool else kind(values[key]))
        for key, (field, kind) in CARRIED.items()
        if key in values
    }
    start_cash = capital = None
    if mode == "local":
        start_cash = _check(errors, "start_cash", cash_arg, values["start_cash"])  # at least a cent
    else:  # Alpaca: 'live paper --start-cash', the most traded; empty: the whole equity
        capital = _optional(errors, "start_cash", cash_arg, values["start_cash"])
    data = values.get("data", "sim") if local else "sim"
    if data == "replay":
        file = values.get("replay_file", "").strip()
        errors.update(_replay_file(file))
        data = f"replay:{file}"
    yahoo = {key: carried.pop(key) for key in YAHOO if key in carried}
    if "timeout" in carried:  # the file's timeout is Yahoo's deadline too
        yahoo["timeout"] = carried["timeout"]
    if data == "yahoo" and yahoo:
        from tui_trader.market.yahoo import YahooOptions

        carried["yahoo"] = YahooOptions(**yahoo)
    ops = {key: carried.pop(key) for key in OPS if key in carried}
    policy = {key: carried.pop(key) for key in POLICY if key in carried}
    if policy:
        from tui_trader.ops.alerts import AlertPolicy

        ops["policy"] = AlertPolicy(**policy)
    if mode == "live" and not live_enabled:
        errors["mode"] = "live trading is off: start the desk with --enable-live"
    elif mode == "live" and not live_confirmed:
        errors["mode"] = "confirm the live-trading warning first (choose Alpaca live again)"
    elif mode in ("paper", "live"):
        status = alpaca_status(mode)
        if not (status.key_found and status.secret_found):
            errors["mode"] = status.describe()
    if errors:
        return FormResult(None, errors)
    from tui_trader.session.local import LocalSettings

    settings = LocalSettings(
        db=db,
        symbols=symbols,
        interval=interval.text,
        period=period.text,
        start_cash=start_cash or 100_000.0,
        **({"data": data, "seed": seed} if local else {}),
        limits=RiskLimits(
            max_drawdown_pct=limits["max_drawdown"],
            max_daily_loss_pct=limits["max_daily_loss"],
            max_position_pct=limits["max_position"],
            max_orders_per_day=max_orders,
        ),
        flatten_on_halt=flatten_on_halt,
        suspend_on_halt=suspend_on_halt and not local,
        stop_loss=stop_loss,
        take_profit_pct=take_profit,
        learning=learning,
        capital=capital,
        **carried,
    )
    ops_settings = _ops_settings(
        alerts=alerts, backup_every=backup_every, backup_keep=backup_keep, **ops
    )
    adopt = adopt_positions and mode in ("paper", "live")
    return FormResult(SessionPlan(mode, settings, iterations, every, ops_settings, adopt))


def _replay_file(file: str) -> dict[str, str]:
    """The replay file field's complaint, if any: empty, a name ``path_text`` refuses (a
    control character), or no bar file there, said as the command line says it (a folder, a
    pipe, a link to nothing: ``market.bar_path``; a name too long for the system raised
    ``OSError`` out of the check)."""
    if not file:
        return {"replay_file": "choose a CSV or Parquet bar file to replay"}
    try:
        path_text(file)
        path = Path(file).expanduser()
        if not path.is_file():
            why = not_a_bar_file(path)
            if why == "no such file":
                return {"replay_file": f"no such file: {shown_path(file)}"}
            return {"replay_file": f"{shown_path(file)} {why}"}
    except argparse.ArgumentTypeError as exc:
        return {"replay_file": str(exc)}
    except OSError as exc:
        return {"replay_file": f"{shown_path(file)}: {exc.strerror or exc}"}
    return {}


def _learning(errors: dict[str, str], values: dict[str, str]) -> LearningSettings | None:
    """How the strategies are blended (``--weights``, ``--learning-rate``, ``--weight-floor``),
    checked by the learner's own rules; each problem is recorded beside its field."""
    from tui_trader.learning.setup import LearningSettings

    rate = _check(
        errors,
        "learning_rate",
        non_negative_float,
        values.get("learning_rate", DEFAULTS["learning_rate"]),
    )
    floor = _check(
        errors,
        "weight_floor",
        non_negative_float,
        values.get("weight_floor", DEFAULTS["weight_floor"]),
    )
    if rate is None or floor is None:
        return None
    settings = LearningSettings(values.get("weights", "adaptive"), rate, floor)
    problems = settings.problems()
    errors.update(problems)
    return None if problems else settings


def _alerts(text: str) -> tuple[str, ...]:
    """Alert URLs separated by commas or spaces, each one apprise understands."""
    urls = tuple(u for u in re.split(r"[,\s]+", text) if u)
    if not urls:  # no alerts: their module (and the audit store's drivers it imports) can wait
        return urls
    from tui_trader.ops.alerts import AlertURLError, check_alert_url

    for url in urls:
        try:
            check_alert_url(url)
        except AlertURLError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("--alert ")) from None
    return urls
