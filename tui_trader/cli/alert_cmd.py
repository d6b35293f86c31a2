"""``tui-trader alert test --alert URL``: send a test message and say whether it arrived.

Each URL gets one message under the deadline; the answer names the URL with its tokens and
passwords masked. Exit 0 when every URL took the message, 1 when one did not, 2 for a URL apprise
does not understand.
"""

from __future__ import annotations

import argparse

from tui_trader.cli.common import UsageError
from tui_trader.cli.ops_options import alert_deadline

TEST_TITLE = "tui-trader: test alert"
TEST_BODY = "This is a test message from tui-trader. Halts and session ends will arrive like this."


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``alert test``."""
    alert = subparsers.add_parser("alert", help="check that alerts reach you")
    actions = alert.add_subparsers(dest="alert_action", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="send a test message to each --alert URL")
    test.add_argument(
        "--alert", action="append", required=True, metavar="URL", help="an apprise URL"
    )
    test.add_argument(
        "--alert-deadline", type=alert_deadline, default=10.0, metavar="SECONDS", help="(10)"
    )
    test.set_defaults(handler=run_alert_test)


def run_alert_test(args: argparse.Namespace) -> int:
    """Send, and print one line per URL."""
    from tui_trader.ops.alerts import AlertURLError, check_alert_url, deliver

    targets = []
    for url in args.alert:
        try:
            targets.append((url, check_alert_url(url)))
        except AlertURLError as exc:
            raise UsageError(str(exc)) from None
    failed = 0
    for url, shown in targets:
        error = deliver(url, TEST_TITLE, TEST_BODY, args.alert_deadline)
        if error is None:
            print(f"delivered: {shown}")
        else:
            failed += 1
            print(f"not delivered: {shown}: {error}")
    return 1 if failed else 0
