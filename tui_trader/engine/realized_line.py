"""The realized PnL a broker-backed desk shows on its line (and per symbol, in its positions'
Real PnL column, and in its closing line): the round trips its fills closed in the account's
ledger, as ``report`` counts them (``reporting.account_pnl``).

The desk summed the round trips its own ledger booked from the fills it heard. On an account
another desk or a hand trades those are not the account's (a desk's ledger does not see the
shares another desk sold, and prices shares bought elsewhere apart from the broker's
average): the desk showed one profit and ``report`` another for the same session. A local desk
has its account to itself, its ledger taking the same fills in the same order: its own sums
are the account's and stay (its rows reach the store in batches, after the line is drawn).

Read once a cycle: only the fills recorded since the last look are read. No risk decision
reads it (the daily-loss limit is of the account's equity); a store that does not answer
leaves the last sums shown, the store's loss said where the desk writes. A look that reads
every fill (the first, and after a fill committed late) takes seconds on an account of
200,000 (2 s of CPU, 8 s under load): it gives way to a kill switch pressed meanwhile (the
desk's worker turns the press into a halt, the next look reads them all again), which before
waited for it to end.
"""

from __future__ import annotations

from collections.abc import Callable

from tui_trader.reporting.account_pnl import AccountPnl, LookStopped
from tui_trader.store.peewee_names import PeeweeException


class RealizedLine:
    """The account's realized PnL of one session, read again at each ``read``."""

    def __init__(self, session_id: int, stop: Callable[[], bool] | None = None) -> None:
        """Nothing read yet; ``stop``: True while a look must give way (a kill pressed)."""
        self._pnl = AccountPnl([session_id], notes=[], stop=stop)

    def read(self) -> tuple[float, dict[str, float]] | None:
        """The session's realized PnL and each symbol's; None when the store did not answer
        or the look gave way."""
        try:
            realized = self._pnl.refresh()
        except (PeeweeException, LookStopped):
            return None
        return realized.total, dict(realized.by_symbol)
