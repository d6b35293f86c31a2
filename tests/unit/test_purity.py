"""The core stays pure: importing it must not import a front end or a broker/data SDK."""

import subprocess
import sys

CORE = (
    "tui_trader.domain",
    "tui_trader.engine",
    "tui_trader.risk",
    "tui_trader.strategies",
    "tui_trader.strategies.crossover",
    "tui_trader.ledger",
    "tui_trader.runner",
    "tui_trader.notices",
    "tui_trader.session_notices",
)
FORBIDDEN = ("textual", "alpaca", "yfinance", "rich", "pandas", "apprise")


def test_core_imports_no_front_end_or_sdk() -> None:
    """A fresh interpreter that imports the core has none of the heavy SDKs loaded."""
    code = (
        "import importlib, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        f"bad = sorted({{n.split('.')[0] for n in sys.modules}} & set({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_learning_package_is_pure_too() -> None:
    """The learning system belongs to the core and follows the same rule."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import tui_trader.learning as pkg\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        f"bad = sorted({{n.split('.')[0] for n in sys.modules}} & set({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
