"""The running service: ingest -> bus -> locator -> incidents -> review -> alerts.

One :class:`Service` per process holds the settings, the database, the evidence store,
the street layer, the bus and the console hub. Data flows one way over bus subjects:

- ``pulses.<sensor>``: a stored pulse report (queue group ``locator``);
- ``incidents``: an incident created or grown by the locator (queue group ``review``),
  where the automatic rule may publish it;
- ``alerts``: a message for the consoles (every instance fans out to its own consoles).

The locator (``shotwatch.streaming.StreamingLocator``) is called from one task at a time
in a worker thread, so it never blocks the event loop that serves the consoles.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from shotwatch.alerts.hub import AlertHub
from shotwatch.alerts.streets import StreetLayer
from shotwatch.alerts.webhooks import deliver
from shotwatch.bus import Bus, connect_url
from shotwatch.core.associate import warm_up
from shotwatch.models import Incident, Pulse, Sensor, Weather
from shotwatch.settings import Settings
from shotwatch.store import audit, repo
from shotwatch.store.db import Database
from shotwatch.store.evidence import FileEvidenceStore
from shotwatch.timeutil import format_utc
from shotwatch.web.security import Perm

logger = logging.getLogger("shotwatch.service")

_SUBJECT_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class Locator(Protocol):
    def add(self, pulse: Pulse, now: float) -> list[Incident]: ...

    def flush(self, now: float) -> list[Incident]: ...


LocatorFactory = Callable[[dict[str, Sensor], Weather | None], Locator]


def default_locator_factory(sensors: dict[str, Sensor], weather: Weather | None) -> Locator:
    """The streaming locator of :mod:`shotwatch.streaming` over the batch pipeline."""
    from shotwatch.streaming import StreamingLocator

    return StreamingLocator(sensors, weather)


def pulse_subject(sensor_id: str) -> str:
    return "pulses." + (_SUBJECT_SAFE.sub("_", sensor_id) or "_")


class Service:
    """The live system of one process (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        locator_factory: LocatorFactory | None = None,
        weather: Weather | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.sqlalchemy_url)
        self.evidence = FileEvidenceStore(settings.evidence_dir)
        uploaded = settings.data_dir / "street_layer.geojson"
        self.streets = StreetLayer.load(
            settings.street_layer or (uploaded if uploaded.is_file() else None)
        )
        self.hub = AlertHub()
        self.weather = weather
        self._locator_factory = locator_factory or default_locator_factory
        self._locator: Locator | None = None
        self._locator_lock = asyncio.Lock()
        self.sensors: dict[str, Sensor] = {}
        self._tokens: dict[str, tuple[str, bool]] = {}
        self._tokens_lock = threading.Lock()
        self.bus: Bus | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._pulse_queue: asyncio.Queue[tuple[repo.NewPulse, asyncio.Future[int | None]]] = (
            asyncio.Queue()
        )
        self._last_seen: dict[str, float] = {}
        self.stats: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        # The locator's compiled kernels, before the first report needs them.
        await asyncio.to_thread(warm_up)
        with self.db.session() as s:
            self.sensors = repo.sensor_map(s)
        self.reload_tokens()
        # A new deployment has no sensors yet (the administrator registers them on the
        # running service): the locator starts with the first one.
        self._locator = self._new_locator()
        if self._locator is None:
            logger.warning("no sensors registered yet: nothing is located until one is")
        self.bus = connect_url(self.settings.bus_url)
        await self.bus.connect()
        await self.bus.subscribe("pulses.*", self._on_pulse_msg, group="locator")
        await self.bus.subscribe("incidents", self._on_incident_msg, group="review")
        await self.bus.subscribe("alerts", self._on_alert_msg)
        self._http = httpx.AsyncClient()
        self._tasks.append(asyncio.create_task(self._flush_loop()))
        self._tasks.append(asyncio.create_task(self._pulse_writer()))
        await self._recover()
        self.started = True

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()
        self.hub.close_all()
        if self.bus is not None:
            await self.bus.close()
        if self._http is not None:
            await self._http.aclose()
        self.db.dispose()
        self.started = False

    async def _recover(self) -> None:
        """Feed pulses stored but not yet located (e.g. before a restart) to the locator."""
        since = self.clock() - self.settings.pulse_max_age_s
        with self.db.session() as s:
            pending = repo.unlocated_pulses(s, since)
        for p in pending:
            await self._locate(p)

    # ------------------------------------------------------------------ sensors

    def reload_tokens(self) -> None:
        from sqlalchemy import select

        from shotwatch.store.tables import SensorRow

        with self.db.session() as s:
            rows = s.execute(select(SensorRow)).scalars().all()
            tokens = {r.token_hash: (r.sensor_id, r.revoked) for r in rows}
            sensors = {
                r.sensor_id: Sensor(r.sensor_id, r.lat, r.lon, r.elevation_m)
                for r in rows
                if not r.revoked
            }
        with self._tokens_lock:
            self._tokens = tokens
        new = {k: v for k, v in sensors.items() if self.sensors.get(k) != v}
        self.sensors = sensors
        if new and self.started:
            # A new or moved sensor: a fresh locator (its state is short-lived anyway).
            self._locator = self._new_locator()

    def _new_locator(self) -> Locator | None:
        """A locator over the registered sensors (None while there are none)."""
        return self._locator_factory(dict(self.sensors), self.weather) if self.sensors else None

    def sensor_for_token(self, token_hash: str) -> tuple[str, bool] | None:
        with self._tokens_lock:
            return self._tokens.get(token_hash)

    # ------------------------------------------------------------------ ingest

    async def store_pulse(self, item: repo.NewPulse) -> int | None:
        """Store one pulse durably (group commit); returns its id, or None if a replay."""
        fut: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        await self._pulse_queue.put((item, fut))
        return await fut

    async def _pulse_writer(self) -> None:
        """Commit queued pulses in batches: one transaction for everything waiting."""
        while True:
            first = await self._pulse_queue.get()
            batch = [first]
            while len(batch) < 500 and not self._pulse_queue.empty():
                batch.append(self._pulse_queue.get_nowait())
            items = [b[0] for b in batch]
            try:
                ids = await asyncio.to_thread(
                    repo.store_pulses, self.db, items, self.settings.retention_years
                )
            except Exception as e:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            for (item, fut), row_id in zip(batch, ids, strict=True):
                if isinstance(row_id, Exception):  # this report's value refused, alone
                    if not fut.done():
                        fut.set_exception(row_id)
                    continue
                if row_id is not None:
                    self._last_seen[item.pulse.sensor_id] = item.received_at
                if not fut.done():
                    fut.set_result(row_id)
            self.stats["pulse_batches"] += 1

    def _touch_sensors(self) -> None:
        seen, self._last_seen = self._last_seen, {}
        if seen:
            with self.db.session() as s:
                repo.touch_sensors(s, seen)

    async def submit_pulse(self, pulse: Pulse, row_id: int) -> None:
        """Hand a stored pulse to the locator stage over the bus."""
        assert self.bus is not None
        payload = pulse.to_json()
        payload["row_id"] = row_id
        payload["sigma_t_s"] = pulse.sigma_t
        await self.bus.publish(pulse_subject(pulse.sensor_id), json.dumps(payload).encode())

    async def _on_pulse_msg(self, subject: str, payload: bytes) -> None:
        from shotwatch.formats import pulse_from_json

        d = json.loads(payload)
        pulse = pulse_from_json(d, subject)
        await self._locate(pulse)

    async def _locate(self, pulse: Pulse) -> None:
        async with self._locator_lock:
            loc = self._locator
            if loc is None:
                return
            t0 = time.perf_counter()
            incidents = await asyncio.to_thread(loc.add, pulse, self.clock())
            self.stats["locator_add_s_x1e6"] += int((time.perf_counter() - t0) * 1e6)
            self.stats["pulses_located"] += 1
        if incidents:
            await self._store_incidents(incidents)

    async def flush(self) -> None:
        async with self._locator_lock:
            loc = self._locator
            if loc is None:
                return
            incidents = await asyncio.to_thread(loc.flush, self.clock())
        if incidents:
            await self._store_incidents(incidents)

    async def _flush_loop(self) -> None:
        last_touch = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            try:
                await self.flush()
                if time.monotonic() - last_touch > 5.0:
                    last_touch = time.monotonic()
                    await asyncio.to_thread(self._touch_sensors)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("locator flush failed")

    async def _store_incidents(self, incidents: list[Incident]) -> None:
        assert self.bus is not None
        for inc in incidents:
            place = self.streets.describe(inc.first_shot.lat, inc.first_shot.lon)
            now = self.clock()

            def work(inc: Incident = inc, text: str = place.text, now: float = now) -> Any:
                with self.db.session() as s:
                    res = repo.upsert_incident(s, inc, text, now, self.settings.retention_years)
                    return res.created, res.changed, res.row.version

            created, changed, version = await asyncio.to_thread(work)
            if changed:
                self.stats["incidents_created" if created else "incidents_updated"] += 1
                msg = {"id": inc.id, "version": version, "created": created}
                await self.bus.publish("incidents", json.dumps(msg).encode())

    # ------------------------------------------------------------------ review

    async def _on_incident_msg(self, subject: str, payload: bytes) -> None:
        d = json.loads(payload)
        iid = str(d["id"])
        threshold = self.settings.auto_publish_threshold

        def work() -> tuple[dict[str, Any], str | None]:
            with self.db.session() as s:
                row = repo.get_incident(s, iid)
                if (
                    row.review_status == "pending"
                    and row.classification in self.settings.auto_publish_classes
                    and row.confidence >= threshold
                ):
                    row, _ = repo.decide(
                        s,
                        iid,
                        "auto-rule",
                        "auto_publish",
                        self.clock(),
                        note=f"confidence {row.confidence:.2f} >= {threshold:.2f}",
                    )
                    return repo.incident_json(row), "publish"
                if row.review_status == "published":
                    # An automatic publication the locator now calls non-gunfire (a
                    # fireworks burst whose first bang looked like a shot): cancel it.
                    cancel = (
                        row.evaluation_mode == "automatic" and row.classification == "non_gunfire"
                    )
                    return repo.incident_json(row), "cancel" if cancel else "update"
                return repo.incident_json(row), None

        inc, kind = await asyncio.to_thread(work)
        if kind == "publish":
            audit.append(self.db, "auto-rule", "publish", f"incident:{iid}", "automatic rule")
        await self._emit({"type": "review", "incident": inc}, Perm.REVIEW)
        if kind is not None:
            await self.publish_alert(iid, kind, "auto-rule" if kind == "publish" else "shotwatch")

    async def review(
        self, incident_id: str, actor: str, action: str, classification: str | None, note: str
    ) -> dict[str, Any]:
        """A reviewer's decision; publishes the alert when the incident is confirmed."""

        def work() -> tuple[dict[str, Any], bool]:
            with self.db.session() as s:
                row, publish = repo.decide(
                    s, incident_id, actor, action, self.clock(), classification, note
                )
                return repo.incident_json(row), publish

        inc, publish = await asyncio.to_thread(work)
        audit.append(
            self.db, actor, f"review:{action}", f"incident:{incident_id}", classification or ""
        )
        await self._emit({"type": "review", "incident": inc}, Perm.REVIEW)
        if publish:
            await self.publish_alert(incident_id, "publish", actor)
        return inc

    # ------------------------------------------------------------------ alerts

    async def publish_alert(self, incident_id: str, kind: str, actor: str) -> dict[str, Any]:
        """Create/refresh the CAD call and send the alert to every console."""
        now = self.clock()

        def work() -> dict[str, Any]:
            with self.db.session() as s:
                row = repo.get_incident(s, incident_id)
                inc = repo.incident_json(row, has_audio=repo.best_clip(s, incident_id) is not None)
                cad = None
                if kind == "cancel":
                    c = repo.cancel_cad(s, inc, actor, now)
                    cad = repo.cad_json(s, c) if c is not None else None
                elif row.classification in ("gunfire", "probable_gunfire"):
                    cad = repo.cad_json(s, repo.create_or_update_cad(s, inc, actor, now))
                alert = {
                    "type": "alert",
                    "kind": kind,
                    "version": row.version,
                    "published_at": now,
                    "published_utc": format_utc(now),
                    "incident": inc,
                    "cad_call": cad,
                }
                repo.record_alert(s, incident_id, row.version, kind, now, alert)
                return alert

        alert = await asyncio.to_thread(work)
        await self._emit(alert, Perm.LIVE_ALERTS)
        self.stats[f"alerts_{kind}"] += 1
        if self.settings.webhook_urls and self._http is not None:
            body = json.dumps(alert).encode()
            task = asyncio.create_task(self._webhooks(body), name=f"webhook-{incident_id}")
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)
        return alert

    async def _webhooks(self, body: bytes) -> None:
        assert self._http is not None
        await deliver(
            self._http, self.settings.webhook_urls, self.settings.hmac_webhook_secret, body
        )

    async def _emit(self, message: dict[str, Any], permission: str) -> None:
        """Send a console message through the bus (all instances fan out)."""
        assert self.bus is not None
        payload = f"{permission}\n".encode() + json.dumps(message).encode()
        await self.bus.publish("alerts", payload)

    async def emit(self, message: dict[str, Any], permission: str) -> None:
        await self._emit(message, permission)

    async def _on_alert_msg(self, subject: str, payload: bytes) -> None:
        perm, _, body = payload.partition(b"\n")
        self.hub.broadcast(body.decode(), perm.decode())
