"""``--db`` given a URL: a PostgreSQL URL is accepted and shown without its password; any other
scheme, or a URL without a host or a database, is refused with a line that says what to write."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tui_trader.cli.common import db_arg, resolve_db
from tui_trader.security.redact import redact
from tui_trader.store.pg_url import PgUrl, parse_db_url


def test_the_password_is_masked_wherever_the_url_is_shown() -> None:
    """``str``, ``repr`` and any later message hide the password; the driver gets it."""
    url = parse_db_url("postgresql://trader:s3cret-pass@db.example:5433/desk?sslmode=require")
    assert str(url) == "postgresql://trader:****@db.example:5433/desk?sslmode=require"
    assert "s3cret-pass" not in repr(url) and url.has_password
    assert url.dsn.endswith("@db.example:5433/desk?sslmode=require")
    assert (
        redact("connection to desk failed for s3cret-pass") == "connection to desk failed for ****"
    )
    query = parse_db_url("postgres://trader@h/desk?password=qu3ry-secret&sslmode=disable")
    assert "qu3ry-secret" not in str(query) and "sslmode=disable" in str(query)
    assert not parse_db_url("postgresql://trader@h:5432/desk").has_password


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mysql://u:p@h/db", "scheme 'mysql://' is not supported"),
        ("sqlite:///tmp/x.db", "not supported"),
        ("postgresql:///desk", "names no host"),
        ("postgresql://trader@h:5432/", "names no database"),
        ("postgresql://trader@h:99999/desk", "not valid"),
    ],
)
def test_a_url_that_cannot_work_is_refused_in_one_line(text: str, says: str) -> None:
    """The refusal names the problem and the form to use, and never the password."""
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        db_arg(text)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value) and ":p@" not in str(caught.value)


def test_a_path_stays_a_path_and_the_environment_names_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A plain path is a SQLite file; without ``--db``, ``TUI_TRADER_DB`` is used."""
    assert db_arg("desk.db") == Path("desk.db")
    monkeypatch.setenv("TUI_TRADER_DB", "postgresql://trader@127.0.0.1:5432/desk")
    chosen = resolve_db(None)
    assert isinstance(chosen, PgUrl) and str(chosen).endswith("/desk")
    monkeypatch.setenv("TUI_TRADER_DB", str(tmp_path / "env.db"))
    assert resolve_db(None) == tmp_path / "env.db"
