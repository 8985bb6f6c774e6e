"""The results report's sections of the other activity kinds in the PDF: charter, review, Lab,
survey.

Each takes the section `app.record.report` built for a round of that kind (`report_charter`,
`report_review`, `report_lab`, `report_survey`) and returns the flowables that print it on the
page of app/record/pdf_page.py, saying what the HTML report says; charts are drawn by
app/record/charts_pdf.py, each kept with its heading and table. A suppressed figure is not in
the section, so it cannot be printed.
"""

from __future__ import annotations

from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    TableStyle,
)

from app.record import charts_pdf
from app.record.pdf_page import BOLD, WIDTH, grid_table, markup, para, styles
from app.record.report_charter import CharterSection
from app.record.report_lab import LabSection
from app.record.report_review import ReviewSection
from app.record.report_survey import SurveySection


def charter_section(ch: CharterSection) -> list[Flowable]:
    """A charter consent round's section: each clause's decision, then each of its wordings
    with its outcome, reasons, blocking groups, answers per consent level and affected groups
    (a suppressed group's figures are not in the section to print)."""
    s = styles()
    out: list[Flowable] = [para(ch.heading, "h2"), para(ch.rule), para(ch.suppression, "small")]
    if ch.empty:
        out.append(para(ch.empty))
    for c in ch.clauses:
        out.append(Paragraph("<b>" + markup(c.heading) + "</b>", s["base"]))
        for w in c.wordings:
            lines: list[Flowable] = [
                para(f"{w.place}: {w.text}", "h3"),
                Paragraph(
                    "<b>"
                    + markup(f"{w.icon} {w.outcome}")
                    + "</b>"
                    + (" · " + markup(w.chosen) if w.chosen else ""),
                    s["base"],
                ),
            ]
            lines += [Paragraph("\u2022 " + markup(reason), s["base"]) for reason in w.reasons]
            if w.blocking:
                lines.append(para(w.blocking))
            head = [Paragraph(markup(col), s["head"]) for col in ch.answer_columns]
            rows: list[list[Any]] = [head]
            rows += [[para(label, "cell"), para(n, "num")] for label, n in w.answers]
            lines += [
                para(f"{ch.answers_caption} ({w.summary})", "small"),
                grid_table(rows, [WIDTH * 0.6, WIDTH * 0.2]),
            ]
            if w.groups:
                grows: list[list[Any]] = [
                    [Paragraph(markup(col), s["head"]) for col in ch.group_columns]
                ]
                for g in w.groups:
                    figures = (
                        [para(cell, "num") for cell in g.cells]
                        if not g.suppressed
                        else [para(ch.hidden, "cell"), "", "", ""]
                    )
                    grows.append([para(g.label, "cell"), *figures, para(g.blocks, "cell")])
                table = grid_table(grows, [WIDTH * 0.25] + [WIDTH * 0.15] * 5)
                if any(g.suppressed for g in w.groups):
                    spans = [
                        ("SPAN", (1, i), (4, i))
                        for i, g in enumerate(w.groups, start=1)
                        if g.suppressed
                    ]
                    table.setStyle(TableStyle(spans))
                lines += [para(ch.groups_caption, "small"), table]
            out.append(KeepTogether(lines))
    return out


def review_section(rv: ReviewSection) -> list[Flowable]:
    """A charter review round's section: the scorecard (parties in bold, their commitments
    under them), then each chart with its table, kept with its heading."""
    s = styles()
    rows: list[list[Any]] = [[Paragraph(markup(c), s["head"]) for c in rv.columns]]
    for row in rv.rows:
        label = f"<b>{markup(row.label)}</b>" if row.party else "\u2003" + markup(row.label)
        rows.append([Paragraph(label, s["cell"]), *(para(c, "num") for c in row.cells)])
    widths = [WIDTH * 0.4] + [WIDTH * 0.12] * 5
    out: list[Flowable] = [
        para(rv.heading, "h2"),
        para(rv.intro, "small"),
        grid_table(rows, widths),
    ]
    for chart in rv.charts:
        out.append(KeepTogether([para(chart.figure.title, "h3"), *charts_pdf.flowables(chart)]))
    return out


def lab_section(lb: LabSection) -> list[Flowable]:
    """A Lab round's section: the challenges, the ideas' and groups' counts, then the ideas
    ranked in one table (its header repeated on each page), each idea with its notes."""
    s = styles()
    out: list[Flowable] = [para(lb.heading, "h2"), para(lb.challenges_heading, "h3")]
    out += [Paragraph("\u2022 " + markup(c), s["base"]) for c in lb.challenges]
    out += [para(lb.ideas_summary), para(lb.groups), para(lb.suppression, "small")]
    rows: list[list[Any]] = [[Paragraph(markup(c), s["head"]) for c in lb.columns]]
    for line in lb.lines:
        idea = "<br/>".join([markup(line.text), *(markup(n) for n in line.notes)])
        rows.append(
            [
                para(str(line.rank), "num"),
                Paragraph(idea, s["cell"]),
                para(line.counts, "num"),
                para(line.support, "num"),
                *(para(g, "num") for g in line.by_group),
                para(line.helpers, "num"),
            ]
        )
    # Each figure's column as wide as its heading's longest word (headings wrap between
    # words, never inside one), the idea's column what is left.
    fit_word = [
        max(pdfmetrics.stringWidth(w, BOLD, 8.5) for w in c.split()) + 14 for c in lb.columns
    ]
    figures = [max(34.0, min(WIDTH * 0.16, w)) for w in fit_word]
    figures[2] = max(figures[2], pdfmetrics.stringWidth("000 / 000 / 000", BOLD, 8.5) + 14)
    idea_width = max(WIDTH * 0.3, WIDTH - sum(figures) + figures[1])
    widths = [figures[0], idea_width, *figures[2:]]
    out += [para(lb.caption, "small"), grid_table(rows, widths), para(lb.pledges)]
    return out


def survey_section(sv: SurveySection) -> list[Flowable]:
    """A survey round's section: each chart drawn with its table, the focus list, the weighted
    figures. A chart is kept with its heading and table: when they do not fit what is left of
    the page they start the next one (a table longer than a page still splits, its header
    repeated)."""
    s = styles()
    out: list[Flowable] = []
    # the section's heading and its first lines go with the first chart (a survey always
    # draws three), never alone at a page's foot
    lead: list[Flowable] = [
        para(sv.heading, "h2"),
        para(sv.summary + (" " + sv.channels if sv.channels else "")),
        para(sv.suppression, "small"),
    ]
    for chart in sv.charts:
        out.append(
            KeepTogether([*lead, para(chart.figure.title, "h3"), *charts_pdf.flowables(chart)])
        )
        lead = []
    focus: list[Flowable] = [para(sv.focus_heading, "h3"), para(sv.focus_intro)]
    focus += [Paragraph("\u2022 " + markup(line), s["base"]) for line in sv.focus]
    out.append(KeepTogether(focus))
    if sv.weighted is not None:
        w = sv.weighted
        rows: list[list[Any]] = [[Paragraph(markup(c), s["head"]) for c in w.columns]]
        rows += [[para(row[0], "cell"), *(para(cell, "num") for cell in row[1:])] for row in w.rows]
        n = len(w.columns)
        widths = [WIDTH * 0.36] + [WIDTH * 0.64 / (n - 1)] * (n - 1)
        out.append(
            KeepTogether(
                [
                    para(w.heading, "h3"),
                    para(w.text),
                    para(w.caption, "small"),
                    grid_table(rows, widths),
                ]
            )
        )
    return out
