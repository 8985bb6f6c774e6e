"""Activities: the interface every kind of activity implements, and what every kind shares.

A meeting runs activities, one round at a time. A `round` row is an activity's round (the
table keeps the name it had when the room vote was the only kind); its `kind` column names
the kind (`app/voting/kinds.py`; NULL, a round stored before kinds existed, is the room vote).

Written once, for every kind, and never by a kind:

* the ballot path (app/voting/ballots.py): group commit, one response per voter per activity
  (the `(round_id, voter_id)` unique constraint on `ballot`), client ids and idempotent
  resends, acks after commit, the `ballot` audit link, channels and the cross-channel policy.
  It checks every answer with its item's scale (`ActivityKind.scales`), asked once per round
  per batch where the round is read anyway;
* a round's life (app/voting/rounds.py): open, keypad steps, close with its turnout snapshot
  and seal, reveal; the keypad desk (app/keypads/receivers.py) and paper (app/scrutiny/paper.py);
* turnout (app/voting/turnout.py) and the public ballot file (`rounds.ballot_rows`: a row per
  item for every voter who answered, `ActivityKind.unanswered` for an item they left);
* the readers below: a round's final responses, and the same under their public pseudonyms.

A kind states (`ActivityKind`): its stored `key` and console `label`; its items
(`available`, `items`), each with an answer scale (app/rules/scales.py); its result (`result`
through a pure function in app/rules, `record` the public results JSON, `results_view` for the
screens, `group_rows` if it publishes group totals; `offline`, how `covote recount` counts it
from the public files); and its views (`Views`): the templates of the phone's item, the paper
sheet's row and the console's results, and the projector's renderer in
app/static/projector/projector.js. docs/developing.md, "How to add an activity kind".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from app.core.messages import N_
from app.core.shapes import (
    AnswersRecord,
    AnswersView,
    ItemView,
    KindRecord,
    KindResults,
    ProposalItem,
)
from app.record import anonymity
from app.record.csvfiles import GroupRow
from app.record.kind_rounds import OfflineRound, Opened, PublicFiles
from app.rules import answers
from app.rules.scales import AnswerScale
from app.voting.models import Ballot, Meeting, Round, Voter


@dataclass(frozen=True, slots=True)
class Item:
    """One thing an activity asks about (a proposal, a survey question, an idea, a clause).

    `key` is its public id (the ballot file's `proposal` column, the marks' keys); `extra`
    holds what only its kind's views read (a proposal's kind, cost and saving)."""

    key: str
    title: str
    scale: AnswerScale
    description: str = ""
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Views:
    """How a kind is shown. Templates are Jinja paths under app/templates, each in its screen's
    folder; `projector` names the results renderer in app/static/projector/projector.js
    (`RENDERERS`). The defaults draw any item from its scale, and its results as each answer's
    count, so a new kind needs none of its own.

    Every item template gets `item` (`ActivityKind.item_view`) and `index` (1-based)."""

    # Above the phone's ballot form (a msgid, marked with N_).
    phone_intro: str = N_("Answer each one below. You can change your mind until voting closes.")
    # The phone's count once some but not all items are answered (a msgid with %(answered)s
    # and %(total)s): it says what the items left become, which is the kind's own rule
    # (`ActivityKind.unanswered`): a kind that writes nothing for them says just that.
    phone_partly_answered: str = N_(
        "%(answered)s of %(total)s answered; the others are not answered"
    )
    # Every item of the phone's ballot form at once, instead of `phone_item` for each (context
    # `items`, `marks`): for a kind that lays its items out itself (the survey's screens).
    phone_items: str | None = None
    # One item in the phone's ballot form (the no-JavaScript page posts the same form); also
    # `chosen`, the stored answer or None. Fields are named `mark:ITEM`.
    phone_item: str = "phone/item_scale.html"
    # The printed sheet's items (context `items`, `second`): macros `how()` (its instructions)
    # and `table(number)` (the items; `number` the sheet's, for a sheet of several pages), and
    # optionally `head()` (its own stylesheet link).
    paper_items: str = "print/items_scale.html"
    # One item on the console's paper keying form: like the phone's, with "blank" possible.
    key_item: str = "console/key_item_scale.html"
    # The round's results on the console's round page (context `results`: results_view).
    console_results: str = "console/results_distribution.html"
    projector: str = "distribution"


@dataclass(frozen=True, slots=True)
class Response:
    """A voter's final ballot in a round, as stored: answers by item key."""

    voter_id: int
    segments: frozenset[str]
    channel: str
    marks: Mapping[str, str]


class ActivityKind(ABC):
    """A kind of activity. Subclass it, set the class attributes, implement `available`,
    `result` and `record`, and register an instance (`kinds.register`). One instance serves
    every meeting: it keeps no state, and every method takes the caller's session (which it
    never commits) or plain data."""

    key: ClassVar[str]  # stored in round.kind: a short lowercase id (kinds.KIND_KEY)
    label: ClassVar[str]  # what the console calls it (a msgid, marked with N_)
    noun: ClassVar[str] = "item"  # an item, in the console's English messages ("proposal")
    views: ClassVar[Views] = Views()
    # What the ballot file writes for an item a voter who answered others left: the room vote
    # counts it NEUTRAL (the rule's "an active voter's unmarked proposal"); None writes no row.
    unanswered: ClassVar[str | None] = None
    # A ballot naming items the round does not have: %(n)s the round, %(keys)s the items.
    unknown_items: ClassVar[str] = N_("Item(s) not in round %(n)s: %(keys)s.")
    # The scales its items use, when they are fixed: the screens translate their labels.
    answer_scales: ClassVar[tuple[AnswerScale, ...]] = ()
    # A round asks every item the kind offers (the survey): the console offers no choice of
    # items, and `rounds.open_round` takes them all.
    asks_all: ClassVar[bool] = False
    # Keypads may answer a round where only some items have keys (the survey: its 1-5 and
    # single-choice questions); the keypad steps go through those, phones and paper answer
    # the rest. False: keypads need every item keyed.
    keypads_some: ClassVar[bool] = False

    @abstractmethod
    def available(self, session: Session, meeting_id: int) -> list[Item]:
        """Every item a new round of this kind may take in this meeting, in display order."""

    def items(self, session: Session, meeting_id: int, keys: Sequence[str]) -> list[Item]:
        """The round's items (its stored `proposal_keys`), in the round's order."""
        by_key = {item.key: item for item in self.available(session, meeting_id)}
        return [by_key[k] for k in keys if k in by_key]

    def scales(
        self, session: Session, meeting_id: int, keys: Sequence[str]
    ) -> Mapping[str, AnswerScale]:
        """Each item's scale, by key: what the ballot path checks answers against. Called once
        per round per batch of ballots; a kind whose items share one scale needs no query."""
        return {item.key: item.scale for item in self.items(session, meeting_id, keys)}

    @abstractmethod
    def result(self, session: Session, meeting: Meeting, rnd: Round) -> object:
        """The round's result, counted from its stored responses by the kind's pure function
        (app/rules): never stored, so the screens and an offline recount cannot disagree."""

    @abstractmethod
    def record(self, session: Session, meeting: Meeting, rnd: Round) -> KindRecord:
        """The round's results in its public JSON form (results.json's entry for the round,
        without the `round` key). A new shape of record is a new arm of `shapes.KindRecord`."""

    @abstractmethod
    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> KindResults:
        """The results as the screens show them (`views.projector`, `views.console_results`
        and the report read it): the record with what display needs (titles, labels)."""

    def group_rows(self, session: Session, meeting: Meeting, rnd: Round) -> list[GroupRow]:
        """The group totals the round publishes (groups.csv and the seal): none by default."""
        return []

    def seals(self, session: Session, meeting: Meeting, rnd: Round) -> dict[str, str]:
        """What the round's `round.closed` link seals beside its ballot and group rows: the
        SHA-256 (`anonymity.seal`) of other public rows the kind publishes, by name (a charter
        round's groups CSV, counted on true segments, which no public file recomputes). None
        by default. Must not change once the round is closed."""
        return {}

    def ballot_keys(self, session: Session, meeting: Meeting, rnd: Round) -> list[str]:
        """The items the ballot file writes a voter's answers to, in order (`rounds.ballot_rows`):
        the round's items by default. What the round's seal is taken over, so it must not change
        once the round is closed."""
        return list(rnd.proposal_keys)

    def offline(self, opened: Opened, public: PublicFiles) -> OfflineRound | None:
        """How `covote recount` counts a round of this kind from the public files alone (no
        database): every item its ballot rows may answer with its scale, and the items its
        result lists (`kind_rounds.OfflineRound`), from the round's `round.opened` link and
        the meeting's files. The record it counts must be byte for byte `record`'s.
        None: the recount cannot (it says so, naming the round)."""
        return None

    def answer_labels(self) -> list[str]:
        """The label msgids of `answer_scales`' answers (the projector's strings table)."""
        return [a["label"] for s in self.answer_scales for a in s.describe().get("answers", [])]

    def item_view(self, item: Item) -> ProposalItem | ItemView:
        """An item as the live snapshot carries it to the phone and the projector: with its
        scale, which the default views draw it from."""
        return scale_item_view(item)


class CountingKind(ActivityKind):
    """A kind whose result is how many voters gave each answer to each item (a rating, a
    survey, agree / disagree / pass): `answers.count_answers` over the stored ballots, public as
    `answers.answers_to_json`. A subclass states `key`, `label` and `available`."""

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> list[answers.ItemCount]:
        assert meeting.id is not None
        items = self.items(session, meeting.id, rnd.proposal_keys)
        return answers.count_answers(
            [(i.key, i.scale) for i in items], [r.marks for r in responses(session, rnd)]
        )

    def record(self, session: Session, meeting: Meeting, rnd: Round) -> AnswersRecord:
        return answers.answers_to_json(self.result(session, meeting, rnd))

    def offline(self, opened: Opened, public: PublicFiles) -> OfflineRound | None:
        """A kind whose items all take its one fixed scale (`answer_scales`, like a 1-5
        rating) is counted offline on the items its round opened on; any other needs its own
        hook."""
        if len(self.answer_scales) != 1:
            return None
        items = [(key, self.answer_scales[0]) for key in opened.keys]
        return OfflineRound(self.key, dict(items), items)

    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> AnswersView:
        """The record and the round's items (`ItemView`: titles and scales' labels)."""
        return self.view_of(session, meeting, rnd, responses(session, rnd))

    def view_of(
        self, session: Session, meeting: Meeting, rnd: Round, given: Sequence[Response]
    ) -> AnswersView:
        """`results_view` over responses the caller has read (`responses`)."""
        assert meeting.id is not None
        items = self.items(session, meeting.id, rnd.proposal_keys)
        counted = answers.count_answers([(i.key, i.scale) for i in items], [r.marks for r in given])
        return {
            **answers.answers_to_json(counted),
            "items": [scale_item_view(i) for i in items],
        }


def scale_item_view(item: Item) -> ItemView:
    """An item with its scale, as the default views draw it (`ActivityKind.item_view`)."""
    return {
        "id": item.key,
        "title": item.title,
        "description": item.description,
        "translations": {lang: dict(texts) for lang, texts in item.translations.items()},
        "scale": item.scale.describe(),
    }


def responses(session: Session, rnd: Round) -> list[Response]:
    """The round's final responses (one per voter who answered), in voter id order."""
    # Columns, not rows as objects: a survey round can hold 100,000 responses (scripts/bench
    # survey), and building ORM objects was most of reading them.
    q = (
        select(col(Voter.id), col(Voter.segments), col(Ballot.channel), col(Ballot.marks))
        .join(Voter, col(Voter.id) == col(Ballot.voter_id))
        .where(Ballot.round_id == rnd.id)
        .order_by(col(Voter.id))
    )
    return [
        Response(voter_id or 0, frozenset(segments), channel, marks)
        for voter_id, segments, channel, marks in session.exec(q)
    ]


def public_responses(session: Session, meeting: Meeting, rnd: Round) -> list[tuple[str, Response]]:
    """The round's responses with their voters' public pseudonyms for this round, sorted by
    them (the order of the public files: nothing about when or where a ballot was cast)."""
    secret = anonymity.secret_or_fail(meeting.record_secret)
    return sorted(
        (
            (anonymity.public_pseudonym(secret, rnd.number, r.voter_id), r)
            for r in responses(session, rnd)
        ),
        key=lambda pair: pair[0],
    )
