"""Only the store imports peewee, so psycopg loads only when a PostgreSQL store is opened.

The store package loads peewee without its PostgreSQL driver (``store.pg_driver``, ~85 ms of CPU
a SQLite store never uses). A module that imported peewee itself before any of the store's loaded
it with the driver: ``tui/dbaccess.py``, ``tui/handles.py``, ``tui/monitor.py`` and
``reporting/load.py`` did, and a command paid for psycopg or not by which of its modules came
first. The rule is read from the source (every import statement, in functions and
``TYPE_CHECKING`` blocks too), then checked in fresh interpreters, where imports happen first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import tui_trader

PACKAGE = Path(tui_trader.__file__).resolve().parent
ROOT = PACKAGE.parent
STORE = PACKAGE / "store"
DRIVER_LIBRARIES = ("peewee", "playhouse", "psycopg", "psycopg2")
"""peewee, its extensions and the PostgreSQL drivers: the store's to import."""


def _outside_imports(root: Path = PACKAGE) -> list[str]:
    """``file:line module`` for every import of a driver library outside the store.

    Only a file whose text names one of the libraries can import it (an import statement
    spells the module's name out; NFKC, as Python reads identifiers), so only those (6 of
    ~270 today) are parsed and walked: parsing and walking all of them took 1-1.5 s of CPU
    (42 s in a run under heavy load), now ~0.1 s."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "store"):
            continue
        text = path.read_text()
        read_as = unicodedata.normalize("NFKC", text)
        if not any(name in read_as for name in DRIVER_LIBRARIES):
            continue
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in DRIVER_LIBRARIES:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {name}")
    return found


def test_nothing_outside_the_store_imports_peewee_or_a_driver() -> None:
    """Modules outside ``tui_trader/store`` take peewee's names from ``store.peewee_names``."""
    assert _outside_imports() == []


def test_the_rule_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    """An import inside a function or a ``TYPE_CHECKING`` block counts; one in the store does
    not, nor one of a module merely named like the library."""
    pkg = tmp_path / "tui_trader"
    (pkg / "store").mkdir(parents=True)
    (pkg / "store" / "db.py").write_text("import peewee\n")
    (pkg / "a.py").write_text("def f():\n    from peewee import fn\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import psycopg.pq\n"
    )
    (pkg / "c.py").write_text("from tui_trader.store.peewee_names import fn\nimport peeweeish\n")
    assert _outside_imports(pkg) == ["tui_trader/a.py:2 peewee", "tui_trader/b.py:3 psycopg.pq"]


ENTRY_MODULES = (
    "tui_trader.tui.app",
    "tui_trader.tui.dbaccess",
    "tui_trader.tui.handles",
    "tui_trader.tui.monitor",
    "tui_trader.tui.screens.fleet",
    "tui_trader.tui.screens.history",
    "tui_trader.tui.screens.report",
    "tui_trader.reporting.load",
    "tui_trader.cli.live_monitor",
    "tui_trader.cli.serve",
    "tui_trader.cli.reports",
    "tui_trader.cli.report_cmd",
    "tui_trader.cli.fleet_cmd",
    "tui_trader.cli.risk_cmd",
)
"""What the desk, ``serve``, ``live monitor``, ``history``, ``status``, ``fleet``, ``risk show``
and ``report`` load: each, imported first in a process, must not bring psycopg."""


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_a_desk_or_report_module_imported_first_loads_no_psycopg(module: str) -> None:
    """Imported alone in a fresh interpreter, the module loads peewee (where it uses it) without
    the PostgreSQL driver."""
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print('psycopg' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False", f"{module} loaded psycopg"


COMMAND = """
import contextlib, io, sys
from tui_trader.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        assert not exc.code, exc.code
print(len(out.getvalue().splitlines()), 'psycopg' in sys.modules)
"""

DESK = """
import asyncio, sys
from pathlib import Path
from tui_trader.tui.app import make_app

async def main():
    app = make_app(Path(sys.argv[1]))
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("f3", "f9", "f12"):  # History, Report, Fleet: each reads the store
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
            print(type(app.screen).__name__, 'psycopg' in sys.modules)

asyncio.run(main())
"""


@pytest.mark.parametrize(
    "argv",
    [["history"], ["status"], ["fleet"], ["risk", "show"], ["report"], ["desk"]],
    ids=" ".join,
)
def test_reading_a_sqlite_store_loads_no_psycopg(argv: list[str], tmp_path: Path) -> None:
    """Each reading command, and the desk through History, Report and Fleet, on a SQLite file
    with a session in it, in a fresh interpreter: it prints or shows the session, and psycopg
    never loads."""
    from tests.conftest import make_session

    db = tmp_path / "audit.db"
    session = make_session(db)
    for _ in range(5):
        session.run_iteration()
    session.finish("completed")
    session.audit.db.close()
    code, args = (DESK, [str(db)]) if argv == ["desk"] else (COMMAND, [*argv, "--db", str(db)])
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if argv == ["desk"]:
        shown = done.stdout.split()
        assert shown == ["HistoryScreen", "False", "ReportScreen", "False", "FleetScreen", "False"]
    else:
        lines, loaded = done.stdout.split()
        assert int(lines) > 0 and loaded == "False", done.stdout
