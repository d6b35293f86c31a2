"""A database URL with its password, given where a file or folder is named: refused unquoted.

``$TUI_TRADER_DB`` holds ``postgresql://USER:PASSWORD@HOST/DB`` on a fleet's machines, and it is
easy to hand it to the wrong option: ``db verify "$TUI_TRADER_DB"``, ``db backup --to
"$TUI_TRADER_DB"``, ``--config``, ``--html``. Every path option took it as a path: the refusal
quoted it with the password, and ``db backup --to``, ``--backup-dir`` and ``--cache-dir`` made
folders named after it (``postgresql:/bob:PASSWORD@host:5432/desk/``), storing the password on
disk and printing it in the backup's path. Each is one line on stderr now, exit 2, the password
in no message and no file name. Runs the real command line in a child process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli

PASSWORD = "hunter2-not-shown"
URL = f"postgresql://bob:{PASSWORD}@127.0.0.1:1/desk"


def _cases(db: str) -> dict[str, list[str]]:
    """Each path option given the URL (``db``: a real database where a command needs one)."""
    return {
        "db verify": ["db", "verify", URL],
        "db restore": ["db", "restore", URL, "--db", db, "--yes"],
        "db backup --to": ["db", "backup", "--db", db, "--to", URL],
        "config show --config": ["config", "show", "--config", URL],
        "paper --backup-dir": ["paper", "--iterations", "1", "--db", db, "--backup-dir", URL],
        "report --html": ["report", "--db", db, "--html", URL],
        "data export --out": ["data", "export", "--symbol", "SPY", "--out", URL],
        "data list --cache-dir": ["data", "list", "--cache-dir", URL],
        "paper --data": ["paper", "--iterations", "1", "--db", db, "--data", URL],
        "paper --data replay:": [
            "paper",
            "--iterations",
            "1",
            "--db",
            db,
            "--data",
            f"replay:{URL}",
        ],
        "learn evaluate --data": ["learn", "evaluate", "--data", URL],
    }


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one finished local session."""
    folder = tmp_path_factory.mktemp("url")
    done = run_cli(folder, "paper", "--iterations", "3", "--db", str(folder / "desk.db"))
    assert done.returncode == 0, done.stderr
    return folder / "desk.db"


@pytest.mark.parametrize("case", list(_cases("")))
def test_a_database_url_as_a_path_is_refused_without_its_password(
    desk: Path, tmp_path: Path, case: str
) -> None:
    done = run_cli(tmp_path, *_cases(str(desk))[case])
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-trader: error: "), done.stderr
    assert "is a URL" in lines[0], lines[0]
    assert PASSWORD not in done.stderr + done.stdout
    assert not [p for p in tmp_path.rglob("*") if PASSWORD in p.name], "a file named by it"
    assert not [p for p in desk.parent.rglob("*") if PASSWORD in p.name], "a file named by it"
