"""The JSON API under ``/api/v1`` (OpenAPI at ``/openapi.json``).

Every route names the permission it needs (``shotwatch.web.security``); sensors
authenticate with their own bearer token on ``POST /pulses`` only. Evidence access
(incident detail, audio, reports) is written to the hash-chained audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, WebSocket
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from shotwatch.alerts.cap import cap_feed
from shotwatch.errors import InputError, NotFoundError
from shotwatch.models import Sensor
from shotwatch.store import audit, repo
from shotwatch.store.tables import (
    AlertRow,
    CadCallRow,
    CitizenCallRow,
    ReleaseRequestRow,
    SensorRow,
    UnitRow,
)
from shotwatch.timeutil import format_utc, parse_utc
from shotwatch.web.deps import (
    SESSION_COOKIE,
    ServiceDep,
    User,
    UserDep,
    require,
    sign_in,
    user_from_token,
    ws_user,
)
from shotwatch.web.ingest import parse_pulse_report
from shotwatch.web.security import (
    HOME_PAGE,
    ROLE_PERMISSIONS,
    Perm,
    Role,
    hash_password,
    new_sensor_token,
    sign_session,
    token_digest,
)

logger = logging.getLogger("shotwatch.ingest")
router = APIRouter(prefix="/api/v1")


# ------------------------------------------------------------------------ schemas

ROW_ID_MAX = 2**31 - 1
"""The largest id of the rows a route names by number (CAD calls, citizen calls, release
requests: ``INTEGER`` columns, 32-bit in PostgreSQL): a larger id is refused with 422,
not passed to the database (PostgreSQL raised "integer out of range" and SQLite
OverflowError past 2**63, both a 500)."""
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX, description="row id")]
Limit = Annotated[int, Query(ge=1, le=100_000, description="at most this many")]


class _In(BaseModel):
    """A request body: no text field may hold a NUL character (no column stores one;
    PostgreSQL refuses it with an error, a 500 before this check)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        if isinstance(v, str) and "\x00" in v:
            raise ValueError("holds a NUL character")
        return v


class LoginIn(_In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class LoginOut(BaseModel):
    token: str
    username: str
    role: str
    home: str
    permissions: list[str]


class IngestOut(BaseModel):
    accepted: bool
    pulse_id: int


class ReviewIn(_In):
    action: Literal["confirm", "reclassify", "dismiss"]
    classification: Literal["gunfire", "probable_gunfire", "non_gunfire"] | None = None
    note: str = Field(default="", max_length=2000)


class CitizenCallIn(_In):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str = Field(default="", max_length=300)
    received_utc: str | None = None
    narrative: str = Field(default="", max_length=4000)
    victim: str = Field(default="", max_length=1000)
    subject: str = Field(default="", max_length=1000)
    vehicle: str = Field(default="", max_length=1000)
    weapon: str = Field(default="", max_length=1000)


class AttachIn(_In):
    incident_id: str | None = None
    """Default: the proposed incident."""


class SupplementIn(_In):
    victim: str = Field(default="", max_length=1000)
    subject: str = Field(default="", max_length=1000)
    vehicle: str = Field(default="", max_length=1000)
    weapon: str = Field(default="", max_length=1000)


class AssignIn(_In):
    unit_id: str = Field(min_length=1, max_length=32)


class EscalateIn(_In):
    medical: bool = True
    extra_units: int = Field(default=2, ge=0, le=20)
    note: str = Field(default="", max_length=1000)


class UnitStatusIn(_In):
    status: Literal["en_route", "on_scene", "available", "cleared"]
    incident_id: str | None = None
    cad_call_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)


class CanvassIn(_In):
    text: str = Field(min_length=1, max_length=4000)


class SensorIn(_In):
    sensor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    elevation_m: float = Field(ge=-500, le=9000)
    full_scale_db_spl: float | None = Field(
        default=None, ge=80, le=194, description="calibration: dB SPL that reads 0 dBFS"
    )


class UserIn(_In):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    unit_id: str | None = Field(default=None, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")


class ReleaseIn(_In):
    incident_id: str
    recipient: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseDecisionIn(_In):
    decision: Literal["authorized", "denied"]


def _now(svc: ServiceDep) -> float:
    return svc.clock()


def _not_found(e: NotFoundError) -> HTTPException:
    return HTTPException(404, str(e))


# -------------------------------------------------------------------------- auth


@router.post("/auth/login", response_model=LoginOut, tags=["auth"])
def login(body: LoginIn, response: Response, svc: ServiceDep) -> LoginOut:
    """A session token (also set as the session cookie). 401 for a wrong name or
    password, 429 with ``Retry-After`` while the account is locked (see ``sign_in``)."""
    got = sign_in(svc, body.username, body.password)
    role = got.role
    if role is None:
        raise HTTPException(429 if got.retry_after else 401, got.refusal(), got.retry_after)
    token = sign_session(svc.settings.secret_key, body.username, svc.settings.session_hours * 3600)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=int(svc.settings.session_hours * 3600),
    )
    return LoginOut(
        token=token,
        username=body.username,
        role=str(role),
        home=HOME_PAGE[role],
        permissions=sorted(ROLE_PERMISSIONS[role]),
    )


@router.get("/auth/me", tags=["auth"])
def me(user: UserDep) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": str(user.role),
        "unit_id": user.unit_id,
        "permissions": sorted(user.permissions),
    }


# ------------------------------------------------------------------------ ingest


def _reject(svc: ServiceDep, status: int, reason: str, who: str) -> HTTPException:
    logger.warning("pulse rejected (%d) from %s: %s", status, who, reason)
    key = reason.split(":", maxsplit=1)[0][:60]
    svc.rejections[key] += 1
    return HTTPException(status, reason)


@router.post("/pulses", response_model=IngestOut, status_code=202, tags=["sensors"])
async def ingest_pulse(request: Request, svc: ServiceDep) -> IngestOut:
    """One pulse report from a sensor (``Authorization: Bearer <sensor token>``)."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    peer = request.client.host if request.client else "?"
    if not token:
        raise _reject(svc, 401, "missing sensor credential", peer)
    known = svc.sensor_for_token(token_digest(token))
    if known is None:
        raise _reject(svc, 401, "unknown sensor credential", peer)
    sensor_id, revoked = known
    if revoked:
        raise _reject(svc, 403, "revoked sensor credential", sensor_id)
    limit = svc.settings.max_pulse_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _reject(svc, 413, f"report too large: {declared} bytes > {limit}", sensor_id)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _reject(svc, 413, f"report too large: > {limit} bytes", sensor_id)
    try:
        if b'"clip"' in body and len(body) > 2048:
            parsed = await asyncio.to_thread(
                parse_pulse_report, bytes(body), limit, svc.settings.max_clip_seconds
            )
        else:
            parsed = parse_pulse_report(bytes(body), limit, svc.settings.max_clip_seconds)
    except InputError as e:
        status = 413 if "too long" in str(e) or "too large" in str(e) else 422
        raise _reject(svc, status, str(e), sensor_id) from None
    pulse = parsed.pulse
    if pulse.sensor_id != sensor_id:
        raise _reject(svc, 403, f"credential is for {sensor_id}, not {pulse.sensor_id}", sensor_id)
    now = svc.clock()
    if pulse.t < now - svc.settings.pulse_max_age_s:
        raise _reject(svc, 422, f"stale report: t_utc {now - pulse.t:.0f} s old", sensor_id)
    if pulse.t > now + svc.settings.pulse_max_future_s:
        raise _reject(svc, 422, f"report from the future: {pulse.t - now:.1f} s ahead", sensor_id)

    key = sha = None
    if parsed.clip is not None and parsed.clip_ext is not None:
        key, sha = await asyncio.to_thread(svc.evidence.put, parsed.clip, parsed.clip_ext)
    row_id = await svc.store_pulse(repo.NewPulse(pulse, now, key, sha))
    if row_id is None:
        raise _reject(svc, 409, "replayed report (same sensor and time, or pulse_uuid)", sensor_id)
    svc.stats["pulses_accepted"] += 1
    await svc.submit_pulse(pulse, row_id)
    return IngestOut(accepted=True, pulse_id=row_id)


# --------------------------------------------------------------------- incidents


def _parse_time(v: str | None, name: str) -> float | None:
    if v is None or v == "":
        return None
    try:
        return parse_utc(v)
    except InputError as e:
        raise HTTPException(422, f"{name}: {e}") from None


@router.get("/incidents", tags=["incidents"])
def list_incidents(
    svc: ServiceDep,
    user: User = require(Perm.VIEW_INCIDENTS),
    since: str | None = None,
    until: str | None = None,
    bbox: Annotated[str | None, Query(description="south,west,north,east degrees")] = None,
    min_rounds: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    max_rounds: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    address: str | None = None,
    status: Literal["pending", "published", "dismissed"] | None = None,
    classification: str | None = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Incidents, newest first. Without the ``search`` permission only published ones."""
    box: tuple[float, float, float, float] | None = None
    if bbox:
        try:
            parts = [float(x) for x in bbox.split(",")]
        except ValueError:
            raise HTTPException(422, "bbox must be four numbers south,west,north,east") from None
        if len(parts) != 4:
            raise HTTPException(422, "bbox must be four numbers south,west,north,east")
        box = (parts[0], parts[1], parts[2], parts[3])
    if not user.can(Perm.SEARCH) and not user.can(Perm.REVIEW):
        status = "published"
    with svc.db.session() as s:
        rows = repo.search_incidents(
            s,
            since=_parse_time(since, "since"),
            until=_parse_time(until, "until"),
            bbox=box,
            min_rounds=min_rounds,
            max_rounds=max_rounds,
            address=address,
            status=status,
            classification=classification,
            limit=limit,
        )
        out = [repo.incident_json(r, with_sensors=user.can(Perm.SENSOR_LOCATIONS)) for r in rows]
    if user.can(Perm.SEARCH):
        audit.append(svc.db, user.username, "search", "incidents", json.dumps({"n": len(out)}))
    return {"incidents": out, "count": len(out)}


@router.get("/incidents/{incident_id}", tags=["incidents"])
def incident_detail(
    incident_id: str, svc: ServiceDep, user: User = require(Perm.VIEW_INCIDENTS)
) -> dict[str, Any]:
    """Detail: shots, audio, CAD call, review decisions, alert timeline."""
    with svc.db.session() as s:
        try:
            row = repo.get_incident(s, incident_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        if row.review_status != "published" and not (
            user.can(Perm.REVIEW) or user.can(Perm.SEARCH)
        ):
            raise HTTPException(404, f"incident {incident_id!r} not found")
        clips = repo.clips_of(s, incident_id)
        out = repo.incident_json(
            row, with_sensors=user.can(Perm.SENSOR_LOCATIONS), has_audio=bool(clips)
        )
        cad = repo.cad_for_incident(s, incident_id)
        out["cad_call"] = repo.cad_json(s, cad) if cad is not None else None
        out["review"] = repo.decisions_of(s, incident_id)
        out["clips"] = [
            {
                "index": i,
                "url": f"/api/v1/incidents/{incident_id}/audio?clip={i}",
                "t_utc": format_utc(c.t),
                "sha256": c.clip_sha256,
                **({"sensor_id": c.sensor_id} if user.can(Perm.SENSOR_LOCATIONS) else {}),
            }
            for i, c in enumerate(clips)
        ]
        cc = s.execute(
            select(CitizenCallRow).where(CitizenCallRow.attached_incident_id == incident_id)
        ).scalars()
        out["citizen_calls"] = [repo.citizen_json(c) for c in cc]
        out["alerts"] = [
            {"version": a.version, "kind": a.kind, "published_utc": format_utc(a.published_at)}
            for a in s.execute(
                select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.id)
            ).scalars()
        ]
    audit.append(svc.db, user.username, "view_incident", f"incident:{incident_id}")
    return out


@router.get("/incidents/{incident_id}/audio", tags=["incidents"])
def incident_audio(
    incident_id: str,
    svc: ServiceDep,
    user: User = require(Perm.PLAY_AUDIO),
    clip: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    """The incident's audio clip (WAV/FLAC): the best one, or ``clip=<index>``."""
    with svc.db.session() as s:
        try:
            row = repo.get_incident(s, incident_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        if row.review_status != "published" and not (
            user.can(Perm.REVIEW) or user.can(Perm.SEARCH)
        ):
            raise HTTPException(404, f"incident {incident_id!r} not found")
        if clip is None:
            best = repo.best_clip(s, incident_id)
        else:
            clips = repo.clips_of(s, incident_id)
            best = clips[clip] if 0 <= clip < len(clips) else None
        if best is None or best.clip_key is None:
            raise HTTPException(404, "no audio for this incident")
        key, sha = best.clip_key, best.clip_sha256
    try:
        data = svc.evidence.get(key)
    except NotFoundError as e:
        raise _not_found(e) from None
    audit.append(svc.db, user.username, "play_audio", f"incident:{incident_id}", f"sha256={sha}")
    media = "audio/flac" if key.endswith(".flac") else "audio/wav"
    return Response(data, media_type=media, headers={"cache-control": "private, no-store"})


@router.get("/incidents/{incident_id}/report.pdf", tags=["incidents"])
def incident_report(
    incident_id: str, svc: ServiceDep, user: User = require(Perm.REPORTS)
) -> Response:
    """Forensic report (PDF) for the District Attorney, via the investigative unit."""
    from shotwatch.web.report import forensic_report

    with svc.db.session() as s:
        try:
            row = repo.get_incident(s, incident_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        inc = repo.incident_json(row)
        cad = repo.cad_for_incident(s, incident_id)
        cad_d = repo.cad_json(s, cad) if cad is not None else None
        decisions = repo.decisions_of(s, incident_id)
        clips = [
            {"t_utc": format_utc(c.t), "sha256": c.clip_sha256}
            for c in repo.clips_of(s, incident_id)
        ]
    digest = audit.append(svc.db, user.username, "forensic_report", f"incident:{incident_id}")
    pdf = forensic_report(inc, cad_d, decisions, clips, user.username, digest)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="shotwatch-{incident_id}.pdf"'},
    )


# ------------------------------------------------------------------------ review


@router.get("/review", tags=["review"])
def review_queue(svc: ServiceDep, user: User = require(Perm.REVIEW)) -> dict[str, Any]:
    """Incidents waiting for a reviewer, oldest first, with their age in seconds."""
    now = svc.clock()
    with svc.db.session() as s:
        rows = repo.review_queue(s)
        items = []
        for r in rows:
            d = repo.incident_json(r)
            d["age_s"] = round(now - r.created_at, 1)
            items.append(d)
    return {"target_s": svc.settings.review_target_s, "queue": items}


@router.post("/review/{incident_id}", tags=["review"])
async def review_decide(
    incident_id: str, body: ReviewIn, svc: ServiceDep, user: User = require(Perm.REVIEW)
) -> dict[str, Any]:
    """Confirm, reclassify or dismiss; confirmed gunfire is published at once."""
    try:
        return await svc.review(
            incident_id, user.username, body.action, body.classification, body.note
        )
    except NotFoundError as e:
        raise _not_found(e) from None
    except InputError as e:
        raise HTTPException(409, str(e)) from None


# -------------------------------------------------------------------------- alerts


@router.get("/alerts", tags=["alerts"])
def alerts_recent(
    svc: ServiceDep, user: User = require(Perm.LIVE_ALERTS), limit: Limit = 50
) -> dict[str, Any]:
    """The most recent alerts (newest first); the live stream is the WebSocket here."""
    with svc.db.session() as s:
        rows = repo.recent_alerts(s, max(1, min(limit, 500)))
        return {"alerts": [r.payload for r in rows]}


@router.get("/alerts/cap.xml", tags=["alerts"])
def alerts_cap(
    svc: ServiceDep, user: User = require(Perm.LIVE_ALERTS), limit: Limit = 50
) -> Response:
    """CAP 1.2 feed of published alerts."""
    with svc.db.session() as s:
        rows = repo.recent_alerts(s, max(1, min(limit, 500)))
        payloads = [r.payload for r in rows]
    return Response(cap_feed(payloads), media_type="application/xml")


@router.websocket("/alerts")
async def alerts_ws(ws: WebSocket) -> None:
    """Live console stream: ``alert`` (published/updated), ``review``, ``cad`` messages.

    Authenticate with the session cookie or ``?token=``. Permission: ``live_alerts``
    (reviewers also receive ``review`` messages).
    """
    svc = ws.app.state.service
    user = await asyncio.to_thread(ws_user, ws, svc)
    if user is None or not (user.can(Perm.LIVE_ALERTS) or user.can(Perm.REVIEW)):
        await ws.close(code=4401 if user is None else 4403)
        return
    await ws.accept()
    console = svc.hub.connect(user.username, str(user.role), [str(p) for p in user.permissions])
    await ws.send_text(json.dumps({"type": "hello", "user": user.username, "role": user.role}))

    async def sender() -> None:
        while True:
            msg = await console.queue.get()
            if msg is None:
                return
            await ws.send_text(msg)

    async def receiver() -> None:
        while True:
            text = await ws.receive_text()
            if text == "ping":
                await ws.send_text('{"type":"pong"}')

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        svc.hub.disconnect(console)
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                pass
            except Exception:
                logger.debug("websocket task ended", exc_info=True)


# ---------------------------------------------------------------------- CAD calls


@router.get("/cad-calls", tags=["cad"])
def cad_list(
    svc: ServiceDep, user: User = require(Perm.LIVE_ALERTS), status: str | None = None
) -> dict[str, Any]:
    with svc.db.session() as s:
        return {"cad_calls": [repo.cad_json(s, r) for r in repo.list_cad(s, status)]}


@router.get("/cad-calls/{cad_id}", tags=["cad"])
def cad_get(
    cad_id: RowId, svc: ServiceDep, user: User = require(Perm.LIVE_ALERTS)
) -> dict[str, Any]:
    with svc.db.session() as s:
        try:
            return repo.cad_json(s, repo.get_cad(s, cad_id))
        except NotFoundError as e:
            raise _not_found(e) from None


async def _cad_changed(svc: ServiceDep, cad_id: int) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        with svc.db.session() as s:
            return repo.cad_json(s, repo.get_cad(s, cad_id))

    d = await asyncio.to_thread(work)
    await svc.emit({"type": "cad", "cad_call": d}, Perm.LIVE_ALERTS)
    return d


@router.post("/cad-calls/{cad_id}/supplement", tags=["cad"])
async def cad_supplement(
    cad_id: RowId, body: SupplementIn, svc: ServiceDep, user: User = require(Perm.CAD)
) -> dict[str, Any]:
    """§B.4: only victim, subject, vehicle, discarded-weapon information."""
    with svc.db.session() as s:
        try:
            cad = repo.get_cad(s, cad_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        n = repo.supplement(s, cad, body.model_dump(), user.username, svc.clock())
    if n == 0:
        raise HTTPException(422, "nothing pertinent to add (victim, subject, vehicle, weapon)")
    return await _cad_changed(svc, cad_id)


@router.post("/cad-calls/{cad_id}/units", tags=["cad"])
async def cad_assign(
    cad_id: RowId, body: AssignIn, svc: ServiceDep, user: User = require(Perm.CAD)
) -> dict[str, Any]:
    """Assign a unit to the call (§B.5: self-dispatched units go to the original call)."""
    now = svc.clock()
    with svc.db.session() as s:
        try:
            cad = repo.get_cad(s, cad_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        u = repo.get_unit(s, body.unit_id, now, create=True)
        u.cad_call_id = cad.id
        if u.status in ("available", "cleared"):
            u.status = "dispatched"
        u.updated_at = now
        repo.add_cad_entry(s, cad, "assigned", f"Unit {u.unit_id} assigned", user.username, now)
    return await _cad_changed(svc, cad_id)


@router.post("/cad-calls/{cad_id}/escalate", tags=["cad"])
async def cad_escalate(
    cad_id: RowId, body: EscalateIn, svc: ServiceDep, user: User = require(Perm.CAD)
) -> dict[str, Any]:
    """§B.7: confirmed shooting: additional units and medical aid."""
    with svc.db.session() as s:
        try:
            cad = repo.get_cad(s, cad_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        repo.escalate(s, cad, user.username, svc.clock(), body.medical, body.extra_units)
        if body.note:
            repo.add_cad_entry(s, cad, "note", body.note, user.username, svc.clock())
    return await _cad_changed(svc, cad_id)


# ------------------------------------------------------------------ citizen calls


@router.post("/citizen-calls", status_code=201, tags=["cad"])
def citizen_create(
    body: CitizenCallIn, svc: ServiceDep, user: User = require(Perm.CAD)
) -> dict[str, Any]:
    """A citizen's call; a published incident near in time and place is proposed (§B.6)."""
    t = _parse_time(body.received_utc, "received_utc") or svc.clock()
    if (body.lat is None) != (body.lon is None):
        raise HTTPException(422, "give both lat and lon, or neither")
    with svc.db.session() as s:
        row = CitizenCallRow(
            received_at=t,
            lat=body.lat,
            lon=body.lon,
            address=body.address,
            narrative=body.narrative,
            victim=body.victim,
            subject=body.subject,
            vehicle=body.vehicle,
            weapon=body.weapon,
            status="new",
            taken_by=user.username,
        )
        if body.lat is not None and body.lon is not None:
            if not body.address:
                row.address = svc.streets.describe(body.lat, body.lon).text
            dup = repo.propose_duplicate(
                s,
                body.lat,
                body.lon,
                t,
                svc.settings.duplicate_radius_m,
                svc.settings.duplicate_window_s,
            )
            if dup is not None:
                row.proposed_incident_id = dup[0].id
                row.proposed_distance_m = dup[1]
        s.add(row)
        s.flush()
        return repo.citizen_json(row)


@router.get("/citizen-calls", tags=["cad"])
def citizen_list(svc: ServiceDep, user: User = require(Perm.CAD)) -> dict[str, Any]:
    with svc.db.session() as s:
        rows = s.execute(
            select(CitizenCallRow).order_by(CitizenCallRow.id.desc()).limit(200)
        ).scalars()
        return {"citizen_calls": [repo.citizen_json(r) for r in rows]}


@router.post("/citizen-calls/{call_id}/attach", tags=["cad"])
async def citizen_attach(
    call_id: RowId, body: AttachIn, svc: ServiceDep, user: User = require(Perm.CAD)
) -> dict[str, Any]:
    """§B.6b: add the duplicate call to the original incident; §B.4: supplement only
    pertinent information (victim, subject, vehicle, weapon)."""
    now = svc.clock()
    with svc.db.session() as s:
        row = s.get(CitizenCallRow, call_id)
        if row is None:
            raise HTTPException(404, f"citizen call {call_id} not found")
        iid = body.incident_id or row.proposed_incident_id
        if iid is None:
            raise HTTPException(422, "no incident proposed; give incident_id")
        cad = repo.cad_for_incident(s, iid)
        if cad is None:
            raise HTTPException(409, f"incident {iid} has no CAD call (not published gunfire)")
        row.attached_incident_id = iid
        row.status = "attached"
        repo.add_cad_entry(
            s,
            cad,
            "duplicate_call",
            f"Citizen call #{call_id} attached as duplicate",
            user.username,
            now,
        )
        n = repo.supplement(
            s,
            cad,
            {
                "victim": row.victim,
                "subject": row.subject,
                "vehicle": row.vehicle,
                "weapon": row.weapon,
            },
            user.username,
            now,
        )
        cad_id = cad.id
        out = repo.citizen_json(row)
    out["supplements_added"] = n
    out["cad_call"] = await _cad_changed(svc, cad_id)
    return out


# -------------------------------------------------------------------------- units


def _unit_allowed(user: User, unit_id: str) -> None:
    if user.can(Perm.CAD):
        return
    if user.can(Perm.UNIT_STATUS) and user.unit_id == unit_id:
        return
    raise HTTPException(403, f"{user.username} may not update unit {unit_id}")


@router.get("/units", tags=["units"])
def units_list(svc: ServiceDep, user: User = require(Perm.LIVE_ALERTS)) -> dict[str, Any]:
    with svc.db.session() as s:
        rows = s.execute(select(UnitRow).order_by(UnitRow.unit_id)).scalars()
        return {"units": [repo.unit_json(u) for u in rows]}


@router.post("/units/{unit_id}/status", tags=["units"])
async def unit_status(
    unit_id: str, body: UnitStatusIn, svc: ServiceDep, user: UserDep
) -> dict[str, Any]:
    """En route / on scene / available. A unit that goes en route to a ShotWatch
    incident it was not assigned to is self-dispatched and assigned to the original
    call (§B.5)."""
    _unit_allowed(user, unit_id)
    now = svc.clock()
    with svc.db.session() as s:
        u = repo.get_unit(s, unit_id, now, create=True)
        cad: CadCallRow | None = None
        if body.cad_call_id is not None:
            cad = s.get(CadCallRow, body.cad_call_id)
        elif body.incident_id is not None:
            cad = repo.cad_for_incident(s, body.incident_id)
        elif u.cad_call_id is not None:
            cad = s.get(CadCallRow, u.cad_call_id)
        if body.status in ("en_route", "on_scene") and cad is None:
            raise HTTPException(422, "which call? give incident_id or cad_call_id")
        if cad is not None and u.cad_call_id != cad.id and body.status in ("en_route", "on_scene"):
            u.self_dispatched = u.status in ("available", "cleared")
            u.cad_call_id = cad.id
            repo.add_cad_entry(
                s,
                cad,
                "assigned",
                f"Unit {unit_id} "
                + ("self-dispatched; assigned to this call" if u.self_dispatched else "assigned"),
                user.username,
                now,
            )
        u.status = body.status
        u.updated_at = now
        if cad is not None:
            label = {"en_route": "en route", "on_scene": "on scene"}.get(body.status, body.status)
            repo.add_cad_entry(
                s, cad, f"unit:{body.status}", f"Unit {unit_id} {label}", user.username, now
            )
        if body.status in ("available", "cleared"):
            u.cad_call_id = None
            u.self_dispatched = False
        cad_id = cad.id if cad is not None else None
        out = repo.unit_json(u)
    if cad_id is not None:
        out["cad_call"] = await _cad_changed(svc, cad_id)
    return out


@router.post("/units/{unit_id}/canvass", tags=["units"])
async def unit_canvass(
    unit_id: str, body: CanvassIn, svc: ServiceDep, user: UserDep
) -> dict[str, Any]:
    """§C.4: neighbourhood canvass results, added to the unit's call."""
    _unit_allowed(user, unit_id)
    now = svc.clock()
    with svc.db.session() as s:
        u = repo.get_unit(s, unit_id, now, create=True)
        if u.cad_call_id is None:
            raise HTTPException(409, f"unit {unit_id} is not assigned to a call")
        cad = repo.get_cad(s, u.cad_call_id)
        repo.add_cad_entry(
            s, cad, "canvass", f"Unit {unit_id} canvass: {body.text}", user.username, now
        )
        cad_id = cad.id
    return await _cad_changed(svc, cad_id)


# ------------------------------------------------------------------------ sensors


@router.get("/sensors", tags=["admin"])
def sensors_list(svc: ServiceDep, user: User = require(Perm.SENSORS)) -> dict[str, Any]:
    """Sensor health; coordinates only with ``sensor_locations``."""
    with svc.db.session() as s:
        rows = s.execute(select(SensorRow).order_by(SensorRow.sensor_id)).scalars()
        out = [repo.sensor_json(r, user.can(Perm.SENSOR_LOCATIONS)) for r in rows]
    audit.append(svc.db, user.username, "list_sensors", "sensors")
    return {"sensors": out}


@router.post("/sensors", status_code=201, tags=["admin"])
def sensors_add(
    body: SensorIn, svc: ServiceDep, user: User = require(Perm.SENSORS)
) -> dict[str, Any]:
    """Register (or re-key) a sensor; the token is shown once."""
    if not user.can(Perm.SENSOR_LOCATIONS):
        raise HTTPException(403, "registering a sensor needs sensor_locations")
    token = new_sensor_token()
    with svc.db.session() as s:
        repo.upsert_sensor(
            s,
            Sensor(body.sensor_id, body.lat, body.lon, body.elevation_m, body.full_scale_db_spl),
            token_digest(token),
            svc.clock(),
        )
    svc.reload_tokens()
    audit.append(svc.db, user.username, "sensor_register", f"sensor:{body.sensor_id}")
    return {"sensor_id": body.sensor_id, "token": token}


@router.post("/sensors/{sensor_id}/revoke", tags=["admin"])
def sensors_revoke(
    sensor_id: str, svc: ServiceDep, user: User = require(Perm.SENSORS)
) -> dict[str, Any]:
    with svc.db.session() as s:
        row = s.get(SensorRow, sensor_id)
        if row is None:
            raise HTTPException(404, f"sensor {sensor_id!r} not found")
        row.revoked = True
    svc.reload_tokens()
    audit.append(svc.db, user.username, "sensor_revoke", f"sensor:{sensor_id}")
    return {"sensor_id": sensor_id, "revoked": True}


@router.get("/stats", tags=["stats"])
def stats(
    svc: ServiceDep,
    user: User = require(Perm.STATS),
    since: str | None = None,
    until: str | None = None,
    bbox: Annotated[str | None, Query(description="south,west,north,east degrees")] = None,
) -> dict[str, Any]:
    """The project supervisor's figures for an area and period (§A.5): incidents by
    status and class, rounds, review and response times, outcomes, sensor health."""
    from shotwatch.store.tables import CadEntryRow, ReviewDecisionRow

    t0 = _parse_time(since, "since")
    t1 = _parse_time(until, "until")
    box = None
    if bbox:
        try:
            b = [float(x) for x in bbox.split(",")]
            box = (b[0], b[1], b[2], b[3])
        except (ValueError, IndexError):
            raise HTTPException(422, "bbox must be four numbers south,west,north,east") from None
    now = svc.clock()
    with svc.db.session() as s:
        rows = repo.search_incidents(s, since=t0, until=t1, bbox=box, limit=1000)
        ids = [r.id for r in rows]
        by_status: dict[str, int] = {}
        by_class: dict[str, int] = {}
        for r in rows:
            by_status[r.review_status] = by_status.get(r.review_status, 0) + 1
            by_class[r.classification] = by_class.get(r.classification, 0) + 1
        decisions = list(
            s.execute(
                select(ReviewDecisionRow).where(ReviewDecisionRow.incident_id.in_(ids))
            ).scalars()
        )
        manual = [d.seconds_in_queue for d in decisions if d.action != "auto_publish"]
        cads = list(s.execute(select(CadCallRow).where(CadCallRow.incident_id.in_(ids))).scalars())
        entries = list(
            s.execute(
                select(CadEntryRow).where(CadEntryRow.cad_call_id.in_([c.id for c in cads]))
            ).scalars()
        )
        first: dict[tuple[int, str], float] = {}
        for e in entries:
            key = (e.cad_call_id, e.kind)
            first[key] = min(first.get(key, e.at), e.at)
        enroute = [
            first[(c.id, "unit:en_route")] - c.created_at
            for c in cads
            if (c.id, "unit:en_route") in first
        ]
        onscene = [
            first[(c.id, "unit:on_scene")] - c.created_at
            for c in cads
            if (c.id, "unit:on_scene") in first
        ]
        sensors = list(s.execute(select(SensorRow)).scalars())

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 1) if xs else None

    return {
        "incidents": len(rows),
        "by_status": by_status,
        "by_classification": by_class,
        "rounds": sum(r.rounds for r in rows),
        "review_manual_mean_s": mean(manual),
        "review_within_target": sum(1 for x in manual if x <= svc.settings.review_target_s),
        "cad_calls": len(cads),
        "confirmed_shootings": sum(1 for c in cads if c.confirmed_shooting),
        "mean_s_to_en_route": mean(enroute),
        "mean_s_to_on_scene": mean(onscene),
        "sensors": len(sensors),
        "sensors_heard_last_10_min": sum(
            1 for x in sensors if x.last_seen is not None and now - x.last_seen < 600
        ),
        "sensors_revoked": sum(1 for x in sensors if x.revoked),
    }


@router.get("/status", tags=["admin"])
def service_status(svc: ServiceDep, user: User = require(Perm.STATS)) -> dict[str, Any]:
    return {
        "consoles": len(svc.hub),
        "stats": dict(svc.stats),
        "rejections": dict(svc.rejections),
    }


@router.put("/street-layer", tags=["admin"])
async def street_layer_upload(
    request: Request, svc: ServiceDep, user: User = require(Perm.USERS)
) -> dict[str, Any]:
    """Load the department's street layer (GeoJSON: named LineStrings with optional
    ``addr_from``/``addr_to``, Points with ``address``); used for every new location."""
    from shotwatch.alerts.streets import StreetLayer

    body = await request.body()
    if len(body) > 50 * 1024 * 1024:
        raise HTTPException(413, "street layer larger than 50 MB")
    try:
        layer = await asyncio.to_thread(StreetLayer, json.loads(body), "uploaded street layer")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HTTPException(422, f"not valid JSON: {e}") from None
    except InputError as e:
        raise HTTPException(422, str(e)) from None
    path = svc.settings.data_dir / "street_layer.geojson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    svc.streets = layer
    audit.append(svc.db, user.username, "street_layer_load", "street_layer", f"{len(body)} bytes")
    return {
        "segments": len(layer.segments),
        "intersections": len(layer.intersections),
        "address_points": len(layer.address_points),
    }


# -------------------------------------------------------------------------- users


@router.post("/users", status_code=201, tags=["admin"])
def users_add(body: UserIn, svc: ServiceDep, user: User = require(Perm.USERS)) -> dict[str, Any]:
    with svc.db.session() as s:
        try:
            repo.add_user(
                s,
                body.username,
                hash_password(body.password),
                str(body.role),
                svc.clock(),
                body.unit_id,
            )
        except InputError as e:
            raise HTTPException(409, str(e)) from None
    audit.append(svc.db, user.username, "user_add", f"user:{body.username}", str(body.role))
    return {"username": body.username, "role": str(body.role)}


@router.post("/users/{username}/unlock", tags=["admin"])
def users_unlock(
    username: Annotated[str, Path(max_length=64)],
    svc: ServiceDep,
    user: User = require(Perm.USERS),
) -> dict[str, Any]:
    """End a sign-in lockout before its time (and clear the count of failures)."""
    with svc.db.session() as s:
        row = repo.get_user(s, username)
        if row is None:
            raise HTTPException(404, f"user {username!r} not found")
        was_locked = row.locked_until is not None and row.locked_until > svc.clock()
        row.failed_logins = 0
        row.locked_until = None
    audit.append(svc.db, user.username, "user_unlock", f"user:{username}")
    return {"username": username, "was_locked": was_locked}


# ---------------------------------------------------------------------- releases


@router.post("/release-requests", status_code=201, tags=["release"])
def release_request(
    body: ReleaseIn, svc: ServiceDep, user: User = require(Perm.REQUEST_RELEASE)
) -> dict[str, Any]:
    """Ask to release an incident report / audio outside the department (§A.6)."""
    with svc.db.session() as s:
        try:
            repo.get_incident(s, body.incident_id)
        except NotFoundError as e:
            raise _not_found(e) from None
        row = ReleaseRequestRow(
            incident_id=body.incident_id,
            requested_by=user.username,
            recipient=body.recipient,
            reason=body.reason,
            status="pending",
            created_at=svc.clock(),
        )
        s.add(row)
        s.flush()
        out = repo.release_json(row)
    audit.append(
        svc.db, user.username, "release_request", f"incident:{body.incident_id}", body.recipient
    )
    return out


@router.get("/release-requests", tags=["release"])
def release_list(svc: ServiceDep, user: User = require(Perm.REQUEST_RELEASE)) -> dict[str, Any]:
    with svc.db.session() as s:
        rows = s.execute(select(ReleaseRequestRow).order_by(ReleaseRequestRow.id.desc())).scalars()
        return {"release_requests": [repo.release_json(r) for r in rows]}


@router.post("/release-requests/{req_id}/decision", tags=["release"])
def release_decide(
    req_id: RowId,
    body: ReleaseDecisionIn,
    svc: ServiceDep,
    user: User = require(Perm.AUTHORIZE_RELEASE),
) -> dict[str, Any]:
    """Only a captain of the Office of the Chief or higher authorizes a release (§A.6)."""
    with svc.db.session() as s:
        row = s.get(ReleaseRequestRow, req_id)
        if row is None:
            raise HTTPException(404, f"release request {req_id} not found")
        if row.status != "pending":
            raise HTTPException(409, f"release request {req_id} already {row.status}")
        row.status = body.decision
        row.decided_by = user.username
        row.decided_at = svc.clock()
        out = repo.release_json(row)
    audit.append(
        svc.db, user.username, f"release_{body.decision}", f"release:{req_id}", out["incident_id"]
    )
    return out


@router.get("/release-requests/{req_id}/report.pdf", tags=["release"])
def release_package(
    req_id: RowId, svc: ServiceDep, user: User = require(Perm.REQUEST_RELEASE)
) -> Response:
    """The report to hand outside the department: only once a captain authorized it."""
    from shotwatch.web.report import forensic_report

    with svc.db.session() as s:
        req = s.get(ReleaseRequestRow, req_id)
        if req is None:
            raise HTTPException(404, f"release request {req_id} not found")
        if req.status != "authorized":
            raise HTTPException(403, f"release request {req_id} is {req.status}, not authorized")
        row = repo.get_incident(s, req.incident_id)
        inc = repo.incident_json(row)
        cad = repo.cad_for_incident(s, req.incident_id)
        cad_d = repo.cad_json(s, cad) if cad is not None else None
        decisions = repo.decisions_of(s, req.incident_id)
        clips = [
            {"t_utc": format_utc(c.t), "sha256": c.clip_sha256}
            for c in repo.clips_of(s, req.incident_id)
        ]
        recipient, iid = req.recipient, req.incident_id
    digest = audit.append(
        svc.db, user.username, "release_export", f"incident:{iid}", f"to {recipient}"
    )
    pdf = forensic_report(inc, cad_d, decisions, clips, f"{user.username} for {recipient}", digest)
    return Response(pdf, media_type="application/pdf")


# -------------------------------------------------------------------------- audit


@router.get("/audit", tags=["audit"])
def audit_list(
    svc: ServiceDep, user: User = require(Perm.AUDIT), limit: Limit = 200
) -> dict[str, Any]:
    from shotwatch.store.tables import AuditRow

    with svc.db.session() as s:
        rows = s.execute(
            select(AuditRow).order_by(AuditRow.id.desc()).limit(max(1, min(limit, 2000)))
        ).scalars()
        items = [
            {
                "id": r.id,
                "at_utc": format_utc(r.at),
                "actor": r.actor,
                "action": r.action,
                "object": r.object,
                "detail": r.detail,
                "hash": r.hash,
            }
            for r in rows
        ]
        ok, bad = audit.verify_chain(s)
    return {"chain_ok": ok, "first_bad_id": bad, "records": items}


def json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


__all__ = ["json_error", "router", "user_from_token"]
