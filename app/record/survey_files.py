"""A survey's public files: the responses CSV (written, protected and read back), the population
CSV for weighting, and the one JSON encoding of its results.

Pure: strings in, strings out, cells written and read as every Covote CSV is
(`csvfiles.neutralise` / `restore`, problems by line: `responses.csv:7: answer: ...`).

**Responses CSV**, header `respondent,question,answer,segments,area`: one row per respondent
and question answered. `respondent` is the respondent's pseudonym in this survey's round
(`anonymity.public_pseudonym`, as ballots use); `question` an item key (`SERVICE.value`,
`q.KEY`; the area is the `area` column, not a row); `answer` the stored answer. A respondent
who answered nothing else has one row with `question` and `answer` empty. A short text's answer
is withheld (empty): it may name someone, so the file says only that it was answered.
`segments` (ids joined by `;`) and `area` are written as `public_responses` protects them.

**Protection** (README, Anonymity): ballots drop segments and publish group totals instead, but
the survey's breakdowns are recounted from this file, so it keeps segments and area, coarsened
until each combination written is shared by at least m respondents, as channels are merged for
ballots (`anonymity.channel_labels`): a combination of segments and area held by fewer than m
respondents loses its segments; an area then held by fewer than m loses its name too; and while
the respondents left with neither number 1 to m - 1, the smallest combination joins them. So a
neighbour who knows someone's segments and area finds them among at least m rows, never alone.
The results published are tabulated from these protected responses (the record calls
`public_responses` and then `survey_tally.tabulate`; the screens `public_counts`, the same
protection over counts made in the database), which is why `covote survey tabulate`
reproduces them byte for byte.

**Population CSV**, header `kind,id,share` or `kind,id,count`: a row per area (`area`, its
key) and per segment (`segment`, its id) with its share of the population (0-1) or its number
of people (census counts); with counts, a `total` row (empty id) gives the population that
segments' shares are taken of (default: the areas' counts added up). Areas' shares are scaled
to add up to 1 over the areas given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from app.core.shapes import SurveyResults
from app.record.csvfiles import check_header, csv_records, write_csv
from app.record.records import Problems, check_id, quote
from app.record.results import dumps_result
from app.rules import survey as sv
from app.rules.scales import TextScale
from app.rules.survey_tally import Answer, SurveyResponse
from app.rules.survey_weights import Cell, Population, cell_order

RESPONSES_HEADER = ("respondent", "question", "answer", "segments", "area")
KINDS = ("area", "segment", "total")
MAX_RESPONDENT = 64  # a pseudonym is 18 characters; room for other exporters' ids
MAX_COUNT = 10**10  # people in a population: the UK has 7 x 10^7
_COUNT = re.compile(r"[0-9]{1,11}")
_SHARE = re.compile(r"(0|1)?(\.[0-9]{1,12})?")  # 0.25, .25, 1, 1.0: digits only, no exponent


@dataclass(frozen=True, slots=True)
class PublicResponse:
    """One respondent as the responses file holds them."""

    respondent: str
    response: SurveyResponse


def _is_segment_id(value: str) -> bool:
    """A meeting's segment id (`records.check_id`)."""
    try:
        check_id(value)
    except PydanticCustomError:
        return False
    return True


# --- protection ---------------------------------------------------------------------------


def _held(sizes: Mapping[Cell, int], out: Mapping[Cell, Cell]) -> Counter[Cell]:
    """Respondents by the cell they are written under."""
    total: Counter[Cell] = Counter()
    for c, n in sizes.items():
        total[out[c]] += n
    return total


def protected_cells(sizes: Mapping[Cell, int], m: int) -> dict[Cell, Cell]:
    """Each cell (area, segments) as the file writes it (module doc): every cell written holds
    at least m respondents, or all of them when there are fewer than m in all."""
    nowhere: Cell = (None, frozenset())
    out = {c: c if n >= m else (c[0], frozenset()) for c, n in sizes.items()}
    small = {c for c, n in _held(sizes, out).items() if n < m}
    out = {c: nowhere if w in small else w for c, w in out.items()}
    while 0 < (held := _held(sizes, out))[nowhere] < m:
        others = sorted((n, cell_order(c)) for c, n in held.items() if c != nowhere and n)
        if not others:
            break
        joining = next(c for c in held if c != nowhere and cell_order(c) == others[0][1])
        out = {c: nowhere if w == joining else w for c, w in out.items()}
    return out


def public_responses(
    survey: sv.Survey, responses: Iterable[tuple[str, SurveyResponse]], m: int
) -> list[PublicResponse]:
    """The responses as published: by pseudonym (sorted), segments and area protected, short
    texts withheld, marks of items the survey does not ask left out."""
    asked = {i.key for i in sv.items(survey) if i.key != sv.AREA_ITEM}
    texts = {i.key for i in sv.items(survey) if isinstance(i.scale, TextScale)}
    rows = list(responses)
    sizes = Counter((r.marks.get(sv.AREA_ITEM), r.segments) for _, r in rows)
    cells = protected_cells(sizes, m)
    out = []
    for pseudonym, r in sorted(rows, key=lambda pr: pr[0]):
        area, segments = cells[(r.marks.get(sv.AREA_ITEM), r.segments)]
        marks = {k: "" if k in texts else v for k, v in r.marks.items() if k in asked}
        if area is not None:
            marks[sv.AREA_ITEM] = area
        out.append(PublicResponse(pseudonym, SurveyResponse(segments, marks)))
    return out


def public_counts(
    survey: sv.Survey, sizes: Mapping[Cell, int], answers: Iterable[Answer], m: int
) -> tuple[Counter[Cell], list[Answer]]:
    """What `public_responses` and then `survey_tally.count` give, from counts rather than
    responses (a database counts them without reading each one: app/voting/survey_counts.py):
    `sizes`, the respondents by the cell they answered (area answer or None, segments), and
    `answers`, their `(cell, item, answer, respondents)`, become the respondents and answers by
    the cell published, the area's answer that of the cell published, texts withheld (""),
    items the survey does not ask left out. `survey_tally.count_table` takes the answers."""
    asked = {i.key for i in sv.items(survey) if i.key != sv.AREA_ITEM}
    texts = {i.key for i in sv.items(survey) if isinstance(i.scale, TextScale)}
    cells = protected_cells({c: n for c, n in sizes.items() if n}, m)
    people: Counter[Cell] = Counter()
    out: list[Answer] = []
    for stored, n in sizes.items():
        if not n:
            continue
        cell = cells[stored]
        people[cell] += n
        if cell[0] is not None:
            out.append((cell, sv.AREA_ITEM, cell[0], n))
    for stored, key, value, n in answers:
        if key in asked:
            out.append((cells[stored], key, "" if key in texts else value, n))
    return people, out


# --- the responses CSV ----------------------------------------------------------------------


def write_responses_csv(survey: sv.Survey, rows: Iterable[PublicResponse]) -> str:
    """The responses CSV of `public_responses`' rows, each respondent's answers in the
    survey's order."""
    order = [i.key for i in sv.items(survey) if i.key != sv.AREA_ITEM]
    cells = []
    for row in rows:
        r = row.response
        segments = ";".join(sorted(r.segments))
        area = r.marks.get(sv.AREA_ITEM, "")
        answered = [k for k in order if k in r.marks] or [""]
        for key in answered:
            cells.append([row.respondent, key, r.marks.get(key, ""), segments, area])
    return write_csv(RESPONSES_HEADER, cells)


def _row_problems(
    cells: Sequence[str], items: Mapping[str, sv.SurveyItem], areas: set[str]
) -> list[str]:
    respondent, question, answer, segments, area = cells
    bad = []
    if not respondent or len(respondent) > MAX_RESPONDENT:
        bad.append(f"respondent: must be 1-{MAX_RESPONDENT} characters")
    if question:
        item = items.get(question)
        if item is None:
            bad.append(f"question: not a question of the survey: {quote(question[:80])}")
        elif item.scale.parse(answer) != answer and not (
            answer == "" and isinstance(item.scale, TextScale)  # a withheld text
        ):
            bad.append(f"answer: not an answer to {question}: {quote(answer[:80])}")
    elif answer:
        bad.append("answer: a row without a question has no answer")
    for s in segments.split(";") if segments else []:
        if not _is_segment_id(s):
            bad.append(f"segments: {quote(s[:80])} is not a segment id")
    if segments and len(set(segments.split(";"))) != len(segments.split(";")):
        bad.append("segments: a segment is listed twice")
    if area and area not in areas:
        bad.append(f"area: not an area of the survey: {quote(area[:80])}")
    return bad


def read_responses_csv(
    text: str, survey: sv.Survey, *, filename: str = "responses.csv"
) -> list[PublicResponse]:
    """Parse a responses CSV against its survey, respondents in order of first appearance.

    Raises:
        RecordError: every malformed line with its number: wrong header (line 1), wrong number
            of fields, empty respondent, unknown question or area, an answer its question does
            not take, a bad segment id, a second row for the same respondent and question, a
            respondent whose segments or area differ between rows, or a row without a
            question beside rows with one.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    check_header(records, RESPONSES_HEADER, p)
    items = {i.key: i for i in sv.items(survey) if i.key != sv.AREA_ITEM}
    areas = {a.key for a in survey.areas}
    first: dict[str, tuple[int, str, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    marks: dict[str, dict[str, str]] = {}
    rows_of: Counter[str] = Counter()
    for line, cells in records[1:]:
        if len(cells) != len(RESPONSES_HEADER):
            p.add(line, f"expected {len(RESPONSES_HEADER)} fields, got {len(cells)}")
            continue
        bad = _row_problems(cells, items, areas)
        respondent, question, answer, segments, area = cells
        at, first_segments, first_area = first.setdefault(respondent, (line, segments, area))
        if (set(first_segments.split(";")), first_area) != (set(segments.split(";")), area):
            bad.append(f"respondent {quote(respondent)} has other segments or area on line {at}")
        earlier = seen.setdefault((respondent, question), line)
        if earlier != line:
            bad.append(f"respondent {quote(respondent)} answered {question!r} on line {earlier}")
        elif rows_of[respondent] and (not question or (respondent, "") in seen):
            # "answered nothing" is a respondent's only row
            bad.append(f"respondent {quote(respondent)} has a row without a question and others")
        rows_of[respondent] += 1
        for reason in bad:
            p.add(line, reason)
        answers = marks.setdefault(respondent, {})
        if not bad and question:
            answers[question] = answer
    p.raise_if_any()
    out = []
    for respondent, answers in marks.items():
        _, segments, area = first[respondent]
        if area:
            answers[sv.AREA_ITEM] = area
        segs = frozenset(segments.split(";")) if segments else frozenset()
        out.append(PublicResponse(respondent, SurveyResponse(segs, answers)))
    return out


def tally_input(rows: Iterable[PublicResponse]) -> list[SurveyResponse]:
    """The responses `survey_tally.tabulate` counts (pseudonyms play no part in the figures)."""
    return [r.response for r in rows]


# --- the population CSV ---------------------------------------------------------------------


def _number(cell: str, unit: str) -> float | None:
    if unit == "count":
        return float(int(cell)) if _COUNT.fullmatch(cell) and 1 <= int(cell) <= MAX_COUNT else None
    if cell and cell != "." and _SHARE.fullmatch(cell) and 0 < float(cell) <= 1:
        return float(cell)
    return None


def read_population(
    text: str, survey: sv.Survey, *, filename: str = "population.csv"
) -> Population:
    """Parse a population CSV (module doc) into shares.

    Raises:
        RecordError: every problem with its line: a header other than `kind,id,share` or
            `kind,id,count`, an unknown kind or area, a segment id that is not an id, a share
            outside 0-1 (exclusive of 0; a segment's exclusive of 1) or a count not a whole
            number from 1, a repeated row, a total with shares, segments by count without a
            total or areas, areas' shares adding up to more than 1.
    """
    p = Problems(filename)
    records = csv_records(text, p)
    unit = records[0][1][2] if records and len(records[0][1]) == 3 else "share"
    check_header(records, ("kind", "id", "count" if unit == "count" else "share"), p)
    areas = {a.key for a in survey.areas}
    values: dict[tuple[str, str], tuple[int, float]] = {}
    for line, cells in records[1:]:
        if len(cells) != 3:
            p.add(line, f"expected 3 fields, got {len(cells)}")
            continue
        kind, key, cell = cells
        number = _number(cell, unit)
        if kind not in KINDS:
            p.add(line, f"kind: must be area, segment or total, not {quote(kind[:40])}")
        elif kind == "area" and key not in areas:
            p.add(line, f"id: not an area of the survey: {quote(key[:80])}")
        elif kind == "segment" and not _is_segment_id(key):
            p.add(line, f"id: {quote(key[:80])} is not a segment id")
        elif kind == "total" and (unit != "count" or key):
            p.add(line, "a total row goes with counts and has an empty id")
        elif number is None:
            what = "a whole number of people from 1" if unit == "count" else "a share above 0, to 1"
            p.add(line, f"{unit}: must be {what}, not {quote(cell[:40])}")
        elif (kind, key) in values:
            p.add(line, f"{kind} {quote(key)} is already on line {values[(kind, key)][0]}")
        else:
            values[(kind, key)] = (line, number)
    p.raise_if_any()
    area_values = {k: v for (kind, k), (_, v) in values.items() if kind == "area"}
    segment_values = {k: (line, v) for (kind, k), (line, v) in values.items() if kind == "segment"}
    total = values.get(("total", ""), (0, sum(area_values.values())))[1]
    if unit == "count":
        if segment_values and not total:
            p.add(None, "segments by count need a total row (or the areas' counts)")
        p.raise_if_any()
        area_shares = {k: v / sum(area_values.values()) for k, v in area_values.items()}
        segment_shares = {k: v / total for k, (_, v) in segment_values.items()}
    else:
        area_shares, segment_shares = area_values, {k: v for k, (_, v) in segment_values.items()}
        if sum(area_shares.values()) > 1 + 1e-6:
            p.add(None, "the areas' shares add up to more than 1")
    for key, (line, _) in segment_values.items():
        if segment_shares[key] >= 1:
            p.add(line, f"segment {quote(key)}: must be less than the whole population")
    p.raise_if_any()
    return Population(dict(sorted(area_shares.items())), dict(sorted(segment_shares.items())))


# --- results --------------------------------------------------------------------------------


def dumps_survey_results(results: SurveyResults) -> str:
    """The one JSON text of a survey's results (canonical: indent 2, the producer's key order,
    UTF-8, final newline), as the server serves it and `covote survey tabulate` prints it."""
    return dumps_result(results)
