"""Keeping secrets out of everything the desk renders: screens, stderr, logs and crash.log.

An exception raised while a request is built can quote its headers (requests' ``InvalidHeader``
prints the offending header value, which is the secret when the secret holds a newline). Every
place that turns an exception into text passes it through ``redact`` first: the secrets this
process has loaded are replaced by ``****``, and anything that looks like a quoted API-key
header is blanked too, so a secret never reaches a screen, a log line or a file. ``LogRedactor``
does the same for log records.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "****"
MIN_LENGTH = 6
"""Shorter "secrets" (a test's ``s``) are not masked: every word holding them would be."""
_lock = threading.Lock()
_secrets: set[str] = set()
_HEADER = re.compile(
    r"(?i)(APCA-API-(?:SECRET-KEY|KEY-ID)['\"]?\s*[:=,]\s*['\"]?)[^'\"\s,}]*"
    r"|(header (?:value|name):?\s*b?)(['\"]).*?\3",
    re.DOTALL,
)
"""An API-key header written out (``'APCA-API-SECRET-KEY': 'x'``) or requests' quoted
``header value: '...'`` in an ``InvalidHeader`` message."""


def remember(secret: str) -> None:
    """Register a secret this process holds, so that ``redact`` hides it wherever it appears."""
    stripped = secret.strip()
    if len(stripped) < MIN_LENGTH:
        return
    with _lock:
        _secrets.add(secret)
        _secrets.add(stripped)  # a header error may quote it without the stray newline


def redact(text: str) -> str:
    """``text`` with every registered secret and every quoted key header replaced by ``****``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
        escaped = repr(secret)[1:-1]  # a traceback or repr() shows \r as a backslash and r
        if escaped != secret and escaped in text:
            text = text.replace(escaped, MASK)
    return _HEADER.sub(_mask_header, text)


def _mask_header(match: re.Match[str]) -> str:
    """The header's name (or requests' lead-in and quotes) kept, its value masked."""
    if match.group(1):
        return match.group(1) + MASK
    return match.group(2) + match.group(3) + MASK + match.group(3)


def describe(exc: BaseException) -> str:
    """``Type: first line`` of an exception, redacted: the form errors take on screen."""
    text = redact(str(exc)).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class LogRedactor(logging.Filter):
    """A logging filter that redacts a record's message and its formatted traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (message arguments folded in); always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
