"""What the big screen shows, as the presenter view sets it: the model and its commands (pure).

The projector follows its own course (`auto`: the results' pages turn every 15 s) until the
facilitator takes over from the presenter view (/console/{id}/present): one results page,
paused or turning on from there (`page`), one proposal's card (`proposal`), the ranking
(`ranking`), the join code (`join`), or a black screen (`blank`). The screen travels in every
snapshot as `screen` (`shapes.ScreenView`); `version` goes up with each change, so a projector
applies a change once and its own keys keep working until the next one.

Results-related modes (`page`, `proposal`, `ranking`) show only while results are revealed;
before that the projector shows what it would anyway. `join` and `blank` always work.

Input is bounded here, where it is parsed: a page index below `MAX_PAGE`, a proposal that
exists in the meeting; anything else raises and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum

from app.core.errors import BadInput, NotFound
from app.core.messages import N_
from app.core.shapes import ScreenView
from app.core.vocab import ScreenMode

MAX_PAGE = 1000  # results pages: 40 proposals take about 20 on a 4:3 screen; far beyond any


class Action(StrEnum):
    """What the presenter view's buttons (and keys) ask for."""

    AUTO = "auto"  # back to automatic
    PAGE = "page"  # show page `page`
    NEXT = "next"
    PREVIOUS = "previous"
    PAUSE = "pause"  # stop the pages turning (on `page`, when given: the one shown now)
    RESUME = "resume"  # let them turn again, from the page shown
    PROPOSAL = "proposal"  # show proposal `proposal`
    RANKING = "ranking"
    JOIN = "join"
    BLANK = "blank"
    UNBLANK = "unblank"  # back to what the screen showed before it was blanked


@dataclass(frozen=True)
class Screen:
    """One meeting's screen. `under` is what a blank screen covers (restored by unblank)."""

    mode: ScreenMode = ScreenMode.AUTO
    page: int = 0
    proposal: str | None = None
    paused: bool = False
    version: int = 0
    under: Screen | None = None

    def view(self) -> ScreenView:
        """The snapshot's `screen` (keys in this order: snapshots are compared byte for byte)."""
        return {
            "mode": self.mode,
            "page": self.page,
            "proposal": self.proposal,
            "paused": self.paused,
            "version": self.version,
        }


AUTO = Screen()


def parse_page(raw: object) -> int | None:
    """A posted page index (ASCII digits, 0 <= page < MAX_PAGE); None when none was posted.

    Raises:
        BadInput: anything else.
    """
    if raw is None or raw == "":
        return None
    text = raw if isinstance(raw, str) else ""
    if not text or len(text) > 3 or not text.isascii() or not text.isdigit():
        raise BadInput(N_("The page must be a number from 1 to %(most)s."), most=MAX_PAGE)
    return int(text)


def command(
    current: Screen,
    action: str,
    *,
    page: int | None = None,
    proposal: str | None = None,
    proposals: Collection[str] = (),
) -> Screen:
    """The screen after `action` (a new version), from `current`.

    `page`: for page, the page to show; for next, previous and pause, the page shown now (the
    presenter view reads it from its preview; without it, the one last set here). `proposals`:
    the meeting's proposal ids, which `proposal` must be one of.

    Raises:
        BadInput: an unknown action, a page out of bounds, no proposal named.
        NotFound: a proposal the meeting does not have.
    """
    try:
        act = Action(action)
    except ValueError:
        raise BadInput(N_("Unknown screen action %(action)s."), action=action[:32]) from None
    if page is not None and not 0 <= page < MAX_PAGE:
        raise BadInput(N_("The page must be a number from 1 to %(most)s."), most=MAX_PAGE)
    shown = current.under if current.mode == ScreenMode.BLANK and current.under else current
    here = page if page is not None else shown.page
    paging = shown.mode in (ScreenMode.AUTO, ScreenMode.PAGE)
    new: Screen
    if act == Action.AUTO:
        new = AUTO
    elif act == Action.PAGE:
        if page is None:
            raise BadInput(N_("Say which page to show."))
        new = Screen(ScreenMode.PAGE, page, paused=shown.paused or not paging)
    elif act in (Action.NEXT, Action.PREVIOUS):
        step = 1 if act == Action.NEXT else -1
        # From another mode, the pages start again at the first.
        target = min(max(here + step, 0), MAX_PAGE - 1) if paging else 0
        new = Screen(ScreenMode.PAGE, target, paused=shown.paused)
    elif act == Action.PAUSE:
        new = Screen(ScreenMode.PAGE, here if paging else 0, paused=True)
    elif act == Action.RESUME:
        new = Screen(ScreenMode.PAGE, here if paging else 0, paused=False)
    elif act == Action.PROPOSAL:
        if not proposal:
            raise BadInput(N_("Say which proposal to show."))
        if proposal not in proposals:
            raise NotFound(N_("This meeting has no proposal %(id)s."), id=proposal[:64])
        new = Screen(ScreenMode.PROPOSAL, proposal=proposal)
    elif act == Action.RANKING:
        new = Screen(ScreenMode.RANKING)
    elif act == Action.JOIN:
        new = Screen(ScreenMode.JOIN)
    elif act == Action.BLANK:
        new = Screen(ScreenMode.BLANK, under=replace(shown, under=None))
    else:  # UNBLANK
        new = replace(shown, under=None)
    return replace(new, version=current.version + 1)
