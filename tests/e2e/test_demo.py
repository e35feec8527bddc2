"""The demo path: simulated audio -> edge agent -> HTTP ingest (per-sensor tokens) ->
locator -> alert, for one scripted case, without a browser."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from shotwatch.web import demo

from .conftest import start_server

pytestmark = pytest.mark.slow


def test_one_demo_case_through_the_real_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "CASES", [c for c in demo.CASES if c[0] == "multi_round"])
    sensors, weather, cases = demo.build_cases(seed=1)
    assert len(cases) == 1 and len(cases[0].reports) >= 8
    for srv in start_server(
        tmp_path,
        sensors,
        weather=weather,
        auto_publish_threshold=0.4,
        auto_publish_classes=["gunfire", "probable_gunfire"],
    ):

        async def play(url: str, tokens: dict[str, str]) -> tuple[int, int]:
            async with httpx.AsyncClient() as c:
                return await demo.play_case(c, url, tokens, cases[0])

        ok, bad = asyncio.run(play(srv.url, srv.tokens))
        assert bad == 0 and ok == len(cases[0].reports)
        with httpx.Client(base_url=srv.url) as c:
            tok = c.post(
                "/api/v1/auth/login", json={"username": "captain", "password": "captain"}
            ).json()["token"]
            h = {"authorization": f"Bearer {tok}"}
            # The first alert goes out early and the incident grows (same id) as the
            # later rounds' reports arrive: wait for it to hold the burst.
            end = time.time() + 30
            incs: list[dict[str, object]] = []
            while time.time() < end and not (incs and int(str(incs[0]["rounds"])) >= 3):
                incs = c.get("/api/v1/incidents", headers=h).json()["incidents"]
                time.sleep(0.2)
            assert incs, "no incident from the demo case"
            inc = incs[0]
            assert int(str(inc["rounds"])) >= 3, inc
            assert "St" in str(inc["location"])
            # the agent's FLAC clips were stored as evidence and play back
            audio = c.get(f"/api/v1/incidents/{inc['id']}/audio", headers=h)
            assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
