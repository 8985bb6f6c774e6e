"""Amendments proposed to a charter's clauses, before the moderator puts them to the room.

Pure (plain values in and out). The queue is stored by app/voting/charter_amendments.py; the
charter document (with each clause's accepted amendments) is app/rules/charter_doc.py, and the
rule that chooses between a clause and its amendments is app/rules/charter.py.

A proposal is PROPOSED until the moderator decides: ACCEPTED (it joins the clause in a new
charter version, as an `Amendment` with status ACCEPTED, and the next consent round asks it
beside the original), DECLINED (not put to the vote: off topic, abusive; with a reason) or
MERGED (a duplicate of another proposal to the same clause, which stands for it). The first
three are the charter file's `AmendmentStatus` words; MERGED never reaches a charter file.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from app.rules import charter_doc as cd
from app.rules.charter import AmendmentStatus

MAX_TEXT = 600  # an amendment rewords one clause (charter_doc.MAX_TEXT is 1000): a paragraph
MAX_REASON = 300  # the moderator's reason for declining: a sentence, shown to the proposer
# Proposals waiting in one meeting: a moderator reads a few dozen in a break; more is a flood.
MAX_PENDING = 100
# Proposals one phone may send in a meeting (the rate is Settings.limit_amendments_per_voter).
MAX_PER_VOTER = 10


class ProposalStatus(StrEnum):
    """Where a proposed amendment stands in the moderator's queue."""

    PROPOSED = AmendmentStatus.PROPOSED.value
    ACCEPTED = AmendmentStatus.ACCEPTED.value
    DECLINED = AmendmentStatus.DECLINED.value
    MERGED = "merged"


def clause_numbers(charter: cd.Charter) -> dict[str, int]:
    """Each clause's number in the charter, 1 first, in document order (sections run on)."""
    return {c.key: n for n, c in enumerate(charter.clauses(), start=1)}


def with_amendment(charter: cd.Charter, clause: str, amendment: cd.Amendment) -> cd.Charter:
    """`charter` with `amendment` after clause `clause`'s other amendments (same version
    number: the caller saves it as the next).

    Raises:
        ValueError: no such clause, or the amendment's key is a clause's or amendment's key.
    """
    keys = {c.key for c in charter.clauses()} | {
        a.key for c in charter.clauses() for a in c.amendments
    }
    if clause not in {c.key for c in charter.clauses()}:
        raise ValueError(f"the charter has no clause {clause!r}")
    if amendment.key in keys:
        raise ValueError(f"the key {amendment.key!r} is taken")

    def amended(c: cd.Clause) -> cd.Clause:
        return replace(c, amendments=(*c.amendments, amendment)) if c.key == clause else c

    return replace(
        charter,
        sections=tuple(
            replace(s, clauses=tuple(amended(c) for c in s.clauses)) for s in charter.sections
        ),
    )
