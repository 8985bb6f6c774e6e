"""Templates and static files: grouped by the screen they serve, and every name resolves.

The layout mirrors the packages (README, Architecture): `app/templates/` keeps only the shared
frame (base, error, the language switch, the text macro) at its top; each screen has a folder
(`phone/`, `projector/`, `console/`, `print/` for the sheets handed out on paper, `record/` for
the results report), and `app/static/` has the same screen folders plus `shared/`. A script or
stylesheet in a screen's folder is loaded only by that screen's templates, so a change to
`static/phone/` can only break the phone. These tests read files only: no server, no browser.
"""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
TEMPLATES = APP / "templates"
STATIC = APP / "static"

# The frame every page shares, and the pieces more than one screen includes (_countdown: the
# closing countdown on the phone, the projector and the Run page; _lab_pledges: an idea's
# helpers on the console's Lab page and the projector's wall).
SHARED_TEMPLATES = {
    "base.html",
    "error.html",
    "_countdown.html",
    "_lang_switch.html",
    "_text.html",
    "_lab_pledges.html",
    "_review_scorecard.html",
    "_form_problems.html",
}
TEMPLATE_GROUPS = {"console", "phone", "print", "projector", "record"}
STATIC_GROUPS = {"console", "phone", "print", "projector", "shared"}

# `/static/...` in a src or href; the pages name their files literally (no url_for: an absolute
# URL would carry the request's host, which behind --public-url is not the phone's).
STATIC_REF = re.compile(r'(?:src|href)="/static/([^"?#]+)"')
# {% extends %}, {% include %}, {% import %} and {% from ... import %} with a literal name.
JINJA_REF = re.compile(r'{%-?\s*(?:extends|include|import|from)\s+"([^"]+)"')
# The Python side: rendering.render / console page (request, "name", ...) and
# env.get_template("name").
PYTHON_REF = re.compile(r'(?:\b(?:render|page)\(\s*request,\s*|get_template\()"([^"]+\.html)"')


def files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def template_texts() -> dict[str, str]:
    """Template name (as the loader knows it: relative to app/templates) -> its text."""
    return {p.relative_to(TEMPLATES).as_posix(): p.read_text("utf-8") for p in files(TEMPLATES)}


def test_templates_are_the_shared_frame_plus_one_folder_per_screen() -> None:
    """Only the shared frame sits at the top of app/templates; every other template is in a
    screen's folder."""
    top = {p.name for p in TEMPLATES.iterdir() if p.is_file()}
    folders = {p.name for p in TEMPLATES.iterdir() if p.is_dir()}
    assert top == SHARED_TEMPLATES
    assert folders == TEMPLATE_GROUPS


def test_static_files_are_all_in_a_screen_folder_or_shared() -> None:
    """app/static holds folders only, one per screen plus shared/."""
    assert [p.name for p in STATIC.iterdir() if p.is_file()] == []
    assert {p.name for p in STATIC.iterdir() if p.is_dir()} == STATIC_GROUPS


def test_every_static_reference_names_a_file_and_every_file_is_used() -> None:
    """Each /static/ path a template loads exists, and each static file is loaded by some
    template (a moved or renamed file cannot leave a dangling tag or an orphan behind)."""
    used: set[str] = set()
    for name, text in template_texts().items():
        for path in STATIC_REF.findall(text):
            assert (STATIC / path).is_file(), f"{name} loads /static/{path}, which is missing"
            used.add(path)
    present = {p.relative_to(STATIC).as_posix() for p in files(STATIC)}
    assert present - used == set(), "static files no template loads"


def test_a_screen_folder_static_file_is_loaded_only_by_that_screen() -> None:
    """static/phone/ serves templates/phone/ only (and so on); static/shared/ serves any."""
    for name, text in template_texts().items():
        screen = name.split("/")[0] if "/" in name else None
        for path in STATIC_REF.findall(text):
            group = path.split("/")[0]
            assert group == "shared" or group == screen, f"{name} loads /static/{path}"


def test_every_template_name_in_code_and_templates_exists() -> None:
    """Every render call, get_template and extends/include/import names a template that is
    there (Jinja would only find out when the page is first served)."""
    names = set(template_texts())
    for name, text in template_texts().items():
        for ref in JINJA_REF.findall(text):
            assert ref in names, f"{name} refers to {ref}"
    refs = 0
    for source in APP.rglob("*.py"):
        for ref in PYTHON_REF.findall(source.read_text("utf-8")):
            assert ref in names, f"{source.relative_to(ROOT)} renders {ref}"
            refs += 1
    assert refs > 20  # the pattern still finds the render calls


def test_the_package_data_globs_ship_every_template_and_static_file() -> None:
    """pyproject's package-data patterns (setuptools expands them with recursive glob) match
    every file under app/templates and app/static, so an installed Covote has them all."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["app"]
    shipped = {
        Path(match).resolve()
        for pattern in patterns
        for match in glob.glob(str(APP / pattern), recursive=True)
    }
    missing = [p.relative_to(ROOT) for p in files(TEMPLATES) + files(STATIC) if p not in shipped]
    assert missing == []
