"""A meeting's whole public record read in one transaction: every export file, each kind's
own files, and the results report built from the same reads, so the hashes the report prints
are those of the files beside it (`results_report` and `bundle` serve it).

A Lab rating round (issue 16) adds its own four files (`_lab_files`, the Lab page's downloads);
results.json keeps the round's bare answer counts: it is what `covote recount` reads from
ballots.csv (with the audit log, which names each round's kind and the Lab's merges), and the
Lab's figures need the ideas and groups files, which it does not read.

A charter consent round (issue 17) adds the charter version it asked, its consent and groups
CSV and its results JSON (`_charter_files`, `charter_kind.public_files`): the recount counts
it from ballots.csv with the first three (`--charter N ...`). A charter review round adds the
charter version it asked (`review-charter-round-N.json`, `--review N ...`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import cast

from sqlmodel import Session

from app.console.exports import Named, export_text, named_after
from app.core import shapes
from app.core.vocab import CHARTER, CHARTER_REVIEW, LAB, ROOM_VOTE, SURVEY, RoundStatus
from app.record import lab_files, report, report_lab, survey_charts
from app.record.figure import Chart
from app.rules import lab as lab_rules
from app.voting import (
    audit,
    charter_kind,
    charters,
    kinds,
    lab,
    lab_challenges,
    lab_kind,
    meetings,
    rounds,
    survey_kind,
    surveys,
    turnout,
)
from app.voting.models import Meeting, Round
from app.web import i18n
from app.web.services import Services


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The meeting's export files and its report, all read in one transaction."""

    files: dict[str, str]  # name -> text, in bundle order
    report: report.Report
    generated_at: datetime
    named: Named
    tz: tzinfo  # the meeting's zone: README.txt says when it was made in it
    meeting: Meeting
    lab_seeds: tuple[int, ...] = ()  # each Lab round's seed, when the bundle has Lab files
    charter_rounds: tuple[int, ...] = ()  # the charter rounds whose files the bundle has
    block_percent: int = 0  # the meeting's charter block share (README.txt's tabulate)


def _answered(session: Session, all_rounds: list[Round], kind: str) -> list[Round]:
    """The rounds of `kind` with answers, not voided: those whose own files are published."""
    return [
        rnd
        for rnd in all_rounds
        if rnd.kind == kind
        and rnd.status != RoundStatus.VOIDED
        and rounds.has_ballots(session, rnd)
    ]


def _survey_files(session: Session, meeting: Meeting, all_rounds: list[Round]) -> dict[str, str]:
    """The survey's record: its file (the codebook) and, for each survey round with answers,
    its responses and results as `covote survey tabulate` reproduces them."""
    assert meeting.id is not None
    text = surveys.survey_text(session, meeting.id)
    if text is None:
        return {}
    files = {"survey.json": text}
    population = surveys.population_of(session, meeting.id, surveys.parse_stored(text))
    if population is not None:
        stored = surveys.population_text(session, meeting.id)
        assert stored is not None
        files["survey-population.csv"] = stored
    for rnd in _answered(session, all_rounds, SURVEY):
        published = survey_kind.public_files(session, meeting, rnd)
        if published is not None:
            files[f"survey-responses-round-{rnd.number}.csv"] = published[0]
            files[f"survey-results-round-{rnd.number}.json"] = published[1]
    return files


def _lab_files(
    session: Session, meeting: Meeting, all_rounds: list[Round]
) -> tuple[dict[str, str], dict[int, lab_files.Published]]:
    """The Lab's record for each `lab` round with ratings, not voided: its ideas, votes and
    groups CSV and its results JSON, as `covote lab tabulate` reproduces them
    (`lab_kind.lab_published`, the same as the Lab page's downloads); with each round's
    published results by number, for the report."""
    files: dict[str, str] = {}
    published: dict[int, lab_files.Published] = {}
    for rnd in _answered(session, all_rounds, LAB):
        made = lab_kind.lab_published(session, meeting, rnd)
        ideas = lab_kind.idea_rows(session, meeting, made.result)
        n = rnd.number
        files[f"lab-ideas-round-{n}.csv"] = lab_files.write_ideas_csv(ideas)
        files[f"lab-votes-round-{n}.csv"] = lab_files.write_votes_csv(made.voters)
        files[f"lab-groups-round-{n}.csv"] = lab_files.write_groups_csv(made.groups)
        files[f"lab-results-round-{n}.json"] = lab_files.dumps_lab_results(made.result)
        published[n] = made
    return files, published


def _charter_files(session: Session, meeting: Meeting, all_rounds: list[Round]) -> dict[str, str]:
    """Each `charter` round with answers (voided too: results.json lists it): the charter
    version it asked, its consent and groups CSV and its results JSON
    (`charter_kind.public_files`); each `charter_review` round with answers: the charter
    version it asked (`review-charter-round-N.json`, what `covote recount --review N` reads)."""
    files: dict[str, str] = {}
    for rnd in all_rounds:
        if rnd.kind != CHARTER or not rounds.has_ballots(session, rnd):
            continue
        made = charter_kind.public_files(session, meeting, rnd)
        if made is not None:
            n = rnd.number
            files[f"charter-round-{n}.json"] = made.charter
            files[f"charter-consent-round-{n}.csv"] = made.consent
            files[f"charter-groups-round-{n}.csv"] = made.groups
            files[f"charter-results-round-{n}.json"] = made.results
    for rnd in all_rounds:
        # A review round: the charter version it asked (its commitments and their parties).
        if rnd.kind != CHARTER_REVIEW or not rounds.has_ballots(session, rnd):
            continue
        assert meeting.id is not None
        text = charters.definition_at(session, meeting.id, rnd.opened_at)
        if text is not None:
            files[report.REVIEW_FILE % {"n": rnd.number}] = text
    return files


def _lab_input(
    session: Session, meeting: Meeting, result: lab_rules.LabResult
) -> report_lab.LabInput:
    """The meeting's challenges and ideas with a Lab round's published results, for the report."""
    assert meeting.id is not None
    return report_lab.LabInput(
        challenges=tuple(
            report_lab.ChallengeInfo(c.key, c.title, c.title_cy or "")
            for c in lab_challenges.challenges_of(session, meeting.id)
        ),
        ideas=tuple(
            report_lab.IdeaInfo(
                key=r.idea.key,
                challenge=r.challenge,
                text=r.idea.text,
                status=lab_rules.IdeaStatus(r.idea.status),
                helpers=r.helpers,
                shortlisted=r.idea.shortlisted,
                reason=r.idea.shortlist_reason or "",
            )
            for r in lab.ideas_of(session, meeting.id)
        ),
        result=result,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def snapshot(services: Services, meeting_id: int, _: i18n.Translator) -> Snapshot:
    """The meeting's export files and its report (in the language of `_`), all read in one
    transaction (REPEATABLE READ on PostgreSQL). Raises NotFound."""
    generated_at = datetime.now(UTC)
    receiving = services.desk.receiving(meeting_id)
    with services.read_session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every read below, so the hashes match the counts shown.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        meeting = meetings.get_meeting(session, meeting_id)
        all_rounds = rounds.rounds_of(session, meeting_id)
        files = {
            "meeting.json": export_text(session, meeting, "meeting.json", None),
            "ballots.csv": export_text(session, meeting, "ballots.csv", None),
        }
        files["groups.csv"] = export_text(session, meeting, "groups.csv", None)
        for rnd in all_rounds:
            if rounds.has_ballots(session, rnd):
                for what in ("ballots", "groups"):
                    name = f"{what}-round-{rnd.number}.csv"
                    files[name] = export_text(session, meeting, f"{what}.csv", rnd.number)
        files["results.json"] = export_text(session, meeting, "results.json", None)
        # The kinds the recount reads from the log (of rounds in results.json: with ballots).
        other_kinds = tuple(
            sorted(
                {
                    rnd.kind
                    for rnd in all_rounds
                    if rnd.kind not in (None, ROOM_VOTE) and rounds.has_ballots(session, rnd)
                }
            )
        )
        files["audit.jsonl"] = audit.export_lines(session, meeting_id)
        files.update(_survey_files(session, meeting, all_rounds))
        lab_record, lab_published = _lab_files(session, meeting, all_rounds)
        files.update(lab_record)
        charter_record = _charter_files(session, meeting, all_rounds)
        files.update(charter_record)
        charter_rounds = tuple(
            rnd.number for rnd in all_rounds if f"charter-round-{rnd.number}.json" in files
        )
        review_rounds = tuple(
            rnd.number for rnd in all_rounds if report.REVIEW_FILE % {"n": rnd.number} in files
        )
        block_percent = charters.block_percent(session, meeting_id)
        links, head = audit.head_of(session, meeting_id)
        info = report.MeetingInfo(
            title=meeting.title,
            ratio=meeting.ratio,
            group_min=meeting.group_min,
            segments=tuple(
                report.SegmentInfo(s.key, s.label, s.protects, _own_texts(s.translations, "label"))
                for s in meetings.segments_of(session, meeting_id)
            ),
            proposals=tuple(
                report.ProposalInfo(p.key, p.title, p.kind, tuple(p.affected_groups))
                for p in meetings.proposals_of(session, meeting_id)
            ),
            created_at=meeting.created_at,
            venue=meeting.venue or "",
            chair=meeting.chair or "",
            titles=_own_texts(meeting.translations, "title"),
        )
        named = named_after(session, meeting)
        tz = meetings.zone_of(meeting)
        boundaries = surveys.boundaries_of(session, meeting_id)
        inputs = []
        for rnd in all_rounds:
            view = rounds.results_view(session, meeting, rnd)
            area_map = _report_area_map(boundaries, view, _) if rnd.kind == SURVEY else None
            inputs.append(
                report.RoundInput(
                    number=rnd.number,
                    status=rnd.status,
                    revealed=rnd.revealed,
                    opened_at=rnd.opened_at,
                    closed_at=rnd.closed_at,
                    results=view,
                    turnout=(
                        rnd.turnout
                        if rnd.status != RoundStatus.OPEN and rnd.turnout
                        else turnout.counts(
                            session,
                            meeting,
                            rnd,
                            receiver_open=receiving and rnd.status == RoundStatus.OPEN,
                        )
                    ),
                    turnout_at_close=rnd.status != RoundStatus.OPEN and bool(rnd.turnout),
                    view=kinds.kind_of(rnd).views.projector,
                    final=bool(rnd.final),
                    voided_at=rnd.voided_at if rnd.status == RoundStatus.VOIDED else None,
                    void_reason=rnd.void_reason or "",
                    area_map=area_map,
                    lab=(
                        _lab_input(session, meeting, lab_published[rnd.number].result)
                        if rnd.number in lab_published
                        else None
                    ),
                )
            )
    record = report.RecordInput(
        ballots_sha256=_sha256(files["ballots.csv"]),
        groups_sha256=_sha256(files["groups.csv"]),
        results_sha256=_sha256(files["results.json"]),
        audit_links=links,
        audit_head=head,
        other_kinds=other_kinds,
        charter_rounds=charter_rounds,
        review_rounds=review_rounds,
    )
    model = report.build(
        info,
        inputs,
        record,
        generated_at=generated_at,
        tz=tz,
        _=_,
        lang=_.locale,
    )
    seeds = tuple(p.result.seed for p in lab_published.values())
    return Snapshot(
        files, model, generated_at, named, tz, meeting, seeds, charter_rounds, block_percent
    )


def _own_texts(translations: dict[str, dict[str, str]] | None, field: str) -> dict[str, str]:
    """A meeting file's text `field` in each other language it gives (`translations`)."""
    return {
        lang: texts[field]
        for lang, texts in (translations or {}).items()
        if isinstance(texts, dict) and isinstance(texts.get(field), str)
    }


def _report_area_map(
    boundaries: surveys.Boundaries | None, view: shapes.KindResults, _: i18n.Translator
) -> Chart | None:
    """A survey round's area map for the report, when its survey has boundaries (the one the
    projector shows: `survey_charts.default_area_map`)."""
    if boundaries is None or "survey" not in view:
        return None
    survey = cast(shapes.SurveyView, view)
    return survey_charts.default_area_map(
        survey["survey"],
        survey["labels"],
        boundaries.areas,
        boundaries.key_property,
        boundaries.match,
        _,
        _.locale,
    )
