"""No secret in anything rendered: crash.log and its one-line summary, the log file, run errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from tui_trader.cli import logs
from tui_trader.security import redact

SECRET = "zz-Unit-SECRET-5d2c8a"


def invalid_header(secret: str) -> Exception:
    """The exception requests raises for a header value holding a return character."""
    try:
        requests.Request(
            "GET", "http://127.0.0.1:9/v2/account", headers={"APCA-API-SECRET-KEY": secret}
        ).prepare()
    except Exception as exc:
        return exc
    raise AssertionError("requests accepted the header")


def test_invalid_header_quotes_the_secret_unless_redacted() -> None:
    """The raw exception carries the secret (why redaction exists); the rendered form doesn't."""
    exc = invalid_header(SECRET + "\r")
    assert SECRET in str(exc)
    redact.remember(SECRET + "\r")
    assert SECRET not in redact.describe(exc)
    assert SECRET not in redact.redact(repr(exc))


def test_a_quoted_key_header_is_blanked_even_for_an_unknown_secret() -> None:
    """A headers dict written out in an error masks both key headers."""
    text = "{'APCA-API-KEY-ID': 'PKX', 'APCA-API-SECRET-KEY': 'never-registered-1'}"
    assert "never-registered-1" not in redact.redact(text)
    assert "header value: '****'" in redact.redact("bad header value: 'other-value\\r'")


def test_crash_log_and_its_summary_hold_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """report_crash writes the traceback and prints one line: neither shows the secret."""
    monkeypatch.setattr(logs, "log_dir", lambda: tmp_path)
    redact.remember(SECRET + "\n")
    try:
        raise invalid_header(SECRET + "\n")
    except Exception as exc:
        assert logs.report_crash(exc) == logs.EXIT_CRASH
    err = capsys.readouterr().err
    crash = (tmp_path / "crash.log").read_text()
    assert "InvalidHeader" in err and "InvalidHeader" in crash
    assert SECRET not in err and SECRET not in crash
    assert len(err.splitlines()) == 1


def test_the_log_file_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library logging an exception with the secret in it: the file shows ****."""
    monkeypatch.setattr(logs, "log_dir", lambda: tmp_path)
    redact.remember(SECRET)
    path = logs.setup_logging()
    handler = next(
        h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(path)
    )
    try:
        logger = logging.getLogger("alpaca.some.module")
        try:
            raise ValueError(f"header APCA-API-SECRET-KEY={SECRET}")
        except ValueError:
            logger.exception("request failed with %s", SECRET)
        handler.flush()
        text = path.read_text()
        assert "request failed with ****" in text and "ValueError" in text
        assert SECRET not in text
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
