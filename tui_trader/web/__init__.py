"""The desk in a browser: textual-serve behind a token (``tui-trader serve``)."""
