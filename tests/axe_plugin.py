"""The axe-core accessibility summary at the end of a run, also when the suite runs on several
workers (pytest-xdist): each test's axe findings travel with its report (`user_properties`),
so the process that prints the summary sees every worker's pages. Loaded with `-p` (pyproject
addopts); tests/browser/conftest.py's `axe` calls `record`."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).parent / "browser" / "vendor" / "axe.min.js"
FAIL_IMPACTS = ("serious", "critical")
_PROPERTY = "axe"


@dataclass
class AxeReport:
    page: str
    url: str
    passes: int
    violations: list[dict[str, Any]] = field(default_factory=list)

    def count(self, impact: str) -> int:
        return sum(1 for v in self.violations if v["impact"] == impact)

    def line(self) -> str:
        if not self.violations:
            return f"{self.page}: no violations ({self.passes} rules passed)"
        found = ", ".join(f"{v['id']} [{v['impact']}] x{len(v['nodes'])}" for v in self.violations)
        return f"{self.page}: {found} ({self.passes} rules passed)"


_pending: list[AxeReport] = []  # this process's reports since its last test report
_reports: list[AxeReport] = []  # every report the summary will show


def record(report: AxeReport) -> None:
    """Keep a report for the summary (sent with the running test's report)."""
    _pending.append(report)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "teardown":
        report.user_properties.extend((_PROPERTY, json.dumps(asdict(r))) for r in _pending)
        _pending.clear()
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Runs where the summary is printed: the only process, or xdist's controller.
    _reports.extend(
        AxeReport(**json.loads(str(value)))
        for name, value in report.user_properties
        if name == _PROPERTY
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _reports:
        return
    version = re.search(r"axe v([\d.]+)", AXE_JS.read_text(errors="replace")[:200])
    terminalreporter.section(
        f"axe-core {version.group(1) if version else ''} accessibility summary "
        f"(fails on {' or '.join(FAIL_IMPACTS)})"
    )
    seen = {r.page: r for r in _reports}  # the last run of each page
    for report in seen.values():
        terminalreporter.write_line(report.line())
    impacts = ("critical", "serious", "moderate", "minor")
    total = {i: sum(r.count(i) for r in seen.values()) for i in impacts}
    terminalreporter.write_line(
        f"{len(seen)} pages: " + ", ".join(f"{n} {impact}" for impact, n in total.items())
    )
