"""Hostile API calls: every operation of the OpenAPI schema, called by every role with
requests generated from the schema (schemathesis), answers with a status under 500 and,
when it refuses, a JSON ``detail`` saying why; never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from .conftest import Env, make_env

ROLES = (
    "admin",
    "dispatcher",
    "patrol",
    "reviewer",
    "investigator",
    "supervisor",
    "captain",
    "sensor",
)
EXAMPLES = 15
"""Examples per operation and role (34 operations, 8 callers, 2 databases: about 8,000
requests)."""
ID_ROUTES = (
    ("dispatcher", "GET", "/api/v1/cad-calls/{id}", None),
    ("dispatcher", "POST", "/api/v1/cad-calls/{id}/supplement", {}),
    ("dispatcher", "POST", "/api/v1/cad-calls/{id}/units", {"unit_id": "1A12"}),
    ("dispatcher", "POST", "/api/v1/cad-calls/{id}/escalate", {}),
    ("dispatcher", "POST", "/api/v1/citizen-calls/{id}/attach", {}),
    ("captain", "POST", "/api/v1/release-requests/{id}/decision", {"decision": "authorized"}),
    ("investigator", "GET", "/api/v1/release-requests/{id}/report.pdf", None),
)
"""Routes taking a database row id in the path: a role allowed to call each, and a body
it accepts."""


def _headers(env: Env, role: str) -> dict[str, str]:
    return env.sensor("S000") if role == "sensor" else env.as_(role)


def _request(env: Env, case: Any, headers: dict[str, str]) -> Any:
    kw = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    for k in ("cookies", "verify", "allow_redirects", "timeout", "stream"):
        kw.pop(k, None)
    if "data" in kw and not isinstance(kw["data"], dict | None):
        kw["content"] = kw.pop("data")
    return env.client.request(**kw)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    """The service on the embedded database and on PostgreSQL (their limits differ)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    yield from make_env(tmp_path, url)


def _fuzz(env: Env, role: str, mode: GenerationMode) -> None:
    """Every operation with ``EXAMPLES`` generated requests (``mode``: valid by the
    schema, or each breaking it somewhere), as ``role``: never a 5xx; a refusal in JSON
    says why."""
    schema = schemathesis.openapi.from_dict(env.client.get("/openapi.json").json())
    headers = _headers(env, role)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 30
    for op in ops:
        if op.path.endswith("/logout"):
            continue  # (would end the session the other examples run in)

        @given(case=op.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            r = _request(env, case, headers)
            where = f"{role}: {case.method} {case.formatted_path} -> {r.status_code}"
            assert r.status_code < 500, f"{where}: {r.text[:300]}"
            if r.status_code >= 400 and r.headers.get("content-type", "").startswith(
                "application/json"
            ):
                assert r.json().get("detail"), where

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # (nothing of it can be broken)


@pytest.mark.parametrize("role", ROLES)
def test_generated_requests_never_fail_the_server(any_db_env: Env, role: str) -> None:
    _fuzz(any_db_env, role, GenerationMode.POSITIVE)


@pytest.mark.parametrize("role", ["admin", "dispatcher", "sensor"])
def test_requests_breaking_the_schema_are_refused_not_failed(any_db_env: Env, role: str) -> None:
    _fuzz(any_db_env, role, GenerationMode.NEGATIVE)


@pytest.mark.parametrize(("role", "method", "path", "body"), ID_ROUTES)
@pytest.mark.parametrize("row_id", [0, -1, 2**31, 2**63, 2**64 + 7])
def test_row_ids_out_of_range_are_refused(
    any_db_env: Env, role: str, method: str, path: str, body: dict[str, Any] | None, row_id: int
) -> None:
    """A row id no table holds is a 422 naming the parameter (an id over 2**31 - 1
    reached PostgreSQL, over 2**63 - 1 SQLite, and failed the request with a 500)."""
    env = any_db_env
    headers = env.as_(role)
    r = env.client.request(method, path.format(id=row_id), json=body, headers=headers)
    assert r.status_code == 422, (path, row_id, r.status_code, r.text[:200])
    loc = r.json()["detail"][0]["loc"]  # the path's id named as the refused parameter
    assert loc[0] == "path" and loc[1].endswith("_id"), loc


def test_unit_status_refuses_an_out_of_range_call_id(env: Env) -> None:
    headers = env.as_("patrol")
    body = {"status": "en_route", "cad_call_id": 2**64}
    r = env.client.post("/api/v1/units/1A12/status", json=body, headers=headers)
    assert r.status_code == 422, r.text[:200]
    assert "cad_call_id" in r.text


def test_nul_characters_are_refused_wherever_text_comes_in(any_db_env: Env) -> None:
    """No text column stores a NUL (PostgreSQL refused it with a 500): a NUL in the
    query, the path or a body field is a 422 saying so, and the service goes on."""
    env = any_db_env
    disp = env.as_("dispatcher")
    r = env.client.get("/api/v1/cad-calls", params={"status": "open\x00"}, headers=disp)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    r = env.client.get("/api/v1/incidents/abc%00def", headers=disp)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    body = {"lat": 38.58, "lon": -121.49, "narrative": "shots\x00fired"}
    r = env.client.post("/api/v1/citizen-calls", json=body, headers=disp)
    assert r.status_code == 422 and "NUL" in r.text and "narrative" in r.text
    r = env.client.post("/api/v1/auth/login", json={"username": "x\x00", "password": "x"})
    assert r.status_code == 422 and "NUL" in r.text
    # the pages' form login reaches the users table past no model: no such user (401)
    # where the database stores a NUL, its refusal (422) where it does not
    r = env.client.post("/login", data={"username": "dis\x00patcher", "password": "x"})
    assert r.status_code in (401, 422), r.status_code
    body["narrative"] = "shots fired"
    assert env.client.post("/api/v1/citizen-calls", json=body, headers=disp).status_code == 201
