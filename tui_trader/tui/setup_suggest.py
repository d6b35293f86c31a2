"""The setup form's suggestions when the mode changes: untouched defaults follow the mode.

A local session and an Alpaca session want different timing (daily bars over 60 days against
1-minute bars over 5 days: an Alpaca session on daily bars would wait a whole day for its next
decision) and a different cash field (a local account's starting cash against an Alpaca
session's equity cap, empty for the whole equity). Values the user typed are left alone.
"""

from __future__ import annotations

from textual.widgets import Input

from tui_trader.tui.setup_form import LOCAL_CASH

ALPACA_MODES = ("paper", "live")


def suggest_timing(interval: Input, period: Input, previous: str, mode: str) -> None:
    """Swap untouched timing defaults between local (1d bars, 60d) and Alpaca (1m, 5d)."""
    local, alpaca = ("1d", "60d"), ("1m", "5d")
    if previous == "local" and mode in ALPACA_MODES:
        old, new = local, alpaca
    elif previous in ALPACA_MODES and mode == "local":
        old, new = alpaca, local
    else:
        return
    if (interval.value, period.value) == old:
        interval.value, period.value = new


def suggest_cash(field: Input, previous: str, mode: str) -> None:
    """Swap the untouched cash field between a local session's default starting cash and an
    Alpaca session's empty (the account's whole equity, as ``live paper`` without
    ``--start-cash``). The caller leaves a settings file's ``start_cash`` alone."""
    if previous == "local" and mode in ALPACA_MODES and field.value == LOCAL_CASH:
        field.value = ""
    elif previous in ALPACA_MODES and mode == "local" and not field.value.strip():
        field.value = LOCAL_CASH
