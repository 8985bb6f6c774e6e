"""The survey's charts as a page shows them: inline SVG with their tables, checked by axe-core.

No server: the charts are pure, so the page is set as content in a fresh browser context, under
the same Content-Security-Policy the app sends (no inline script or style), and axe-core checks
it as it checks every page of the app.
"""

from __future__ import annotations

from typing import Any

from app.record.figure import table_html
from tests.browser.conftest import axe, screenshot
from tests.test_charts import BUILDERS

CSP = "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'"


def page_of_charts() -> str:
    parts = []
    for name, build in BUILDERS.items():
        chart = build()
        parts.append(f"<section><h2>{name}</h2>{chart.svg}{table_html(chart.table)}</section>")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<title>Charts</title></head><body><main><h1>Survey results</h1>"
        + "".join(parts)
        + "</main></body></html>"
    )


def test_charts_inline_in_a_page_pass_axe_and_break_no_policy(browser: Any) -> None:
    """Four charts and their tables inlined in one page: no axe-core violation that is serious
    or critical, nothing the CSP refuses, each chart an image named by its title."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        page.set_content(page_of_charts())
        names = page.eval_on_selector_all(
            "svg[role=img]",
            "els => els.map(e => e.getAttribute('aria-labelledby').split(' ')"
            ".map(id => document.getElementById(id).textContent).join(': '))",
        )
        assert len(names) == len(BUILDERS) and all(": " in n for n in names)
        axe(page, "charts")
        screenshot(page, "survey-charts", full_page=True)
        assert not refused, refused
    finally:
        context.close()
