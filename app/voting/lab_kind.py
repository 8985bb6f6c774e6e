"""The Co-Production Lab's rating as an activity kind (issue 16): a round of kind `lab` asks
the room to rate every approved idea agree / disagree / pass (`rules.lab.RATING_SCALE`; keypads
1, 2, 3).

Its items are the meeting's approved ideas when the round opens (`asks_all`), and every idea
approved while it runs: `lab_round.join_open_round` appends the idea's key to the open round's
`proposal_keys`, so the ballot path, keypad steps and exports see it like the others. An idea
hidden or merged since leaves the round's items (its stored ratings stay, as cast); a merged
idea's ratings count for the idea it was merged into (`lab.merged_ratings`).

Its public record is each answer's count per idea (`CountingKind`, results.json); the Lab's
own statistics (opinion groups, support by group and segment, bridging, rejection by affected
segments) are `lab_result`: `rules.lab_tally.tabulate` over the round's responses under their public
pseudonyms, read by the console's Lab page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from sqlmodel import Session

from app.core.messages import N_
from app.core.shapes import AnswersView
from app.core.vocab import LAB
from app.record import kind_rounds, lab_files
from app.rules import answers, tally
from app.rules import lab as rules
from app.rules.scales import AnswerScale
from app.voting import lab
from app.voting.activity import (
    CountingKind,
    Item,
    Response,
    Views,
    public_responses,
    responses,
    scale_item_view,
)
from app.voting.meetings import segments_of
from app.voting.models import Meeting, Round

RATINGS = frozenset(r.value for r in rules.Rating)


def _item(row: lab.IdeaRow) -> Item:
    return Item(
        row.idea.key,
        row.idea.text,
        rules.RATING_SCALE,
        description=row.idea.description,
        extra={"challenge": row.challenge, "helpers": row.helpers, "affected": row.idea.affected},
    )


class LabKind(CountingKind):
    """Rate the Lab's approved ideas: agree, disagree or pass."""

    key: ClassVar[str] = LAB
    label: ClassVar[str] = N_("Lab: rate the ideas")
    noun: ClassVar[str] = "idea"
    unanswered: ClassVar[str | None] = None
    asks_all: ClassVar[bool] = True
    unknown_items: ClassVar[str] = N_("Idea(s) not in Lab round %(n)s: %(keys)s.")
    answer_scales: ClassVar[tuple[AnswerScale, ...]] = (rules.RATING_SCALE,)
    views: ClassVar[Views] = Views(
        phone_intro=N_(
            "Do you agree with each idea? Answer agree, disagree or pass: skip any you like. "
            "New ideas may appear while the round is open."
        ),
        phone_partly_answered=N_(
            "%(answered)s of %(total)s ideas answered; the others are not answered"
        ),
        phone_items="phone/items_lab.html",
    )

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        return [_item(r) for r in lab.ideas_of(session, meeting_id, [rules.IdeaStatus.APPROVED])]

    def items(self, session: Session, meeting_id: int, keys: Sequence[str]) -> list[Item]:
        """The round's ideas still approved, in the round's order (hidden and merged ones
        leave it; ideas approved while it runs were appended to its keys)."""
        by_key = {item.key: item for item in self.available(session, meeting_id)}
        return [by_key[k] for k in keys if k in by_key]

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> list[answers.ItemCount]:
        assert meeting.id is not None
        items = self.items(session, meeting.id, rnd.proposal_keys)
        return answers.count_answers(
            [(i.key, i.scale) for i in items], _merged(session, meeting, responses(session, rnd))
        )

    def view_of(
        self, session: Session, meeting: Meeting, rnd: Round, given: Sequence[Response]
    ) -> AnswersView:
        """Each answer's count per idea still in the round, merged ideas' ratings counted for
        their targets (the same as `result`)."""
        assert meeting.id is not None
        items = self.items(session, meeting.id, rnd.proposal_keys)
        counted = answers.count_answers(
            [(i.key, i.scale) for i in items], _merged(session, meeting, given)
        )
        return {
            **answers.answers_to_json(counted),
            "items": [scale_item_view(i) for i in items],
        }

    def ballot_keys(self, session: Session, meeting: Meeting, rnd: Round) -> list[str]:
        """The round's ideas, then every merged idea (by key): a merged idea's ratings are
        written as cast, under the idea rated, and count for the idea it joined
        (`lab.merged`, in the audit log), as results.json counts them."""
        assert meeting.id is not None
        merged = sorted(set(lab.resolved(session, meeting.id)) - set(rnd.proposal_keys))
        return [*rnd.proposal_keys, *merged]

    def offline(
        self, opened: kind_rounds.Opened, public: kind_rounds.PublicFiles
    ) -> kind_rounds.OfflineRound:
        """The round's ideas as the audit log leaves them (`kind_rounds.lab_round`); its rows
        may rate any idea the log names; merged ideas' ratings count for their targets."""
        replayed = kind_rounds.lab_round(public.links, opened.round)
        into = dict(replayed.into)
        return kind_rounds.OfflineRound(
            self.key,
            dict.fromkeys([*replayed.ideas, *opened.keys], rules.RATING_SCALE),
            [(key, rules.RATING_SCALE) for key in replayed.items],
            lambda marks: kind_rounds.merged_ratings(marks, into),
        )

    def scales(
        self, session: Session, meeting_id: int, keys: Sequence[str]
    ) -> Mapping[str, AnswerScale]:
        # Every idea takes the one scale. The meeting's other ideas too: one hidden or merged
        # while the round runs leaves its items, but a phone re-sending its whole ballot still
        # carries that rating (kept as cast: merged ones count for their targets when read).
        return dict.fromkeys([*keys, *lab.keys_of(session, meeting_id)], rules.RATING_SCALE)


def _merged(
    session: Session, meeting: Meeting, given: Sequence[Response]
) -> list[Mapping[str, str]]:
    """Each response's ratings with merged ideas' counted for their targets."""
    assert meeting.id is not None
    into = lab.resolved(session, meeting.id)
    return [lab.merged_ratings(r.marks, into) for r in given]


def lab_published(session: Session, meeting: Meeting, rnd: Round) -> lab_files.Published:
    """The Lab's public record for a `lab` round (`lab_files.publish`): its approved ideas and
    each voter's ratings (merged ideas' counted for their targets) under the round's public
    pseudonyms, with the voters' TRUE segments, so minority protection is decided on them;
    the vote file's voters are protected, the withheld segments published as group totals."""
    assert meeting.id is not None
    ideas = [
        rules.LabIdea(i.key, str(i.extra["challenge"]), tuple(i.extra["affected"]))
        for i in LabKind().items(session, meeting.id, rnd.proposal_keys)
    ]
    into = lab.resolved(session, meeting.id)
    voters = [
        rules.LabVoter(
            pseudonym,
            tuple(sorted(r.segments)),
            {
                k: rules.Rating(v)
                for k, v in lab.merged_ratings(r.marks, into).items()
                if v in RATINGS
            },
        )
        for pseudonym, r in public_responses(session, meeting, rnd)
    ]
    protecting = frozenset(s.key for s in segments_of(session, meeting.id) if s.protects)
    return lab_files.publish(
        ideas,
        voters,
        tally.Rule(ratio=meeting.ratio, group_min=meeting.group_min),
        protecting=protecting,
    )


def lab_result(session: Session, meeting: Meeting, rnd: Round) -> rules.LabResult:
    """The Lab's results for a `lab` round, as published (`lab_published`)."""
    return lab_published(session, meeting, rnd).result


def idea_rows(
    session: Session, meeting: Meeting, result: rules.LabResult
) -> list[lab_files.IdeaRow]:
    """The meeting's ideas as the ideas file holds them: supporters are the agreeing raters
    in `result` (0 for an idea not rated there), helpers a count, affected only the segments
    that may object."""
    assert meeting.id is not None
    protecting = frozenset(s.key for s in segments_of(session, meeting.id) if s.protects)
    agree = {i.key: i.agree for i in result.ideas}
    rows = lab.ideas_of(session, meeting.id)
    key_of = {r.idea.id: r.idea.key for r in rows}
    return [
        lab_files.IdeaRow(
            key=r.idea.key,
            challenge=r.challenge,
            kind=rules.IdeaKind(r.idea.kind),
            status=rules.IdeaStatus(r.idea.status),
            merged_into=key_of.get(r.idea.merged_into, "") if r.idea.merged_into else "",
            text=r.idea.text,
            text_cy="",
            supporters=agree.get(r.idea.key, 0),
            helpers=r.helpers,
            affected=tuple(s for s in r.idea.affected if s in protecting),
        )
        for r in sorted(rows, key=lambda r: r.idea.key)
    ]


def answer_counts(session: Session, rnd: Round) -> dict[str, int]:
    """How many voters have rated each idea of the round so far (the phones' order:
    `rules.lab_order.next_ideas` puts the ideas with fewest answers first)."""
    counts: dict[str, int] = {}
    for r in responses(session, rnd):
        for key in r.marks:
            counts[key] = counts.get(key, 0) + 1
    return counts
