"""Positions that change outside the session: noticed, said, and never traded against.

A session trades towards its targets from the broker's positions. If shares appear or vanish
that none of its own fills explain (a trade by hand in Alpaca's dashboard, another program on
the account, a split), rebalancing would quietly undo them: the desk would sell the shares a
person just bought. So the session keeps, per symbol it trades (and, with protective exits,
per symbol held), what the broker should hold.

At start (``start``) that is what this account's fills in the audit database make of the symbol
(all its sessions): a position that differs, checked once no order of ours may still be
filling, changed while no session ran (or is not this desk's at all: a first session on an
account that already holds shares, a new or different database file): one ``outside_change``
risk event says what the record makes and what the broker holds, and the symbol is left alone.
During the session, the expectation is the broker's quantity at a quiet moment (or the start's
record) plus every fill the session records since. A symbol is quiet when none of the session's
own orders in it may still be filling, protective exits aside (the broker adapter's
``working_symbols``): a resting stop or take-profit does not move the position, and a fill of
it reaches the session like any other.

A difference seen once holds the symbol's orders for that cycle (a position read may lag a
fill by a moment); seen again, the same, the session's orders in the symbol are looked up at
the broker (``look_up``: a protective exit may have filled without the news reaching us yet);
if no fill of ours turns up, the still-open orders of this store's ended sessions in the symbol
are looked up too (``Recorded``: a desk that stopped with its order working, whose rest filled
since, ``engine.ended_orders``), and where the broker then holds what the account's recorded
fills make, every share is this store's desks': the expectation is taken afresh. Otherwise
it is a change made outside the session: one ``outside_change`` risk event says what the broker
holds, what the session's fills account for, and that the session leaves the symbol alone.
A symbol left alone is still watched: when the shares not the desk's change again (a second
trade by hand), seen twice alike, another ``outside_change`` event records the new figure.
While another session trades the same account (one audit database), or one killed since has
not been recorded ``died`` by a start (its fills may be unrecorded), the shares cannot be told
from a hand trade: the expectation is then taken afresh instead.

While an order of the session works in a symbol, the symbol is not judged, but the broker's
position must agree with the session's fills: Alpaca's positions can lag the fills of a partly
filled order, and the rebalance, counting the position plus what working orders will add,
would buy again what has already filled. Such a symbol's orders are held back while the two
disagree (``holds``, one cycle at a time), never called a change made outside; each such cycle
looks the session's orders in it up first: the disagreement may be the desk's own news lagging
(a fill whose stream message was lost, the poll after the reconnect answered stale by REST).

A hold is said once per onset (``first_said``, as ``engine.exit_holds`` does for exits): later
cycles hold the order back silently while the same hold stands.

A symbol held or left alone keeps a protective exit only for the shares the session's own fills
account for (``own``), never more than the broker holds: the exit never sells shares bought by
hand, and is never larger than the position; a difference not judged yet (``judging``) takes
no working exit down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Fill
from tui_trader.engine.said_once import SaidOnce

OUTSIDE_CHANGE = "outside_change"
"""Risk event type of a position changed outside the session."""
POSITIONS_ADOPTED = "positions_adopted"
"""Risk event type of a difference a session took as the desk's own at start
(``--adopt-positions``): its value counts in the account's record from then on."""
TOLERANCE = 1e-6
"""Shares below which two quantities are the same (fractional fills are rounded to 1e-9)."""
LookUp = Callable[[str], bool]
"""Ask the broker now for the session's orders in a symbol; True if a fill of ours turned up
(recorded, so the expectation moved with it)."""
Recorded = Callable[[str], float | None]
"""Record the late fills of this store's ended sessions' orders in a symbol; what the account's
recorded fills then make of it (``None``: no record on this account to go by)."""


def _no_look_up(symbol: str) -> bool:
    """No orders to look up: nothing turns up."""
    return False


_TURNED_UP = (
    "a fill of this session's order in {symbol} turned up; looking again next cycle before "
    "trading {symbol}"
)


def _no_record(symbol: str) -> float | None:
    """No record to go by."""
    return None


class OutsideChanges:
    """What the broker should hold of each traded symbol, and the symbols left alone."""

    def __init__(self) -> None:
        self._expected: dict[str, float] = {}
        """Symbol -> the broker's quantity at a quiet moment (or the start's record) plus our
        fills since."""
        self._seen: dict[str, float] = {}
        """Symbol -> the difference seen at the last check (confirmed if seen again)."""
        self.holds: dict[str, str] = {}
        """Symbol -> why the session sends no order in it (this cycle, or for good)."""
        self._left: dict[str, float] = {}
        """Symbol -> the shares not the desk's that the last ``outside_change`` event of each
        symbol left alone said (a later change is recorded again: ``_moved_again``)."""
        self._recorded = False
        """Whether ``start`` compared with a record: a symbol first seen later starts from
        what the record made of it (nothing, if it has no expectation yet), not from the
        broker's quantity."""
        self._said = SaidOnce()
        """The holds already said in a cycle's notes (``first_said``)."""
        self.lagging: set[str] = set()
        """Symbols held back by the last ``check`` because the position read lags a fill."""
        self.exits_kept = False
        """Whether the session keeps protective exits (said in the event: what its exit
        covers from now on)."""

    def on_fill(self, fill: Fill) -> None:
        """Count one of the session's own fills into the expectation of its symbol."""
        symbol = fill.symbol
        if symbol in self._expected:
            self._expected[symbol] += fill.qty * fill.side.sign

    def first_said(self, symbol: str, reason: str) -> bool:
        """Whether an order held back in ``symbol`` for ``reason`` (its ``holds`` entry) is to
        be said: at the hold's onset only. The memory of a symbol whose hold ended or changed
        is forgotten at the next ``check``, so that a new onset is said again."""
        return self._said.first(symbol, reason)

    def own(self, symbol: str) -> float | None:
        """The quantity of a held or left-alone symbol that the session's fills account for
        (its protective exit covers no more); ``None`` for a symbol traded as usual."""
        if symbol not in self.holds:
            return None
        return self._expected.get(symbol)

    def judging(self, symbol: str) -> bool:
        """Whether ``symbol``'s difference was seen once and not judged yet (a halted session
        judges nothing: it stands as long as the halt); it may be an ended desk's shares."""
        return symbol in self._seen and symbol not in self._left

    def fills_make(self, symbol: str) -> float | None:
        """What the session's fills make of ``symbol`` (None: not followed, or left alone)."""
        return None if symbol in self._left else self._expected.get(symbol)

    def behind_read(self, symbol: str, have: float) -> float | None:
        """What the session's fills make of ``symbol`` where a read (``have``) shows more
        shares than they do on the same side, for a symbol where its own order works (the
        caller knows); ``None`` where the read shows no more, or the symbol is left alone
        (``own`` covers it) or not followed. Reads do not lag alike: the cycle's check read
        the positions as they were (no hold), the exit step's read lagged the desk's partly
        filled sell (``crash30``: a stop for 7 where none were free, then a short)."""
        if symbol in self._left:
            return None
        want = self._expected.get(symbol)
        if want is None or have * want < 0 or abs(have) <= abs(want) + TOLERANCE:
            return None
        return want

    def why_not_held(self, symbol: str) -> str:
        """Why a protective exit covers ``own`` shares, not the position read: its words."""
        if symbol not in self.lagging:
            return "held (changed outside the session)"
        return "the broker's position read shows (a read lagging a fill of an order still working)"

    def desks_share(self, symbol: str, qty: float) -> float:
        """Of ``qty`` held in a symbol the session trades, what is the desk's to close: all of
        it while the symbol trades as usual; of one held or left alone, what its fills account
        for (``own``), never more than is held nor of the other side."""
        own = self.own(symbol)
        if own is None:
            return qty
        return max(0.0, min(qty, own)) if qty > 0 else min(0.0, max(qty, own))

    def not_ours(self, positions: dict[str, Position]) -> dict[str, float]:
        """Symbol -> the shares of each held symbol left alone that this desk's fills do not
        account for: the broker's quantity minus the desk's own (negative: fewer than its
        fills make). The broker's position, and so its P&L, counts them; the front ends say
        so beside the symbol instead of presenting that P&L as the desk's."""
        out: dict[str, float] = {}
        for symbol in self._left:
            position = positions.get(symbol)
            if position is None:
                continue
            extra = position.qty - self._expected.get(symbol, 0.0)
            if abs(extra) > TOLERANCE:
                out[symbol] = extra
        return out

    def start(
        self,
        symbols: Iterable[str],
        record: dict[str, float] | None,
        positions: dict[str, Position],
        working: set[str],
        others_alive: Callable[[], bool],
        look_up: LookUp = _no_look_up,
        adopt: bool = False,
    ) -> list[RiskEvent]:
        """Compare the broker's positions at start with what the account's recorded fills
        make of them (``record``; ``None``: this database has no earlier session on the
        account); the events of the symbols left alone. A symbol not quiet yet, or with a
        fill of ours turning up, is judged by the cycles (``check``), from the record. With
        ``adopt`` (the user's word) a quiet symbol's difference is taken as the desk's own
        instead: a ``positions_adopted`` event, and the symbol is traded as usual."""
        events: list[RiskEvent] = []
        alive = others_alive()
        self._recorded = True
        for symbol, qty in (record or {}).items():
            self._expected[symbol] = qty
        for symbol in symbols:
            position = positions.get(symbol)
            have = position.qty if position is not None else 0.0
            want = (record or {}).get(symbol, 0.0)
            self._expected[symbol] = want
            if abs(have - want) <= TOLERANCE:
                self._expected[symbol] = have
                continue
            if alive or symbol in working or look_up(symbol):
                continue  # judged by the cycles, from the record (and our fills since)
            drift = have - want
            if adopt:
                self._expected[symbol] = have
                events.append(
                    RiskEvent(
                        POSITIONS_ADOPTED,
                        drift,
                        0.0,
                        f"the broker's {have:g} {symbol} taken as this desk's own "
                        "(--adopt-positions): traded as usual from now on",
                        symbol=symbol,
                        detail=f"{symbol}: the broker holds {have:g}, this account's recorded "
                        f"fills make {want:g} ({drift:+g})",
                    )
                )
                continue
            self._leave(symbol, have, want, "this account's recorded fills make")
            if record is None:
                said = (
                    "this database has no earlier session on this account (a first session, "
                    "or a new or different database file): those shares are not this desk's"
                )
            else:
                said = (
                    f"this account's fills in this database make {want:g}: changed while no "
                    "session ran (a trade by hand, another program on the account, a split)"
                )
            detail = f"{symbol}: the broker holds {have:g}; {said}"
            events.append(self._event(symbol, drift, have, want, detail))
        return events

    def check(
        self,
        symbols: Iterable[str],
        positions: dict[str, Position],
        working: set[str],
        others_alive: Callable[[], bool],
        look_up: LookUp = _no_look_up,
        recorded: Recorded = _no_record,
    ) -> list[RiskEvent]:
        """Compare the broker's positions with the expectation of every quiet symbol; the
        events of changes made outside the session (``holds`` says which symbols to leave)."""
        events: list[RiskEvent] = []
        holds = self.holds
        for symbol in list(holds):
            if symbol not in self._left:
                del holds[symbol]
        expected = self._expected
        self.lagging = set()
        for symbol in symbols:
            if symbol in working:
                if symbol not in self._left:
                    behind = self._behind(symbol, positions)
                    if behind and look_up(symbol):  # our fill's news was lost: found now
                        holds[symbol] = _TURNED_UP.format(symbol=symbol)
                    elif behind:
                        holds[symbol] = behind
                        self.lagging.add(symbol)
                continue
            if symbol in self._left:
                again = self._moved_again(symbol, positions)
                if again is not None:
                    events.append(again)
                continue
            position = positions.get(symbol)
            have = position.qty if position is not None else 0.0
            want = expected.get(symbol)
            if want is None and self._recorded:  # held since start: no fill of ours made it
                want = expected[symbol] = 0.0
            if want is None or abs(have - want) <= TOLERANCE:
                expected[symbol] = have
                self._seen.pop(symbol, None)
                continue
            drift = have - want
            seen = self._seen.get(symbol)
            if seen is None or abs(seen - drift) > TOLERANCE:
                self._seen[symbol] = drift
                holds[symbol] = (
                    f"the broker holds {have:g} {symbol} where this session's fills make "
                    f"{want:g}; looking again next cycle before trading {symbol}"
                )
                continue
            del self._seen[symbol]
            if others_alive():  # another session's fills: not ours to judge
                expected[symbol] = have
                continue
            if look_up(symbol):  # a fill of ours was on its way (a protective exit's)
                holds[symbol] = _TURNED_UP.format(symbol=symbol)
                continue
            whose = "this session's own fills account for"
            record = recorded(symbol)  # an ended desk's order of this store filled late
            if record is not None and abs(record - want) > TOLERANCE:
                expected[symbol] = want = record  # this store's other desks' fills count
                whose = "this account's recorded fills make"
                drift = have - want
                if abs(drift) <= TOLERANCE:  # every share is this store's desks'
                    continue
            self._leave(symbol, have, want, whose)
            events.append(
                self._event(
                    symbol,
                    drift,
                    have,
                    want,
                    f"{symbol}: the broker holds {have:g}, {whose} {want:g} ({drift:+g}): "
                    "changed outside the session (a trade by hand, another program on the "
                    "account, a split)",
                )
            )
        self._said.still(holds)  # a hold that ended or changed: its next onset is said again
        return events

    def _behind(self, symbol: str, positions: dict[str, Position]) -> str | None:
        """Why no order goes out in ``symbol`` while an order of the session works there and
        the broker's position disagrees with the session's own fills (``None`` when they
        agree). Alpaca's positions can lag the fills of an order still working: with 50 of a
        100-share buy filled and the read showing none, the rebalance counted 0 held plus 50
        still to fill and bought the 50 again. Not judged as a change made outside: the
        symbol is not quiet (``check`` judges it once its orders have ended)."""
        want = self._expected.get(symbol)
        if want is None:
            return None
        position = positions.get(symbol)
        have = position.qty if position is not None else 0.0
        if abs(have - want) <= TOLERANCE:
            return None
        return (
            f"the broker's {symbol} position ({have:g}) does not agree with this session's "
            f"fills (they make {want:g}) while its order in {symbol} works (one of the two "
            f"has not heard of a fill yet); no new {symbol} orders until the two agree"
        )

    def _leave(self, symbol: str, have: float, want: float, whose: str) -> None:
        """Leave ``symbol`` alone for the rest of the session, saying why."""
        self._left[symbol] = have - want
        self.holds[symbol] = (
            f"{symbol} changed outside this session (the broker holds {have:g}, "
            f"{whose} {want:g}): left alone, so as not to trade against "
            "the change"
        )

    def _moved_again(self, symbol: str, positions: dict[str, Position]) -> RiskEvent | None:
        """The event of a symbol left alone whose shares not the desk's changed since its last
        event (another trade by hand, say), once the same difference is seen two cycles
        running (a position read may lag a fill of its protective exit). Its value is the new
        figure, so the trail, and a monitor reading it back (``engine.left_alone``), say
        what the desk says (``not_ours``); before, they kept the first figure all session."""
        position = positions.get(symbol)
        have = position.qty if position is not None else 0.0
        own = self._expected.get(symbol, 0.0)
        extra = have - own
        if abs(extra - self._left[symbol]) <= TOLERANCE:
            self._seen.pop(symbol, None)
            return None
        seen = self._seen.get(symbol)
        if seen is None or abs(seen - extra) > TOLERANCE:
            self._seen[symbol] = extra
            return None
        del self._seen[symbol]
        self._left[symbol] = extra
        detail = (
            f"{symbol}: the broker now holds {have:g}, this session's own fills account for "
            f"{own:g} ({extra:+g}): changed outside the session again"
        )
        return self._event(symbol, extra, have, own, detail)

    def _event(self, symbol: str, drift: float, have: float, want: float, detail: str) -> RiskEvent:
        """The ``outside_change`` event of a symbol left alone."""
        action = (
            f"no more orders for {symbol} in this session; a new session trades {symbol} "
            "again once the broker holds what the account's recorded fills make, or when "
            "started with --adopt-positions"
        )
        if self.exits_kept:
            covered = min(abs(have), abs(want)) if have * want > 0 else 0.0
            action += (
                f"; its protective exit covers only the {covered:g} shares this desk's fills "
                "account for, never shares changed outside"
            )
        return RiskEvent(OUTSIDE_CHANGE, drift, 0.0, action, symbol=symbol, detail=detail)
