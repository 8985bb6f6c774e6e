"""The layers of `app/` and `hardware/`, enforced: who may import whom, and which modules are pure.

Every `.py` file under app/ and hardware/ is parsed (never imported) and every import in it is
checked, at any depth: module level, inside functions, under `if TYPE_CHECKING:`, through
`importlib.import_module("...")`. A *unit* is a package directly under app/ (app/voting), a
top-level module (app/config.py, app/main.py), the `app` package itself (its docstring) or
`hardware`. A unit may import itself and the units
`LAYERS` lists for it, nothing else in app/ or hardware/; outside libraries are not the table's
business, except for pure modules.

A *pure* module (`PURE`) is a function of its arguments: no database, no web framework, no
event loop, no sockets, no files, no clock, no randomness. It imports none of `IMPURE`, reads
none of `IMPURE_NAMES` (`datetime.now`, `open`...), and imports from app/ only other pure
modules, so nothing impure is reachable from it. Whatever a pure module needs from the world
(the time of a report, a file's text) its caller passes in; the one exception, anonymity's
random salts, is written down in `PURE_ALLOWANCES`.

A new package under app/ fails `test_every_unit_is_in_the_table_and_every_row_is_a_unit`
until it is given a row: where a package sits is a decision, made here once.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ("app", "hardware")

# The outer layers may import every unit (the entry points wire everything together).
ANY = frozenset({"*"})

_DOMAIN = frozenset({"core", "rules", "record", "voting", "keypads", "scrutiny", "live"})

# unit -> the units it may import (besides itself). Read a row as "X builds on ...".
LAYERS: dict[str, frozenset[str]] = {
    "app": frozenset(),  # app/__init__.py: the package's docstring, nothing else
    "config": frozenset(),  # the one Settings; read at the edges, values handed down
    "hardware": frozenset(),  # keypad receivers: knows nothing about meetings
    "core": frozenset({"config"}),  # bounds, vocabulary, errors, input readers
    "rules": frozenset({"core"}),  # the counting rule, the budget, their words: pure
    "record": frozenset({"core", "rules"}),  # the public record's formats and checks
    "demo": frozenset({"core", "rules", "record"}),  # the sample meetings (meeting files)
    "voting": frozenset({"core", "rules", "record"}),  # tables, services, the ballot path
    "keypads": frozenset({"core", "rules", "record", "voting", "hardware"}),
    "scrutiny": frozenset({"core", "rules", "record", "voting", "keypads"}),  # tickets, paper
    "live": frozenset({"core", "rules"}),  # wire protocol, hub, broadcast: no database
    "web": _DOMAIN | {"config"},  # routes, Services, auth, i18n
    "console": _DOMAIN | {"config", "web", "demo", "hardware"},  # the facilitator's console
    "main": ANY,  # create_app
    "cli": ANY,  # the covote command
}

# Pure modules; a package here makes every module in it pure, present and future.
PURE = frozenset(
    {
        "app.rules",
        "app.core.bounds",
        "app.core.errors",
        "app.core.inputs",
        "app.core.localtime",
        "app.core.messages",
        "app.core.shapes",
        "app.core.vocab",
        "app.record.anonymity",
        "app.record.area_map",
        "app.record.charts",
        "app.record.figure",
        "app.record.geojson",
        "app.record.chain",
        "app.record.charter_file",
        "app.record.charter_files",
        "app.record.charter_markdown",
        "app.record.csvfiles",
        "app.record.filenames",
        "app.record.kind_rounds",
        "app.record.pabulib",
        "app.record.people_csv",
        "app.record.records",
        "app.record.report",
        "app.record.report_survey",
        "app.record.report_lab",
        "app.record.report_review",
        "app.record.report_charter",
        "app.record.report_money",
        "app.record.report_vote",
        "app.record.review_charts",
        "app.record.review_files",
        "app.record.results",
        "app.record.survey_file",
        "app.record.survey_charts",
        "app.record.survey_files",
        "app.record.lab_files",
        "app.record.we_did",
        "app.record.you_said",
        "app.scrutiny.paper_keying",
        "app.live.protocol",
        "app.live.screen",
        "app.live.surge",
        "app.demo",
    }
)

# What a pure module must not import (a name and everything under it).
IMPURE = frozenset(
    {
        # the database
        "sqlmodel",
        "sqlalchemy",
        "alembic",
        "sqlite3",
        "redis",
        # the web framework and the network
        "fastapi",
        "starlette",
        "uvicorn",
        "httpx",
        "websockets",
        "socket",
        # the event loop, threads, processes, the file system
        "asyncio",
        "threading",
        "subprocess",
        "os",
        "pathlib",
        "shutil",
        "tempfile",
        # the clock and chance
        "time",
        "random",
        "secrets",
        # the keypad receivers
        "hardware",
    }
)

# Names a pure module must not read, called or not: the clock and the file system.
IMPURE_NAMES = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "builtins.open",
        "io.open",
    }
)

# The one exception, with its reason: anonymity's job is the fresh random value that salts each
# commitment, so nobody can guess a commitment's contents (README, Anonymity).
PURE_ALLOWANCES: dict[str, frozenset[str]] = {"app.record.anonymity": frozenset({"secrets"})}


@dataclass(frozen=True)
class Module:
    """A parsed file: its dotted name, its path (for messages) and whether it is a package."""

    name: str
    path: str
    source: str
    is_package: bool = False


def modules_on_disk() -> list[Module]:
    """Every .py file under app/ and hardware/, named as Python imports it."""
    found = []
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            rel = path.relative_to(ROOT).as_posix()
            found.append(Module(name, rel, path.read_text(encoding="utf-8"), is_package))
    return found


def unit_of(module: str) -> str | None:
    """The unit a dotted module name belongs to; None outside app/ and hardware/."""
    parts = module.split(".")
    if parts[0] == "hardware":
        return "hardware"
    if parts[0] != "app":
        return None
    return parts[1] if len(parts) > 1 else "app"


def is_pure(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PURE)


def _within(name: str, roots: frozenset[str]) -> str | None:
    """The entry of `roots` that `name` is or is under, if any."""
    return next((r for r in roots if name == r or name.startswith(r + ".")), None)


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # the module imported, resolved to a file's module where one exists


def imports_of(module: Module, known: frozenset[str]) -> Iterator[Import]:
    """Every import in the module's source, at any depth. `from a import b` is module `a.b`
    when that is a module in `known`, else `a` (b is a name in it); relative imports are
    resolved against the module's package; `importlib.import_module("a")` and
    `__import__("a")` with a literal name count as `import a`."""
    tree = ast.parse(module.source, filename=module.path)
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (named := _imported_by_call(node)) is not None:
            yield Import(node.lineno, named)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                yield Import(node.lineno, child if child in known else source)


def _imported_by_call(call: ast.Call) -> str | None:
    """The module a call imports by name (`importlib.import_module("x")`, `__import__("x")`)."""
    func = _dotted(call.func)
    if func not in (["importlib", "import_module"], ["import_module"], ["__import__"]):
        return None
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from the module's imports (any depth)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything that is not a plain name chain."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else [*head, node.attr]
    return None


def names_read(module: Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every name chain the module reads, its first part resolved
    through the module's imports (`datetime.now` after `from datetime import datetime` is
    `datetime.datetime.now`; a bare `open` is `builtins.open`)."""
    tree = ast.parse(module.source, filename=module.path)
    aliases = _aliases(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        parts = _dotted(node)
        if parts is None:
            continue
        first = aliases.get(parts[0], f"builtins.{parts[0]}" if parts[0] == "open" else parts[0])
        yield node.lineno, ".".join([first, *parts[1:]])


def problems_in(module: Module, known: frozenset[str]) -> list[str]:
    """What is wrong with one module's imports: one line each, naming the file, the line, the
    import and the rule it breaks (empty: nothing)."""
    out = []
    unit = unit_of(module.name)
    assert unit is not None, module.name
    where = module.path
    if unit not in LAYERS:
        return [
            f"{where}: the unit {unit!r} is not in LAYERS (tests/test_layers.py): give it a row"
        ]
    allowed = LAYERS[unit]
    pure = is_pure(module.name)
    allowance = PURE_ALLOWANCES.get(module.name, frozenset())
    for imp in imports_of(module, known):
        target_unit = unit_of(imp.target)
        if (
            target_unit is not None
            and target_unit != unit
            and allowed != ANY
            and target_unit not in allowed
        ):
            may = ", ".join(sorted(allowed)) or "nothing in app/ or hardware/"
            out.append(
                f"{where}:{imp.line}: imports {imp.target}: {unit} may import {may}, "
                f"not {target_unit}"
            )
            continue
        if not pure:
            continue
        bad = _within(imp.target, IMPURE)
        if bad is not None and bad not in allowance:
            out.append(
                f"{where}:{imp.line}: imports {imp.target}: {module.name} is pure "
                f"(no {bad}: take what it gives as an argument)"
            )
        elif imp.target.startswith("app") and not is_pure(imp.target):
            out.append(
                f"{where}:{imp.line}: imports {imp.target}: {module.name} is pure and may "
                "import only pure modules from app/ (see PURE)"
            )
    if pure:
        for line, name in names_read(module):
            bad = _within(name, IMPURE_NAMES)
            if bad is not None:
                out.append(
                    f"{where}:{line}: reads {bad}: {module.name} is pure "
                    "(no clock, no files: the caller passes the value in)"
                )
    return out


def known_modules(modules: list[Module]) -> frozenset[str]:
    return frozenset(m.name for m in modules)


# --- the tree as it is ---------------------------------------------------------------------------


def test_every_import_follows_the_layers_and_purity() -> None:
    """No module in app/ or hardware/ imports a unit its row does not list, and no pure module
    reaches the database, the web framework, the event loop, files or the clock."""
    modules = modules_on_disk()
    known = known_modules(modules)
    problems = [p for m in modules for p in problems_in(m, known)]
    assert not problems, "\n".join(problems)


def test_every_unit_is_in_the_table_and_every_row_is_a_unit() -> None:
    """A package or top-level module under app/ without a row in LAYERS fails (a new package's
    place is decided deliberately), and so does a row for a unit that no longer exists."""
    on_disk = {unit_of(m.name) for m in modules_on_disk()}
    assert on_disk - set(LAYERS) == set(), "units with no row in LAYERS"
    assert set(LAYERS) - on_disk == set(), "rows in LAYERS for units that do not exist"
    listed = {u for row in LAYERS.values() if row != ANY for u in row}
    assert listed <= set(LAYERS), "LAYERS names a unit that has no row"


def test_every_pure_entry_names_modules_that_exist() -> None:
    """Each PURE entry and each allowance is a module or package on disk (a renamed module
    must not silently stop being checked)."""
    names = known_modules(modules_on_disk())
    for entry in PURE | set(PURE_ALLOWANCES):
        assert any(n == entry or n.startswith(entry + ".") for n in names), entry
    assert is_pure("app.rules.tally") and is_pure("app.record.chain")


def test_the_checker_reads_the_whole_tree() -> None:
    """The layer test is not vacuous: it parses every file and finds the imports it knows of."""
    modules = modules_on_disk()
    known = known_modules(modules)
    assert len(modules) > 80
    by_name = {m.name: m for m in modules}
    targets = {i.target for i in imports_of(by_name["app.voting.ballots"], known)}
    assert {"app.voting.audit", "app.rules.scales", "sqlmodel"} <= targets


# --- the checker itself, on made-up modules ------------------------------------------------------

KNOWN = frozenset(
    {
        "app",
        "app.config",
        "app.rules",
        "app.rules.tally",
        "app.rules.new",
        "app.record",
        "app.record.records",
        "app.record.report_pdf",
        "app.voting",
        "app.voting.db",
        "app.voting.models",
        "app.web",
        "app.web.deps",
        "app.console",
        "app.console.forms",
        "hardware",
        "hardware.base",
    }
)


def check(name: str, source: str, *, is_package: bool = False) -> list[str]:
    path = name.replace(".", "/") + ("/__init__.py" if is_package else ".py")
    return problems_in(Module(name, path, source, is_package), KNOWN)


def test_an_import_against_the_direction_is_named_with_file_line_and_rule() -> None:
    """A record module importing the web layer fails with its file, line, import and rule."""
    found = check("app.record.records", "import json\n\nfrom app.web.deps import Services\n")
    assert found == [
        "app/record/records.py:3: imports app.web.deps: record may import core, rules, not web"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from app.voting import db\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.voting.db import x\n",
        "class C:\n    def m(self):\n        import app.voting.models\n",
        "from ..voting import models\n",
        "from .. import voting\n",
        "import importlib\nm = importlib.import_module('app.voting.db')\n",
        "def f():\n    return __import__('app.voting')\n",
    ],
)
def test_imports_are_found_at_any_depth_and_relative_ones_resolved(source: str) -> None:
    """An import inside a function, a method or a TYPE_CHECKING block, a relative one or one by
    name through importlib, is checked like any other."""
    found = check("app.rules.new", source)
    assert found and all("rules may import core, not voting" in p for p in found), found


def test_hardware_may_not_import_app() -> None:
    """hardware/ imports nothing from app/."""
    assert check("hardware.base", "from app.config import Settings\n") == [
        "hardware/base.py:1: imports app.config: hardware may import nothing in app/ or "
        "hardware/, not config"
    ]


def test_a_package_without_a_row_fails() -> None:
    """A module in a package under app/ that LAYERS does not know fails by itself."""
    assert check("app.survey.kinds", "import json\n") == [
        "app/survey/kinds.py: the unit 'survey' is not in LAYERS (tests/test_layers.py): "
        "give it a row"
    ]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import time\n", "imports time"),
        ("import os.path\n", "imports os.path"),
        ("from sqlmodel import Session\n", "imports sqlmodel"),
        ("from sqlalchemy.engine import Engine\n", "imports sqlalchemy.engine"),
        ("import fastapi\n", "imports fastapi"),
        ("from starlette.requests import Request\n", "imports starlette.requests"),
        ("import httpx\n", "imports httpx"),
        ("import socket\n", "imports socket"),
        ("def f():\n    import asyncio\n", "imports asyncio"),
        ("from app.voting.models import Meeting\n", "rules may import core, not voting"),
        ("from app.config import Settings\n", "rules may import core, not config"),
        ("from datetime import datetime\nx = datetime.now()\n", "reads datetime.datetime.now"),
        ("import datetime\nx = datetime.datetime.utcnow()\n", "reads datetime.datetime.utcnow"),
        ("import datetime as dt\nx = dt.date.today()\n", "reads datetime.date.today"),
        ("from datetime import date as d\nf = d.today\n", "reads datetime.date.today"),
        ("def f(p):\n    return open(p).read()\n", "reads builtins.open"),
    ],
)
def test_a_pure_module_may_not_reach_the_world(source: str, named: str) -> None:
    """Each forbidden import and each clock or file read in app/rules is found and named."""
    found = check("app.rules.new", source)
    assert len(found) == 1 and named in found[0], found
    assert found[0].startswith("app/rules/new.py:")


def test_a_pure_module_may_import_only_pure_modules_from_app() -> None:
    """A pure module of the record importing an impure one of its own layer fails: purity
    holds for everything reachable, not just the module's own imports."""
    found = check("app.record.records", "from app.record import report_pdf\n")
    assert found == [
        "app/record/records.py:1: imports app.record.report_pdf: app.record.records is pure "
        "and may "
        "import only pure modules from app/ (see PURE)"
    ]


def test_what_is_allowed_passes() -> None:
    """Formatting a given time, pure imports, in-unit imports and impure modules outside PURE
    are all fine (the checker does not cry wolf)."""
    pure = (
        "from datetime import UTC, datetime\n"
        "from app.rules import tally\n"
        "from .tally import count_round\n"
        "def f(at: datetime) -> str:\n"
        "    return at.astimezone(UTC).isoformat()\n"
    )
    assert check("app.rules.new", pure) == []
    web = "import asyncio\nfrom app.voting import db\nfrom app.rules import tally\n"
    assert check("app.web.deps", web) == []
    assert check("app.console.forms", "from app.web import deps\nimport hardware\n") == []
    assert check("app.main", "from app.console import forms\n") == []


# --- the console: one package, one router --------------------------------------------------------


def test_the_console_is_one_router_that_main_includes_alone() -> None:
    """app/main.py takes the console as `app.console.router`, which holds every route of its
    parts, /console/sessions before /console/{meeting_id} and export/bundle.zip before
    export/{what}; the parts share app/console/forms."""
    from fastapi import APIRouter, FastAPI

    from app import console
    from app.console import (
        access,
        bundle,
        charter,
        charter_amend,
        charter_review,
        exports,
        keypads,
        lab,
        lifecycle,
        online,
        paper,
        people,
        present,
        results_report,
        run,
        setup,
        survey,
        tickets,
    )

    def routes(*routers: APIRouter) -> list[tuple[str, str]]:
        """(path, method) of every route, in the order they are matched."""
        app = FastAPI()
        for router in routers:
            app.include_router(router)
        paths = app.openapi()["paths"]
        return [(path, method) for path, ops in paths.items() for method in ops]

    parts = [
        access,
        lifecycle,
        setup,
        survey,
        run,
        online,
        present,
        keypads,
        paper,
        tickets,
        people,
        lab,
        charter_review,
        charter,
        charter_amend,
        results_report,
        bundle,
        exports,
    ]
    whole = routes(console.router)
    assert len(whole) > 40
    assert sorted(whole) == sorted(routes(*(part.router for part in parts)))
    paths = [path for path, _ in whole]
    assert paths.index("/console/sessions") < paths.index("/console/{meeting_id}")
    bundle_zip = paths.index("/console/{meeting_id}/export/bundle.zip")
    assert bundle_zip < paths.index("/console/{meeting_id}/export/{what}")
    modules = modules_on_disk()
    known = known_modules(modules)
    main = next(m for m in modules if m.name == "app.main")
    into_console = {i.target for i in imports_of(main, known) if unit_of(i.target) == "console"}
    assert into_console == {"app.console"}
    for module in modules:
        if module.name.startswith("app.console.") and module.name != "app.console.forms":
            shared = {"act", "page", "facilitator_form", "upload_text", "checked", "flash"}
            shared |= {"confirm_first", "int_field"}
            defined = {
                node.name
                for node in ast.parse(module.source).body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            assert not shared & defined, f"{module.path} defines {shared & defined}"
