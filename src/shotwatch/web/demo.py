"""``shotwatch demo``: the service on embedded defaults plus a simulated city.

The simulator (:mod:`shotwatch.sim`) renders one short recording per sensor for each
scripted case (General Order 510.05 §B.3 a-d, plus fireworks as a confuser) in a
fictional 2 km x 2 km city whose streets are the demo street layer. Each sensor's
recording goes through the real edge agent (:class:`shotwatch.sensor.agent.SensorAgent`:
onset picking, FLAC clip; no audio classifier, see :func:`build_cases`), and the
resulting pulse reports are POSTed to ``/api/v1/pulses`` with that sensor's own
credential, paced in real time (each report leaves when its sound would have reached
the sensor plus the agent's latency), in a loop.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shotwatch.models import Sensor, Weather
from shotwatch.timeutil import format_utc, parse_utc

logger = logging.getLogger("shotwatch.demo")

AREA = {"lat": 38.5790, "lon": -121.4930, "elevation_m": 10.0, "size_m": [1800.0, 1800.0]}
"""The demo city: the origin of the demo street layer (streets every 100 m)."""

AGENT_LATENCY_S = 1.2
"""Time from a sound's onset to its report leaving the sensor (the agent's lookahead)."""

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "single",
        "§B.3a single shooter, single round",
        {"kind": "gunfire", "east_m": 200.0, "north_m": -100.0, "weapon": "handgun"},
    ),
    (
        "multi_round",
        "§B.3b single shooter, multiple rounds",
        {
            "kind": "gunfire",
            "east_m": -300.0,
            "north_m": 250.0,
            "weapon": "handgun",
            "rounds": 6,
            "cadence_s": [0.25, 0.5],
        },
    ),
    (
        "two_shooters",
        "§B.3c possible multiple shooters",
        {
            "kind": "gunfire",
            "pattern": "alternate",
            "shooters": [
                {"east_m": 100.0, "north_m": 340.0, "weapon": "handgun", "rounds": 4},
                {
                    "east_m": 100.0,
                    "north_m": 372.0,
                    "weapon": "shotgun",
                    "rounds": 3,
                    "cadence_s": [0.4, 0.9],
                },
            ],
        },
    ),
    (
        "mobile",
        "§B.3d possible mobile shooter",
        {
            "kind": "gunfire",
            "east_m": -200.0,
            "north_m": -300.0,
            "up_m": 1.2,
            "weapon": "handgun",
            "rounds": 6,
            "cadence_s": [0.4, 0.7],
            "speed_mps": 12.0,
            "heading_deg": 90.0,
        },
    ),
    (
        "fireworks",
        "fireworks (should not alert)",
        {"kind": "fireworks", "east_m": 0.0, "north_m": 0.0, "bursts": 4, "crackle": 8},
    ),
]


def demo_scenario_doc(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """The scenario document of one case (same city, sensors and weather every time)."""
    return {
        "name": "shotwatch-demo",
        "start_utc": "2026-07-04T21:00:00Z",
        "area": AREA,
        "sensors": {"layout": "grid", "spacing_m": 250.0, "jitter_m": 25.0, "seed": seed},
        "buildings": {
            "mode": "random",
            "block_m": 100.0,
            "street_m": 20.0,
            "density": 0.5,
            "height_m": [8.0, 24.0],
            "seed": seed + 1,
        },
        "weather": {
            "temperature_c": 21.0,
            "relative_humidity": 45.0,
            "wind_speed_mps": 2.0,
            "wind_from_deg": 240.0,
        },
        "noise": {"background_db_spl": 55.0},
        "sources": [{**case, "t_s": 1.0}],
    }


@dataclass
class DemoCase:
    name: str
    label: str
    reports: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(seconds after the case start, pulse report JSON with times relative to 0)."""
    duration_s: float = 0.0


def build_cases(seed: int = 1) -> tuple[dict[str, Sensor], Weather, list[DemoCase]]:
    """Simulate every case once (audio) and run the edge agent over each recording."""
    from shotwatch.sensor.agent import SensorAgent
    from shotwatch.sim.engine import simulate
    from shotwatch.sim.scenario import scenario_from_dict

    sensors: dict[str, Sensor] = {}
    weather = Weather()
    cases: list[DemoCase] = []
    # The shipped gunshot classifier was trained on real recordings and scores the
    # simulator's synthetic muzzle blasts near 0 (a domain gap, measured 0.01-0.02 mean
    # on these cases), so the demo sensors report unscored pulses and the incident
    # classification rests on the acoustics (rounds, cadence, height, spread).
    scorer: Any = None
    for name, label, src in CASES:
        sc = scenario_from_dict(demo_scenario_doc(src, seed), f"demo case {name}")
        res = simulate(sc, seed, audio=True)
        sensors, weather = res.sensors, res.weather
        case = DemoCase(name, label, duration_s=res.end - res.start)
        for sid, clip in res.clips.items():
            agent = SensorAgent(
                sid,
                None,
                sample_rate=int(clip.sample_rate),
                start_utc=clip.start,
                classifier=scorer,
            )
            pulses = agent.process(clip.samples) + agent.finish()
            for p in pulses:
                d = p.to_json()
                d.pop("pulse_uuid", None)
                rel = p.t - res.start
                d["t_utc"] = rel
                if isinstance(d.get("clip"), dict) and "start_utc" in d["clip"]:
                    d["clip"] = {**d["clip"], "start_utc": parse_utc(d["clip"]["start_utc"]) - p.t}
                case.reports.append((rel, d))
        case.reports.sort(key=lambda x: x[0])
        cases.append(case)
        logger.info("demo case %s: %d pulse reports", name, len(case.reports))
    return sensors, weather, cases


def _materialise(rel: dict[str, Any], t0: float) -> dict[str, Any]:
    """A report with absolute times (``t0`` + relative) and a fresh ``pulse_uuid``."""
    d = dict(rel)
    t = t0 + float(rel["t_utc"])
    d["t_utc"] = format_utc(t)
    if isinstance(rel.get("clip"), dict) and "start_utc" in rel["clip"]:
        d["clip"] = {**rel["clip"], "start_utc": format_utc(t + float(rel["clip"]["start_utc"]))}
    d["pulse_uuid"] = str(uuid.uuid4())
    return d


async def play_case(
    client: httpx.AsyncClient, base_url: str, tokens: dict[str, str], case: DemoCase
) -> tuple[int, int]:
    """Send one case's reports in real time; returns (accepted, rejected)."""
    t0 = time.time() + 0.2
    ok = bad = 0
    for rel_t, rel in case.reports:
        due = t0 + rel_t + AGENT_LATENCY_S
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        body = _materialise(rel, t0)
        sid = body["sensor_id"]
        try:
            r = await client.post(
                f"{base_url}/api/v1/pulses",
                json=body,
                headers={"authorization": f"Bearer {tokens[sid]}"},
                timeout=10.0,
            )
        except httpx.HTTPError as e:
            logger.warning("demo sensor %s: %s", sid, e)
            bad += 1
            continue
        if r.status_code == 202:
            ok += 1
        else:
            bad += 1
            logger.warning("demo sensor %s: HTTP %d %s", sid, r.status_code, r.text[:200])
    return ok, bad


async def feed_loop(
    base_url: str,
    tokens: dict[str, str],
    cases: list[DemoCase],
    pause_s: float,
    loops: int,
    echo: Any = print,
) -> None:
    async with httpx.AsyncClient() as client:
        n = 0
        while loops == 0 or n < loops:
            n += 1
            for case in cases:
                echo(f"[demo] {case.label}")
                ok, bad = await play_case(client, base_url, tokens, case)
                if bad:
                    echo(f"[demo]   {ok} reports accepted, {bad} rejected")
                await asyncio.sleep(pause_s)


def run_demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: Path | None = None,
    pause_s: float = 8.0,
    loops: int = 0,
    seed: int = 1,
) -> None:
    """Build the city, start the service and the scenario loop; print URL and logins."""
    import socket

    import uvicorn

    from shotwatch.errors import ConfigError
    from shotwatch.settings import load_settings
    from shotwatch.web.app import DEMO_USERS, create_app
    from shotwatch.web.provision import provision_sensors

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="shotwatch-demo-")
        data_dir = Path(tmp.name)
    print("Simulating the demo city (sensors, buildings, 5 scripted cases)...", flush=True)
    sensors, weather, cases = build_cases(seed)
    # The demo publishes probable gunfire too (the shipped sensors may run without a
    # classifier score); fireworks and other confusers still wait in the review queue.
    settings = load_settings(
        environment="demo",
        data_dir=data_dir,
        pulse_max_age_s=120.0,
        auto_publish_threshold=0.4,
        auto_publish_classes=["gunfire", "probable_gunfire"],
    )
    app = create_app(settings, weather=weather)
    tokens = provision_sensors(settings, sensors, db=app.state.service.db)
    base = f"http://{host}:{port}"

    async def main() -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        server = uvicorn.Server(config)
        serve = asyncio.create_task(server.serve())
        while not server.started:
            if serve.done():
                await serve
                return
            await asyncio.sleep(0.05)
        print(f"\nShotwatch demo running at {base}/  ({len(sensors)} simulated sensors)")
        print("Logins (user / password):")
        for name, (role, unit) in DEMO_USERS.items():
            extra = f", unit {unit}" if unit else ""
            print(f"  {name:13s} / {name:13s} {role.value}{extra}")
        print("Pages: /dispatch  /mobile  /review  /investigate  /admin   API: /docs\n", flush=True)
        feeder = asyncio.create_task(feed_loop(base, tokens, cases, pause_s, loops))
        done, _ = await asyncio.wait({serve, feeder}, return_when=asyncio.FIRST_COMPLETED)
        if feeder in done and serve not in done:
            feeder.result()
            print("[demo] scenario loops finished; the service keeps running (Ctrl-C to stop)")
            await serve
        else:
            feeder.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        if tmp is not None:
            tmp.cleanup()
