"""The reliability suite's figures, printed after the run and written as JSON.

Whatever options pytest runs with (``-q``, no ``-rA``, workers or not), the terminal summary ends
with one line per trial kind and a total: trials, broker orders, duplicates, lost, mismatches,
integrity. ``tests/conftest.py`` imports these hooks: a conftest below ``tests/`` is not loaded
by pytest-xdist's controlling process when the whole suite runs, so its hooks would never print.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.reliability import figures


def _worker_file(config: Any) -> Path | None:
    """Where a pytest-xdist worker leaves its figures for the controlling process."""
    worker = getattr(config, "workerinput", None)
    factory = getattr(config, "_tmp_path_factory", None)
    if worker is None or factory is None:
        return None
    return Path(factory.getbasetemp()).parent / f"reliability-{worker['workerid']}.json"


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """A worker writes what its trials counted, for the controller's summary."""
    target = _worker_file(session.config)
    if target is not None and figures.report()["kinds"]:
        figures.write(target)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the figures and write them as JSON (only when reliability trials ran)."""
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None and getattr(config, "workerinput", None) is None:
        for part in sorted(Path(factory.getbasetemp()).glob("reliability-gw*.json")):
            figures.absorb(part)
    if not figures.report()["kinds"]:
        return
    terminalreporter.section("reliability figures")
    for line in figures.lines():
        terminalreporter.write_line(line)
    targets = []
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        targets.append(Path(factory.getbasetemp()) / "reliability.json")
    if os.environ.get("TUI_TRADER_RELIABILITY_JSON"):
        targets.append(Path(os.environ["TUI_TRADER_RELIABILITY_JSON"]))
    for target in targets:
        figures.write(target)
        terminalreporter.write_line(f"figures written to {target}")
