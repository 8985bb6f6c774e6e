"""A survey's local areas as CSV, for import: `key,label,label_cy,code` with that header.

Pure (text in, areas out). Every problem is reported at once with its line
(`records.RecordError`), as for the other CSV files (app/record/csvfiles.py). An empty `key`
is made from the label; `label_cy` (the Welsh label) and `code` (an official code such as an
ONS ward code, which a GeoJSON feature or census table may use) may be empty. The survey's own
checks (keys, lengths, how many) run when the areas are saved with it.
"""

from __future__ import annotations

from app.core.inputs import clean_text, slug
from app.record.csvfiles import _check_header, _csv_records
from app.record.records import MAX_TITLE, Problems, quote
from app.record.survey_file import MAX_CODE
from app.rules import survey as sv

AREA_HEADER = ("key", "label", "label_cy", "code")


def read_areas_csv(text: str, *, filename: str = "areas.csv") -> list[sv.Area]:
    """The areas of an areas CSV, in its order.

    Raises:
        RecordError: every malformed line with its number (header problems are line 1).
    """
    p = Problems(filename)
    records = _csv_records(text, p)
    _check_header(records, AREA_HEADER, p)
    if len(records) - 1 > sv.MAX_AREAS:
        p.add(None, f"at most {sv.MAX_AREAS} areas")
        p.raise_if_any()
    taken: set[str] = set()
    areas: list[sv.Area] = []
    for line, cells in records[1:]:
        if len(cells) != len(AREA_HEADER):
            p.add(line, f"expected {len(AREA_HEADER)} fields, got {len(cells)}")
            continue
        key, label, label_cy, code = (clean_text(c).strip() for c in cells)
        bad = []
        if not label or len(label) > MAX_TITLE:
            bad.append(f"label: must be 1-{MAX_TITLE} characters")
        if len(label_cy) > MAX_TITLE:
            bad.append(f"label_cy: at most {MAX_TITLE} characters")
        if len(code) > MAX_CODE:
            bad.append(f"code: at most {MAX_CODE} characters")
        key = key or slug(label, taken, limit=sv.MAX_SERVICE_KEY, fallback="area")
        if not sv.KEY.fullmatch(key) or len(key) > sv.MAX_SERVICE_KEY:
            bad.append(
                f"key: {quote(key)} must be a lowercase id of at most {sv.MAX_SERVICE_KEY} "
                "characters"
            )
        elif key in taken:
            bad.append(f"key: {quote(key)} repeats")
        for reason in bad:
            p.add(line, reason)
        taken.add(key)
        if not bad:
            texts = {"cy": {"label": label_cy}} if label_cy else {}
            areas.append(sv.Area(key, label, code, texts))
    p.raise_if_any()
    return areas
