"""``python -m tests.reliability``: run the reliability suite alone and print its figures.

Extra arguments go to pytest (``python -m tests.reliability -k kill``). The figures (per trial
kind and in total: trials, broker orders, duplicates, lost, mismatches, integrity failures)
are printed at the end and written to ``reliability.json`` in the current folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run pytest on this folder; print the figures it wrote."""
    target = Path("reliability.json").resolve()
    env = dict(os.environ, TUI_TRADER_RELIABILITY_JSON=str(target))
    code = subprocess.call(
        [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:randomly", *argv],
        env=env,
        cwd=HERE.parents[1],
    )
    if target.exists():
        data = json.loads(target.read_text())
        print(json.dumps(data["total"] | {"problems": len(data["total"]["problems"])}, indent=2))
        print(f"per kind: {target}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
