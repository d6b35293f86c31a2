"""Alpaca's account-level ``suspend_trade`` flag: read it, and clear it on ``risk reset``.

``--suspend-on-halt`` sets the flag so that no process can trade the account after a halt. It
outlives the halt: ``risk reset`` lifts the halt in our database, and offers to clear the flag
here; a session starting on a suspended account refuses to start (every order would be rejected
and counted against the day's limit).
"""

from __future__ import annotations

from typing import Any

from tui_trader.brokers.alpaca_calls import CallPolicy, with_retries


def is_suspended(client: Any, policy: CallPolicy) -> bool:
    """True if the account's ``suspend_trade`` configuration is on."""
    config = with_retries(
        client.get_account_configurations, policy, "reading the account configuration"
    )
    return bool(getattr(config, "suspend_trade", False))


def clear_suspension(client: Any, policy: CallPolicy) -> None:
    """Turn the account's ``suspend_trade`` off (the rest of its configuration unchanged)."""
    config = with_retries(
        client.get_account_configurations, policy, "reading the account configuration"
    )
    config.suspend_trade = False
    with_retries(
        lambda: client.set_account_configurations(account_configurations=config),
        policy,
        "clearing suspend_trade",
    )
