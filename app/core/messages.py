"""Marking messages for translation, for code below the web layer.

Python code marks the messages it hands to pages with `N_()`, a no-op the extractor knows
(babel.cfg); the page translates them later with `{{ _(message) }}` (app/web/i18n.py). Kept
here, not in the web layer, so the pure rules and the domain services can mark text without
importing the web framework.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for extraction without translating it (templates translate it later)."""
    return message
