"""Marking messages for translation, for code below the web layer.

Python code marks the messages it hands to pages with `N_()`, a no-op the extractor knows
(babel.cfg); the page translates them later with `{{ _(message) }}` (app/web/i18n.py). Kept
here, not in the web layer, so the pure rules and the domain services can mark text without
importing the web framework.

A message shown later, after a redirect (the console's status messages), is a `Said`: its
msgids and their values, translated by the page that shows it (app/console/forms.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark a message for extraction without translating it (templates translate it later)."""
    return message


# What a message's placeholder may hold: kept in the session between a change and the page
# that shows it, so plain JSON values only.
Param = str | int


@dataclass(frozen=True, slots=True)
class Said:
    """A status message to translate when it is shown, not when it is made: one or more
    sentences, each a msgid marked with `N_` and the values of its named placeholders.

    The console's changes return one (`said(...)`); the page that shows it translates each
    sentence into the reader's language and joins them with a space. `a + b` is `a` then `b`.
    """

    parts: tuple[tuple[str, Mapping[str, Param]], ...]

    def __add__(self, other: Said) -> Said:
        return Said(self.parts + other.parts)

    def english(self) -> str:
        """The message in the source language (logs, tests)."""
        return " ".join(msgid % params if params else msgid for msgid, params in self.parts)


def said(msgid: str, **params: Param) -> Said:
    """One sentence: `said(N_("Round %(n)s is closed."), n=2)`."""
    return Said(((msgid, params),))
