"""When "present" jumps unnaturally: the facilitator's console alert (pure: no I/O, no clock).

A room fills at the pace of people scanning a QR code; a script fills it much faster. The
console shows an alert when, within the last minute, more phones joined than both a floor and a
share of the voters present before that minute, or when the limiter refused joins at all
(app/web/ratelimit.py). The facilitator then compares "present" with the people in the room.
"""

from __future__ import annotations

from app.core.shapes import Surge


def surge(joined: int, present: int, refused: int, *, min_joins: int, share: float) -> Surge | None:
    """The alert for the console, or None when the last minute looks like a room filling up.

    Args:
        joined: voters who joined by phone within the last minute.
        present: voters present now (including `joined`).
        refused: join attempts refused by the rate limits within the last minute.
        min_joins, share: an alert needs more than `min_joins` joins and more than
            `share` x the voters present before the minute.
    """
    before = max(0, present - joined)
    if refused > 0 or joined > max(min_joins, share * before):
        return {"joined": joined, "refused": refused}
    return None
