"""What the council did about a survey's results ("We did", on the public "You said" page):
a text overall and one per service, each in English and Welsh.

Pure (strings in, strings out). Stored as JSON in `meeting_survey.we_did` (app/voting/surveys.py):

    {"overall": {"en": "...", "cy": "..."}, "services": {"library": {"en": "...", "cy": "..."}}}

Texts are cleaned as descriptions are (`clean_text(multiline=True)`: line breaks kept) and
bounded by `MAX_TEXT`; empty texts are left out, and nothing at all is stored as NULL. A text
for a service the survey no longer asks about is kept but not shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.core.errors import BadInput, CovoteError, InvalidForm
from app.core.inputs import clean_text
from app.core.messages import N_

LANGUAGES = ("en", "cy")  # the set-up page's two languages; English is shown when one is empty
MAX_TEXT = 3000  # characters of one text: a few paragraphs saying what was done, not a report

Texts = Mapping[str, str]  # language -> text


@dataclass(frozen=True, slots=True)
class WeDid:
    overall: Texts = field(default_factory=dict)
    services: Mapping[str, Texts] = field(default_factory=dict)

    def empty(self) -> bool:
        return not self.overall and not self.services

    def overall_in(self, lang: str) -> str:
        """The overall text in `lang`, else in English ("" when none)."""
        return _in(self.overall, lang)

    def service_in(self, key: str, lang: str) -> str:
        """A service's text in `lang`, else in English ("" when none)."""
        return _in(self.services.get(key, {}), lang)


def _in(texts: Texts, lang: str) -> str:
    return texts.get(lang) or texts.get("en", "")


def _kept(texts: Mapping[str, object]) -> dict[str, str]:
    return {
        lang: clean_text(str(texts[lang]), multiline=True).strip()
        for lang in LANGUAGES
        if isinstance(texts.get(lang), str) and str(texts[lang]).strip()
    }


def parse_we_did(text: str | None) -> WeDid:
    """The stored JSON (None: nothing written). What this module wrote reads back the same;
    anything else in it is ignored (never a reason to fail a public page)."""
    if not text:
        return WeDid()
    try:
        data = json.loads(text)
    except ValueError:
        return WeDid()
    if not isinstance(data, dict):
        return WeDid()
    overall = data.get("overall")
    services = data.get("services")
    return WeDid(
        _kept(overall) if isinstance(overall, dict) else {},
        {
            str(k): kept
            for k, v in (services.items() if isinstance(services, dict) else ())
            if isinstance(v, dict) and (kept := _kept(v))
        },
    )


def dump_we_did(we_did: WeDid) -> str | None:
    """The JSON to store (None: nothing written), keys sorted."""
    if we_did.empty():
        return None
    data = {
        "overall": dict(we_did.overall),
        "services": {k: dict(v) for k, v in we_did.services.items()},
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def from_fields(overall: Texts, services: Mapping[str, Texts]) -> WeDid:
    """The texts as typed (raw, by language): overall, and by service key. Cleaned; empty
    ones left out.

    Raises:
        InvalidForm: every text over `MAX_TEXT` characters, by its field (`wd-overall-cy`,
            `wd-s-library-en`: the console's inputs).
    """
    problems: list[tuple[str, CovoteError]] = []

    def checked(where: str, texts: Texts) -> dict[str, str]:
        kept = _kept(texts)
        for lang, text in kept.items():
            if len(text) > MAX_TEXT:
                error = BadInput(N_("A text is at most %(most)s characters."), most=MAX_TEXT)
                problems.append((f"{where}-{lang}", error))
        return kept

    said = checked("wd-overall", overall)
    by_service = {key: kept for key, t in services.items() if (kept := checked(f"wd-s-{key}", t))}
    if problems:
        raise InvalidForm(problems)
    return WeDid(said, by_service)
