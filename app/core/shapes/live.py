"""Turnout and the live snapshot: what the room shows and the hub sends on every socket.

`turnout.counts` (app/voting) builds `Turnout`, stored on `Round.turnout` when a round closes;
`rounds.room_state` builds `RoomState`, `Services.room_state` (app/web) the `Snapshot`, and the
hub (app/live) adds `connected` and `seq`. GET /api/m/CODE adds this browser's voter
(`MeetingState`). No personal data: a device sees only its own voter, never a pseudonym.
"""

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from app.core.shapes.charter import CharterView
from app.core.shapes.counting import AnswersView, ItemView
from app.core.shapes.review import ReviewView
from app.core.shapes.room_vote import ResultsView
from app.core.shapes.survey import SurveyView
from app.core.shapes.values import Translations


class Turnout(TypedDict):
    """`turnout.counts`, and `Round.turnout` (the same, taken when the round closed)."""

    registered: int | None  # tickets issued and not revoked; None in an open meeting
    present: int
    voted: int
    by_channel: dict[str, int]  # every channel (vocab.Channel order first), 0 where none


class Surge(TypedDict):
    """The console's alert (app/live/surge.py)."""

    joined: int  # new phone voters in the last minute
    refused: int  # join attempts the limiter refused in the last minute


class LiveTurnout(Turnout):
    surge: Surge | None
    # The connections to the meeting, over every process (app/live/presence.py): the hub adds
    # it to every frame it sends on a socket; the snapshot of a page or of GET /api/m/CODE has
    # none.
    connected: NotRequired[int]


class RuleView(TypedDict):
    ratio: int  # R
    group_min: int  # m


class SegmentView(TypedDict):
    id: str
    label: str
    translations: Translations


class MeetingView(TypedDict):
    id: int
    title: str
    code: str
    join_url: str
    rule: RuleView
    segments: list[SegmentView]
    translations: Translations
    currency: str  # of costs and savings: the budget's, else "GBP" (as ResultsView's)


class ProposalItem(TypedDict):
    """A proposal of the round as phones and the projector show it."""

    id: str
    title: str
    description: str
    kind: str  # "keep" | "fund"
    cost: float | None
    saving: float | None
    translations: Translations


class OnlineView(TypedDict):
    """A round online for a set period (app/voting/online.py), as screens show it: in the
    meeting's zone (`zone`, an IANA name), as dates, not a countdown."""

    opens_at: str  # ISO, UTC: when it opened or opens
    closes_at: str  # ISO, UTC: when it closes, or (closed) when it did
    zone: str


class RoundView(TypedDict):
    id: int
    number: int
    status: str  # vocab.RoundStatus
    revealed: bool  # results are visible (rounds.results_visible)
    keypad_step: int | None  # while a keypad round is open, the item keypads answer now
    # The activity's items: a room vote's proposals, or another kind's items with their scales.
    proposals: list[ProposalItem | ItemView]
    kind: str  # the activity kind (app/voting/kinds.py), "room_vote" for a room vote
    view: str | None  # its results renderer (Views.projector); None: a kind this version lacks
    # Only while a closing countdown runs (the Run page's "Close in 30 s"): when the server
    # closes the round (ISO, UTC) and the whole seconds left when the snapshot was made.
    closes_at: NotRequired[str]
    closes_in: NotRequired[int]
    # A round online for a set period: its dates (no `closes_in`: screens show the date). While
    # it waits for its scheduled opening, `status` is "scheduled" (the database's is "open").
    online: NotRequired[OnlineView]


class _Room(TypedDict):
    type: Literal["snapshot"]
    meeting: MeetingView
    round: RoundView | None  # None before the first round
    show_channels: bool
    # None until the round's results are visible; a counting kind's are `AnswersView`, a
    # survey's `SurveyView`, a charter round's `CharterView`.
    results: ResultsView | AnswersView | SurveyView | CharterView | ReviewView | None


class RoomState(_Room):
    """`rounds.room_state`: what the database says about the room."""

    turnout: Turnout  # live while the round is open; the stored one once it has closed


class KeypadPrompt(TypedDict):
    ask_segment: str  # the segment the keypad desk asks keypads to declare


class ScreenView(TypedDict):
    """What the presenter view has put on the big screen (app/live/screen.py `Screen.view`)."""

    mode: str  # vocab.ScreenMode
    page: int  # mode "page": the results page shown, from 0 (clamped to the projector's pages)
    proposal: str | None  # mode "proposal": the proposal whose card is shown
    paused: bool  # the results pages do not turn by themselves
    version: int  # goes up with every change: a projector applies each new one once


class Snapshot(_Room):
    """`Services.room_state`: everything the projector, phones and console show live (no
    personal data). The hub sends it with `seq` (app/live/protocol.py `SnapshotFrame`)."""

    turnout: LiveTurnout
    keypad_prompt: KeypadPrompt | None
    screen: ScreenView


class BallotView(TypedDict):
    round: int  # the round's id
    ballot_id: str
    marks: dict[str, str]  # proposal id -> tally.Mark's value


class YouView(TypedDict):
    """`voters.you_view`: what a device shows about its own voter (never a pseudonym)."""

    voter: str | None  # the device handle; None before joining
    segments: list[str]
    ballot: BallotView | None  # the latest ballot in the room's round


class MeetingState(Snapshot):
    """GET /api/m/CODE: the snapshot and this browser's voter."""

    you: YouView
