"""A charter consent round's part of the results report (issue 17): each clause's decision,
every wording put to the room (the clause, then its amendments) with its outcome, its answers
per consent level, every reason and the affected groups that blocked it; and the charter's
adoption rule in words.

Contract:

* Pure: `section` takes the round's results view (`shapes.CharterView`, as the screens get
  it: the counts, the round's items and `charter_files.results_json`'s decisions), the
  segments' names in the report's language and the translator; it returns a `CharterSection`
  both renderers draw (`templates/record/_report_body.html`, `report_pdf`). `rule` gives the
  adoption rule's paragraphs; the words are `app.rules.charter_words`' (one place for them:
  the console, the projector and the charter PDF read the same).
* Nothing about fewer than m people: an affected group's totals arrive already suppressed
  (`ConsentGroupRecord.suppressed`, its figures null) and its row says "fewer than m answered:
  not shown" and nothing else. A group blocks only with at least m of its members blocking,
  so naming a blocking group names no smaller one.
* Clauses are numbered as the phones and the projector number them: by the order of the
  round's items, a clause's amendments under it ("Amendment to clause 2").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.shapes import CharterRuleRecord, CharterView, ItemView, WordingRecord
from app.rules import charter_words
from app.rules.charter import CONSENT_SCALE
from app.rules.explain import Translate


@dataclass(frozen=True, slots=True)
class RuleSection:
    """The charter's adoption rule in words, with the meeting's block share, R and m."""

    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupLine:
    """An affected group's totals on a wording; `cells` empty when suppressed (under m)."""

    label: str
    suppressed: bool
    cells: tuple[str, ...]  # answered, support (1-3), need a change, block
    blocks: str  # "yes" / "no", translated
    text: str  # the whole line in words (screen readers, the PDF)


@dataclass(frozen=True, slots=True)
class WordingReport:
    """One wording put to the room: the clause as drafted or an amendment to it."""

    id: str  # the item's key
    place: str  # "Clause 2" / "Amendment to clause 2"
    text: str  # its words, in the report's language when it has them
    amendment: bool
    category: str  # charter.Category's value
    outcome: str  # the category's name, translated
    icon: str
    chosen: str  # "The wording adopted" / "Not the wording adopted" / "" (none adopted)
    reasons: tuple[str, ...]
    blocking: str  # "Blocking groups: Carer." or ""
    summary: str  # "9 answered"
    answers: tuple[tuple[str, str], ...]  # ("1 Fully support", "4"), the scale's order
    groups: tuple[GroupLine, ...]


@dataclass(frozen=True, slots=True)
class ClauseReport:
    number: int
    key: str
    heading: str  # "Clause 1: SENT BACK"
    decision: str  # the adopted wording's category, or SENT_BACK
    wordings: tuple[WordingReport, ...]  # the clause first, then its amendments


@dataclass(frozen=True, slots=True)
class CharterSection:
    heading: str  # "Charter: the clauses' decisions"
    rule: str  # "Block share 25%, R 2, m 2."
    suppression: str
    answers_caption: str  # the answers table's caption
    answer_columns: tuple[str, str]
    groups_caption: str
    group_columns: tuple[str, ...]
    hidden: str  # a suppressed group's row: "fewer than m answered: not shown"
    clauses: tuple[ClauseReport, ...]
    empty: str  # "Nobody has answered yet." when no clause was answered, else ""


def rule(block_percent: int, ratio: int, m: int, _: Translate) -> RuleSection:
    """The adoption rule's section (`charter_words.rule_text`), with the suppression below m."""
    return RuleSection(
        heading=_("How the charter's clauses were decided"),
        paragraphs=(
            *charter_words.rule_text(block_percent, ratio, m, _),
            _(
                "No figures are shown for an affected group with fewer than %(m)s members "
                "answering a wording.",
                m=m,
            ),
        ),
    )


def _text(item: ItemView | None, key: str, lang: str) -> str:
    if item is None:
        return key
    own = (item.get("translations") or {}).get(lang, {}).get("title", "").strip()
    return own or item["title"]


def _numbers(view: CharterView) -> dict[str, tuple[int, bool]]:
    """Each wording's clause number in the round and whether it amends the clause, as the
    phones and the projector number them: the round's items in order, an item's clause its
    group (`charter_kind.item_view`) or, without one, the clause whose decision lists it."""
    clause_of = {w["item"]: c["clause"] for c in view["charter"]["clauses"] for w in c["wordings"]}
    numbers: dict[str, int] = {}
    places: dict[str, tuple[int, bool]] = {}
    for item in view["items"]:
        group = item.get("group")
        clause = group["id"] if group is not None else clause_of.get(item["id"], item["id"])
        n = numbers.setdefault(clause, len(numbers) + 1)
        places[item["id"]] = (n, clause != item["id"])
    for c in view["charter"]["clauses"]:  # a decision on a clause the items lack (not expected)
        n = numbers.setdefault(c["clause"], len(numbers) + 1)
        for w in c["wordings"]:
            places.setdefault(w["item"], (n, w["item"] != c["clause"]))
    return places


def _groups(
    w: WordingRecord, rule: CharterRuleRecord, labels: Mapping[str, str], _: Translate
) -> tuple[GroupLine, ...]:
    out = []
    for g in w["affected"]:
        label = labels.get(g["group"], g["group"])
        blocks = _("yes") if g["blocks"] else _("no")
        if g["suppressed"]:
            hidden = _("fewer than %(m)s answered: not shown", m=rule["group_min"])
            out.append(GroupLine(label, True, (), blocks, f"{label}: {hidden}"))
            continue
        cells = tuple(str(x) for x in (g["V"], g["support"], g["change"], g["block"]))
        text = _(
            "%(label)s: %(v)s answered, %(s)s support, %(c)s need a change, %(b)s block",
            label=label,
            v=cells[0],
            s=cells[1],
            c=cells[2],
            b=cells[3],
        )
        out.append(GroupLine(label, False, cells, blocks, text))
    return tuple(out)


def section(
    view: CharterView, labels: Mapping[str, str], _: Translate, lang: str = "en"
) -> CharterSection:
    """The consent round's section: a clause per decision, in the round's order. `labels`:
    segment key -> its name in `lang` (a key without one is shown as it is)."""
    results = view["charter"]
    record_rule = results["rule"]
    m = record_rule["group_min"]
    items = {i["id"]: i for i in view["items"]}
    places = _numbers(view)
    scale = [(c.value, c.label) for c in CONSENT_SCALE.choices]
    clauses = []
    for c in results["clauses"]:
        wordings = []
        for w in c["wordings"]:
            n, amendment = places.get(w["item"], (0, w["item"] != c["clause"]))
            place = _("Amendment to clause %(n)s", n=n) if amendment else _("Clause %(n)s", n=n)
            chosen = ""
            if c["adopted"] is not None:
                chosen = (
                    _("The wording adopted")
                    if w["item"] == c["adopted"]
                    else _("Not the wording adopted")
                )
            names = [labels.get(g, g) for g in w["groups"]]
            wordings.append(
                WordingReport(
                    id=w["item"],
                    place=place,
                    text=_text(items.get(w["item"]), w["item"], lang),
                    amendment=amendment,
                    category=w["category"],
                    outcome=charter_words.category_name(w["category"], _),
                    icon=charter_words.ICONS.get(w["category"], ""),
                    chosen=chosen,
                    reasons=tuple(charter_words.wording_reasons(w, record_rule, _, labels)),
                    blocking=_("Blocking groups: %(groups)s.", groups=_(", ").join(names))
                    if names
                    else "",
                    summary=_("%(n)s answered", n=w["V"]),
                    answers=tuple(
                        (f"{value} {_(label)}", str(count))
                        for (value, label), count in zip(scale, w["answers"], strict=True)
                    ),
                    groups=_groups(w, record_rule, labels, _),
                )
            )
        number = places.get(c["clause"], (0, False))[0]
        clauses.append(
            ClauseReport(
                number=number,
                key=c["clause"],
                heading=_("Clause %(n)s", n=number)
                + ": "
                + charter_words.category_name(c["decision"], _),
                decision=c["decision"],
                wordings=tuple(wordings),
            )
        )
    return CharterSection(
        heading=_("Charter: each clause's decision"),
        rule=_(
            "Block share %(p)s%%, R %(r)s, m %(m)s.",
            p=record_rule["block_percent"],
            r=record_rule["ratio"],
            m=m,
        ),
        suppression=_(
            "No figures are shown for an affected group with fewer than %(m)s members "
            "answering a wording.",
            m=m,
        ),
        answers_caption=_("Answers per consent level"),
        answer_columns=(_("Answer"), _("Voters")),
        groups_caption=_("The affected groups that may block it"),
        group_columns=(
            _("Group"),
            _("Answered"),
            _("Support"),
            _("Need a change"),
            _("Block"),
            _("Blocks it"),
        ),
        hidden=_("fewer than %(m)s answered: not shown", m=m),
        clauses=tuple(clauses),
        empty="" if clauses else _("Nobody has answered yet."),
    )
