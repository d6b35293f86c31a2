"""The store loads peewee without its PostgreSQL driver and hands the driver over only when a
PostgreSQL store is used (``store.pg_driver``, issue 17: psycopg was ~85 ms of every start that
only opens a SQLite file). Each check runs in a fresh interpreter, where imports happen first."""

from __future__ import annotations

import json
import subprocess
import sys

_DESCRIBE = """
import json, re, peewee
def d(v):
    text = re.sub(r" at 0x[0-9a-f]+", "", repr(v))
    return f"{type(v).__module__}.{type(v).__qualname__} {text[:120]}"
names = {n: d(v) for n, v in vars(peewee).items() if not n.startswith("__")}
adapter = peewee.Psycopg3Adapter
names.update({f"Psycopg3Adapter.{n}": d(v) for n, v in vars(adapter).items() if n[:2] != "__"})
print(json.dumps(names))
"""


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_opening_the_store_does_not_load_the_postgresql_driver() -> None:
    """The store's models, the SQLite opener and the engine's session load no psycopg, nor the
    asyncio and ssl it brings."""
    out = _run(
        "import sys\n"
        "import tui_trader.store.db, tui_trader.store.audit, tui_trader.engine.session\n"
        "import tui_trader.session.runner\n"
        "print(sorted(m for m in ('psycopg', 'asyncio', 'ssl') if m in sys.modules))\n"
    )
    assert out.strip() == "[]"


def test_peewee_given_the_driver_late_is_peewee_loaded_with_it() -> None:
    """Every name of peewee's module and of its psycopg 3 adapter class is the same, once a
    PostgreSQL store was made, as when peewee imports psycopg itself; a PostgreSQL database
    then gets the psycopg 3 adapter."""
    at_once = json.loads(_run(_DESCRIBE))
    late = json.loads(
        _run(
            "import sys\n"
            "import tui_trader.store.models\n"
            "assert 'psycopg' not in sys.modules and sys.modules['peewee'].psycopg is None\n"
            "from tui_trader.store.pg import PgAuditDatabase\n"
            "from tui_trader.store.pg_url import parse_db_url\n"
            "db = PgAuditDatabase(parse_db_url('postgresql://nobody@127.0.0.1:9/none'))\n"
            "assert type(db._adapter).__name__ == 'AnsweringAdapter', db._adapter\n" + _DESCRIBE
        )
    )
    assert at_once["psycopg"].startswith("builtins.module")
    assert late == at_once
