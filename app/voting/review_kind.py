"""The Community Charter's review as an activity kind (issue 17): a round of kind
`charter_review` asks the room to rate commitments kept, partly kept or not kept
(`charter_review.RATING_SCALE`: keypads 1, 2, 3; phones and paper from the scale's views).

Its items are the commitments of the charter version in force when the round opened
(`charters.charter_at`; no version is saved while a review round is open), each with its
party's own report as its description (Welsh beside it), which phones and the projector show
before the rating; reports cannot change while a review round is open
(`charter_reviews.save_reports`).

Its result is each answer's count per commitment and the scorecard per party
(`charter_review.scorecard` under the meeting's m): a commitment rated by fewer than m people
has no figures anywhere (its counts are left out of results.json, the screens and the report,
and its party's score leaves it out). Its public record (results.json) is the counts of the
shown commitments and the scorecard under `review` (`review_files.results_json`); the screens
also get the history across the reviews of the same charter (`charter_reviews.history`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from sqlmodel import Session

from app.core.messages import N_
from app.core.shapes import GroupView, ItemView, ProposalItem, ReviewRecord, ReviewView
from app.core.vocab import CHARTER_REVIEW
from app.record import kind_rounds, review_files
from app.rules import answers
from app.rules import charter_doc as cd
from app.rules.charter_review import RATING_SCALE
from app.rules.scales import AnswerScale
from app.voting import charter_reviews, charters
from app.voting.activity import CountingKind, Item, Views, responses, scale_item_view
from app.voting.models import CharterReport, Meeting, Round


def review_items(charter: cd.Charter, reports: Mapping[str, CharterReport]) -> list[Item]:
    """Each commitment in the charter's order: its text, its party's report as description."""
    parties = {p.key: p for p in charter.parties}
    out = []
    for c in charter.commitments:
        party = parties.get(c.party)
        report = reports.get(c.key)
        cy = {"title": c.what_cy} if c.what_cy else {}
        if report is not None and report.text_cy:
            cy["description"] = report.text_cy
        out.append(
            Item(
                c.key,
                c.what,
                RATING_SCALE,
                description=report.text if report is not None else "",
                translations={"cy": cy} if cy else {},
                extra={
                    "party": c.party,
                    "party_name": party.name if party else c.party,
                    "party_cy": party.name_cy if party else "",
                },
            )
        )
    return out


class ReviewKind(CountingKind):
    """Rate the charter's commitments: kept, partly kept or not kept."""

    key: ClassVar[str] = CHARTER_REVIEW
    label: ClassVar[str] = N_("Charter review: rate the commitments")
    noun: ClassVar[str] = "commitment"
    unanswered: ClassVar[str | None] = None
    unknown_items: ClassVar[str] = N_("Commitment(s) not in review round %(n)s: %(keys)s.")
    answer_scales: ClassVar[tuple[AnswerScale, ...]] = (RATING_SCALE,)
    views: ClassVar[Views] = Views(
        phone_intro=N_(
            "For each commitment, read the party's own report, then say whether the "
            "commitment was kept, partly kept or not kept."
        ),
        phone_partly_answered=N_(
            "%(answered)s of %(total)s commitments answered; the others are not answered"
        ),
        phone_items="phone/items_review.html",
        console_results="console/results_review.html",
        projector="charts",
    )

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        charter = charters.charter_of(session, meeting_id)
        if charter is None:
            return []
        return review_items(charter, charter_reviews.reports_of(session, meeting_id))

    def scales(
        self, session: Session, meeting_id: int, keys: Sequence[str]
    ) -> Mapping[str, AnswerScale]:
        return dict.fromkeys(keys, RATING_SCALE)  # one scale for every commitment: no query

    def item_view(self, item: Item) -> ProposalItem | ItemView:
        """The commitment with its scale and its party (the phone's screen heading)."""
        view = scale_item_view(item)
        cy = str(item.extra.get("party_cy", ""))
        view["group"] = GroupView(
            id=str(item.extra.get("party", "")),
            title=str(item.extra.get("party_name", "")),
            translations={"cy": {"title": cy}} if cy else {},
        )
        return view

    def _asked(self, session: Session, meeting: Meeting, rnd: Round) -> list[Item]:
        """The round's commitments in the version it asked, in the round's order."""
        assert meeting.id is not None
        charter = charters.charter_at(session, meeting.id, rnd.opened_at) or cd.Charter("")
        by_key = {
            i.key: i for i in review_items(charter, charter_reviews.reports_of(session, meeting.id))
        }
        return [by_key[k] for k in rnd.proposal_keys if k in by_key]

    def _counted(
        self, session: Session, meeting: Meeting, rnd: Round
    ) -> tuple[list[Item], list[answers.ItemCount]]:
        items = self._asked(session, meeting, rnd)
        keys = {i.key for i in items}
        given = [{k: v for k, v in r.marks.items() if k in keys} for r in responses(session, rnd)]
        return items, answers.count_answers([(i.key, i.scale) for i in items], given)

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> list[answers.ItemCount]:
        return self._counted(session, meeting, rnd)[1]

    def record(self, session: Session, meeting: Meeting, rnd: Round) -> ReviewRecord:
        """The shown commitments' counts and the scorecard."""
        _, counted = self._counted(session, meeting, rnd)
        _, lines = charter_reviews.round_scorecard(session, meeting, rnd)
        card = review_files.results_json(lines, meeting.group_min)
        shown = review_files.shown_answers(counted, card)
        return {"answers": answers.answers_to_json(shown)["answers"], "review": card}

    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> ReviewView:
        """The record, the shown commitments' items, the names and the history across
        reviews (this meeting's point: its scorecard so far, this round's included)."""
        assert meeting.id is not None
        items, counted = self._counted(session, meeting, rnd)
        charter, lines = charter_reviews.round_scorecard(session, meeting, rnd)
        card = review_files.results_json(lines, meeting.group_min)
        shown = review_files.shown_answers(counted, card)
        keep = {c.id for c in shown}
        parties, commitments = charter_reviews.texts(charter)
        past = charter_reviews.history(session, meeting)
        return {
            "answers": answers.answers_to_json(shown)["answers"],
            "items": [scale_item_view(i) for i in items if i.key in keep],
            "review": card,
            "parties": review_files.names(parties),
            "commitments": review_files.names(commitments),
            "history": review_files.history_json(past),
        }

    def offline(
        self, opened: kind_rounds.Opened, public: kind_rounds.PublicFiles
    ) -> kind_rounds.OfflineRound | None:
        """The round's commitments in the charter version it asked (the file given for it,
        `public.reviews`), rated on the review scale, and its scorecard from the rows under the
        meeting file's m. None without that file."""
        charter = public.reviews.get(opened.round)
        if charter is None:
            return None
        items, score = kind_rounds.review_round(charter, opened.keys, public.meeting.rule.group_min)
        return kind_rounds.OfflineRound(self.key, dict(items), items, review=score)
