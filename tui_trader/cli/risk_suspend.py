"""``risk reset`` on an Alpaca account: offer to clear the broker's ``suspend_trade`` too.

A halt with ``--suspend-on-halt`` also set Alpaca's account-level ``suspend_trade``; lifting the
halt in the database leaves it on, and every order of the next session would be rejected. After
the reset this looks the flag up (when Alpaca credentials are available and belong to that
account), offers to clear it, and says what it did, or why it could not look.
"""

from __future__ import annotations

import sys

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_config import PAPER_URL, ConfigError, load_endpoint
from tui_trader.cli.common import warn_env_lines
from tui_trader.cli.questions import ask


def offer_to_clear_suspension(account_key: str, endpoint_url: str | None, yes: bool) -> None:
    """Look up ``suspend_trade`` on the Alpaca account ``account_key`` and offer to clear it."""
    account_id = account_key.removeprefix("alpaca:")
    try:
        endpoint = load_endpoint(endpoint_url or PAPER_URL)
    except ConfigError:
        print(
            "broker: suspend_trade not checked (no Alpaca credentials here); if the halt used "
            "--suspend-on-halt, clear it in Alpaca's dashboard or rerun with the keys set"
        )
        return
    finally:
        warn_env_lines()  # a .env line skipped: said whether or not keys were found
    from tui_trader.brokers.alpaca import AlpacaBroker
    from tui_trader.brokers.alpaca_calls import CallPolicy
    from tui_trader.brokers.alpaca_suspend import clear_suspension, is_suspended

    policy = CallPolicy(timeout=10.0, retries=1)
    try:
        broker = AlpacaBroker(endpoint, policy, use_stream=False, require_open_market=False)
    except (ValueError, OSError) as exc:
        print(f"broker: suspend_trade not checked: cannot set up the Alpaca client ({exc})")
        return
    try:
        found = broker.account().account_id
        if found != account_id:
            print(
                f"broker: suspend_trade not checked: the credentials here are for account "
                f"{found}, not {account_id}"
            )
            return
        if not is_suspended(broker.client, policy):
            print(f"broker: trading is not suspended at {endpoint.label} (suspend_trade off)")
            return
        if not yes and not _confirm(endpoint.label):
            print(f"broker: suspend_trade left ON at {endpoint.label}: no session can trade")
            return
        clear_suspension(broker.client, policy)
        print(f"broker: suspend_trade cleared at {endpoint.label}: the account can trade again")
    except BrokerError as exc:
        print(f"broker: suspend_trade not cleared: {exc}")
    finally:
        broker.close()


def _confirm(label: str) -> bool:
    """Ask on the terminal whether to clear the flag."""
    if not sys.stdin.isatty():
        return False
    prompt = f"Trading is also suspended at {label} (suspend_trade). Clear it? Type 'yes': "
    return ask(prompt).strip() == "yes"
