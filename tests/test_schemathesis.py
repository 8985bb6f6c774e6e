"""Schemathesis over the app's OpenAPI schema against a real server: no request it can generate
(valid or not) gets a 5xx, as the facilitator or as a stranger."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from app.main import create_app
from tests.conftest import FACILITATOR_KEY, MEETING, LiveServer, make_settings

# The schema comes from an app built only to describe itself (no lifespan, no database).
with tempfile.TemporaryDirectory() as _tmp:
    _SCHEMA = create_app(make_settings(Path(_tmp))).openapi()
schema = schemathesis.openapi.from_dict(_SCHEMA)
# Valid and invalid requests (out-of-range numbers, wrong types, missing fields), NUL included.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    allow_x00=True,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("schemathesis"))) as server:
        yield server


@pytest.fixture(scope="module")
def facilitator_session(live: LiveServer) -> requests.Session:
    """A signed-in facilitator with one meeting (id 1), so console paths reach real rows."""
    import json
    import re

    session = requests.Session()
    session.get(f"{live.url}/facilitator?key={FACILITATOR_KEY}", timeout=10)
    html = session.get(f"{live.url}/console", timeout=10).text
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m
    r = session.post(
        f"{live.url}/console/import",
        data={"csrf": m.group(1)},
        files={"file": ("m.json", json.dumps(MEETING), "application/json")},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return session


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_request_gets_a_server_error(
    case: schemathesis.Case[Any], live: LiveServer, facilitator_session: requests.Session
) -> None:
    """Generated requests, as the facilitator and as a stranger, never get a 5xx."""
    for session in (facilitator_session, None):
        response = case.call(base_url=live.url, session=session, timeout=10)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
