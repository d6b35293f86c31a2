"""The core stays pure: importing it must not import a front end or a broker/data SDK."""

import subprocess
import sys

CORE_PACKAGES = (
    "tui_trader.core",
    "tui_trader.risk",
    "tui_trader.engine",
    "tui_trader.strategies",
    "tui_trader.learning",
)
FORBIDDEN = ("textual", "alpaca", "yfinance", "rich", "pandas", "apprise")


def test_core_imports_no_front_end_or_sdk() -> None:
    """A fresh interpreter that imports every module of the core packages (domain, risk, engine,
    strategies, learning) has none of the heavy SDKs loaded."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE_PACKAGES!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        f"bad = sorted({{n.split('.')[0] for n in sys.modules}} & set({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"
