"""``shotwatch bench-service``: alert fan-out latency and pulse ingest rate.

Fan-out: the service runs under Uvicorn in a thread; ``consoles`` WebSocket clients
connect as dispatchers; synthetic gunfire incidents go through the real incident ->
auto-rule -> CAD -> bus -> console path; latency is the console's receive time minus
the alert's ``published_at`` (same clock, same machine). Ingest: ``clients`` concurrent
HTTP clients POST pulse reports with per-sensor credentials; the rate counts accepted
reports (202) per second of wall time, on each database given.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from shotwatch.models import Classification, Incident, Sensor, Shot
from shotwatch.settings import Settings
from shotwatch.timeutil import format_utc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_service(
    settings: Settings, sensors: dict[str, Sensor]
) -> Iterator[tuple[str, Any, dict[str, str], asyncio.AbstractEventLoop]]:
    import uvicorn

    from shotwatch.web.app import create_app
    from shotwatch.web.provision import provision_sensors

    app = create_app(settings)
    tokens = provision_sensors(settings, sensors, db=app.state.service.db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    loop = asyncio.new_event_loop()
    th = threading.Thread(target=lambda: loop.run_until_complete(server.serve()), daemon=True)
    th.start()
    while not server.started:
        if not th.is_alive():
            raise RuntimeError("service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app, tokens, loop
    finally:
        server.should_exit = True
        th.join(timeout=15)


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """SQLite: a temp file. PostgreSQL: a fresh database beside ``url``'s, dropped after."""
    if url == "sqlite" or not url.startswith("postgresql"):
        yield "" if url == "sqlite" else url
        return
    from sqlalchemy import create_engine, text

    name = f"shotwatch_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def grid(n: int, lat0: float = 38.579, lon0: float = -121.493) -> dict[str, Sensor]:
    side = max(1, round(n**0.5))
    out = {}
    for k in range(n):
        i, j = divmod(k, side)
        sid = f"B{k:04d}"
        out[sid] = Sensor(sid, lat0 + (i - side / 2) * 0.0025, lon0 + (j - side / 2) * 0.003, 10.0)
    return out


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


async def _fanout(
    base: str, app: Any, loop: asyncio.AbstractEventLoop, consoles: int, n_alerts: int
) -> dict[str, float]:
    import websockets

    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{base}/api/v1/auth/login", json={"username": "dispatcher", "password": "dispatcher"}
        )
        token = r.json()["token"]
    ws_url = base.replace("http://", "ws://") + f"/api/v1/alerts?token={token}"
    latencies: list[float] = []
    received = [0] * consoles
    ready = asyncio.Event()
    connected = 0

    async def console(k: int) -> None:
        nonlocal connected
        async with websockets.connect(ws_url, max_size=2**22) as ws:
            await ws.recv()  # hello
            connected += 1
            if connected == consoles:
                ready.set()
            while received[k] < n_alerts:
                msg = json.loads(await ws.recv())
                now = time.time()
                if msg.get("type") == "alert":
                    latencies.append(now - float(msg["published_at"]))
                    received[k] += 1

    tasks = [asyncio.create_task(console(k)) for k in range(consoles)]
    await asyncio.wait_for(ready.wait(), 30)
    svc = app.state.service
    t_start = time.time()
    for _ in range(n_alerts):
        t = time.time() - 1.0
        shot = Shot(
            t=t,
            lat=38.579 + random.uniform(-0.005, 0.005),
            lon=-121.493 + random.uniform(-0.005, 0.005),
            elevation_m=10.0,
            error_radius_m=3.0,
            sensors=["B0000", "B0001", "B0002", "B0003"],
        )
        inc = Incident(
            id=f"BENCH-{uuid.uuid4().hex[:10]}",
            classification=Classification.GUNFIRE,
            confidence=0.99,
            shots=[shot],
            summary="Single round",
        )
        fut = asyncio.run_coroutine_threadsafe(svc._store_incidents([inc]), loop)
        await asyncio.wrap_future(fut)
        await asyncio.sleep(0.02)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    wall = time.time() - t_start
    return {
        "consoles": consoles,
        "alerts": n_alerts,
        "deliveries": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * _pct(latencies, 99),
        "max_ms": 1000 * max(latencies),
        "wall_s": wall,
    }


async def _ingest(base: str, tokens: dict[str, str], n: int, clients: int) -> dict[str, float]:
    sids = sorted(tokens)
    now = time.time() - random.uniform(0.0, 10.0)
    bodies = []
    for i in range(n):
        sid = sids[i % len(sids)]
        bodies.append(
            (
                sid,
                {
                    "sensor_id": sid,
                    "t_utc": format_utc(now - 30.0 + i * 1e-3),
                    "snr_db": 15.0,
                    "gunshot_score": 0.1,
                    "pulse_uuid": str(uuid.uuid4()),
                },
            )
        )
    q: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for b in bodies:
        q.put_nowait(b)
    ok = 0
    bad = 0

    async def worker() -> None:
        nonlocal ok, bad
        async with httpx.AsyncClient(timeout=30.0) as c:
            while not q.empty():
                sid, body = q.get_nowait()
                r = await c.post(
                    f"{base}/api/v1/pulses",
                    json=body,
                    headers={"authorization": f"Bearer {tokens[sid]}"},
                )
                if r.status_code == 202:
                    ok += 1
                else:
                    bad += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    dt = time.perf_counter() - t0
    return {
        "pulses": n,
        "accepted": ok,
        "rejected": bad,
        "seconds": dt,
        "pulses_per_s": ok / dt,
    }


def sim_shots(n: int, seed: int = 7) -> tuple[dict[str, Sensor], list[list[dict[str, Any]]]]:
    """``n`` simulated single shots in the demo city: per shot, its pulse reports with
    ``t_utc`` relative to the shot (seconds, float)."""
    from shotwatch.sim.engine import simulate
    from shotwatch.sim.scenario import scenario_from_dict
    from shotwatch.web.demo import demo_scenario_doc

    rng = random.Random(seed)
    sensors: dict[str, Sensor] = {}
    shots = []
    for k in range(n):
        src = {
            "kind": "gunfire",
            "east_m": round(rng.uniform(-500, 500) / 100) * 100.0,
            "north_m": rng.uniform(-500, 500),
            "weapon": "handgun",
        }
        res = simulate(scenario_from_dict(demo_scenario_doc(src, seed)), seed + k)
        sensors = res.sensors
        shots.append(
            [
                {
                    "sensor_id": p.sensor_id,
                    "t_utc": p.t - res.start,
                    "snr_db": p.snr_db,
                    "gunshot_score": 0.95,  # as an edge classifier would report
                }
                for p in sorted(res.pulses, key=lambda p: p.t)
            ]
        )
    return sensors, shots


async def _end_to_end(
    base: str, tokens: dict[str, str], shots: list[list[dict[str, Any]]]
) -> dict[str, float]:
    """Time from the last pulse report of a shot reaching the server (its HTTP response)
    to the alert on a console, automatic mode, with the real locator."""
    import websockets

    async with httpx.AsyncClient(timeout=30.0) as c:
        r = await c.post(
            f"{base}/api/v1/auth/login", json={"username": "dispatcher", "password": "dispatcher"}
        )
        ws_url = base.replace("http://", "ws://") + f"/api/v1/alerts?token={r.json()['token']}"
        lat: list[float] = []
        async with websockets.connect(ws_url, max_size=2**22) as ws:
            await ws.recv()
            for reports in shots:
                t0 = time.time() - 3.0
                for rep in reports:
                    body = dict(rep, t_utc=format_utc(t0 + float(rep["t_utc"])))
                    h = {"authorization": f"Bearer {tokens[rep['sensor_id']]}"}
                    await c.post(f"{base}/api/v1/pulses", json=body, headers=h)
                t_last = time.time()
                try:
                    while True:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 10.0))
                        if msg.get("type") == "alert":
                            lat.append(time.time() - t_last)
                            break
                except TimeoutError:
                    pass
                await asyncio.sleep(8.0)  # separate incidents, not one long one
    return {
        "shots": len(shots),
        "alerts": len(lat),
        "p50_ms": 1000 * statistics.median(lat) if lat else float("nan"),
        "p99_ms": 1000 * _pct(lat, 99) if lat else float("nan"),
    }


def _ingest_worker(args: tuple[str, dict[str, str], int, int]) -> dict[str, float]:
    return asyncio.run(_ingest(*args))


def _ingest_in_subprocess(
    base: str, tokens: dict[str, str], n: int, clients: int
) -> dict[str, float]:
    """Run the load generator in its own process so it does not share the server's GIL."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = 2
    with ctx.Pool(procs) as pool:
        parts = pool.map(
            _ingest_worker, [(base, tokens, n // procs, clients) for _ in range(procs)]
        )
    ok = sum(p["accepted"] for p in parts)
    return {
        "pulses": sum(p["pulses"] for p in parts),
        "accepted": ok,
        "rejected": sum(p["rejected"] for p in parts),
        "seconds": max(p["seconds"] for p in parts),
        "pulses_per_s": ok / max(p["seconds"] for p in parts),
    }


def run_bench(
    consoles: int,
    n_alerts: int,
    n_pulses: int,
    clients: int,
    database_urls: list[str],
    e2e_shots: int = 10,
) -> None:
    print(
        f"# shotwatch bench-service: {consoles} consoles, {n_alerts} alerts; "
        f"{n_pulses} pulses x {clients} clients"
    )
    sim_sensors, shots = sim_shots(e2e_shots)
    sensors = grid(100) | sim_sensors
    for k, url in enumerate(database_urls):
        with (
            tempfile.TemporaryDirectory(prefix="shotwatch-bench-") as tmp,
            scratch_database(url) as db_url,
        ):
            settings = Settings(
                data_dir=Path(tmp),
                database_url=db_url,
                pulse_max_age_s=3600.0,
                auto_publish_threshold=0.0,
                auto_publish_classes=["gunfire", "probable_gunfire"],
            )
            label = "sqlite" if not db_url else db_url.split("@")[-1].rsplit("/", 1)[0]
            with running_service(settings, sensors) as (base, app, tokens, loop):
                if k == 0:
                    f = asyncio.run(_fanout(base, app, loop, consoles, n_alerts))
                    print(
                        f"fan-out: {f['consoles']:.0f} consoles x {f['alerts']:.0f} alerts = "
                        f"{f['deliveries']:.0f} deliveries; latency p50 {f['p50_ms']:.1f} ms, "
                        f"p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms"
                    )
                    e = asyncio.run(_end_to_end(base, tokens, shots))
                    print(
                        f"end-to-end (last pulse in -> console, real locator): "
                        f"{e['alerts']:.0f}/{e['shots']:.0f} shots alerted; "
                        f"p50 {e['p50_ms']:.0f} ms, p99 {e['p99_ms']:.0f} ms"
                    )
                r = _ingest_in_subprocess(
                    base, {k: v for k, v in tokens.items() if k[0] == "B"}, n_pulses, clients
                )
                print(
                    f"ingest [{label}]: {r['accepted']:.0f}/{r['pulses']:.0f} accepted "
                    f"in {r['seconds']:.2f} s = {r['pulses_per_s']:.0f} pulses/s"
                )
