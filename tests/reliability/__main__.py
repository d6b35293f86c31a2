"""``python -m tests.reliability``: run the reliability suite alone and print its figures.

Extra arguments go to pytest (``python -m tests.reliability -k kill``). The figures (per trial
kind and in total: trials, broker orders, duplicates, lost, mismatches, integrity failures)
are printed at the end and written to ``tui-trader-reliability.json`` in the system's temporary
folder (``$TUI_TRADER_RELIABILITY_JSON`` chooses another file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run pytest on this folder; print the figures it wrote."""
    default = Path(tempfile.gettempdir()) / "tui-trader-reliability.json"
    target = Path(os.environ.get("TUI_TRADER_RELIABILITY_JSON") or default).resolve()
    target.unlink(missing_ok=True)
    env = dict(os.environ, TUI_TRADER_RELIABILITY_JSON=str(target))
    code = subprocess.call(
        [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:randomly", *argv],
        env=env,
        cwd=HERE.parents[1],
    )
    if target.exists():
        data = json.loads(target.read_text())
        counts = ("trials", "broker_orders", "duplicates", "lost", "mismatches")
        for kind, figures in [*data["kinds"].items(), ("total", data["total"])]:
            shown = {name: figures[name] for name in (*counts, "integrity_failures")}
            print(f"{kind:22} {json.dumps(shown)}")
        print(f"details (problems, notes): {target}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
