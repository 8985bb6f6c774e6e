"""STUB of LAB-CORE's app/rules/lab.py (/work/notes/lab-interface.md): only the vocabulary and
the text bounds LAB-ROOM stores and checks, until branch s16-core is merged (take theirs)."""

from __future__ import annotations

from enum import StrEnum

IDEA_TEXT_MAX = 280
IDEA_DESCRIPTION_MAX = 1000
CHALLENGE_MAX = 300


class IdeaKind(StrEnum):
    CUT_COST = "cut_cost"
    REDESIGN = "redesign"
    CO_DELIVER = "co_deliver"


class IdeaStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    HIDDEN = "hidden"
    MERGED = "merged"


class Rating(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"
