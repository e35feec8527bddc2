"""End to end in headless Chromium: a simulated shot reaches the dispatch console and
the Mobile Alert Console, its audio plays, and its CAD call reads SHOTS / priority 2."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import LiveServer, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS_DIR = (
    Path(os.environ.get("SHOTWATCH_SCREENSHOTS", ""))
    if os.environ.get("SHOTWATCH_SCREENSHOTS")
    else None
)


def snap(page: Any, tmp: Path, name: str) -> Path:
    out = (SHOTS_DIR or tmp) / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out))
    return out


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveServer, Any]]:
    from .scenario import simulated_shot

    sensors, weather, reports = simulated_shot()
    yield from (
        (srv, reports)
        for srv in start_server(
            tmp_path / "srv",
            sensors,
            weather=weather,
            locator_factory=__import__("web.helpers", fromlist=["x"]).GroupingLocator,
        )
    )


def login_token(base: str, user: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"username": user, "password": user})
    return str(r.json()["token"])


def login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", user)
    page.click("button[type=submit]")


def watch_errors(page: Any, errors: list[str]) -> None:
    """Collect the page's uncaught errors and what its Content-Security-Policy blocked
    (the policy must not block any of the page's own doings)."""
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )


def test_simulated_shot_on_dispatch_and_mobile_consoles(
    live: tuple[LiveServer, Any], browser: Any, tmp_path: Path
) -> None:
    srv, reports = live
    base = srv.url
    ctx_d = browser.new_context(viewport={"width": 1400, "height": 860})
    ctx_m = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    disp, mac = ctx_d.new_page(), ctx_m.new_page()
    errors: list[str] = []
    for p in (disp, mac):
        watch_errors(p, errors)
    login(disp, base, "dispatcher")
    disp.wait_for_url(f"{base}/dispatch")
    login(mac, base, "patrol")
    mac.wait_for_url(f"{base}/mobile")
    for p in (disp, mac):
        p.wait_for_selector("#conn.live", timeout=10_000)

    t0 = time.time() - 0.5
    with httpx.Client() as c:
        for _rel_t, rep in reports(t0):
            r = c.post(
                f"{base}/api/v1/pulses",
                json=rep,
                headers={"authorization": f"Bearer {srv.tokens[rep['sensor_id']]}"},
            )
            assert r.status_code == 202, r.text

    # dispatch console: the alert, the CAD call SHOTS / priority 2, the audio
    disp.wait_for_selector("ul#alerts li", timeout=20_000)
    disp.wait_for_selector("[data-testid=cad-type]", timeout=10_000)
    assert disp.inner_text("[data-testid=cad-type]") == "SHOTS"
    assert disp.inner_text("[data-testid=cad-priority]") == "Priority 2"
    narrative = disp.inner_text("[data-testid=cad-narrative]")
    assert "Single shooter" in narrative or "multiple shooters" in narrative
    disp.click("[data-testid=play]")
    disp.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=audio]');"
        " return a && a.currentTime > 0.05 && !a.error; }",
        timeout=10_000,
    )
    assert disp.locator("svg[data-testid=map] [data-incident]").count() >= 1
    snap(disp, tmp_path, "dispatch")

    # Mobile Alert Console: banner, map marker, audio, status buttons
    mac.wait_for_selector("#banner.active", timeout=10_000)
    assert "SHOTS" in mac.inner_text("#banner")
    assert "CAD" in mac.inner_text("[data-testid=mac-cad]")
    mac.click("#btn-play")
    mac.wait_for_function(
        "() => { const a = document.getElementById('audio');"
        " return a.currentTime > 0.05 && !a.error; }",
        timeout=10_000,
    )
    mac.click("#btn-enroute")
    mac.wait_for_selector("text=Unit 1A12: en route", timeout=5_000)
    snap(mac, tmp_path, "mobile")

    # the unit shows up on the dispatcher's CAD call as self-dispatched (§B.5)
    disp.wait_for_selector("text=self-dispatched", timeout=5_000)

    # a citizen's call nearby is proposed as a duplicate and attached (§B.4, §B.6)
    inc = httpx.get(
        f"{base}/api/v1/alerts",
        headers={"authorization": "Bearer " + login_token(base, "dispatcher")},
    ).json()["alerts"][0]["incident"]
    disp.fill("#citizen-form input[name=lat]", f"{inc['lat'] + 0.0004:.6f}")
    disp.fill("#citizen-form input[name=lon]", f"{inc['lon']:.6f}")
    disp.fill("#citizen-form input[name=subject]", "two males in dark jackets")
    disp.fill("#citizen-form textarea[name=narrative]", "heard a bang")
    disp.click("#citizen-form button[type=submit]")
    disp.click("text=Attach to original incident", timeout=10_000)
    disp.wait_for_selector("text=Subject description: two males", timeout=10_000)
    snap(disp, tmp_path, "dispatch_attached")
    assert errors == []
    ctx_d.close()
    ctx_m.close()


@pytest.fixture
def live_review(tmp_path: Path) -> Iterator[tuple[LiveServer, Any]]:
    from .scenario import simulated_shot

    sensors, weather, reports = simulated_shot()
    yield from (
        (srv, reports)
        for srv in start_server(
            tmp_path / "srv", sensors, weather=weather, auto_publish_threshold=1.01
        )
    )


def test_reviewer_confirms_with_timer_then_dispatch_sees_it(
    live_review: tuple[LiveServer, Any], browser: Any, tmp_path: Path
) -> None:
    srv, reports = live_review
    base = srv.url
    rev = browser.new_context(viewport={"width": 1300, "height": 700}).new_page()
    disp = browser.new_context(viewport={"width": 1400, "height": 860}).new_page()
    errors: list[str] = []
    for p in (rev, disp):
        watch_errors(p, errors)
    login(rev, base, "reviewer")
    rev.wait_for_url(f"{base}/review")
    login(disp, base, "dispatcher")
    for p in (rev, disp):
        p.wait_for_selector("#conn.live", timeout=10_000)
    t0 = time.time() - 0.5
    with httpx.Client() as c:
        for _rel_t, rep in reports(t0):
            h = {"authorization": f"Bearer {srv.tokens[rep['sensor_id']]}"}
            assert c.post(f"{base}/api/v1/pulses", json=rep, headers=h).status_code == 202
    rev.wait_for_selector("#queue tr[data-incident]", timeout=20_000)
    rev.wait_for_function(
        "() => /\\d+ s/.test(document.querySelector('#queue .timer').textContent)"
    )
    snap(rev, tmp_path, "review")
    assert disp.locator("ul#alerts li").count() == 0  # nothing before the decision
    rev.click("#queue tr[data-incident] button.primary")  # Confirm
    rev.wait_for_selector("#queue tr[data-incident]", state="detached", timeout=10_000)
    disp.wait_for_selector("ul#alerts li", timeout=10_000)
    assert disp.inner_text("[data-testid=cad-type]") == "SHOTS"

    # the investigator's search and the administrator's page run under the same policy
    inv = browser.new_context(viewport={"width": 1300, "height": 800}).new_page()
    adm = browser.new_context(viewport={"width": 1300, "height": 800}).new_page()
    for p in (inv, adm):
        watch_errors(p, errors)
    login(inv, base, "investigator")
    inv.wait_for_url(f"{base}/investigate")
    inv.wait_for_selector("#results tr", timeout=10_000)
    inv.click("#results tr")
    inv.wait_for_selector("svg[data-testid=map] [data-incident]", timeout=10_000)
    snap(inv, tmp_path, "investigate")
    login(adm, base, "admin")
    adm.wait_for_url(f"{base}/admin")
    adm.wait_for_selector("#sensors tr", timeout=10_000)
    adm.wait_for_selector("#audit tr", timeout=10_000)
    adm.fill("#unlock-form input[name=username]", "reviewer")
    adm.click("#unlock-form button")
    adm.wait_for_selector("text=reviewer was not locked", timeout=5_000)
    snap(adm, tmp_path, "admin")
    assert errors == []
