"""The settings file's keys that have no field on the setup form, and the screen's note about
them: each is carried to the session, sets a switch, sets the readiness bar of "Alpaca live", or
is named as not used.

Apart from ``setup_form`` (the fields' rules) so that the desk's answer for every key of the
settings file is in one place; nothing here imports Textual or the engine.
"""

from __future__ import annotations

from pathlib import Path
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
    "ignore_market_hours": ("ignore_market_hours", bool),
    "snapshot_every": ("snapshot_every", int),
    "commit_every": ("commit_every", int),
    "cache_dir": ("cache_dir", Path),
    "adjusted": ("adjusted", bool),
    "offline": ("offline", bool),
    "alert_slippage_bps": ("slippage_alert_bps", float),
    "alert_deadline": ("deadline", float),
    "alert_retries": ("retries", int),
    "backup_dir": ("backup_dir", Path),
}
"""Settings-file keys with no field on the form that a desk session still obeys: the key, the
setting it fills (``LocalSettings``; ``YAHOO``, ``OPS`` and ``POLICY`` go elsewhere) and its
type. The screen lists them, so none is in force unseen. (The file's ``start_cash`` fills the
cash field, which an Alpaca session reads as ``live paper`` reads ``--start-cash``.)"""
YAHOO = ("cache_dir", "adjusted", "offline")
"""Carried settings of a local session's Yahoo data (``YahooOptions``, with ``timeout``)."""
OPS = ("slippage_alert_bps", "backup_dir")
"""Carried settings of the session's alerts and backups (``OpsSettings``)."""
POLICY = ("deadline", "retries")
"""Carried settings of how hard an alert is tried (``AlertPolicy``)."""
SWITCHES = ("flatten_on_halt", "adopt_positions", "suspend_on_halt")
"""Settings-file keys that set a switch of the form."""
READINESS = ("min_iterations", "min_pnl", "min_days", "max_drawdown_seen", "max_halts")
"""``live trading``'s readiness bar (``ops.readiness.BAR_OPTIONS``): the desk's "Alpaca live"
checks the paper record against it as ``live trading`` does; the screen names the file's."""
UNUSED = "settings_unused"
"""The form value naming the settings file's keys the desk has no use for (``batch``: a
command-line run), shown rather than silently dropped."""
CASH_SET = "settings_start_cash"
"""The form value saying the settings file set ``start_cash``: the cash field then keeps it for
every mode (not swapped for an Alpaca session's empty default)."""
BAR_SET = "settings_readiness"
"""The form value naming the file's readiness keys (``READINESS``) and their values."""


def carried_note(values: dict[str, str]) -> str:
    """The setup screen's note, a line per kind: the settings file's readiness bar (checked
    before "Alpaca live" starts), its keys in force without a field (and for which sessions),
    those the desk does not use; empty when there are none."""
    parts = []
    if values.get(BAR_SET):  # a safety key first
        parts.append(f"readiness bar for Alpaca live (checked at its start): {values[BAR_SET]}")
    kept = [
        _NOTE.get(key, "{k} {v}").format(k=key, v=values[key]) for key in CARRIED if key in values
    ]
    if kept:
        parts.append(f"also from the settings file: {', '.join(kept)}")
    if values.get(UNUSED):
        parts.append(f"not used by the desk: {values[UNUSED]}")
    return "\n".join(parts)  # a line each: at 80 columns "; " ran them into one block


_LOCAL = ("slippage_bps", "commission_per_share", "commission_min", "fractional", "allow_short")
_ALPACA = ("requests_per_minute", "ignore_market_hours")
_NOTE = {
    "timeout": "timeout {v} s",
    **{key: "{k} {v} (local)" for key in (*_LOCAL, "snapshot_every", "commit_every")},
    **{key: "{k} {v} (Yahoo)" for key in YAHOO},
    **{key: "{k} {v} (Alpaca)" for key in _ALPACA},
}
"""How a carried key reads on the screen: which sessions it is for (a local one's costs mean
nothing to an Alpaca session, an account flag nothing to a local one), and its unit."""
