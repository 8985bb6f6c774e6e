"""Languages: gettext catalogues (Babel) under app/translations, chosen per request.

The chosen locale comes from `?lang=` (remembered in a cookie), else the `lang` cookie, else the
browser's Accept-Language, else English. `?lang=cy+en` (a bilingual projector) takes its first
language for the page. Templates call `_()`; the strings JavaScript shows are rendered into the
page by the template, so they go through the same catalogues. `_` is a `Translator`, so a
template can also reach another language's strings (`_.for_locale("cy")`) and the language
names for a language switch (`_.languages`) and a meeting's own texts in its language
(`_.local(proposal, "title")`).

Python code marks messages it hands to templates with `N_()` (app/core/messages.py), and
the template translates them: `{{ _(message) }}`. Catalogues are built with `scripts/i18n`.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.support import Translations
from starlette.requests import HTTPConnection

from app.core.errors import CovoteError

TRANSLATIONS = Path(__file__).parent.parent / "translations"
DEFAULT_LOCALE = "en"
# Each language's own name for itself, as a language switch shows it.
LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg"}


@cache
def available() -> tuple[str, ...]:
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    return (DEFAULT_LOCALE, *[loc for loc in found if loc != DEFAULT_LOCALE])


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale not in available():
        return gettext.NullTranslations()
    # The English catalogue (if any) only holds corrections of the source wording.
    return Translations.load(str(TRANSLATIONS), [locale])


class Translator:
    """`_("Round %(n)s", n=2)`: translate, then fill the named placeholders."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._tr = translations(locale)

    def __call__(self, message: str, **values: object) -> str:
        text = self._tr.gettext(message)
        return text % values if values else text

    def for_locale(self, locale: str) -> Translator:
        return gettext_for(locale)

    def local(self, item: object, field: str) -> str:
        """A meeting's own text (a proposal title, a segment label) in this language.

        A meeting file may give other languages' wording next to the English:
        `"translations": {"cy": {"title": "...", "description": "..."}}` on a proposal or the
        meeting, `{"cy": {"label": "..."}}` on a segment. Without one, the text as given.
        """

        def get(obj: object, key: str) -> object:
            return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)

        mine = get(get(item, "translations") or {}, self.locale)
        text = get(mine, field) if mine else None
        if isinstance(text, str) and text.strip():
            return text
        value = get(item, field)
        return "" if value is None else str(value)

    @property
    def available(self) -> tuple[str, ...]:
        return available()

    @property
    def languages(self) -> list[tuple[str, str]]:
        """(locale, its own name) for every language with a catalogue, English first."""
        return [(loc, LANGUAGE_NAMES.get(loc, loc)) for loc in available()]


@cache
def gettext_for(locale: str) -> Translator:
    return Translator(locale)


def requested(value: str | None) -> list[str]:
    """The available locales a `?lang=` value names, in order: "cy", "en+cy", "cy,en"."""
    out: list[str] = []
    for part in re.split(r"[\s+,]+", (value or "").strip().lower()):
        if part in available() and part not in out:
            out.append(part)
    return out


def choose_locale(conn: HTTPConnection) -> str:
    for candidate in (conn.query_params.get("lang"), conn.cookies.get("lang")):
        chosen = requested(candidate)
        if chosen:
            return chosen[0]
    for part in conn.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in available():
            return tag
    return DEFAULT_LOCALE


def error_message(conn: HTTPConnection, exc: CovoteError) -> str:
    """An error's message in the language this browser chose (English when not translated)."""
    return gettext_for(choose_locale(conn))(exc.msgid, **exc.params)
