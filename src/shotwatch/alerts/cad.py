"""The CAD adapter: what a published gunfire incident becomes in Computer Aided Dispatch.

General Order 510.05 §B.2: type code ``SHOTS``, priority 2. §B.3: a detailed location
and what the system captured: (a) a single shooter firing a single round, (b) a single
shooter firing multiple rounds, (c) possible multiple shooters, (d) possible mobile
shooter(s) with speed and direction of travel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TYPE_CODE = "SHOTS"
PRIORITY = 2
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
MPS_TO_MPH = 2.2369363


def compass(heading_deg: float) -> str:
    """Eight-point compass name of a heading (degrees clockwise from north)."""
    return _COMPASS[round((heading_deg % 360.0) / 45.0) % 8]


def what_was_heard(
    rounds: int,
    shooters: int,
    mobile: bool,
    speed_mps: float | None,
    heading_deg: float | None,
    three_sensors: bool = False,
) -> str:
    """The §B.3 line, e.g. ``"Single shooter, multiple rounds (5)"``; with
    ``three_sensors`` (only three sensors heard each shot) it adds that the location is
    uncertain (three arrivals fix a point with nothing to check it, and sometimes two)."""
    if shooters > 1:
        text = f"Possible multiple shooters ({shooters}), {rounds} rounds"
    elif rounds == 1:
        text = "Single shooter, single round"
    else:
        text = f"Single shooter, multiple rounds ({rounds})"
    if mobile:
        text += "; possible mobile shooter"
        if speed_mps is not None and heading_deg is not None:
            text += (
                f" travelling {compass(heading_deg)} ({heading_deg:.0f}°) at "
                f"{speed_mps * MPS_TO_MPH:.0f} mph ({speed_mps:.1f} m/s)"
            )
    if three_sensors:
        text += "; heard by only three sensors, location uncertain"
    return text


@dataclass(frozen=True)
class CadCallDraft:
    type_code: str
    priority: int
    location: str
    lat: float
    lon: float
    narrative: str


def draft_call(incident: dict[str, Any], location: str) -> CadCallDraft:
    """The CAD call of one published incident (``incident``: the alert's incident dict)."""
    heard = what_was_heard(
        int(incident["rounds"]),
        int(incident["shooters"]),
        bool(incident["mobile"]),
        incident.get("speed_mps"),
        incident.get("heading_deg"),
        bool(incident.get("three_sensors", False)),
    )
    narrative = (
        f"ShotWatch {incident['classification'].replace('_', ' ')} "
        f"(confidence {float(incident['confidence']):.2f}). {heard}. "
        f"Location {location} (±{float(incident['error_radius_m']):.0f} m). "
        f"First shot {incident['first_shot_utc']}."
    )
    return CadCallDraft(
        TYPE_CODE,
        PRIORITY,
        location,
        float(incident["lat"]),
        float(incident["lon"]),
        narrative,
    )


PERTINENT = ("victim", "subject", "vehicle", "weapon")
"""§B.4: the only citizen-call information that supplements the ShotWatch incident."""
PERTINENT_LABEL = {
    "victim": "Confirmed shooting victim",
    "subject": "Subject description",
    "vehicle": "Vehicle description",
    "weapon": "Discarded weapon",
}
