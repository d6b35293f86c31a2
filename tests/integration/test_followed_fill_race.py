"""Two desks behind an order's row record its fill once, at the same moment too.

Desks following an ended desk's order record a fill of it only while the order's recorded
fills, with it, stay within what the broker filled (``FILL_UPTO_SQL``, ``crash29``). The check
reads the recorded fills in the insert's own statement; on PostgreSQL, under READ COMMITTED,
that read does not see a fill another desk's open transaction just inserted. A desk whose view
of the order is current first updates the order's row (locking it: the other desk waits for
its commit, then reads afresh); a desk whose view is behind the row (another desk, or a
cancel's answer, had brought the row on) updated nothing and locked nothing. Two such desks
hearing the same share at once both recorded it: 2 fills for 1 share (records30, found by
reading). Now the order's row is locked before the insert whatever the view.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tests.integration.test_followed_fill_cas import _ended_buy, _recorded, _two_desks, _update
from tests.integration.test_kept_halt_fresh_account_raced import _waits_on_a_lock
from tui_trader.engine.session import TradingSession
from tui_trader.store.models import LiveOrder
from tui_trader.store.pg_url import PgUrl


def test_two_desks_behind_the_row_record_one_share_once_at_once(store: Path | PgUrl) -> None:
    """The ended desk's 3-share buy: a cancel's answer at 2 filled reached a third desk
    first (the row at 2, no fill recorded yet). Desks A and B, their streams behind, both
    hear the first share (0 to 1). A records it and holds its transaction open until B has
    recorded too or waits for A; then A commits. The share is recorded once."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    LiveOrder.update(status="partially_filled", filled_qty=2).where(
        LiveOrder.client_order_id == cid
    ).execute()
    a_recorded, b_entered, b_done = (threading.Event() for _ in range(3))
    errors: list[BaseException] = []
    counted: dict[str, int] = {}

    def desk_a() -> None:
        """A's fill, its transaction held open until B has gone as far as it can."""
        try:
            with a.audit.db.atomic():
                counted["A"] = a._apply_updates([_update(cid, 0, 1)])
                a_recorded.set()
                for _ in range(3000):  # (at most a minute: the test fails rather than hangs)
                    if b_done.is_set() or (b_entered.is_set() and _waits_on_a_lock(store)):
                        break
                    b_done.wait(0.02)
                else:
                    raise AssertionError("desk B neither recorded nor waited")
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            a.audit.db.close()

    def desk_b(desk: TradingSession) -> None:
        """B's hearing of the same share, once A has recorded it (not committed)."""
        try:
            b_entered.set()
            counted["B"] = desk._apply_updates([_update(cid, 0, 1)])
        except BaseException as exc:
            errors.append(exc)
        finally:
            b_done.set()
            desk.audit.db.close()

    first = threading.Thread(target=desk_a, name="A")
    first.start()
    assert a_recorded.wait(60), "desk A did not record its fill"
    second = threading.Thread(target=desk_b, args=(b,), name="B")
    second.start()
    first.join(60)
    second.join(60)
    assert not errors, errors
    assert counted == {"A": 1, "B": 0}, counted
    assert _recorded(cid) == (2.0, 1.0, 1)
