"""SQLAlchemy 2 tables of the live service (schema managed by Alembic, see ``migrations``).

API schemas live apart from these tables (``shotwatch.web.schemas``). Times are epoch
seconds UTC (float) inside the database, formatted to the ISO contract at the edge.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID64 = BigInteger().with_variant(Integer(), "sqlite")
"""Ids of the tables that grow without end (pulses, the audit log): 64-bit in
PostgreSQL (migration 0003); SQLite's ``INTEGER PRIMARY KEY`` is 64-bit already and the
only type it auto-increments."""


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Consecutive failed sign-ins (0 after a good one)."""
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)


class SensorRow(Base):
    __tablename__ = "sensors"
    sensor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    elevation_m: Mapped[float] = mapped_column(Float)
    full_scale_db_spl: Mapped[float | None] = mapped_column(Float, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(128))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_seen: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class PulseRow(Base):
    __tablename__ = "pulses"
    __table_args__ = (
        UniqueConstraint("sensor_id", "t_us", name="uq_pulse_sensor_time"),
        UniqueConstraint("sensor_id", "pulse_uuid", name="uq_pulse_sensor_uuid"),
        Index("ix_pulses_t", "t"),
        Index("ix_pulses_incident", "incident_id"),
    )
    id: Mapped[int] = mapped_column(ID64, primary_key=True)
    sensor_id: Mapped[str] = mapped_column(ForeignKey("sensors.sensor_id"))
    t: Mapped[float] = mapped_column(Float)
    t_us: Mapped[int] = mapped_column(BigInteger)
    pulse_uuid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[float] = mapped_column(Float)
    snr_db: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_dbfs: Mapped[float | None] = mapped_column(Float, nullable=True)
    gunshot_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clip_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    clip_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    retain_until: Mapped[float] = mapped_column(Float)


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_first", "first_shot_t"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    classification: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    first_shot_t: Mapped[float] = mapped_column(Float)
    last_shot_t: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    elevation_m: Mapped[float] = mapped_column(Float)
    error_radius_m: Mapped[float] = mapped_column(Float)
    rounds: Mapped[int] = mapped_column(Integer)
    shooters: Mapped[int] = mapped_column(Integer)
    mobile: Mapped[bool] = mapped_column(Boolean)
    speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    summary: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text, default="")
    area: Mapped[str | None] = mapped_column(String(64), nullable=True)
    feature: Mapped[dict[str, Any]] = mapped_column(JSON)
    review_status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | published | dismissed"""
    evaluation_mode: Mapped[str] = mapped_column(String(16), default="automatic")
    evaluation_status: Mapped[str] = mapped_column(String(16), default="preliminary")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    published_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    retain_until: Mapped[float] = mapped_column(Float)


class ReviewDecisionRow(Base):
    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    """confirm | reclassify | dismiss | auto_publish"""
    classification: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    seconds_in_queue: Mapped[float] = mapped_column(Float)
    decided_at: Mapped[float] = mapped_column(Float)


class CadCallRow(Base):
    __tablename__ = "cad_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), unique=True)
    type_code: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    narrative: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    confirmed_shooting: Mapped[bool] = mapped_column(Boolean, default=False)
    medical_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class CadEntryRow(Base):
    """Timeline of a CAD call: supplements, unit assignments, status changes."""

    __tablename__ = "cad_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cad_call_id: Mapped[int] = mapped_column(ForeignKey("cad_calls.id"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)


class CitizenCallRow(Base):
    __tablename__ = "citizen_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    narrative: Mapped[str] = mapped_column(Text, default="")
    victim: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    vehicle: Mapped[str] = mapped_column(Text, default="")
    weapon: Mapped[str] = mapped_column(Text, default="")
    proposed_incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proposed_distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    attached_incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    """new | attached | separate"""
    taken_by: Mapped[str] = mapped_column(String(64))


class UnitRow(Base):
    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="available")
    """available | en_route | on_scene | cleared"""
    cad_call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    self_dispatched: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[float] = mapped_column(Float)


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    """publish | update | cancel"""
    published_at: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditRow(Base):
    """Append-only, hash-chained: ``hash = sha256(prev_hash || canonical record)``."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(ID64, primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ReleaseRequestRow(Base):
    __tablename__ = "release_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | authorized | denied"""
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
