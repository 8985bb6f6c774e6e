"""Languages: gettext catalogues (Babel) under app/translations, chosen per request.

The chosen locale comes from `?lang=` (remembered in a cookie), else the `lang` cookie, else the
browser's Accept-Language, else English. Templates call `_()`; the strings JavaScript shows are
rendered into the page by the template, so they go through the same catalogues.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.support import Translations
from starlette.requests import HTTPConnection

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "en"


@cache
def available() -> tuple[str, ...]:
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    return (DEFAULT_LOCALE, *[loc for loc in found if loc != DEFAULT_LOCALE])


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale])


def gettext_for(locale: str) -> Callable[..., str]:
    """`_("Round %(n)s", n=2)`: translate, then fill the named placeholders."""
    tr = translations(locale)

    def _(message: str, **values: object) -> str:
        text = tr.gettext(message)
        return text % values if values else text

    return _


def choose_locale(conn: HTTPConnection) -> str:
    for candidate in (conn.query_params.get("lang"), conn.cookies.get("lang")):
        if candidate in available():
            return candidate
    for part in conn.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in available():
            return tag
    return DEFAULT_LOCALE
