"""Whether a URL from the environment is an http(s) address a client can connect to.

``APCA_API_*_URL`` and ``$TUI_TRADER_YAHOO_URL`` are read once and then handed to HTTP clients
(urllib3, curl) that raise their own errors mid-command on a malformed one: a host name part
longer than DNS allows (``http://aaaa...`` of 100,000 characters crashed ``live status`` with
urllib3's ``LocationParseError``), an open bracket (curl's ``Bad IPv6 address``), or another
scheme (curl opened ``file:///etc/passwd`` as if it were Yahoo).
"""

from __future__ import annotations

from urllib.parse import urlsplit

LABEL_MOST = 63
HOST_MOST = 253
"""DNS's limits: a name part, a whole host name."""


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is no http(s) URL with a usable host, in a few words, or ``None``."""
    if not url.isprintable():
        return "holds a control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    host = parts.hostname
    if len(host) > HOST_MOST or any(len(label) > LABEL_MOST for label in host.split(".")):
        return (
            f"is not a valid URL (a host name is at most {HOST_MOST} characters, "
            f"{LABEL_MOST} between dots)"
        )
    return None
