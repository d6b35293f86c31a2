"""Odd values of the environment variables are refused in one line (exit 2) before any use.

Before: ``TUI_TRADER_DB=' '`` (or ``--db ' '``) was a database file named ``' '`` made in the
working folder; an APCA URL whose host name is longer than DNS allows crashed ``live status``
(exit 1, urllib3's ``LocationParseError``); ``$TUI_TRADER_YAHOO_URL`` with an open bracket
crashed ``data fetch`` (exit 1, a ``CurlError``) and a ``file://`` one was opened by curl.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_bad_input import assert_one_line_exit_2, place, run_main

__all__ = ["place"]  # the fixture (Alpaca variables pointing where nothing listens)


def test_a_blank_database_variable_is_refused_not_made(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUI_TRADER_DB", " ")
    code, out, err, _ = run_main(["paper", "--iterations", "1"], capsys)
    assert_one_line_exit_2(code, out, err, "$TUI_TRADER_DB is empty", place)
    monkeypatch.delenv("TUI_TRADER_DB")
    code, out, err, _ = run_main(["paper", "--iterations", "1", "--db", " "], capsys)
    assert_one_line_exit_2(code, out, err, "--db: is empty", place)
    assert not (place / " ").exists(), "a database named ' ' was made"


@pytest.mark.parametrize("name", ["TUI_TRADER_DB", "TUI_TRADER_CACHE_DIR"])
def test_a_path_variable_naming_an_unknown_users_home_is_refused(
    place: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """``~nosuch/...`` in a path variable: pathlib's expanduser raised RuntimeError (exit 1, a
    crash log); taken as typed it would make a folder named '~nosuch' in the working one."""
    monkeypatch.setenv(name, "~nosuchuser4/x")
    argv = ["status"] if name == "TUI_TRADER_DB" else ["data", "list"]
    code, out, err, _ = run_main(argv, capsys)
    words = f"${name}" + (" " if name == "TUI_TRADER_DB" else ": ")
    assert_one_line_exit_2(code, out, err, words + "names no home folder", place)
    assert not list(place.glob("~*"))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://" + "a" * 5000, "a host name is at most 253 characters"),
        ("http://" + "a" * 70 + ".example", "63 between dots"),
    ],
    ids=["host-5000", "label-70"],
)
def test_an_alpaca_url_with_an_impossible_host_is_refused(
    place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    words: str,
) -> None:
    monkeypatch.setenv("APCA_API_BASE_URL", url)
    code, out, err, _ = run_main(["live", "status", "--timeout", "1"], capsys)
    assert_one_line_exit_2(code, out, err, words, place)


@pytest.mark.parametrize(
    ("url", "words"),
    [("http://[::1", "is not a valid URL"), ("file:///etc/passwd", "is not an http(s) URL")],
    ids=["open-bracket", "file-scheme"],
)
def test_a_yahoo_stand_in_that_is_no_http_url_is_refused(
    place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    words: str,
) -> None:
    monkeypatch.setenv("TUI_TRADER_YAHOO_URL", url)
    code, out, err, _ = run_main(["data", "fetch", "--symbols", "SPY", "--timeout", "2"], capsys)
    assert_one_line_exit_2(code, out, err, f"$TUI_TRADER_YAHOO_URL={url!r} {words}", place)


@pytest.mark.parametrize(
    ("driver", "words"),
    [
        ("nonsense.Driver", "(ModuleNotFoundError: No module named 'nonsense')"),
        ("textual.app:App", "is not a Driver class"),
        (":x", "(ValueError: Empty module name)"),
    ],
    ids=["no-module", "not-a-driver", "no-module-name"],
)
def test_a_textual_driver_variable_naming_no_driver_is_refused(
    place: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    driver: str,
    words: str,
) -> None:
    """``$TEXTUAL_DRIVER`` (the browser front sets it) naming no driver: the desk ended with a
    crash line (exit 1) and a crash log holding the import's traceback."""
    monkeypatch.setenv("TEXTUAL_DRIVER", driver)
    monkeypatch.setattr("textual.constants.DRIVER", driver)  # Textual reads it once, on import
    code, out, err, _ = run_main(["--db", str(place / "desk.db")], capsys)
    assert_one_line_exit_2(code, out, err, f"$TEXTUAL_DRIVER '{driver}' names no", place)
    assert words in err
