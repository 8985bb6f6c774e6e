"""The static checks CI runs (`scripts/check`, called by `scripts/test` before the whole suite).

The tools are stand-ins (COVOTE_CHECK_BIN) that log how they were called and pass or fail on
demand, so these tests are about the script's contract, not about today's findings: every tool
runs over app, hardware, tests and scripts, a failing tool is named and fails the run. The real
tools run in CI through `scripts/test`.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = "app hardware tests scripts"


def stand_in_tools(bin_dir: Path, log: Path, failing: set[str]) -> None:
    """A `ruff` and a `mypy` that append their arguments to `log` and exit 1 if in `failing`."""
    bin_dir.mkdir()
    for tool in ("ruff", "mypy"):
        path = bin_dir / tool
        status = 1 if tool in failing else 0
        path.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {status}\n')
        path.chmod(0o755)


def run_check(tmp_path: Path, failing: set[str]) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp_path / "calls.log"
    stand_in_tools(tmp_path / "bin", log, failing)
    env = {**os.environ, "COVOTE_CHECK_BIN": str(tmp_path / "bin")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "check")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, log.read_text()


def test_check_runs_format_lint_and_strict_types_over_the_whole_tree(tmp_path: Path) -> None:
    """With every tool clean, scripts/check runs all three over app, hardware, tests and
    scripts and exits 0."""
    done, calls = run_check(tmp_path, failing=set())
    assert done.returncode == 0, done.stderr
    assert calls.splitlines() == [
        f"ruff format --check {PATHS}",
        f"ruff check {PATHS}",
        f"mypy --strict {PATHS}",
    ]
    assert "FAILED" not in done.stderr


@pytest.mark.parametrize(("failing", "named"), [("ruff", "ruff format --check"), ("mypy", "mypy")])
def test_a_finding_fails_the_check_names_the_tool_and_the_others_still_run(
    tmp_path: Path, failing: str, named: str
) -> None:
    """One tool's finding makes scripts/check exit 1 and name that tool; the other tools run."""
    done, calls = run_check(tmp_path, failing={failing})
    assert done.returncode == 1
    assert f"FAILED: {named}" in done.stderr
    assert len(calls.splitlines()) == 3
    if failing == "mypy":
        assert "FAILED: ruff" not in done.stderr


def test_the_test_tools_include_the_check_tools() -> None:
    """`scripts/install test` installs ruff, mypy and the ReportLab stubs, so a fresh clone's
    scripts/test can run scripts/check."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    self_refs = [d for d in extras["test"] if d.startswith("covote[")]
    included = {name for ref in self_refs for name in ref[7:-1].split(",")}
    wanted = {d.split("==")[0] for name in ["test", *included] for d in extras[name]}
    assert {"ruff", "mypy", "types-reportlab"} <= wanted
