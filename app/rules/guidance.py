"""Help choosing R and m: what they mean for a meeting of the size the facilitator expects.

Pure: from R, m, the expected attendance (None: not given) and the number of segments that can
protect, `rule_guidance` makes the plain-words explanation shown beside the R and m fields on
set-up, and the warnings when m is out of reach of the groups this meeting will have. Every
sentence goes through the translator `_` the caller passes (`i18n.Translator`, or
`explain.english`), so the server-rendered page and the JSON the set-up page's script fetches
say the same.

The conditions are voting-rule.md section 2, as app/rules/tally.py counts them:

    rejected only if  2*D > V  and  D >= R*W              (and no affected group protects)
    protects(g)       W_g >= m  and  2*W_g > V_g  and  W_g >= R*D_g

so "more than half" is strictly more than half (of 60 voters: at least 31), and "R to 1" is at
least R times as many (R = 1: at least as many), never "outnumber".
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from app.rules.explain import Translate

# Attendance the form accepts: a meeting of a million people is not run from one laptop, and the
# bound keeps the number an ordinary integer everywhere (the column is a 32-bit INTEGER).
MAX_EXPECTED_ATTENDANCE = 1_000_000


@dataclass(frozen=True, slots=True)
class Guidance:
    """What R and m mean for this meeting, and what may be wrong with them.

    `explanation`: sentences to show in order. `warnings`: each one a reason that m is likely
    to keep groups from protecting (or lets one person do it); empty when nothing is amiss.
    """

    explanation: tuple[str, ...]
    warnings: tuple[str, ...]


def majority_of(voters: int) -> int:
    """The fewest of `voters` that are more than half of them (`2*x > voters`)."""
    return voters // 2 + 1


def typical_group(attendance: int, protecting_segments: int) -> Fraction:
    """The expected size of a group that can protect: attendance shared equally among the
    segments that can protect (exact; a person may be in several, so this is a rough guide)."""
    return Fraction(attendance, protecting_segments)


def _about(size: Fraction) -> int:
    """`size` rounded half up, for "about N" (exact comparisons use the Fraction itself)."""
    return int((size * 2 + 1) // 2)


def rule_guidance(
    ratio: int,
    group_min: int,
    expected_attendance: int | None,
    protecting_segments: int,
    _: Translate,
) -> Guidance:
    """Plain words for R = `ratio` and m = `group_min` at a meeting of `expected_attendance`
    people (None: not given, the explanation is then general) with `protecting_segments`
    segments that can protect (those not marked "never protects").

    Warnings, at most one about size (the stronger one):
    * m > expected attendance: no group can ever protect or object;
    * otherwise m > attendance / protecting segments: a group of typical size cannot;
    * no segment can protect (only when segments are all "never protects" or none exist);
    * m = 1: one person alone can protect (and object) as a group.

    Raises:
        ValueError: `ratio` or `group_min` below 1, `expected_attendance` below 1 or
            `protecting_segments` below 0 (the callers' forms and files bound them first).
    """
    if ratio < 1 or group_min < 1 or protecting_segments < 0:
        raise ValueError("R and m must be at least 1, the number of segments at least 0")
    if expected_attendance is not None and expected_attendance < 1:
        raise ValueError("the expected attendance must be at least 1")
    r, m = ratio, group_min

    explanation: list[str] = []
    if expected_attendance is not None:
        n = expected_attendance
        if r == 1:
            explanation.append(
                _(
                    "For an expected attendance of %(n)s: if all %(n)s vote, a proposal is "
                    "rejected only when at least %(half)s of them say DON'T WANT, at least as "
                    "many as say WANT, and no affected group protects it.",
                    n=n,
                    half=majority_of(n),
                )
            )
        else:
            explanation.append(
                _(
                    "For an expected attendance of %(n)s: if all %(n)s vote, a proposal is "
                    "rejected only when at least %(half)s of them say DON'T WANT, with at least "
                    "%(r)s DON'T WANTs for every WANT, and no affected group protects it.",
                    n=n,
                    half=majority_of(n),
                    r=r,
                )
            )
    else:
        explanation.append(
            _(
                "A proposal is rejected only when more than half of those who vote say DON'T "
                "WANT, with at least %(r)s DON'T WANTs for every WANT, and no affected group "
                "protects it.",
                r=r,
            )
            if r > 1
            else _(
                "A proposal is rejected only when more than half of those who vote say DON'T "
                "WANT, at least as many as say WANT, and no affected group protects it."
            )
        )
    explanation.append(
        _(
            "An affected group protects a proposal when at least %(m)s of its members WANT it, "
            "they are more than half of the group's members who vote, and there are at least "
            "%(r)s WANTs for every DON'T WANT in the group. It objects when the same is true "
            "of DON'T WANT.",
            m=m,
            r=r,
        )
        if r > 1
        else _(
            "An affected group protects a proposal when at least %(m)s of its members WANT it, "
            "they are more than half of the group's members who vote, and at least as many of "
            "them WANT it as DON'T WANT it. It objects when the same is true of DON'T WANT.",
            m=m,
        )
    )

    warnings: list[str] = []
    if expected_attendance is not None and m > expected_attendance:
        warnings.append(
            _(
                "m = %(m)s is more than the %(n)s people you expect: no group can protect or "
                "object to anything. Lower m, or the rule can only reject or support.",
                m=m,
                n=expected_attendance,
            )
        )
    elif expected_attendance is not None and protecting_segments > 0:
        size = typical_group(expected_attendance, protecting_segments)
        if m > size:
            warnings.append(
                _(
                    "m = %(m)s is more than a typical group is likely to be: %(n)s people "
                    "shared among %(s)s segments that can protect makes about %(size)s per "
                    "group. Most groups could never protect or object to anything.",
                    m=m,
                    n=expected_attendance,
                    s=protecting_segments,
                    size=_about(size),
                )
            )
    if protecting_segments == 0:
        warnings.append(
            _(
                "No segment can protect yet: add the segments attendees can declare, and do "
                'not mark the ones that should protect "never protects".'
            )
        )
    if m == 1:
        warnings.append(
            _(
                "With m = 1 a single person is a protecting group: one member of an affected "
                "group who WANTs a proposal protects it when nobody else in the group votes, "
                "and one who says DON'T WANT can likewise object."
            )
        )
    return Guidance(tuple(explanation), tuple(warnings))
