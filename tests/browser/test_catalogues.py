"""The translation catalogues (no browser needed): the committed .mo files are what their .po
files compile to, every attendee-facing message is in the catalogues and has a Welsh
translation, and translations keep their placeholders. `scripts/i18n` fixes the first two
(then translate what it marks), `scripts/i18n check` runs these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
# The facilitator's pages may lag behind in Welsh; everything else is for attendees.
CONSOLE = ("app/templates/console/", "app/console")


def attendee_facing(path: str) -> bool:
    return not path.replace("\\", "/").startswith(CONSOLE)


def load(po: Path) -> Catalog:
    with po.open("rb") as f:
        return read_po(f, locale=po.parts[-3])


def test_there_are_english_and_welsh_catalogues() -> None:
    assert {po.parts[-3] for po in CATALOGUES} >= {"en", "cy"}
    assert (TRANSLATIONS / "messages.pot").exists()


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-3])
def test_the_committed_mo_is_the_compiled_po(po: Path, tmp_path: Path) -> None:
    """The product runs from the committed .mo files: they must match the .po exactly."""
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as f:
        write_mo(f, load(po), use_fuzzy=False)
    committed = po.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run scripts/i18n compile"
    assert committed.read_bytes() == compiled.read_bytes(), (
        f"{committed} is out of date with {po.name}: run scripts/i18n compile"
    )


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-3])
def test_translations_keep_their_placeholders(po: Path) -> None:
    problems = [
        f"{message.id!r}: {error}" for message, errors in load(po).check() for error in errors
    ]
    assert not problems, "\n".join(problems)


def extracted_from_code() -> dict[str, set[str]]:
    """msgid -> files it is used in, as scripts/i18n extracts them."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    found: dict[str, set[str]] = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, set()).add(filename)
    return found


def test_every_attendee_message_in_the_code_is_in_the_catalogues() -> None:
    """A new or changed text on the phone, join, error or projector pages needs scripts/i18n
    (and a Welsh translation) before it ships."""
    pot = {m.id for m in load(TRANSLATIONS / "messages.pot") if m.id}
    missing = sorted(
        msgid
        for msgid, files in extracted_from_code().items()
        if msgid not in pot and any(attendee_facing(f) for f in files)
    )
    assert not missing, "not in app/translations/messages.pot (run scripts/i18n):\n" + "\n".join(
        missing
    )


def test_every_attendee_message_has_a_welsh_translation() -> None:
    pot_ids = {m.id for m in load(TRANSLATIONS / "messages.pot") if m.id}
    welsh = load(TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po")
    assert {m.id for m in welsh if m.id} == pot_ids, "cy catalogue not updated: run scripts/i18n"
    untranslated = [
        m.id
        for m in welsh
        if m.id
        and any(attendee_facing(path) for path, _ in m.locations)
        and (not m.string or m.fuzzy)
    ]
    assert not untranslated, "attendee-facing messages without Welsh:\n" + "\n".join(
        map(repr, untranslated)
    )


def test_the_glossary_terms_are_used_consistently() -> None:
    """The three marks are always the same Welsh words (the glossary in the .po header)."""
    welsh = load(TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po")
    assert "Glossary" in (welsh.header_comment or "")
    for message in welsh:
        if not message.id or not message.string:
            continue
        text = str(message.string)
        if "DON'T WANT" in message.id:
            assert "DDIM EISIAU" in text, message.id
        elif "WANT" in message.id:
            assert "EISIAU" in text, message.id
        if "NEUTRAL" in message.id:
            assert "NIWTRAL" in text, message.id


def test_a_welsh_page_is_rendered_in_welsh() -> None:
    from app.web import i18n

    _ = i18n.gettext_for("cy")
    assert _("Your ballot is saved") == "Mae eich pleidlais wedi'i chadw"
    assert _("Round %(n)s: your vote", n=3) == "Rownd 3: eich pleidlais"
    assert i18n.gettext_for("en")("Round %(n)s: your vote", n=3) == "Round 3: your vote"
    assert (
        _.local({"title": "Library", "translations": {"cy": {"title": "Llyfrgell"}}}, "title")
        == "Llyfrgell"
    )
    assert _.local({"title": "Library"}, "title") == "Library"
    assert i18n.requested("cy+en") == ["cy", "en"] and i18n.requested("fr") == []
