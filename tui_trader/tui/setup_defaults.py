"""The setup form's starting text: its defaults, overridden by a (checked) settings file.

Each settings-file key fills a field (``_FROM_CONFIG``), or is carried, sets a switch, sets the
readiness bar of "Alpaca live", or is named as not used (``tui.setup_carried``); nothing is
dropped unseen. Apart from ``setup_form`` (what a field's text means).
"""

from __future__ import annotations

from typing import Any

from tui_trader.learning.choices import WEIGHT_MODES
from tui_trader.tui.setup_carried import BAR_SET, CARRIED, CASH_SET, READINESS, SWITCHES, UNUSED
from tui_trader.tui.setup_form import DATA_SOURCES, DEFAULTS

_FROM_CONFIG = {
    "symbols": "symbols",
    "interval": "interval",
    "period": "period",
    "iterations": "iterations",
    "every": "every",
    "start_cash": "start_cash",
    "seed": "seed",
    "max_drawdown": "max_drawdown",
    "max_daily_loss": "max_daily_loss",
    "max_position": "max_position",
    "max_orders_per_day": "max_orders",
    "alert": "alerts",
    "backup_every": "backup_every",
    "backup_keep": "backup_keep",
    "learning_rate": "learning_rate",
    "weight_floor": "weight_floor",
    "stop_loss": "stop_loss",
    "take_profit": "take_profit",
    "db": "db",
}
"""Settings-file keys (``tui-trader.toml``) and the setup fields they fill (``db``: the app's
database when ``--db`` is not given, which the field then shows)."""


def config_defaults(values: dict[str, Any]) -> dict[str, str]:
    """The form's starting text: the defaults, overridden by a (checked) settings file; the
    file's keys without a field are kept (``CARRIED``) or named as unused (``UNUSED``)."""
    out = dict(DEFAULTS)
    unused, bar = [], []
    for key, value in values.items():
        if key in CARRIED:
            out[key] = str(value)
        elif key in SWITCHES:
            out[key] = "on" if value else ""
        elif key in READINESS:  # the bar "Alpaca live" checks (``ops.readiness.bar_from``)
            out[key] = str(value)
            bar.append(f"{key} {value:g}")
        elif key not in _FROM_CONFIG and key not in ("data", "weights"):
            unused.append(key)
    if unused:
        out[UNUSED] = ", ".join(sorted(unused))
    if bar:
        out[BAR_SET] = ", ".join(bar)
    for key, name in _FROM_CONFIG.items():
        if key in values:
            value = values[key]
            out[name] = ", ".join(value) if isinstance(value, list) else str(value)
    data = str(values.get("data", "")).strip()
    if data in DATA_SOURCES:
        out["data"] = data
    elif data.startswith("replay:"):
        out["data"], out["replay_file"] = "replay", data[len("replay:") :]
    if "start_cash" in values:  # kept for Alpaca too, as 'live paper' reads the file
        out[CASH_SET] = "on"
    if values.get("weights") in WEIGHT_MODES:
        out["weights"] = str(values["weights"])
    return out
