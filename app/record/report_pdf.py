"""The results report as an A4 PDF, drawn with ReportLab from the model `app.record.report` builds.

Contract: `render(model) -> bytes`. It says what the HTML report says (the same `Report`): bars
are drawn as shapes, turnout and affected-group lines are tables, every page has the meeting's
title and "Page N of M" at its foot. The document's metadata: Title the meeting's title, Subject
"Results report" and the meeting's date, Author and Creator Covote, and CreationDate and ModDate
the time the report was made (`Report.generated_at`, in UTC). The output is deterministic
(ReportLab's invariant mode, kept for its fixed file id; the dates are ours, not the clock's), so
the same model, made at the same time, gives the same bytes.

Fonts: DejaVu Sans where the system has it (Welsh ŵ and ŷ, arrows), else Bitstream Vera, which
ships with ReportLab. A character the font lacks is written as its base letter (ŵ -> w) or a
plain stand-in, never as an empty box.

This module lays out the document (details, the rule, each round, the check, the approval);
the page, fonts and footer are app/record/pdf_page.py's, a room vote's blocks
app/record/report_pdf_vote.py's, the other kinds' sections app/record/report_pdf_kinds.py's.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.record.pdf_page import SOFT, WIDTH, build_pdf, fonts, grid_table, markup, para, styles
from app.record.report import Report, RoundReport
from app.record.report_pdf_kinds import charter_section, lab_section, review_section, survey_section
from app.record.report_pdf_vote import glance, money, outcome_badge, proposal


def _round(r: RoundReport, model: Report) -> list[Flowable]:
    s, L = styles(), model.labels
    out: list[Flowable] = [
        Paragraph(markup(r.heading), s["h2"]),
        Paragraph(
            ("<b>" + markup(r.status) + "</b>" if r.live else markup(r.status))
            + " "
            + markup(r.times),
            s["base"],
        ),
        Spacer(1, 4),
    ]
    if r.note:
        out += [Paragraph("<b>" + markup(r.note) + "</b>", s["base"]), Spacer(1, 4)]
    cells = [*r.turnout.rows, *r.turnout.channels]
    head = [Paragraph(markup(c.label), s["head"]) for c in r.turnout.rows]
    head += [Paragraph(markup(f"{L['voted']}: {c.label}"), s["head"]) for c in r.turnout.channels]
    values = [para(c.value, "num") for c in cells]
    out += [
        Paragraph(
            "<b>" + markup(L["turnout"]) + "</b> " + markup(f"({r.turnout.note})"), s["small"]
        ),
        grid_table([head, values], [WIDTH / len(cells)] * len(cells)),
        Spacer(1, 4),
    ]
    if not r.voted:
        if not r.note or r.live:
            out.append(para(L["no_votes"]))
    elif r.proposals:
        out += [Paragraph("<b>" + markup(L["glance"]) + "</b>", s["small"]), glance(r, model)]
    out += [proposal(p, model) for p in r.proposals]
    for m in r.money:
        out += money(m)
    for item in r.items:  # a round of another kind of activity: each item's answers
        rows = [[para(line.label, "cell"), para(line.value, "num")] for line in item.lines]
        out += [para(item.heading, "h3"), para(item.summary, "small")]
        if rows:
            out.append(grid_table(rows, [WIDTH * 0.8, WIDTH * 0.2]))
    if r.survey is not None:
        out += survey_section(r.survey)
    if r.lab is not None:
        out += lab_section(r.lab)
    if r.review is not None:
        out += review_section(r.review)
    if r.charter is not None:
        out += charter_section(r.charter)
    return out


def _story(model: Report) -> list[Flowable]:
    s, L = styles(), model.labels
    details = grid_table(
        [[para(row.label, "head"), para(row.value, "cell")] for row in model.details],
        [WIDTH * 0.22, WIDTH * 0.78],
        header=False,
    )
    details.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), SOFT)]))
    story: list[Flowable] = [
        para(model.subtitle.upper(), "kicker"),
        para(model.title, "h1"),
        details,
        para(model.generated, "meta"),
    ]
    if model.interim:
        story.append(para(model.interim, "note"))
    rule = model.rule
    if rule is not None:
        story.append(para(rule.heading, "h2"))
        story += [para(text) for text in rule.paragraphs]
        rows: list[list[Any]] = [
            [Paragraph(markup(L["outcome"]), s["head"]), Paragraph(markup(L["when"]), s["head"])]
        ]
        rows += [
            [outcome_badge(o.category, o.label), para(when, "cell")] for o, when in rule.outcomes
        ]
        story += [
            Spacer(1, 4),
            grid_table(rows, [WIDTH * 0.22, WIDTH * 0.78]),
            para(rule.ranking),
            para(rule.suppression),
        ]
    if model.charter_rule is not None:
        story.append(para(model.charter_rule.heading, "h2"))
        story += [para(text) for text in model.charter_rule.paragraphs]
    if model.parts:  # some round is final or voided: the decision first
        for part in model.parts:
            story.append(para(part.heading.upper(), "h2"))
            if part.intro:
                story.append(para(part.intro))
            for r in part.rounds:
                story += _round(r, model)
    else:
        for r in model.rounds:
            story += _round(r, model)
    check = model.check
    story.append(para(check.heading, "h2"))
    hashes: list[list[Any]] = [
        [Paragraph(markup(L["file"]), s["head"]), Paragraph(markup(L["sha256"]), s["head"])]
    ]
    hashes += [
        [para(item.label, "cell"), Paragraph(escape(item.value), s["mono"])] for item in check.items
    ]
    story.append(KeepTogether([grid_table(hashes, [WIDTH * 0.37, WIDTH * 0.63])]))
    story += [
        para("1. " + check.steps[0]),
        para("2. " + check.steps[1]),
        Paragraph(escape(check.commands[0]), s["code"]),
        para("3. " + check.steps[2]),
        Paragraph(escape(check.commands[1]), s["code"]),
    ]
    story.append(_approval(model))
    return story


def _approval(model: Report) -> KeepTogether:
    """ "Approved by": a labelled line for each of name, role, signature and date, to sign."""
    approval = model.approval
    rows: list[list[Any]] = [[para(line, "head"), ""] for line in approval.lines]
    lines = Table(rows, colWidths=[WIDTH * 0.22, WIDTH * 0.6], rowHeights=[26] * len(rows))
    lines.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (1, 0), (1, -1), 0.8, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    lines.hAlign = "LEFT"
    return KeepTogether([para(approval.heading, "h2"), para(approval.note), lines])


def render(model: Report) -> bytes:
    """The report as PDF bytes."""
    fonts()  # before the story: its paragraphs measure text in the report's fonts
    return build_pdf(
        _story(model),
        title=model.title,
        subject=f"{model.subtitle} · {model.date}",
        footer=model.footer,
        page_text=model.labels["page"],
        made_at=model.generated_at,
        lang=model.lang,
    )
