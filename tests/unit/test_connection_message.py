"""The plain words an Alpaca first contact's failure gets (``session.alpaca.connection_message``):
what the trader is told to fix must follow the failure, not digits that happen to be in a URL."""

from __future__ import annotations

import pytest

from tui_trader.session.alpaca import connection_message

WHERE = "http://127.0.0.1:44017 (paper)"


@pytest.mark.parametrize("port", [4010, 44017, 54013])
def test_a_silent_server_whose_port_holds_401_is_unreachable_not_a_credentials_problem(
    port: int,
) -> None:
    """A no-answer's text carries the host and port; a port such as 44017 holds '401', which
    was read as Alpaca refusing the keys ('check APCA_API_KEY_ID/SECRET_KEY'), sending the
    trader after the wrong fault (seen as a flaky test_endpoints run on a random port)."""
    detail = (
        "account failed: no answer (HTTPConnectionPool(host='127.0.0.1', "
        f"port={port}): Read timed out. (read timeout=3))"
    )
    said = connection_message(detail, WHERE, 3)
    assert said == f"cannot reach Alpaca at {WHERE}: no answer after 3 s (--timeout)"


def test_a_refused_key_is_a_credentials_problem() -> None:
    """Alpaca's own 401 (and a 403 saying unauthorized) still name the keys."""
    for detail in (
        "account failed: HTTP 401: request is not authorized",
        "account failed: HTTP 403: unauthorized.",
    ):
        said = connection_message(detail, WHERE)
        assert said.startswith(f"Alpaca rejected the credentials at {WHERE}"), detail


def test_a_refused_connection_says_nothing_listens() -> None:
    """Nothing listening on the port: the connection failed, with what to check."""
    detail = "account failed: no answer (Connection refused)"
    said = connection_message(detail, WHERE)
    assert said.startswith(f"cannot reach Alpaca at {WHERE}: the connection failed")
