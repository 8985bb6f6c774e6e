"""The Community Charter's consent round as an activity kind (issue 17): a round of kind
`charter` asks the room to answer clauses on the consent scale (`charter.CONSENT_SCALE`:
keypads 1-5, phones and paper from the scale's default views).

Its items are the current charter's clauses and, as separate items answered in the same round,
each clause's ACCEPTED amendments (app/rules/charter.py: the wording adopted is chosen among
them). An item carries its Welsh as its `cy` title. No charter version is saved while a charter
round is open (app/voting/charters.py), and a round is read against the version in force when
it opened (`charters.charter_at`), so a later draft never changes its items or results.

Its result is `charter_files.count_round` over the final ballots with the voters' TRUE
segments (a small affected group blocks even when the public record coarsens its members'
segments), the meeting's R and m and its block share; its public record (results.json) is each
answer's count per wording with the decisions (`charter_files.results_json`) under `charter`.

The export bundle publishes, per round with answers, the charter version it asked, its consent
CSV and groups CSV and its results JSON (`public_files`); `covote recount` counts the round
from ballots.csv with those files and the audit log (`CharterKind.offline`), and
`covote charter tabulate` from the consent and groups CSV: both byte for byte the record's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, cast

from sqlmodel import Session

from app.core.messages import N_
from app.core.shapes import CharterRecord, CharterView, GroupView, ItemView, ProposalItem
from app.core.vocab import CHARTER
from app.record import anonymity, charter_files, kind_rounds
from app.rules import answers, charter_words
from app.rules import charter_doc as cd
from app.rules.charter import CONSENT_SCALE, AmendmentStatus, CharterRule, Consent
from app.rules.charter_count import ClauseDecision, ConsentBallot
from app.rules.scales import AnswerScale
from app.voting import charters
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

CONSENTS = frozenset(c.value for c in Consent)


def charter_items(charter: cd.Charter) -> list[Item]:
    """Every wording a consent round may ask, in document order: each clause, then its
    accepted amendments (`extra["clause"]` names the clause an item belongs to)."""
    out: list[Item] = []
    for section in charter.sections:
        view = {
            "title": section.title,
            "translations": {"cy": {"title": section.title_cy}} if section.title_cy else {},
        }
        for c in section.clauses:
            out.append(_item(c.key, c.text, c.text_cy, c.key, view))
            out += [
                _item(a.key, a.text, a.text_cy, c.key, view)
                for a in c.amendments
                if a.status is AmendmentStatus.ACCEPTED
            ]
    return out


def _item(key: str, text: str, text_cy: str, clause: str, section: Mapping[str, object]) -> Item:
    return Item(
        key,
        text,
        CONSENT_SCALE,
        translations={"cy": {"title": text_cy}} if text_cy else {},
        extra={"clause": clause, "section_view": section, "amendment": key != clause},
    )


class CharterKind(CountingKind):
    """Answer the charter's clauses (and amendments) on the consent scale."""

    key: ClassVar[str] = CHARTER
    label: ClassVar[str] = N_("Charter: consent to the clauses")
    noun: ClassVar[str] = "clause"
    unanswered: ClassVar[str | None] = None
    unknown_items: ClassVar[str] = N_("Clause(s) not in charter round %(n)s: %(keys)s.")
    answer_scales: ClassVar[tuple[AnswerScale, ...]] = (CONSENT_SCALE,)
    views: ClassVar[Views] = Views(
        phone_intro=N_(
            "For each clause, say how far you support it: 1 fully support, 2 support with "
            "reservations, 3 can live with it, 4 need a change, 5 block."
        ),
        # Counted over the wordings (a clause and each amendment put beside it), not clauses.
        phone_partly_answered=N_(
            "%(answered)s of %(total)s answered (clauses and amendments); the others are not "
            "answered"
        ),
        phone_items="phone/items_charter.html",
        # Paper: each section's clauses numbered, amendments marked, the scale's numbers and
        # labels in both languages on a bilingual sheet.
        paper_items="print/items_charter.html",
        key_item="console/key_item_charter.html",
        console_results="console/results_charter.html",
    )

    def offline(
        self, opened: kind_rounds.Opened, public: kind_rounds.PublicFiles
    ) -> kind_rounds.OfflineRound | None:
        """The round's wordings in the charter version it asked (the files given for it,
        `public.charters`), each on the consent scale, in the round's order, and its decisions
        from the rows and the groups CSV (`kind_rounds.charter_round`), under the meeting
        file's R and m and the log's block share. None without the round's files."""
        files = public.charters.get(opened.round)
        if files is None:
            return None
        wordings = charter_files.items_of(files.charter)
        items = [(key, CONSENT_SCALE) for key in opened.keys if key in wordings]
        rule = CharterRule(
            kind_rounds.charter_block_percent(public.links), public.meeting.rule.to_rule()
        )
        decide = kind_rounds.charter_round(opened.round, files, rule)
        return kind_rounds.OfflineRound(self.key, dict(items), items, charter=decide)

    def item_view(self, item: Item) -> ProposalItem | ItemView:
        """The item with its scale and its screen on the phone: its clause's section (the
        clause and its amendments are asked together, phone/items_charter.html)."""
        view = scale_item_view(item)
        section = item.extra.get("section_view")
        if isinstance(section, dict):
            view["group"] = GroupView(
                id=str(item.extra["clause"]),
                title=str(section["title"]),
                translations=section["translations"],
            )
        return view

    def answer_labels(self) -> list[str]:
        """The consent scale's labels and the outcome names the projector's decision line
        shows ("label:ADOPTED WITH RESERVATIONS": the category's value, spaces for _)."""
        return [*super().answer_labels(), *charter_words.CATEGORY_NAMES.values()]

    def available(self, session: Session, meeting_id: int) -> list[Item]:
        charter = charters.charter_of(session, meeting_id)
        return [] if charter is None else charter_items(charter)

    def scales(
        self, session: Session, meeting_id: int, keys: Sequence[str]
    ) -> Mapping[str, AnswerScale]:
        return dict.fromkeys(keys, CONSENT_SCALE)  # one scale for every wording: no query

    def _asked(
        self, session: Session, meeting: Meeting, rnd: Round
    ) -> tuple[cd.Charter, list[Item]]:
        """The charter version the round asked, and its items in the round's order."""
        assert meeting.id is not None
        charter = charters.charter_at(session, meeting.id, rnd.opened_at) or cd.Charter("")
        by_key = {i.key: i for i in charter_items(charter)}
        return charter, [by_key[k] for k in rnd.proposal_keys if k in by_key]

    def result(self, session: Session, meeting: Meeting, rnd: Round) -> list[answers.ItemCount]:
        _, items = self._asked(session, meeting, rnd)
        return _counts(items, responses(session, rnd))

    def decisions(
        self, session: Session, meeting: Meeting, rnd: Round
    ) -> tuple[ClauseDecision, ...]:
        """Each answered clause's decision, on the voters' true segments."""
        charter, items = self._asked(session, meeting, rnd)
        return _decide(session, meeting, charter, items, responses(session, rnd))

    def record(self, session: Session, meeting: Meeting, rnd: Round) -> CharterRecord:
        charter, items = self._asked(session, meeting, rnd)
        given = responses(session, rnd)
        decided = _decide(session, meeting, charter, items, given)
        return {
            **answers.answers_to_json(_counts(items, given)),
            "charter": charter_files.results_json(decided, charters.rule_of(session, meeting)),
        }

    def seals(self, session: Session, meeting: Meeting, rnd: Round) -> dict[str, str]:
        """The groups CSV's rows (`charter_groups_sha256`): counted on the voters' true
        segments, they are the one charter file no public file recomputes, so `covote recount
        --charter` checks the file it is given against this seal."""
        decided = self.decisions(session, meeting, rnd)
        rows = charter_files.group_cells(charter_files.group_rows(decided))
        return {"charter_groups_sha256": anonymity.seal(rows)}

    def results_view(self, session: Session, meeting: Meeting, rnd: Round) -> CharterView:
        """The counts, the round's items (titles, Welsh, the consent scale's labels) and the
        decisions."""
        charter, items = self._asked(session, meeting, rnd)
        given = responses(session, rnd)
        decided = _decide(session, meeting, charter, items, given)
        return {
            **answers.answers_to_json(_counts(items, given)),
            # As the phones and the projector get them: each with its clause (`item_view`).
            "items": [cast(ItemView, self.item_view(i)) for i in items],
            "charter": charter_files.results_json(decided, charters.rule_of(session, meeting)),
        }


def _counts(items: Sequence[Item], given: Sequence[Response]) -> list[answers.ItemCount]:
    keys = {i.key for i in items}
    return answers.count_answers(
        [(i.key, i.scale) for i in items],
        [{k: v for k, v in r.marks.items() if k in keys} for r in given],
    )


def _decide(
    session: Session,
    meeting: Meeting,
    charter: cd.Charter,
    items: Sequence[Item],
    given: Sequence[Response],
) -> tuple[ClauseDecision, ...]:
    """`charter_files.count_round` over the responses with the voters' true segments; only the
    segments marked to protect may block."""
    assert meeting.id is not None
    keys = {i.key for i in items}
    ballots = [
        ConsentBallot(
            str(r.voter_id),
            r.segments,
            {k: Consent(v) for k, v in r.marks.items() if k in keys and v in CONSENTS},
        )
        for r in given
    ]
    protecting = frozenset(s.key for s in segments_of(session, meeting.id) if s.protects)
    return charter_files.count_round(
        charter, ballots, charters.rule_of(session, meeting), protecting
    )


@dataclass(frozen=True, slots=True)
class Published:
    """A charter round's public files (`public_files`)."""

    charter: str  # the version the round asked, as stored (covote-charter/1, canonical)
    consent: str  # the consent CSV
    groups: str  # the groups CSV
    results: str  # the results JSON: results.json's `charter` for the round


def public_files(session: Session, meeting: Meeting, rnd: Round) -> Published | None:
    """A charter round's files as the record publishes them (None: no charter version was in
    force when it opened). `covote charter tabulate CONSENT --groups GROUPS --charter CHARTER
    --m M --r R --block-percent P`, with the meeting's m, R and block share, prints `results`
    byte for byte; the consent CSV's rows are the round's rows of ballots.csv."""
    assert meeting.id is not None
    text = charters.definition_at(session, meeting.id, rnd.opened_at)
    if text is None:
        return None
    charter = charters.parse_stored(text)
    by_key = {i.key: i for i in charter_items(charter)}
    items = [by_key[k] for k in rnd.proposal_keys if k in by_key]  # as `_asked` reads them
    keys = {i.key for i in items}
    given = public_responses(session, meeting, rnd)
    published = charter_files.public_consent(
        ConsentBallot(
            pseudonym,
            frozenset(),
            {k: Consent(v) for k, v in r.marks.items() if k in keys and v in CONSENTS},
        )
        for pseudonym, r in given
    )
    rule = charters.rule_of(session, meeting)
    decided = _decide(session, meeting, charter, items, [r for _, r in given])
    return Published(
        charter=text,
        consent=charter_files.write_consent_csv(charter, published),
        groups=charter_files.write_groups_csv(charter_files.group_rows(decided)),
        results=charter_files.dumps_charter_results(decided, rule),
    )
