"""tui_trader: a full-screen terminal trading desk for US equities."""

__version__ = "0.1.0"
