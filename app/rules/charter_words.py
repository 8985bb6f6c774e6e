"""The charter's adoption rule and its outcomes in plain words, with a meeting's own numbers.

Pure, in app/rules/explain.py's style: every sentence is made through the translator `_` the
caller passes (`i18n.Translator`, or `explain.english`). This is the one place for the charter's
outcome words (category names, reasons, the rule in words, the review's score; the answers'
labels are their scales': charter.CONSENT_SCALE, charter_review.RATING_SCALE); the console,
the projector, the phones and the PDF read them from here. The rule itself is
app/rules/charter.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.core.messages import N_
from app.core.shapes import CharterRuleRecord, WordingRecord
from app.rules.charter import Category, ConsentCounts, Reason
from app.rules.explain import Translate

# The category names and what each means, for the screens (translate with `_`).
CATEGORY_NAMES: dict[str, str] = {
    Category.ADOPTED: N_("ADOPTED"),
    Category.ADOPTED_WITH_RESERVATIONS: N_("ADOPTED WITH RESERVATIONS"),
    Category.SENT_BACK: N_("SENT BACK"),
}
ICONS: dict[str, str] = {
    Category.ADOPTED: "\u2713",
    Category.ADOPTED_WITH_RESERVATIONS: "\u25c6",
    Category.SENT_BACK: "\u21a9",
}
# One line per reason; the page fills %(groups)s.
SHORT_REASONS: dict[str, str] = {
    Reason.NO_ANSWERS: N_("Nobody answered"),
    Reason.BLOCK_SHARE: N_("Too many block it"),
    Reason.GROUP_BLOCKS: N_("The people it affects block it: %(groups)s"),
    Reason.NEEDS_CHANGE: N_("Not enough support as worded: it needs a change"),
    Reason.FULL_SUPPORT: N_("More than half fully support it"),
    Reason.RESERVATIONS: N_("Adopted, with reservations to note"),
}


def category_name(category: str, _: Translate) -> str:
    """A category's name in the reader's language (the value itself if unknown)."""
    name = CATEGORY_NAMES.get(category)
    return _(name) if name is not None else category


def reason_text(
    reason: str,
    counts: ConsentCounts,
    groups: Sequence[str],
    block_percent: int,
    ratio: int,
    m: int,
    _: Translate,
) -> str:
    """Why a wording got its outcome, in words, with its numbers (charter.py, steps 1-5)."""
    v, s, c, b, f = counts.V, counts.S, counts.C, counts.B, counts.F
    texts = {
        Reason.NO_ANSWERS: lambda: _("Nobody answered this wording."),
        Reason.BLOCK_SHARE: lambda: _(
            "%(b)s of the %(v)s who answered block it: more than %(p)s%%.",
            b=b,
            v=v,
            p=block_percent,
        ),
        Reason.GROUP_BLOCKS: lambda: _(
            "The people it affects block it: %(groups)s. At least %(m)s of them, more than half "
            "of those who answered, block it, at least %(r)s to 1 against those who support it.",
            groups=_(", ").join(groups),
            m=m,
            r=ratio,
        ),
        Reason.NEEDS_CHANGE: lambda: _(
            "%(s)s support it, against %(c)s who need a change and %(b)s who block it: support "
            "must be more than the other two together.",
            s=s,
            c=c,
            b=b,
        ),
        Reason.FULL_SUPPORT: lambda: _(
            "%(f)s of the %(v)s who answered fully support it, more than half, and nothing "
            "stops it.",
            f=f,
            v=v,
        ),
        Reason.RESERVATIONS: lambda: _(
            "%(s)s of the %(v)s who answered support it or can live with it, and nothing stops "
            "it; %(f)s fully support it, so the reservations are noted for the review.",
            s=s,
            v=v,
            f=f,
        ),
    }
    make = texts.get(Reason(reason)) if reason in set(Reason) else None
    return make() if make is not None else reason


def wording_reasons(
    w: WordingRecord,
    rule: CharterRuleRecord,
    _: Translate,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """Why a wording of a consent round's results (`charter_files.results_json`) got its
    outcome, a sentence per reason with its numbers (`reason_text`): the words of the console's
    round page and of the results report. `labels` names the blocking groups (segment key ->
    its label in the reader's language); a key without one is shown as it is."""
    by = w["answers"]
    counts = ConsentCounts((by[0], by[1], by[2], by[3], by[4]))
    groups = [(labels or {}).get(g, g) for g in w["groups"]]
    return [
        reason_text(r, counts, groups, rule["block_percent"], rule["ratio"], rule["group_min"], _)
        for r in w["reasons"]
    ]


def rule_text(block_percent: int, ratio: int, m: int, _: Translate) -> tuple[str, ...]:
    """The adoption rule in plain words, with this meeting's P, R and m (one paragraph each)."""
    return (
        _(
            "Each clause, and each amendment put to the room, is answered on a scale: 1 fully "
            "support, 2 support with reservations, 3 can live with it, 4 need a change, 5 block."
        ),
        _(
            "A wording is sent back when more than %(p)s%% of those who answered block it; when "
            "an affected group blocks it (at least %(m)s of its members block it, more than half "
            "of its members who answered, and at least %(r)s times as many as support it); or "
            "when those who support it (1, 2 or 3) are not more than those who need a change "
            "and those who block it together.",
            p=block_percent,
            m=m,
            r=ratio,
        ),
        _(
            "Otherwise it is adopted: ADOPTED when more than half fully support it, else ADOPTED "
            "WITH RESERVATIONS."
        ),
        _(
            "When the original and amendments are adopted, the one with the most support, less "
            "those who need a change and those who block, is the clause; a tie keeps the "
            "original, then the earlier amendment. When none is adopted, the clause goes back to "
            "the drafters with the reasons."
        ),
    )


def score_text(percent: int, n: int, _: Translate) -> str:
    """A party's review score in words ("%(percent)s%% kept, from %(n)s ratings")."""
    return _("%(percent)s%% kept, from %(n)s ratings", percent=percent, n=n)
