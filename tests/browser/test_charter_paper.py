"""A charter consent round on paper in a real browser (issue 17): the demo charter's eleven
wordings printed in English and in English with Welsh beside it run to several A4 pages, each
printed page naming the sheet; axe-core on the sheet and on the keying form."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from app.console import demo_charter
from app.demo import charter as demo
from app.record.charter_file import dump_charter
from app.voting.charter_kind import charter_items
from tests.browser.conftest import Contexts, axe, screenshot
from tests.conftest import FACILITATOR_KEY, LiveServer, Meeting


@pytest.mark.parametrize("lang", ["en", "en+cy"])
def test_the_demo_charter_prints_on_numbered_a4_pages_and_keys_accessibly(
    contexts: Contexts, live: LiveServer, lang: str
) -> None:
    f = live.browser()
    f.get(f"/facilitator?key={FACILITATOR_KEY}")
    meeting = Meeting(f, demo_charter.sample().model_dump(mode="json"))
    meeting.post("/charter/import", text=dump_charter(demo.draft()))
    keys = [i.key for i in charter_items(demo.draft())]
    meeting.post("/rounds", kind="charter", proposal=keys)

    page = contexts.facilitator()
    page.goto(f"/console/{meeting.id}/rounds/1/paper/print?from=12&count=1&lang={lang}")
    axe(page, f"print: charter consent sheet ({lang})")
    assert page.locator("tr[data-proposal]").count() == len(keys)
    screenshot(page, f"charter-paper-print-{lang}", full_page=True)
    pdf = pdfium.PdfDocument(page.pdf(format="A4"))
    texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    assert len(texts) >= 3
    assert all("Sheet 0012" in t for t in texts), texts
    both = " ".join(" ".join(t.split()) for t in texts)
    assert "Amendment to clause 2:" in both and "10. A month before the review" in both
    if lang == "en+cy":
        assert "Gwelliant i gymal 2:" in both and "Rhwystro" in both

    page.goto(f"/console/{meeting.id}/rounds/1/paper/key/1?lang={lang.split('+')[0]}")
    axe(page, "console: charter sheet keying form")
