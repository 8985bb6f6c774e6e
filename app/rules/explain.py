"""The counting rule and its outcomes in plain words, with a meeting's own numbers.

Pure: every sentence is made through the translator `_` the caller passes (`i18n.Translator`,
or `english`), from R, m and the counts; the results report (app/record/report.py) is built from
these.
The rule itself is app/rules/tally.py (voting-rule.md section 2); this module only explains it.

This is the one place for the outcome words: category names, icons, reasons, what an outcome
means for a keep or fund proposal, and the channel names. The live screens get them from
`live_strings` (the projector's and the console round page's JSON islands and tables), the
report and the PDF from `outcome` and `reason_text`, so the room and the minutes say the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.messages import N_
from app.core.shapes import RoomCounts
from app.core.vocab import Channel
from app.rules.tally import Category, Reason

Translate = Callable[..., str]

CATEGORIES: tuple[Category, ...] = tuple(Category)
KINDS = ("keep", "fund")

# The icon beside each category's name (projector badges, console round page).
ICONS: dict[str, str] = {
    Category.SUPPORTED: "\u2713",
    Category.PROTECTED: "\u25c6",
    Category.CONTESTED: "?",
    Category.REJECTED: "\u2717",
}

# Channel names in display order (vocab.Channel): the report's turnout table.
CHANNEL_NAMES: dict[str, str] = {
    Channel.PHONE: N_("Phone in the room"),
    Channel.REMOTE: N_("Remote"),
    Channel.KEYPAD: N_("Keypad"),
    Channel.PAPER: N_("Paper"),
}

# One line per reason for the live screens; the page fills %(ratio)s and %(groups)s.
SHORT_REASONS: dict[str, str] = {
    Reason.MORE_WANT: N_("More WANT than DON'T WANT"),
    Reason.QUALIFIED_OPPOSITION: N_("More than half the room DON'T WANT, at least %(ratio)s to 1"),
    Reason.AFFECTED_GROUP: N_("Protected by the people it affects: %(groups)s"),
    Reason.AFFECTED_GROUP_OBJECTS: N_("The people it affects object: %(groups)s"),
    Reason.NO_CLEAR_MAJORITY: N_("No clear majority — refer back"),
    Reason.STRONG_MINORITY: N_("A strong minority WANTs it — not thrown out"),
}


# What each outcome means, in a few words: the projector's one-line legend under the results.
LEGEND: dict[str, str] = {
    Category.SUPPORTED: N_("more WANT than DON'T WANT"),
    Category.PROTECTED: N_("not rejected: backed by those it affects or a strong minority"),
    Category.CONTESTED: N_("no decision tonight: refer back"),
    Category.REJECTED: N_("more than half the room DON'T WANT it"),
}

# What WANT means for each kind of proposal, said where proposals are put to the room.
WANT_MEANS: dict[str, str] = {
    "keep": N_("Keep: WANT means keep the service"),
    "fund": N_("Fund: WANT means fund it"),
}


def english(message: str, **values: object) -> str:
    """The untranslated text, with its placeholders filled (what `_` does for English)."""
    return message % values if values else message


@dataclass(frozen=True, slots=True)
class Outcome:
    category: str
    label: str  # translated category name
    meaning: str  # what it means for this kind of proposal


@dataclass(frozen=True, slots=True)
class RuleText:
    heading: str
    paragraphs: tuple[str, ...]
    outcomes: tuple[tuple[Outcome, str], ...]  # (category, when it applies)
    ranking: str
    suppression: str


def rule_text(ratio: int, m: int, _: Translate) -> RuleText:
    """The counting rule (voting-rule.md section 2) in plain words, with this meeting's R and m."""
    r = ratio
    if r == 1:
        rejected = _(
            "A proposal is REJECTED only if at least as many people said DON'T WANT as said "
            "WANT, more than half of those who voted on it said DON'T WANT, and no affected "
            "group protects it."
        )
        protects = _(
            "The affected groups of a proposal are the groups of people it affects, named "
            "before the meeting. An affected group protects a proposal when at least %(m)s of "
            "its members WANT it, more than half of its members who voted WANT it, and at least "
            "as many of them WANT it as DON'T WANT it. It objects to a proposal when the same is "
            "true of DON'T WANT.",
            m=m,
        )
    else:
        rejected = _(
            "A proposal is REJECTED only if at least %(r)s times as many people said DON'T "
            "WANT as said WANT, more than half of those who voted on it said DON'T WANT, and no "
            "affected group protects it.",
            r=r,
        )
        protects = _(
            "The affected groups of a proposal are the groups of people it affects, named "
            "before the meeting. An affected group protects a proposal when at least %(m)s of "
            "its members WANT it, more than half of its members who voted WANT it, and at least "
            "%(r)s times as many of them WANT it as DON'T WANT it. It objects to a proposal when "
            "the same is true of DON'T WANT.",
            m=m,
            r=r,
        )
    paragraphs = (
        _(
            "Everyone who voted in a round marked each proposal WANT, DON'T WANT or NEUTRAL; a "
            "proposal they left unmarked counts as NEUTRAL. For a Keep proposal WANT means keep "
            "the service; for a Fund proposal WANT means fund it."
        ),
        rejected,
        protects,
        _(
            'Groups marked "never protects" (such as council staff) neither protect nor object. '
            "This meeting counted with R = %(r)s and m = %(m)s.",
            r=r,
            m=m,
        ),
    )
    when = {
        "SUPPORTED": _("More people WANT it than DON'T WANT it, and no affected group objects."),
        "PROTECTED": _(
            "At least as many people DON'T WANT it as WANT it, but it is not rejected: an "
            "affected group protects it, or a strong minority WANTs it (DON'T WANT is short of "
            "%(r)s to 1).",
            r=r,
        ),
        "CONTESTED": _(
            "No decision tonight, refer back: an affected group objects to it, or DON'T WANT "
            "is at least %(r)s to 1 but not more than half of the voters said DON'T WANT (no "
            "clear majority).",
            r=r,
        ),
        "REJECTED": _(
            "More than half of the voters said DON'T WANT, at least %(r)s to 1, and no affected "
            "group protects it.",
            r=r,
        ),
    }
    return RuleText(
        heading=_("How the votes were counted"),
        paragraphs=paragraphs,
        outcomes=tuple((outcome(c, None, _), when[c]) for c in CATEGORIES),
        ranking=_(
            "Proposals are ranked by outcome (SUPPORTED first, then PROTECTED, CONTESTED, "
            "REJECTED), then by WANT minus DON'T WANT, then more WANT, then fewer DON'T WANT, "
            "then by a tie-break order drawn before the meeting."
        ),
        suppression=_(
            "An affected group with fewer than %(m)s members voting is shown without its "
            "counts: it cannot protect or object, and small counts could identify people.",
            m=m,
        ),
    )


def live_strings(_: Translate) -> dict[str, str]:
    """The outcome words of the live screens, keyed as the projector's strings are.

    `cat_<CATEGORY>` (name), `icon_<CATEGORY>`, `reason_<reason>` (with %(ratio)s and
    %(groups)s left for the page to fill), `means_<kind>_<CATEGORY>` (the report's meaning) and,
    where the meaning depends on the reason, `means_<kind>_<CATEGORY>_<reason>`;
    `legend_<CATEGORY>` (the few words of the results legend), `want_means_<kind>` and
    `categories`: the category names in the rule's order, comma-separated (not a text to show:
    the screens list outcomes in this order, and a JSON object's keys keep none).
    """
    out: dict[str, str] = {"categories": ",".join(CATEGORIES)}
    for c in CATEGORIES:
        out[f"cat_{c}"] = outcome(c, None, _).label
        out[f"icon_{c}"] = ICONS[c]
        out[f"legend_{c}"] = _(LEGEND[c])
    for kind, text in WANT_MEANS.items():
        out[f"want_means_{kind}"] = _(text)
    for r, text in SHORT_REASONS.items():
        out[f"reason_{r}"] = _(text)
    for kind in KINDS:
        for c in CATEGORIES:
            plain = outcome(c, kind, _).meaning
            out[f"means_{kind}_{c}"] = plain
            for r in Reason:
                if (special := outcome(c, kind, _, r).meaning) != plain:
                    out[f"means_{kind}_{c}_{r}"] = special
    return out


def outcome(category: str, kind: str | None, _: Translate, reason: str = "") -> Outcome:
    names = {
        "SUPPORTED": _("SUPPORTED"),
        "PROTECTED": _("PROTECTED"),
        "CONTESTED": _("CONTESTED"),
        "REJECTED": _("REJECTED"),
    }
    if kind == "fund":
        meaning = {
            "SUPPORTED": _("The room supports funding it."),
            "PROTECTED": _("Backed by the people it affects: not rejected.")
            if reason == Reason.AFFECTED_GROUP
            else _("Backed by a strong minority: not rejected."),
            "CONTESTED": _("Refer back: no decision tonight."),
            "REJECTED": _("Not supported."),
        }
    elif kind == "keep":
        meaning = {
            "SUPPORTED": _("Keep the service."),
            "PROTECTED": _(
                "Kept: not cut tonight; it goes back to commissioners with the evidence."
            ),
            "CONTESTED": _("Refer back: no decision tonight."),
            "REJECTED": _("The room accepts the saving."),
        }
    else:
        meaning = {
            "SUPPORTED": _("Keep it or fund it."),
            "PROTECTED": _("Not rejected."),
            "CONTESTED": _("Refer back: no decision tonight."),
            "REJECTED": _(
                "For a Keep proposal the room accepts the saving; a Fund proposal is not supported."
            ),
        }
    return Outcome(category, names.get(category, category), meaning.get(category, ""))


def reason_text(
    reason: str, counts: RoomCounts, groups: Sequence[str], ratio: int, m: int, _: Translate
) -> str:
    """Why a proposal got its outcome, in words, with its numbers (voting-rule.md section 2)."""
    v, w, d = counts["V"], counts["W"], counts["D"]
    if v == 0:
        return _("Nobody has voted on it yet.")
    names = _(", ").join(groups)
    texts = {
        "more-want": lambda: _(
            "%(w)s WANT and %(d)s DON'T WANT: more people WANT it, and no affected group objects.",
            w=w,
            d=d,
        ),
        "qualified-opposition": lambda: _(
            "%(d)s of the %(v)s voters said DON'T WANT, more than half, against %(w)s WANT: at "
            "least %(r)s to 1, and no affected group protects it.",
            d=d,
            v=v,
            w=w,
            r=ratio,
        ),
        "affected-group": lambda: _(
            "Protected by the people it affects: %(groups)s. Enough of them WANT it (at least "
            "%(m)s, more than half of those who voted, %(r)s to 1) that it cannot be rejected. "
            "The room: %(w)s WANT, %(d)s DON'T WANT.",
            groups=names,
            m=m,
            r=ratio,
            w=w,
            d=d,
        ),
        "affected-group-objects": lambda: _(
            "The people it affects object: %(groups)s. At least %(m)s of them, more than half "
            "of those who voted, said DON'T WANT, %(r)s to 1. No decision tonight: refer back.",
            groups=names,
            m=m,
            r=ratio,
        ),
        "no-clear-majority": lambda: _(
            "%(d)s DON'T WANT against %(w)s WANT is at least %(r)s to 1, but not more than half "
            "of the %(v)s voters said DON'T WANT: no clear majority, refer back.",
            d=d,
            w=w,
            r=ratio,
            v=v,
        ),
        "strong-minority": lambda: _(
            "%(d)s DON'T WANT against %(w)s WANT is less than %(r)s to 1: a strong minority "
            "WANTs it, so it is not thrown out.",
            d=d,
            w=w,
            r=ratio,
        ),
    }
    make = texts.get(reason)
    return make() if make is not None else reason
