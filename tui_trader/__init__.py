"""tui_trader: a full-screen terminal trading desk for US equities."""

import os

__version__ = "0.1.0"

# polars allocates through its own jemalloc, which by default keeps freed pages for seconds
# (dirty) or for good (muzzy): loading a 1,000,000-row replay file then peaked ~45-60 MB higher
# than the table needs (issue 17). Freed pages go back at once; it costs no measurable time on
# the replay loader. Read when polars is first imported (never before this package: its
# modules import polars lazily), and only if the user set nothing else.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
