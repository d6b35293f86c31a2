"""The sandbox's error answer: an HTTP status with Alpaca's ``{"code": ..., "message": ...}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the sandbox answers with, shaped as Alpaca documents its errors."""

    def __init__(self, status: int, code: int | None, message: str, **extra: Any) -> None:
        """``code`` None gives a body with only ``message`` (Alpaca's 401 has no code)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        out: dict[str, Any] = {} if self.code is None else {"code": self.code}
        out["message"] = self.message
        out.update(self.extra)
        return out
