"""The settings file's keys that have no field on the setup form, and the screen's line about
them: each is carried to the session, sets a switch, or is named as not used or not checked.

Apart from ``setup_form`` (the fields' rules) so that the desk's answer for every key of the
settings file is in one place; nothing here imports Textual or the engine.
"""

from __future__ import annotations

from typing import Any

CARRIED: dict[str, tuple[str, Any]] = {
    "slippage_bps": ("slippage_bps", float),
    "commission_per_share": ("commission_per_share", float),
    "commission_min": ("commission_min", float),
    "fractional": ("fractional", bool),
    "allow_short": ("allow_short", bool),
    "allocation": ("allocation_pct", float),
    "requests_per_minute": ("requests_per_minute", float),
    "timeout": ("timeout", float),
    "suspend_on_halt": ("suspend_on_halt", bool),
    "ignore_market_hours": ("ignore_market_hours", bool),
    "capital": ("capital", float),
}
"""Settings-file keys with no field on the form that a desk session still obeys: the key, the
session setting it fills and its type. The screen lists them, so none is in force unseen.
``capital`` is the file's ``start_cash`` as ``live paper`` reads it (trade as if the account
held at most this much); the form's field is a local session's cash."""
SWITCHES = ("flatten_on_halt", "adopt_positions")
"""Settings-file keys that set a switch of the form."""
NOT_CHECKED = ("min_iterations", "min_pnl", "min_days", "max_drawdown_seen", "max_halts")
"""``live trading``'s readiness bar: the desk has no readiness gate, so a file setting one is
told, in words, that the desk does not check it (a safety key must not look in force)."""
UNUSED = "settings_unused"
"""The form value naming the settings file's keys the desk has no use for (Yahoo's cache and
the replay commands' options), shown rather than silently dropped."""
UNCHECKED = "settings_unchecked"
"""The form value naming the file's readiness keys (``NOT_CHECKED``) it sets."""


def carried_note(values: dict[str, str]) -> str:
    """One line for the setup screen: the settings file's keys in force without a field, and
    those the desk does not use; empty when there are none."""
    parts = []
    if values.get(UNCHECKED):  # a safety key first: it must not look in force
        parts.append(
            f"NOT CHECKED by the desk: {values[UNCHECKED]} (the readiness bar of 'live "
            "trading' on the command line; 'live readiness' shows it)"
        )
    kept = [_NOTE.get(key, key + " {}").format(values[key]) for key in CARRIED if key in values]
    if kept:
        parts.append(f"also from the settings file: {', '.join(kept)}")
    if values.get(UNUSED):
        parts.append(f"not used by the desk: {values[UNUSED]}")
    return "; ".join(parts)


_NOTE = {"capital": "start_cash {} (Alpaca: the most traded)", "timeout": "timeout {} s"}
"""How a carried key reads on the screen where its name and value alone would mislead."""
