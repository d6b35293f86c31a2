"""``python -m tui_trader``: the same as the ``tui-trader`` command."""

import sys

from tui_trader.entry import main

sys.exit(main())
