"""The fleet's rows as words: the same text in ``tui-trader fleet`` and the Fleet screen.

Pure formatting of ``store.fleet.FleetRow`` values (no database, no Textual), so that the
listing a script reads and the screen a person reads never disagree.
"""

from __future__ import annotations

from tui_trader.core.shown import shown_text
from tui_trader.store.fleet import DIED, FleetRow

COLUMNS = (
    "session",
    "state",
    "beat",
    "mode",
    "account",
    "equity",
    "day_pnl",
    "symbols",
    "host",
    "pid",
    "note",
)
"""The columns of a listing, most needed first (a narrow screen shows the left ones)."""


def age_text(seconds: float | None) -> str:
    """A heartbeat age: ``4s``, ``12m``, ``3h``, ``2d``; ``never`` without one."""
    if seconds is None:
        return "never"
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def shortened(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (an account id's both ends tell it
    apart: ``alpaca:4f1c…9e2a``)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2 + (width - 1) % 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def money(value: float | None, signed: bool = False) -> str:
    """An amount with thousands separators (``-`` when unknown)."""
    if value is None:
        return "-"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def symbols_text(symbols: tuple[str, ...], most: int = 4) -> str:
    """Symbols joined by commas, the tail counted when there are many."""
    if len(symbols) <= most:
        return ",".join(symbols) or "-"
    return ",".join(symbols[:most]) + f",+{len(symbols) - most}"


def state_text(row: FleetRow) -> str:
    """The state, in capitals when it needs a person: HALTED, DIED."""
    return row.state.upper() if row.state in (DIED, "halted") else row.state


def note_text(row: FleetRow) -> str:
    """Why a row is dead or halted, in plain words (empty otherwise)."""
    if row.state == DIED:
        return f"DEAD: {row.dead_why}"
    if row.halt_reason:
        return f"account halted ({row.halt_reason})"
    return ""


def cells(row: FleetRow) -> tuple[str, ...]:
    """A row's cells in ``COLUMNS`` order, each with its control characters escaped: a shared
    store can hold a host name or halt detail another writer filled with escape sequences
    (``shown_text``), and the listing and the Fleet screen both show these cells."""
    return tuple(map(shown_text, _raw_cells(row)))


def _raw_cells(row: FleetRow) -> tuple[str, ...]:
    """A row's cells as stored."""
    return (
        row.key,
        state_text(row),
        age_text(row.heartbeat_age),
        row.mode,
        row.account_key,
        money(row.equity),
        money(row.day_pnl, signed=True),
        symbols_text(row.symbols),
        row.host,
        str(row.pid) if row.pid else "-",
        note_text(row),
    )


def as_dict(row: FleetRow) -> dict[str, object]:
    """A row for ``--json``: every field, unformatted."""
    return {
        "session": row.key,
        "session_id": row.session_id,
        "host": row.host,
        "pid": row.pid,
        "mode": row.mode,
        "account": row.account_key,
        "symbols": list(row.symbols),
        "equity": row.equity,
        "day_pnl": row.day_pnl,
        "state": row.state,
        "heartbeat_age_s": None if row.heartbeat_age is None else round(row.heartbeat_age, 1),
        "dead_why": row.dead_why or None,
        "halt_reason": row.halt_reason,
    }


def failed_halt_words(error: str, halted: dict[str, bool] | None) -> tuple[str, str]:
    """The title and words for a halt that raised ``error``: what the accounts' rows, read back
    after it, say (its commit may have landed and only its answer been lost); ``halted`` is
    ``None`` when the read-back failed too. The Fleet screen's notice and ``fleet halt``'s line."""
    if halted is None:
        return "HALT UNKNOWN", (
            f"Unknown whether the halt was written: the store did not answer ({error}); check "
            "with `tui-trader fleet`, and stop the sessions where they run if not halted."
        )
    done = [key for key, yes in halted.items() if yes]
    missed = [key for key, yes in halted.items() if not yes]
    if not done:
        return "HALT FAILED", (
            f"The halt was NOT written: {error}. Stop the sessions where they run."
        )
    said = f"The halt was written: {', '.join(done)} halted (its answer was lost: {error})"
    if not missed:
        return "HALTED", said + ". Sessions stop at their next cycle."
    return "HALT FAILED", (
        f"{said}; NOT written for {', '.join(missed)}: stop its sessions where they run."
    )
