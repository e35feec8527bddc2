"""Data access: plain functions over a SQLAlchemy session (template ``crud.py`` style).

Everything the service persists goes through here: sensors and their credentials,
pulses, incidents and their review, CAD calls and their timeline, citizen calls, units,
alerts and release requests. Functions raise :class:`~shotwatch.errors.NotFoundError`
/ :class:`~shotwatch.errors.InputError`; the web layer maps them to 404 / 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from shotwatch.alerts.cad import PERTINENT, PERTINENT_LABEL, compass, draft_call, what_was_heard
from shotwatch.core.incidents import THREE_SENSORS
from shotwatch.errors import InputError, NotFoundError
from shotwatch.geo import distance_m
from shotwatch.models import Incident, Pulse, Sensor
from shotwatch.store.db import Database
from shotwatch.store.tables import (
    AlertRow,
    CadCallRow,
    CadEntryRow,
    CitizenCallRow,
    IncidentRow,
    PulseRow,
    ReleaseRequestRow,
    ReviewDecisionRow,
    SensorRow,
    UnitRow,
    UserRow,
)
from shotwatch.timeutil import format_utc

YEAR_S = 365.25 * 86400.0


def _utc(t: float | None) -> str | None:
    return None if t is None else format_utc(t)


# ----------------------------------------------------------------------------- users


def get_user(s: Session, username: str) -> UserRow | None:
    return s.execute(select(UserRow).where(UserRow.username == username)).scalar()


def add_user(
    s: Session,
    username: str,
    password_hash: str,
    role: str,
    now: float,
    unit_id: str | None = None,
    area: str | None = None,
) -> UserRow:
    if get_user(s, username) is not None:
        raise InputError(f"user {username!r} exists")
    row = UserRow(
        username=username,
        password_hash=password_hash,
        role=role,
        unit_id=unit_id,
        area=area,
        active=True,
        created_at=now,
    )
    s.add(row)
    s.flush()
    return row


# --------------------------------------------------------------------------- sensors


def upsert_sensor(s: Session, sensor: Sensor, token_hash: str, now: float) -> SensorRow:
    row = s.get(SensorRow, sensor.sensor_id)
    if row is None:
        row = SensorRow(sensor_id=sensor.sensor_id, created_at=now, token_hash=token_hash)
        s.add(row)
    row.lat, row.lon, row.elevation_m = sensor.lat, sensor.lon, sensor.elevation_m
    row.full_scale_db_spl = sensor.full_scale_db_spl
    row.token_hash = token_hash
    row.revoked = False
    s.flush()
    return row


def sensor_map(s: Session) -> dict[str, Sensor]:
    rows = s.execute(select(SensorRow).where(SensorRow.revoked.is_(False))).scalars()
    return {
        r.sensor_id: Sensor(r.sensor_id, r.lat, r.lon, r.elevation_m, r.full_scale_db_spl)
        for r in rows
    }


def sensor_json(row: SensorRow, with_location: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sensor_id": row.sensor_id,
        "revoked": row.revoked,
        "last_seen_utc": _utc(row.last_seen),
        "area": row.area,
    }
    if with_location:
        out.update(
            lat=row.lat,
            lon=row.lon,
            elevation_m=row.elevation_m,
            full_scale_db_spl=row.full_scale_db_spl,
        )
    return out


# ---------------------------------------------------------------------------- pulses


@dataclass
class NewPulse:
    """A validated pulse waiting to be stored, with its evidence key."""

    pulse: Pulse
    received_at: float
    clip_key: str | None
    clip_sha256: str | None


def _pulse_row(p: NewPulse, retain_years: int) -> PulseRow:
    return PulseRow(
        sensor_id=p.pulse.sensor_id,
        t=p.pulse.t,
        t_us=round(p.pulse.t * 1e6),
        pulse_uuid=p.pulse.uid,
        received_at=p.received_at,
        snr_db=p.pulse.snr_db,
        peak_dbfs=p.pulse.peak_dbfs,
        gunshot_score=p.pulse.gunshot_score,
        features=p.pulse.features,
        clip_key=p.clip_key,
        clip_sha256=p.clip_sha256,
        retain_until=p.received_at + retain_years * YEAR_S,
    )


def store_pulses(
    db: Database, items: list[NewPulse], retain_years: int
) -> list[int | DataError | None]:
    """Insert a batch of pulses in one transaction (group commit).

    Returns the row id of each, or None for a replay (same sensor and onset time, or
    same ``pulse_uuid``), or the database's refusal of a value of that pulse. If the
    batch hits a uniqueness violation or a refused value it is retried one pulse per
    transaction, so one replay or one bad report never costs the others.
    """
    try:
        with db.session() as s:
            rows = [_pulse_row(p, retain_years) for p in items]
            s.add_all(rows)
            s.flush()
            return [r.id for r in rows]
    except IntegrityError:
        if len(items) == 1:
            return [None]
    except DataError as e:
        if len(items) == 1:
            return [e]
    out: list[int | DataError | None] = []
    for p in items:
        try:
            with db.session() as s:
                row = _pulse_row(p, retain_years)
                s.add(row)
                s.flush()
                out.append(row.id)
        except IntegrityError:
            out.append(None)
        except DataError as e:
            out.append(e)
    return out


def touch_sensors(s: Session, last_seen: dict[str, float]) -> None:
    """Record when each sensor was last heard from (batched, not per pulse)."""
    for sid, t in last_seen.items():
        s.execute(update(SensorRow).where(SensorRow.sensor_id == sid).values(last_seen=t))


def is_replay(s: Session, pulse: Pulse) -> bool:
    q = select(PulseRow.id).where(
        PulseRow.sensor_id == pulse.sensor_id, PulseRow.t_us == round(pulse.t * 1e6)
    )
    if s.execute(q).first() is not None:
        return True
    if pulse.uid is not None:
        q = select(PulseRow.id).where(
            PulseRow.sensor_id == pulse.sensor_id, PulseRow.pulse_uuid == pulse.uid
        )
        return s.execute(q).first() is not None
    return False


def pulse_from_row(r: PulseRow) -> Pulse:
    return Pulse(
        sensor_id=r.sensor_id,
        t=r.t,
        snr_db=r.snr_db,
        peak_dbfs=r.peak_dbfs,
        gunshot_score=r.gunshot_score,
        features=dict(r.features or {}),
        uid=r.pulse_uuid,
    )


def unlocated_pulses(s: Session, since: float) -> list[Pulse]:
    """Pulses received since ``since`` not yet part of an incident (service restart)."""
    rows = s.execute(
        select(PulseRow)
        .where(PulseRow.received_at >= since, PulseRow.incident_id.is_(None))
        .order_by(PulseRow.t)
    ).scalars()
    return [pulse_from_row(r) for r in rows]


# ------------------------------------------------------------------------- incidents


@dataclass
class UpsertResult:
    row: IncidentRow
    created: bool
    changed: bool


def upsert_incident(
    s: Session, inc: Incident, location: str, now: float, retain_years: int
) -> UpsertResult:
    """Insert or update an incident from the locator; link its pulses."""
    feat = inc.to_feature()
    first = inc.first_shot
    row = s.get(IncidentRow, inc.id)
    created = row is None
    if row is None:
        row = IncidentRow(
            id=inc.id,
            created_at=now,
            review_status="pending",
            version=0,
            retain_until=now + retain_years * YEAR_S,
        )
        s.add(row)
        changed = True
    else:
        old = row.feature
        changed = old != feat
    if changed:
        row.classification = str(inc.classification)
        row.confidence = float(inc.confidence)
        row.first_shot_t = first.t
        row.last_shot_t = inc.last_shot.t
        row.lat, row.lon, row.elevation_m = first.lat, first.lon, first.elevation_m
        row.error_radius_m = first.error_radius_m
        row.rounds = inc.rounds
        row.shooters = inc.shooters
        row.mobile = inc.mobile
        row.speed_mps = inc.speed_mps
        row.heading_deg = inc.heading_deg
        row.summary = inc.summary
        row.address = location
        row.feature = feat
        row.updated_at = now
        row.version = (row.version or 0) + 1
        if row.review_status != "pending":
            row.evaluation_status = row.evaluation_status or "preliminary"
        else:
            row.evaluation_mode = str(inc.evaluation_mode)
            row.evaluation_status = str(inc.evaluation_status)
        sensors = inc.sensors
        if sensors:
            s.execute(
                update(PulseRow)
                .where(
                    PulseRow.sensor_id.in_(sensors),
                    PulseRow.t >= first.t - 0.05,
                    PulseRow.t <= inc.last_shot.t + 4.0,
                    PulseRow.incident_id.is_(None),
                )
                .values(incident_id=inc.id)
            )
    s.flush()
    return UpsertResult(row, created, changed)


def get_incident(s: Session, incident_id: str) -> IncidentRow:
    row = s.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"incident {incident_id!r} not found")
    return row


def best_clip(s: Session, incident_id: str) -> PulseRow | None:
    """The incident's clip with the highest SNR (the one consoles play)."""
    return s.execute(
        select(PulseRow)
        .where(PulseRow.incident_id == incident_id, PulseRow.clip_key.is_not(None))
        .order_by(PulseRow.snr_db.desc().nulls_last(), PulseRow.t)
        .limit(1)
    ).scalar()


def clips_of(s: Session, incident_id: str) -> list[PulseRow]:
    return list(
        s.execute(
            select(PulseRow)
            .where(PulseRow.incident_id == incident_id, PulseRow.clip_key.is_not(None))
            .order_by(PulseRow.t)
        ).scalars()
    )


def incident_json(
    row: IncidentRow, *, with_sensors: bool = False, has_audio: bool = True
) -> dict[str, Any]:
    """The public form of an incident. Sensor ids only with ``sensor_locations``."""
    props = row.feature.get("properties", {})
    raw = props.get("shots", [])
    three = bool(raw) and all(0 < len(sh.get("sensors", [])) <= THREE_SENSORS for sh in raw)
    shots = []
    for sh in props.get("shots", []):
        d = {k: sh[k] for k in ("t_utc", "lat", "lon", "elevation_m", "error_radius_m", "shooter")}
        if "alternative" in sh:  # heard by three sensors only: the second possible point
            d["alternative"] = sh["alternative"]
        if with_sensors:
            d["sensors"] = sh.get("sensors", [])
        shots.append(d)
    out: dict[str, Any] = {
        "id": row.id,
        "classification": row.classification,
        "confidence": round(row.confidence, 3),
        "first_shot_utc": format_utc(row.first_shot_t),
        "last_shot_utc": format_utc(row.last_shot_t),
        "lat": round(row.lat, 7),
        "lon": round(row.lon, 7),
        "elevation_m": round(row.elevation_m, 1),
        "error_radius_m": round(row.error_radius_m, 1),
        "rounds": row.rounds,
        "shooters": row.shooters,
        "mobile": row.mobile,
        "speed_mps": None if row.speed_mps is None else round(row.speed_mps, 2),
        "heading_deg": None if row.heading_deg is None else round(row.heading_deg, 1),
        "direction": None if row.heading_deg is None else compass(row.heading_deg),
        "location": row.address,
        "summary": row.summary,
        "heard": what_was_heard(
            row.rounds, row.shooters, row.mobile, row.speed_mps, row.heading_deg, three
        ),
        "three_sensors": three,
        "review_status": row.review_status,
        "evaluation_mode": row.evaluation_mode,
        "evaluation_status": row.evaluation_status,
        "created_utc": format_utc(row.created_at),
        "published_utc": _utc(row.published_at),
        "version": row.version,
        "retain_until_utc": format_utc(row.retain_until),
        "audio_url": f"/api/v1/incidents/{row.id}/audio" if has_audio else None,
        "shots": shots,
    }
    if with_sensors:
        out["sensors"] = props.get("sensors", [])
    return out


def search_incidents(
    s: Session,
    *,
    since: float | None = None,
    until: float | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    min_rounds: int | None = None,
    max_rounds: int | None = None,
    address: str | None = None,
    status: str | None = None,
    classification: str | None = None,
    limit: int = 200,
) -> list[IncidentRow]:
    q = select(IncidentRow)
    if since is not None:
        q = q.where(IncidentRow.first_shot_t >= since)
    if until is not None:
        q = q.where(IncidentRow.first_shot_t <= until)
    if bbox is not None:
        s_lat, w_lon, n_lat, e_lon = bbox
        q = q.where(
            IncidentRow.lat >= s_lat,
            IncidentRow.lat <= n_lat,
            IncidentRow.lon >= w_lon,
            IncidentRow.lon <= e_lon,
        )
    if min_rounds is not None:
        q = q.where(IncidentRow.rounds >= min_rounds)
    if max_rounds is not None:
        q = q.where(IncidentRow.rounds <= max_rounds)
    if address:
        q = q.where(func.lower(IncidentRow.address).contains(address.lower()))
    if status:
        q = q.where(IncidentRow.review_status == status)
    if classification:
        q = q.where(IncidentRow.classification == classification)
    q = q.order_by(IncidentRow.first_shot_t.desc()).limit(max(1, min(limit, 1000)))
    return list(s.execute(q).scalars())


# ---------------------------------------------------------------------------- review

REVIEW_ACTIONS = ("confirm", "reclassify", "dismiss", "auto_publish")
CLASSES = ("gunfire", "probable_gunfire", "non_gunfire")


def review_queue(s: Session) -> list[IncidentRow]:
    return list(
        s.execute(
            select(IncidentRow)
            .where(IncidentRow.review_status == "pending")
            .order_by(IncidentRow.created_at)
        ).scalars()
    )


def decide(
    s: Session,
    incident_id: str,
    actor: str,
    action: str,
    now: float,
    classification: str | None = None,
    note: str = "",
) -> tuple[IncidentRow, bool]:
    """Record a review decision. Returns ``(row, publish)``: whether to publish now."""
    if action not in REVIEW_ACTIONS:
        raise InputError(f"action must be one of {', '.join(REVIEW_ACTIONS[:3])}")
    row = get_incident(s, incident_id)
    if row.review_status != "pending":
        raise InputError(f"incident {incident_id} was already {row.review_status}")
    cls = row.classification
    if action == "reclassify":
        if classification not in CLASSES:
            raise InputError(f"classification must be one of {', '.join(CLASSES)}")
        cls = classification
    publish = action in ("confirm", "auto_publish") or (
        action == "reclassify" and cls != "non_gunfire"
    )
    if action == "confirm" and cls == "non_gunfire":
        publish = False
    s.add(
        ReviewDecisionRow(
            incident_id=incident_id,
            actor=actor,
            action=action,
            classification=cls,
            note=note[:2000],
            seconds_in_queue=max(0.0, now - row.created_at),
            decided_at=now,
        )
    )
    row.classification = cls
    row.evaluation_mode = "automatic" if action == "auto_publish" else "manual"
    if publish:
        row.review_status = "published"
        row.evaluation_status = "confirmed"
        row.published_at = now
    else:
        row.review_status = "dismissed"
        row.evaluation_status = (
            "rejected" if cls == "non_gunfire" or action == "dismiss" else ("confirmed")
        )
    s.flush()
    return row, publish


def decisions_of(s: Session, incident_id: str) -> list[dict[str, Any]]:
    rows = s.execute(
        select(ReviewDecisionRow)
        .where(ReviewDecisionRow.incident_id == incident_id)
        .order_by(ReviewDecisionRow.id)
    ).scalars()
    return [
        {
            "actor": r.actor,
            "action": r.action,
            "classification": r.classification,
            "note": r.note,
            "seconds_in_queue": round(r.seconds_in_queue, 1),
            "decided_utc": format_utc(r.decided_at),
        }
        for r in rows
    ]


# ------------------------------------------------------------------------------- CAD


def cad_for_incident(s: Session, incident_id: str) -> CadCallRow | None:
    return s.execute(select(CadCallRow).where(CadCallRow.incident_id == incident_id)).scalar()


def get_cad(s: Session, cad_id: int) -> CadCallRow:
    row = s.get(CadCallRow, cad_id)
    if row is None:
        raise NotFoundError(f"CAD call {cad_id} not found")
    return row


def add_cad_entry(
    s: Session, cad: CadCallRow, kind: str, text: str, actor: str, now: float
) -> None:
    s.add(CadEntryRow(cad_call_id=cad.id, kind=kind, text=text[:4000], actor=actor, at=now))
    cad.updated_at = now


def cancel_cad(s: Session, inc: dict[str, Any], actor: str, now: float) -> CadCallRow | None:
    """The incident was reclassified as not gunfire after its automatic publication."""
    row = cad_for_incident(s, inc["id"])
    if row is None or row.status == "cancelled":
        return row
    row.status = "cancelled"
    add_cad_entry(
        s,
        row,
        "shotwatch_cancel",
        f"ShotWatch reclassified the incident as not gunfire: {inc['summary']}",
        actor,
        now,
    )
    s.flush()
    return row


def create_or_update_cad(s: Session, inc: dict[str, Any], actor: str, now: float) -> CadCallRow:
    """§B.2-3: one SHOTS / P2 call per published gunfire incident, kept up to date."""
    draft = draft_call(inc, inc["location"])
    row = cad_for_incident(s, inc["id"])
    if row is None:
        row = CadCallRow(
            incident_id=inc["id"],
            type_code=draft.type_code,
            priority=draft.priority,
            location=draft.location,
            lat=draft.lat,
            lon=draft.lon,
            narrative=draft.narrative,
            status="open",
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        add_cad_entry(s, row, "created", draft.narrative, actor, now)
    elif row.status == "cancelled":
        row.status = "open"
        row.narrative = draft.narrative
        add_cad_entry(s, row, "shotwatch_update", "Reinstated: " + draft.narrative, actor, now)
    elif row.narrative != draft.narrative:
        row.narrative = draft.narrative
        row.location, row.lat, row.lon = draft.location, draft.lat, draft.lon
        add_cad_entry(s, row, "shotwatch_update", draft.narrative, actor, now)
    s.flush()
    return row


def cad_json(s: Session, row: CadCallRow, *, timeline: bool = True) -> dict[str, Any]:
    units = s.execute(select(UnitRow).where(UnitRow.cad_call_id == row.id)).scalars()
    out: dict[str, Any] = {
        "id": row.id,
        "incident_id": row.incident_id,
        "type_code": row.type_code,
        "priority": row.priority,
        "location": row.location,
        "lat": round(row.lat, 7),
        "lon": round(row.lon, 7),
        "narrative": row.narrative,
        "status": row.status,
        "confirmed_shooting": row.confirmed_shooting,
        "medical_requested": row.medical_requested,
        "created_utc": format_utc(row.created_at),
        "updated_utc": format_utc(row.updated_at),
        "units": [
            {"unit_id": u.unit_id, "status": u.status, "self_dispatched": u.self_dispatched}
            for u in units
        ],
    }
    if timeline:
        entries = s.execute(
            select(CadEntryRow).where(CadEntryRow.cad_call_id == row.id).order_by(CadEntryRow.id)
        ).scalars()
        out["timeline"] = [
            {"at_utc": format_utc(e.at), "kind": e.kind, "text": e.text, "actor": e.actor}
            for e in entries
        ]
    return out


def list_cad(s: Session, status: str | None = None, limit: int = 100) -> list[CadCallRow]:
    q = select(CadCallRow)
    if status:
        q = q.where(CadCallRow.status == status)
    return list(s.execute(q.order_by(CadCallRow.id.desc()).limit(limit)).scalars())


def supplement(s: Session, cad: CadCallRow, fields: dict[str, str], actor: str, now: float) -> int:
    """§B.4: add only pertinent information. Returns how many entries were added."""
    n = 0
    for key in PERTINENT:
        val = (fields.get(key) or "").strip()
        if val:
            add_cad_entry(s, cad, f"supplement:{key}", f"{PERTINENT_LABEL[key]}: {val}", actor, now)
            n += 1
    return n


def escalate(
    s: Session, cad: CadCallRow, actor: str, now: float, medical: bool, extra_units: int
) -> list[str]:
    """§B.7: confirmed shooting: more units (available ones assigned) and medical aid."""
    cad.confirmed_shooting = True
    if medical:
        cad.medical_requested = True
    free = list(
        s.execute(
            select(UnitRow).where(UnitRow.status == "available").order_by(UnitRow.unit_id)
        ).scalars()
    )[: max(0, extra_units)]
    for u in free:
        u.cad_call_id = cad.id
        u.status = "dispatched"
        u.updated_at = now
        add_cad_entry(s, cad, "assigned", f"Unit {u.unit_id} assigned (escalation)", actor, now)
    add_cad_entry(
        s,
        cad,
        "escalated",
        "Confirmed shooting: additional units requested"
        + ("; medical aid requested" if medical else ""),
        actor,
        now,
    )
    s.flush()
    return [u.unit_id for u in free]


# ---------------------------------------------------------------------- citizen calls


def propose_duplicate(
    s: Session, lat: float, lon: float, t: float, radius_m: float, window_s: float
) -> tuple[IncidentRow, float] | None:
    """§B.6: the nearest published incident near in place and time, if any."""
    cands = s.execute(
        select(IncidentRow).where(
            IncidentRow.review_status == "published",
            IncidentRow.first_shot_t >= t - window_s,
            IncidentRow.first_shot_t <= t + 60.0,
        )
    ).scalars()
    best: tuple[IncidentRow, float] | None = None
    for r in cands:
        d = distance_m(lat, lon, r.lat, r.lon)
        if d <= radius_m and (best is None or d < best[1]):
            best = (r, d)
    return best


def citizen_json(r: CitizenCallRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "received_utc": format_utc(r.received_at),
        "lat": r.lat,
        "lon": r.lon,
        "address": r.address,
        "narrative": r.narrative,
        "victim": r.victim,
        "subject": r.subject,
        "vehicle": r.vehicle,
        "weapon": r.weapon,
        "proposed_incident_id": r.proposed_incident_id,
        "proposed_distance_m": None
        if r.proposed_distance_m is None
        else round(r.proposed_distance_m, 1),
        "attached_incident_id": r.attached_incident_id,
        "status": r.status,
        "taken_by": r.taken_by,
    }


# ----------------------------------------------------------------------------- units


def get_unit(s: Session, unit_id: str, now: float, create: bool = False) -> UnitRow:
    row = s.get(UnitRow, unit_id)
    if row is None:
        if not create:
            raise NotFoundError(f"unit {unit_id!r} not found")
        row = UnitRow(unit_id=unit_id, status="available", updated_at=now)
        s.add(row)
        s.flush()
    return row


def unit_json(u: UnitRow) -> dict[str, Any]:
    return {
        "unit_id": u.unit_id,
        "status": u.status,
        "cad_call_id": u.cad_call_id,
        "self_dispatched": u.self_dispatched,
        "updated_utc": format_utc(u.updated_at),
    }


# ---------------------------------------------------------------------------- alerts


def record_alert(
    s: Session, incident_id: str, version: int, kind: str, now: float, payload: dict[str, Any]
) -> None:
    s.add(
        AlertRow(
            incident_id=incident_id, version=version, kind=kind, published_at=now, payload=payload
        )
    )


def recent_alerts(s: Session, limit: int = 50) -> list[AlertRow]:
    return list(s.execute(select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)).scalars())


# ------------------------------------------------------------------- release requests


def release_json(r: ReleaseRequestRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "incident_id": r.incident_id,
        "requested_by": r.requested_by,
        "recipient": r.recipient,
        "reason": r.reason,
        "status": r.status,
        "decided_by": r.decided_by,
        "decided_utc": _utc(r.decided_at),
        "created_utc": format_utc(r.created_at),
    }


# ------------------------------------------------------------------------- retention


def expired(s: Session, now: float) -> dict[str, list[Any]]:
    """Incident ids and pulse rows whose retention period (``retain_until``) has ended."""
    incs = list(s.execute(select(IncidentRow.id).where(IncidentRow.retain_until < now)).scalars())
    pulses = list(s.execute(select(PulseRow).where(PulseRow.retain_until < now)).scalars())
    return {"incidents": incs, "pulses": pulses}


def purge_expired(s: Session, now: float) -> tuple[int, int, list[str]]:
    """Delete expired incidents (with their review, CAD and alert records) and pulses.

    Returns ``(incidents, pulses, evidence keys no longer referenced)``; the caller
    removes those files. The audit log is never purged.
    """
    from sqlalchemy import delete

    exp = expired(s, now)
    ids = exp["incidents"]
    cad_ids = list(
        s.execute(select(CadCallRow.id).where(CadCallRow.incident_id.in_(ids))).scalars()
    )
    s.execute(delete(CadEntryRow).where(CadEntryRow.cad_call_id.in_(cad_ids)))
    s.execute(update(UnitRow).where(UnitRow.cad_call_id.in_(cad_ids)).values(cad_call_id=None))
    s.execute(delete(CadCallRow).where(CadCallRow.id.in_(cad_ids)))
    s.execute(delete(ReviewDecisionRow).where(ReviewDecisionRow.incident_id.in_(ids)))
    s.execute(delete(AlertRow).where(AlertRow.incident_id.in_(ids)))
    s.execute(delete(ReleaseRequestRow).where(ReleaseRequestRow.incident_id.in_(ids)))
    s.execute(delete(IncidentRow).where(IncidentRow.id.in_(ids)))
    keys = {p.clip_key for p in exp["pulses"] if p.clip_key}
    s.execute(delete(PulseRow).where(PulseRow.id.in_([p.id for p in exp["pulses"]])))
    s.flush()
    still = set(s.execute(select(PulseRow.clip_key).where(PulseRow.clip_key.in_(keys))).scalars())
    return len(ids), len(exp["pulses"]), sorted(keys - still)
