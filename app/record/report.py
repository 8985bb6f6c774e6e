"""The results report: what the clerk attaches to the minutes, as a model both renderers share.

Contract:

* Pure: `build` takes plain data (the meeting, each round's `rounds.results_view` record and
  turnout, the hashes of the exported files, the audit chain's head, the time it was made) and
  returns a `Report`; no session, no clock, no I/O. `templates/record/report.html` and
  `app.record.report_pdf` render the same `Report`, so the HTML and the PDF say the same thing.
* Every sentence is made here or in `app.rules.explain` (the rule in plain words), from the
  meeting's own numbers (R, m, the counts), through the translator `_` the caller passes
  (`i18n.Translator`, or `english`).
* Anonymity: the inputs carry no voter, ticket or device, and affected-group counts arrive
  already suppressed below m (`results_view` sets them to None); a suppressed line says
  "fewer than m present" and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import cast

from app.core import localtime, shapes
from app.core.vocab import SURVEY, RoundStatus
from app.record import report_charter, report_lab, report_money, report_review, report_vote
from app.record.figure import Chart
from app.record.filenames import meeting_day
from app.record.report_survey import SurveySection, section
from app.rules.explain import (
    CHANNEL_NAMES,
    RuleText,
    Translate,
    english,
    rule_text,
)

RECOUNT_COMMAND = "covote recount ballots.csv --groups groups.csv --meeting meeting.json"
# A charter round's files in the export bundle, as `covote recount --charter N` takes them.
CHARTER_FILES = (
    "charter-round-%(n)s.json charter-consent-round-%(n)s.csv charter-groups-round-%(n)s.csv"
)
# A charter review round's file in the export bundle, as `covote recount --review N` takes it.
REVIEW_FILE = "review-charter-round-%(n)s.json"
VERIFY_COMMAND = (
    "covote audit verify audit.jsonl --ballots ballots.csv --groups groups.csv "
    "--meeting meeting.json --head %(head)s"
)


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    id: str
    label: str
    protects: bool
    # The label in other languages, by language ("cy" -> ...); one missing: `label` is shown.
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProposalInfo:
    id: str
    title: str
    kind: str  # "keep" | "fund"
    affected_groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    title: str
    ratio: int
    group_min: int
    segments: tuple[SegmentInfo, ...]
    proposals: tuple[ProposalInfo, ...]
    created_at: datetime
    venue: str = ""  # "": not given (the line is left out)
    chair: str = ""
    # The title in other languages, by language ("cy" -> ...), as the meeting file gives them
    # (`translations`); a report in a language without one shows `title`.
    titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoundInput:
    """One round as stored: `results` is `rounds.results_view`, `turnout` `turnout.counts`
    (the snapshot taken at close when `turnout_at_close`, else counted now). `view` names the
    shape of `results` (the kind's `Views.projector`): "room_vote" (proposals, outcomes,
    ranking), else "distribution" (`answers.answers_to_json` plus the item views)."""

    number: int
    status: str  # vocab.RoundStatus: "open" | "closed" | "voided"
    revealed: bool
    opened_at: datetime
    closed_at: datetime | None
    results: shapes.KindResults
    turnout: shapes.Turnout
    turnout_at_close: bool
    view: str = "room_vote"
    final: bool = False  # (part of) the meeting's decision
    voided_at: datetime | None = None  # set: voided, it did not count (status "voided")
    void_reason: str = ""
    # A survey round's area map, drawn by the caller (it needs the survey's boundaries); None:
    # no boundaries, or not a survey round.
    area_map: Chart | None = None
    # A Lab rating round's challenges, ideas and published results (`report_lab.LabInput`);
    # None: not a Lab round, or nobody rated.
    lab: report_lab.LabInput | None = None


@dataclass(frozen=True, slots=True)
class RecordInput:
    """What lets anyone check the report: hashes of the exported files and the audit head."""

    ballots_sha256: str
    results_sha256: str
    audit_links: int
    audit_head: str
    groups_sha256: str = ""  # groups.csv (README, Anonymity); empty: not shown
    # The kinds of the results' rounds that are not room votes: the recount reads their kind
    # from the audit log (and a survey round's questions from survey.json).
    other_kinds: tuple[str, ...] = ()
    # The charter rounds whose files the bundle carries: the recount reads each with its
    # charter, consent and groups files (`CHARTER_FILES`).
    charter_rounds: tuple[int, ...] = ()
    # The charter review rounds whose charter version the bundle carries (`--review N FILE`).
    review_rounds: tuple[int, ...] = ()


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Turnout:
    note: str  # when it was counted
    live: bool
    rows: tuple[Row, ...]  # registered (ticket meetings), present, voted
    channels: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class ItemAnswers:
    """An item of another kind of activity: how many gave each answer (a "distribution")."""

    heading: str
    summary: str  # "12 answered · mean 3.50"
    lines: tuple[Row, ...]  # (answer, count)


@dataclass(frozen=True, slots=True)
class RoundReport:
    number: int
    heading: str
    status: str
    times: str
    live: bool
    turnout: Turnout
    voted: bool
    proposals: tuple[report_vote.ProposalReport, ...]
    money: tuple[report_money.Money, ...]
    items: tuple[ItemAnswers, ...] = ()  # a round of another kind: its answers
    note: str = ""  # its place in the decision: "Voided — did not count…", "Final…"; or ""
    # A survey round: its charts, focus list and weighted figures, instead of `items` (each
    # answer's count stays in results.json; the report shows the survey's own figures).
    survey: SurveySection | None = None
    # A Lab rating round: its challenges, ideas, opinion groups and ranking, instead of `items`
    # (each answer's count stays in results.json; the Lab's own figures are its results file).
    lab: report_lab.LabSection | None = None
    # A charter review round: its scorecard, chart and history, instead of `items` (the counts
    # of commitments rated by fewer than m are in no file or screen).
    review: report_review.ReviewSection | None = None
    # A charter consent round: each clause's decision and every wording's answers, outcome,
    # reasons and blocking groups, instead of `items`.
    charter: report_charter.CharterSection | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """A part of the report's rounds once some are final or voided: "The decision" (the final
    rounds), "Earlier rounds" (or "Rounds" with no final one), "Voided rounds"."""

    id: str  # "decision" | "earlier" | "voided"
    heading: str
    intro: str
    rounds: tuple[RoundReport, ...]


@dataclass(frozen=True, slots=True)
class Check:
    heading: str
    items: tuple[Row, ...]  # (what, hash)
    steps: tuple[str, ...]
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Approval:
    """The block the minutes are signed in: lines filled in by hand on the printed report."""

    heading: str
    note: str
    lines: tuple[str, ...]  # name, role, signature, date


@dataclass(frozen=True, slots=True)
class Report:
    lang: str
    title: str
    subtitle: str
    date: str
    generated: str
    generated_at: datetime  # when it was made (UTC): the PDF's creation date
    details: tuple[Row, ...]  # Meeting, Date, Venue, Chair (the last two when given)
    approval: Approval
    interim: str  # empty unless a round is still open
    # The room vote's rule; None when the meeting holds charter rounds and no room vote (the
    # rules explained are those of the kinds of rounds the meeting holds).
    rule: RuleText | None
    rounds: tuple[RoundReport, ...]
    check: Check
    footer: str
    labels: Mapping[str, str] = field(default_factory=dict)  # table headings both renderers use
    # Empty unless a round is final or voided: then the rounds in their parts, the decision
    # first (both renderers show these instead of `rounds`, which keeps every round in order).
    parts: tuple[Part, ...] = ()
    # The charter's adoption rule, when the meeting holds a charter consent round.
    charter_rule: report_charter.RuleSection | None = None


# --- building ----------------------------------------------------------------------------------


def build(
    meeting: MeetingInfo,
    rounds: Sequence[RoundInput],
    record: RecordInput,
    *,
    generated_at: datetime,
    tz: tzinfo = UTC,
    _: Translate = english,
    lang: str = "en",
) -> Report:
    """The report of a meeting so far (any round may still be open).

    Times are shown in `tz` (the meeting's zone, with its abbreviation: GMT or BST); naive
    datetimes are taken as UTC, as stored. The meeting's date is the day its first round
    opened there, else the day it was created (`filenames.meeting_day`, as the file names).
    """
    day = meeting_day(meeting.created_at, (r.opened_at for r in rounds), tz).isoformat()
    title = meeting.titles.get(lang, "").strip() or meeting.title
    details = [Row(_("Meeting"), title), Row(_("Date"), day)]
    if meeting.venue:
        details.append(Row(_("Venue"), meeting.venue))
    if meeting.chair:
        details.append(Row(_("Chair"), meeting.chair))
    decided = any(r.final for r in rounds)
    built = tuple(_round(meeting, r, tz, _, decided, lang) for r in rounds)
    open_numbers = [str(r.number) for r in rounds if r.status == RoundStatus.OPEN]
    interim = (
        _(
            "Interim report: round %(n)s is still open. Its figures are live and will change.",
            n=", ".join(open_numbers),
        )
        if open_numbers
        else ""
    )
    charter_rounds = [r for r in rounds if r.view != "room_vote" and "charter" in r.results]
    return Report(
        lang=lang,
        title=title,
        subtitle=_("Results report"),
        date=_("Meeting date: %(date)s", date=day),
        generated=_("Report made %(time)s", time=_time(generated_at, tz)),
        generated_at=generated_at,
        details=tuple(details),
        approval=Approval(
            heading=_("Approved by"),
            note=_("To be filled in by hand when the minutes are approved."),
            lines=(_("Name"), _("Role"), _("Signature"), _("Date")),
        ),
        interim=interim,
        rule=rule_text(meeting.ratio, meeting.group_min, _) if _explains_votes(rounds) else None,
        rounds=built,
        check=_check(record, _, marked=any(r.final or r.voided_at is not None for r in rounds)),
        footer=_("Covote results report · %(title)s", title=title),
        labels=_labels(meeting.group_min, _),
        parts=_parts(rounds, built, _),
        charter_rule=_charter_rule(charter_rounds[-1], _) if charter_rounds else None,
    )


def _explains_votes(rounds: Sequence[RoundInput]) -> bool:
    """Whether the report explains the room vote's rule: when the meeting holds a room vote, or
    no round yet, or a round of a kind whose section leans on it (a survey's or Lab's, which
    name the meeting's R and m); not when every round is a charter consent or review round,
    whose own rules their sections explain."""
    if not rounds or any(r.view == "room_vote" for r in rounds):
        return True
    return not all("charter" in r.results or "review" in r.results for r in rounds)


def _charter_rule(r: RoundInput, _: Translate) -> report_charter.RuleSection:
    """The adoption rule with the block share, R and m the meeting's last charter round was
    counted with (its results record them; the share cannot change once a round has answers)."""
    rule = cast(shapes.CharterView, r.results)["charter"]["rule"]
    return report_charter.rule(rule["block_percent"], rule["ratio"], rule["group_min"], _)


def segment_label(s: SegmentInfo, lang: str) -> str:
    """A segment's name in `lang`, else as given."""
    return s.labels.get(lang, "").strip() or s.label


def _parts(
    rounds: Sequence[RoundInput], built: Sequence[RoundReport], _: Translate
) -> tuple[Part, ...]:
    """The rounds in their parts, the decision first; none while no round is final or voided
    (the report is then as it was before rounds could be)."""
    if not any(r.final or r.voided_at is not None for r in rounds):
        return ()
    pairs = list(zip(rounds, built, strict=True))
    final = tuple(b for r, b in pairs if r.final)
    voided = tuple(b for r, b in pairs if r.voided_at is not None)
    others = tuple(b for r, b in pairs if not r.final and r.voided_at is None)
    money = any(b.money for b in final)
    parts = []
    if final:
        intro = _("The rounds marked final decided. Their outcomes are the meeting's decision.")
        if money:
            intro += " " + _(
                "The pot is spent once, by the final round; earlier rounds' budgets show only "
                "what they would have funded."
            )
        parts.append(Part("decision", _("The decision"), intro, final))
    if others:
        heading = _("Earlier rounds") if final else _("Rounds")
        intro = _("These rounds were not marked final: they are not the decision.") if final else ""
        parts.append(Part("earlier", heading, intro, others))
    if voided:
        intro = _(
            "These rounds were voided: they did not count. Their ballots stay in the exported "
            "files and the audit log; their results are not shown here."
        )
        parts.append(Part("voided", _("Voided rounds"), intro, voided))
    return tuple(parts)


def _labels(m: int, _: Translate) -> dict[str, str]:
    return {
        "want": _("WANT"),
        "neutral": _("NEUTRAL"),
        "dont": _("DON'T WANT"),
        "voted": _("Voted"),
        "group": _("Affected group"),
        "verdict": _("Verdict"),
        "groups_caption": _(
            "Affected groups (no counts are shown for a group with fewer than %(m)s present)", m=m
        ),
        "turnout": _("Turnout"),
        "turnout_caption": _("Who could vote, who was there and who voted, by channel"),
        "channel": _("Channel"),
        "ballots": _("Ballots"),
        "number": _("Number"),
        "rank": _("Rank"),
        "proposal": _("Proposal"),
        "glance": _("Results at a glance, best first"),
        "outcome": _("Outcome"),
        "when": _("When it applies"),
        "outcomes_caption": _("The four outcomes"),
        "reason": _("Why"),
        "means": _("What it means"),
        "fewer": _("fewer than %(m)s present", m=m),
        "no_votes": _("Nobody has voted in this round yet."),
        "page": _("Page %(page)s of %(pages)s"),
        "half": _("half the room"),
        "contents": _("Contents"),
        "file": _("File"),
        "sha256": _("SHA-256"),
        "details": _("About the meeting"),
    }


def _turnout(r: RoundInput, _: Translate) -> Turnout:
    t = r.turnout
    live = r.status == RoundStatus.OPEN
    if live:
        note = _("Live, round still open.")
    elif r.turnout_at_close:
        note = _("Counted when the round closed.")
    else:
        note = _(
            "Counted when this report was made (no count was kept when the round closed); "
            "present may have changed since."
        )
    rows = []
    if t["registered"] is not None:
        rows.append(Row(_("Registered (tickets issued)"), str(t["registered"])))
    rows.append(Row(_("Present"), str(t["present"])))
    rows.append(Row(_("Voted"), str(t["voted"])))
    by_channel = t["by_channel"]
    names = {**CHANNEL_NAMES, **{c: c for c in by_channel if c not in CHANNEL_NAMES}}
    channels = tuple(Row(_(names[c]), str(by_channel.get(c, 0))) for c in names)
    return Turnout(note=note, live=live, rows=tuple(rows), channels=channels)


def _round(
    meeting: MeetingInfo,
    r: RoundInput,
    tz: tzinfo,
    _: Translate,
    decided: bool = False,
    lang: str = "en",
) -> RoundReport:
    """One round. `decided`: some round of the meeting is final, so this one's budget, if it
    is not final, is what it would have funded ("if this round had decided"). `lang`: the
    language of the names a survey's charts show (its services', areas' and segments') and of
    another kind's item titles, where they have one."""
    if r.voided_at is not None:
        note = _("Voided — did not count (%(when)s).", when=_time(r.voided_at, tz))
        if r.void_reason:
            note += " " + _("Reason: %(reason)s", reason=r.void_reason)
        closed = _time(r.closed_at, tz) if r.closed_at is not None else "?"
        return RoundReport(
            number=r.number,
            heading=_("Round %(n)s", n=r.number),
            status=_("Voided — did not count"),
            times=_(
                "Opened %(opened)s, closed %(closed)s",
                opened=_time(r.opened_at, tz),
                closed=closed,
            ),
            live=False,
            turnout=_turnout(r, _),
            voted=False,
            proposals=(),
            money=(),
            note=note,
        )
    final_note = _("Final: this round is the meeting's decision.") if r.final else ""
    if r.status == RoundStatus.OPEN:
        status = _("Open: voting is still going on.")
        times = _("Opened %(opened)s", opened=_time(r.opened_at, tz))
    else:
        status = (
            _("Closed; the results were shown on the projector.")
            if r.revealed
            else _("Closed; the results have not been shown on the projector.")
        )
        closed = _time(r.closed_at, tz) if r.closed_at is not None else "?"
        times = _(
            "Opened %(opened)s, closed %(closed)s", opened=_time(r.opened_at, tz), closed=closed
        )
    turnout = _turnout(r, _)
    if r.view != "room_vote":  # the view names the shape (activity.Views.projector)
        answers = cast(shapes.AnswersView, r.results)
        voted = any(a["answered"] > 0 for a in answers["answers"])
        survey = None
        if "survey" in answers:  # the survey kind's view (shapes.SurveyView)
            view = cast(shapes.SurveyView, answers)
            survey = section(view, r.turnout["by_channel"], _, lang, r.area_map)
        segments = {s.id: s.label for s in meeting.segments}
        lab = report_lab.section(r.lab, segments, _, lang) if r.lab is not None else None
        review = None
        if "review" in answers:  # the charter review's view (shapes.ReviewView)
            review = report_review.section(cast(shapes.ReviewView, answers), _, lang)
            voted = voted or r.turnout["voted"] > 0  # its shown answers may be none (under m)
        charter = None
        if "charter" in answers:  # a charter consent round's view (shapes.CharterView)
            names = {s.id: segment_label(s, lang) for s in meeting.segments}
            charter = report_charter.section(cast(shapes.CharterView, answers), names, _, lang)
            voted = voted or bool(charter.clauses)  # a clause is decided once it is answered
        own = survey is not None or lab is not None or review is not None or charter is not None
        items = () if own else tuple(_items(answers, _, lang))
        return RoundReport(
            number=r.number,
            heading=_("Round %(n)s", n=r.number),
            status=status,
            times=times,
            live=r.status == RoundStatus.OPEN,
            turnout=turnout,
            voted=voted,
            proposals=(),
            money=(),
            items=items if voted else (),
            note=final_note,
            survey=survey if voted else None,
            lab=lab if voted else None,
            review=review if voted else None,
            charter=charter if voted else None,
        )
    results = cast(shapes.ResultsView, r.results)
    voted = any(p["V"] > 0 for p in results["proposals"])
    return RoundReport(
        number=r.number,
        heading=_("Round %(n)s", n=r.number),
        status=status,
        times=times,
        live=r.status == RoundStatus.OPEN,
        turnout=turnout,
        voted=voted,
        proposals=tuple(_proposals(meeting, results, _)) if voted else (),
        money=tuple(report_money.sections(results, _, hypothetical=decided and not r.final))
        if voted
        else (),
        note=final_note,
    )


def _proposals(
    meeting: MeetingInfo, results: shapes.ResultsView, _: Translate
) -> list[report_vote.ProposalReport]:
    """The room vote's proposals (`report_vote.proposals`), naming each one's affected groups
    that never protect."""
    segments = {s.id: s for s in meeting.segments}
    never = {
        p.id: tuple(
            segments[g].label
            for g in p.affected_groups
            if g in segments and not segments[g].protects
        )
        for p in meeting.proposals
    }
    return report_vote.proposals(results, meeting.ratio, meeting.group_min, never, _)


def _items(results: shapes.AnswersView, _: Translate, lang: str) -> Iterator[ItemAnswers]:
    """Each item with its answers' counts, labels translated (a distribution's results); its
    title in `lang` when the item has one there (a charter clause's Welsh), else as given."""
    counted = {a["id"]: a for a in results["answers"]}
    for item in results["items"]:
        a: shapes.AnswerRecord = counted.get(
            item["id"], {"id": item["id"], "answered": 0, "counts": {}}
        )
        labels = {x["value"]: x["label"] for x in item["scale"].get("answers", [])}
        summary = _("%(n)s answered", n=a["answered"])
        if "mean" in a:
            summary = _("%(n)s answered · mean %(mean)s", n=a["answered"], mean=a["mean"])
        lines = tuple(
            Row(_(labels[v]) if v in labels else v, str(n)) for v, n in a["counts"].items()
        )
        own = (item.get("translations") or {}).get(lang, {}).get("title", "").strip()
        yield ItemAnswers(own or item["title"], summary, lines)


# --- checking ----------------------------------------------------------------------------------


def _check(record: RecordInput, _: Translate, *, marked: bool = False) -> Check:
    """`marked`: a round is final or voided, which the recount reads from the audit log (as
    it reads there the kind of a round of another kind)."""
    recount = RECOUNT_COMMAND + (" --audit audit.jsonl" if marked or record.other_kinds else "")
    recount += " --survey survey.json" if SURVEY in record.other_kinds else ""
    recount += "".join(f" --charter {n} " + CHARTER_FILES % {"n": n} for n in record.charter_rounds)
    recount += "".join(f" --review {n} " + REVIEW_FILE % {"n": n} for n in record.review_rounds)
    return Check(
        heading=_("Check and recount"),
        items=(
            Row(_("Ballots file, all rounds (ballots.csv)"), record.ballots_sha256),
            *(
                [Row(_("Group totals file, all rounds (groups.csv)"), record.groups_sha256)]
                if record.groups_sha256
                else []
            ),
            Row(_("Results file (results.json)"), record.results_sha256),
            Row(
                _(
                    "Audit log (audit.jsonl): hash of link %(n)s, the last one",
                    n=record.audit_links,
                ),
                record.audit_head,
            ),
        ),
        steps=(
            _(
                "Download the export bundle from the console (or the meeting JSON and the "
                "ballots CSV). Check that the SHA-256 of each file is the one printed here, for "
                "example with: sha256sum ballots.csv results.json"
            ),
            _("Recount with Covote on any computer. It prints the results file, byte for byte:"),
            _(
                "Check the audit log: every link must be chained to the one before it, the "
                "ballots it records must be exactly the ballots file, and its last hash must be "
                "the one printed here:"
            ),
        ),
        commands=(recount, VERIFY_COMMAND % {"head": record.audit_head}),
    )


# --- time --------------------------------------------------------------------------------------


def _time(at: datetime, tz: tzinfo) -> str:
    return localtime.show(at, tz)
