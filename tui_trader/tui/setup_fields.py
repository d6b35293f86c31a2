"""The setup form's fields as the screen lays them out: each text field's id, label and
placeholder in screen order, the dropdowns' choices, and a labelled dropdown row.

What a field's text means (parsing, checks, the session plan) is ``tui.setup_form``'s; this
module is only what the trader sees and in which order.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Select, Static

from tui_trader.tui.setup_form import CASH_LABELS, WEIGHT_LABELS

TEXT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("symbols", "Symbols", "comma-separated tickers"),
    ("interval", "Interval", "1m 5m 15m 30m 1h 1d"),
    ("period", "Warm-up period", "history before trading, e.g. 60d"),
    ("iterations", "Iterations", "decision cycles; 0 = until stopped"),
    ("every", "Seconds per iteration", "pace; 0 = flat out"),
    ("start_cash", *CASH_LABELS["local"]),  # Alpaca's own while an Alpaca mode is chosen
    ("replay_file", "Replay file", "CSV/Parquet bars (data = replay)"),
    ("seed", "Simulation seed", "same seed, same market"),
    ("learning_rate", "Learning rate", "adaptive weights' step; 0 = frozen"),
    ("weight_floor", "Weight floor", "no adaptive weight below this"),
    ("db", "Database", "SQLite audit file"),
    ("max_drawdown", "Max drawdown %", "kill switch below peak (5.0)"),
    ("max_daily_loss", "Max daily loss %", "halt for the day (2.0)"),
    ("max_position", "Max position %", "of equity per symbol (10.0)"),
    ("max_orders", "Max orders per day", "rate limit (100)"),
    ("stop_loss", "Stop loss %", "% or atr:N; empty = none"),
    ("take_profit", "Take profit %", "beyond entry; empty = none"),
    ("alerts", "Alerts", "apprise URLs; empty = none"),
    ("backup_every", "Backup every (min)", "background backups; 0 = off"),
    ("backup_keep", "Backups kept", "newest N (24); all = every one"),
)
"""(field id, label, placeholder) of every text field, in screen order."""


DATA_LABELS = [
    ("Simulated (seeded, offline)", "sim"),
    ("Replay file", "replay"),
    ("Yahoo Finance", "yahoo"),
]
"""The data sources a local session can trade on."""
WEIGHTS = [(label, mode) for mode, label in WEIGHT_LABELS.items()]
"""``--weights``: how the strategies are blended."""


def choice_row(
    label: str, name: str, options: list[tuple[str, str]], value: str | None
) -> ComposeResult:
    """A labelled dropdown (its first option unless ``value``), with room for its reason."""
    with Horizontal(classes="field", id=f"{name}-row"):
        yield Label(label, classes="field-label")
        yield Select(
            options,
            value=value or options[0][1],
            allow_blank=False,
            compact=True,
            id=name,
            classes="field-input",
        )
        yield Static("", id=f"{name}-error", classes="field-error", markup=False)
