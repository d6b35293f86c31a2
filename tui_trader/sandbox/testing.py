"""Run a sandbox inside a test: ``with running_sandbox() as sb:`` and point alpaca-py at it.

The sandbox listens on free ports of 127.0.0.1, its market paused (``speed=0``) so that only
``sb.admin.step()`` moves it, and stops when the block ends. ``sb.admin`` drives the sandbox's
``/admin`` endpoints over HTTP, the same way a second terminal would.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from tui_trader.sandbox.app import Sandbox
from tui_trader.sandbox.config import SandboxConfig
from tui_trader.sandbox.faults import FaultSettings, parse_faults

ADMIN_TIMEOUT = 10.0


class AdminClient:
    """The sandbox's ``/admin`` endpoints as methods (plain urllib, no keys needed)."""

    def __init__(self, base_url: str) -> None:
        """Talk to the sandbox at ``base_url`` (the bare http origin)."""
        self.base_url = base_url

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One admin request; raises ``RuntimeError`` with the sandbox's message on an error."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=ADMIN_TIMEOUT) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"admin {path}: {exc.read().decode(errors='replace')}") from None

    def state(self) -> dict[str, Any]:
        """``GET /admin/state``."""
        return self._call("GET", "/admin/state")

    def step(self, bars: int = 1, shock: dict[str, float] | None = None) -> dict[str, Any]:
        """``POST /admin/step``: produce ``bars`` bars now; ``shock`` shifts levels in percent."""
        return self._call("POST", "/admin/step", {"bars": bars, "shock": shock or {}})

    def set_faults(self, spec: str = "", reset: bool = False, **switches: Any) -> dict[str, Any]:
        """``POST /admin/faults``: a SPEC string and/or named switches, on top of (or reset)."""
        body: dict[str, Any] = dict(switches)
        if spec:
            body["spec"] = spec
        if reset:
            body["reset"] = True
        return self._call("POST", "/admin/faults", body)["faults"]

    def clear_faults(self) -> dict[str, Any]:
        """Every fault switch back off (the rate limit back to 200)."""
        return self.set_faults(reset=True)

    def drop_streams(self) -> int:
        """``POST /admin/drop_streams``: cut every websocket; returns how many were cut."""
        return int(self._call("POST", "/admin/drop_streams", {})["dropped"])

    def set_speed(self, speed: float) -> dict[str, Any]:
        """``POST /admin/speed``: change the market's pace (0 pauses it)."""
        return self._call("POST", "/admin/speed", {"speed": speed})


@dataclass(frozen=True, slots=True)
class SandboxHandle:
    """Where a running sandbox listens, its keys, its admin client and the sandbox itself."""

    base_url: str
    trading_stream_url: str
    data_stream_url: str
    key_id: str
    secret: str
    admin: AdminClient
    sandbox: Sandbox


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, faults: str = "", **overrides: Any
) -> Iterator[SandboxHandle]:
    """Start a sandbox on free loopback ports (market paused unless ``speed=`` says otherwise).

    ``overrides`` are ``SandboxConfig`` fields (``cash=``, ``seed=``, ``symbols=``...);
    ``faults`` is a SPEC string applied at start.
    """
    base = config or SandboxConfig(speed=0.0)
    settings = parse_faults(faults, base.faults) if faults else base.faults
    chosen = replace(base, faults=settings, **overrides)
    sandbox = Sandbox(chosen).start()
    try:
        yield SandboxHandle(
            base_url=sandbox.base_url,
            trading_stream_url=sandbox.trading_stream_url,
            data_stream_url=sandbox.data_stream_url,
            key_id=chosen.key_id,
            secret=chosen.secret,
            admin=AdminClient(sandbox.base_url),
            sandbox=sandbox,
        )
    finally:
        sandbox.stop()


__all__ = ["AdminClient", "FaultSettings", "SandboxHandle", "running_sandbox"]
