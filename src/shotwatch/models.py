"""Domain objects shared by the pipeline, the CLI, the store and the API.

Modelled loosely on QuakeML (ObsPy ``Pick`` / ``Origin``): every estimate carries its
uncertainty; incidents carry an evaluation mode and status for the review workflow.
Times are epoch seconds (UTC) inside, ISO-8601 ``...Z`` at the edges (see ``timeutil``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shotwatch.timeutil import format_utc


class Classification(StrEnum):
    GUNFIRE = "gunfire"
    PROBABLE_GUNFIRE = "probable_gunfire"
    NON_GUNFIRE = "non_gunfire"


class EvaluationMode(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class EvaluationStatus(StrEnum):
    PRELIMINARY = "preliminary"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Sensor:
    """A sensor site. ``elevation_m`` as given (ellipsoid or MSL, consistently);
    ``full_scale_db_spl`` its calibration, the peak sound pressure level (dB re 20 uPa)
    that reads 0 dBFS (None: uncalibrated, no source levels from this sensor)."""

    sensor_id: str
    lat: float
    lon: float
    elevation_m: float
    full_scale_db_spl: float | None = None


@dataclass(frozen=True)
class Weather:
    """Surface weather. Wind direction is where it blows *from*, deg clockwise from north."""

    temperature_c: float = 15.0
    relative_humidity: float = 50.0
    wind_speed_mps: float = 0.0
    wind_from_deg: float = 0.0


@dataclass
class Pulse:
    """One impulse reported by one sensor (the sensor->server wire message).

    ``t`` is the onset time, epoch seconds UTC; ``sigma_t`` its 1-sigma uncertainty in
    seconds when the picker knows it.
    """

    sensor_id: str
    t: float
    snr_db: float | None = None
    peak_dbfs: float | None = None
    gunshot_score: float | None = None
    features: dict[str, Any] = field(default_factory=dict)
    clip: Any = None
    sigma_t: float | None = None
    uid: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sensor_id": self.sensor_id, "t_utc": format_utc(self.t)}
        for k in ("snr_db", "peak_dbfs", "gunshot_score"):
            v = getattr(self, k)
            if v is not None:
                out[k] = round(float(v), 4)
        out["features"] = self.features
        out["clip"] = self.clip
        if self.uid is not None:
            out["pulse_uuid"] = self.uid
        return out


@dataclass
class Shot:
    """One located shot (an origin): position, origin time, and uncertainty."""

    t: float
    lat: float
    lon: float
    elevation_m: float
    error_radius_m: float
    sensors: list[str]
    east_m: float = 0.0
    north_m: float = 0.0
    up_m: float = 0.0
    residual_rms_s: float = 0.0
    pulse_ids: list[int] = field(default_factory=list)
    shooter: int = 0
    gunshot_score: float | None = None
    height_above_sensors_m: float = 0.0
    source_level_db: float | None = None
    alternative: tuple[float, float] | None = None
    """(lat, lon) of the second point that a shot heard by three sensors only fits as
    well (None: heard by more, or no second point)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "t_utc": format_utc(self.t),
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "elevation_m": round(self.elevation_m, 1),
            "error_radius_m": round(self.error_radius_m, 1),
            "shooter": self.shooter,
            "sensors": list(self.sensors),
        }
        if self.alternative is not None:
            out["alternative"] = {
                "lat": round(self.alternative[0], 7),
                "lon": round(self.alternative[1], 7),
            }
        return out


@dataclass
class Incident:
    """Shots grouped into one event, as the dispatcher is told about it."""

    id: str
    classification: Classification
    confidence: float
    shots: list[Shot]
    shooters: int = 1
    mobile: bool = False
    speed_mps: float | None = None
    heading_deg: float | None = None
    speed_sigma_mps: float | None = None
    heading_sigma_deg: float | None = None
    summary: str = ""
    evaluation_mode: EvaluationMode = EvaluationMode.AUTOMATIC
    evaluation_status: EvaluationStatus = EvaluationStatus.PRELIMINARY

    @property
    def rounds(self) -> int:
        return len(self.shots)

    @property
    def first_shot(self) -> Shot:
        return min(self.shots, key=lambda s: s.t)

    @property
    def last_shot(self) -> Shot:
        return max(self.shots, key=lambda s: s.t)

    @property
    def sensors(self) -> list[str]:
        return sorted({s for shot in self.shots for s in shot.sensors})

    def to_feature(self) -> dict[str, Any]:
        """The GeoJSON Feature of the ``shotwatch locate`` contract."""
        first = self.first_shot
        return {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [
                    round(first.lon, 7),
                    round(first.lat, 7),
                    round(first.elevation_m, 1),
                ],
            },
            "properties": {
                "id": self.id,
                "classification": str(self.classification),
                "confidence": round(self.confidence, 3),
                "first_shot_utc": format_utc(first.t),
                "last_shot_utc": format_utc(self.last_shot.t),
                "rounds": self.rounds,
                "shooters": self.shooters,
                "mobile": self.mobile,
                "speed_mps": None if self.speed_mps is None else round(self.speed_mps, 2),
                "heading_deg": None if self.heading_deg is None else round(self.heading_deg, 1),
                "error_radius_m": round(first.error_radius_m, 1),
                "sensors": self.sensors,
                "summary": self.summary,
                "shots": [s.to_json() for s in sorted(self.shots, key=lambda s: s.t)],
            },
        }


def feature_collection(incidents: list[Incident]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [i.to_feature() for i in incidents]}
