"""The suite's figures: every trial adds its counts here, under its kind, before it asserts.

``tests/reliability/conftest.py`` prints them at the end of the test run and writes them as JSON
(``reliability.json`` in pytest's base temporary folder, and to ``$TUI_TRADER_RELIABILITY_JSON``
when set); ``python -m tests.reliability`` runs the suite alone and prints them.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from tests.reliability.audit_check import Figures, as_json

_lock = threading.Lock()
_by_kind: dict[str, Figures] = {}
_verdicts: dict[str, bool] = {}


def record(kind: str, figures: Figures) -> None:
    """Add one trial's counts under ``kind`` (e.g. ``kill-sandbox``)."""
    with _lock:
        _by_kind.setdefault(kind, Figures()).add(figures)


def verdict(kind: str, passed: bool) -> None:
    """Note whether a kind's other checks (halts, limits, finishing) held."""
    with _lock:
        _verdicts[kind] = _verdicts.get(kind, True) and passed


def totals() -> Figures:
    """Every kind added up."""
    total = Figures()
    with _lock:
        for figures in _by_kind.values():
            total.add(figures)
    return total


def report() -> dict[str, Any]:
    """Per kind and in total, as plain JSON."""
    with _lock:
        kinds = {
            kind: as_json(f) | {"checks_held": _verdicts.get(kind, True)}
            for kind, f in sorted(_by_kind.items())
        }
        for kind, ok in _verdicts.items():
            kinds.setdefault(kind, as_json(Figures()) | {"checks_held": ok})
    return {"kinds": kinds, "total": as_json(totals())}


def lines() -> list[str]:
    """The figures as terminal lines."""
    data = report()
    out = []
    for kind, f in data["kinds"].items():
        held = "" if f["checks_held"] else "  (other checks FAILED)"
        out.append(
            f"{kind:22} trials={f['trials']} broker_orders={f['broker_orders']} "
            f"duplicates={f['duplicates']} lost={f['lost']} mismatches={f['mismatches']} "
            f"integrity_failures={f['integrity_failures']}{held}"
        )
    t = data["total"]
    out.append(
        f"{'total':22} trials={t['trials']} broker_orders={t['broker_orders']} "
        f"duplicates={t['duplicates']} lost={t['lost']} mismatches={t['mismatches']} "
        f"integrity_failures={t['integrity_failures']}"
    )
    return out


def write(path: Path) -> None:
    """Write the figures as JSON to ``path``."""
    path.write_text(json.dumps(report(), indent=2) + "\n")


def absorb(path: Path) -> None:
    """Add the figures a test worker wrote (``write``) to these: under pytest-xdist each worker
    counts its own trials and the controlling process prints them all."""
    data = json.loads(path.read_text())
    for kind, f in data["kinds"].items():
        held = f.pop("checks_held", True)
        record(kind, Figures(**f))
        verdict(kind, held)
