"""A PostgreSQL store whose ``schema_version`` was edited by hand into something that is not a
plain number: one line and exit 2 when a command opens it, a running desk stops on it.

``str.isdigit`` said ``'²'`` (and every other Unicode digit) was digits and ``int()`` refused it;
``int()`` also refuses a number of more than 4,300 digits: both raised ``ValueError`` out of the
store's checks, a traceback instead of the store's one-line refusal. Other text read as schema
0, an old store, and a desk upgraded it as if it were one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_session
from tests.pg_cluster import PgCluster
from tui_trader.cli import main
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.upgraded import upgraded_under_us

EDITED = ["²", "٣", "9" * 5000, "seven", "-1", "1.5"]
"""Hand edits: a superscript and an Arabic-Indic digit (``isdigit`` true, ``int`` refuses
the first), a number too long for ``int()``, words, a sign, a fraction."""


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``tui-trader ARGS`` in this process: exit code, stdout, stderr."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_an_edited_schema_version_is_one_line_and_exit_2(
    pg_cluster: PgCluster, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every edit: ``history`` says in one line that the version is not one tui-trader wrote,
    exits 2, and leaves the edited value where it was (no upgrade over it)."""
    make_session(parse_db_url(pg_url)).finish("stopped")
    database = pg_url.rsplit("/", 1)[1]
    for edited in EDITED:
        pg_cluster.admin(
            f"UPDATE tui_trader_meta SET value = '{edited}' WHERE key = 'schema_version'",
            database,
        )
        code, _out, err = _cli(["history", "--db", pg_url], capsys)
        assert code == 2, (edited[:20], err[-500:])
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err[-500:]
        assert "schema version" in err and "not a number" in err, err
        assert len(err) < 1000, "the 5,000 digits were echoed"
        rows = pg_cluster.rows(
            database, "SELECT value FROM tui_trader_meta WHERE key = 'schema_version'"
        )
        assert rows == [(edited,)], "the store was upgraded over a version it could not read"


class _Store:
    """A PostgreSQL store as ``upgraded_under_us`` reads it: one meta row."""

    is_postgres = True

    def __init__(self, value: str) -> None:
        self.value = value

    def execute_sql(self, _sql: str, _params: Any = None) -> Any:
        value = self.value

        class _Cursor:
            def fetchone(self) -> tuple[str]:
                return (value,)

        return _Cursor()


@pytest.mark.parametrize(
    "edited", EDITED, ids=["super2", "arabic3", "5000digits", "word", "neg", "frac"]
)
def test_a_running_desk_stops_on_an_edited_schema_version(edited: str) -> None:
    """The heartbeat's check: an unreadable version stops the session in one line (it
    raised, or read as 0 and the desk went on writing a store it can no longer vouch for)."""
    line = upgraded_under_us(_Store(edited))
    assert line is not None and "not a number" in line and "trading stopped" in line
    assert len(line) < 1000


def test_a_plain_version_still_reads() -> None:
    """Our own version and an older one go on; a newer one stops, as before."""
    from tui_trader.store.ownership import SCHEMA_VERSION

    assert upgraded_under_us(_Store(str(SCHEMA_VERSION))) is None
    assert upgraded_under_us(_Store("1")) is None
    assert upgraded_under_us(_Store("")) is None
    newer = upgraded_under_us(_Store(str(SCHEMA_VERSION + 1)))
    assert newer is not None and "upgraded to schema" in newer
