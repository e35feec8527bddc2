"""Streaming location: pulses arriving in real time (out of order by seconds) -> incidents.

Pulses are buffered with their arrival time at the server. Once arrivals pause for
``quiet_s`` (a shot's reports from the sensors that heard it arrive within a second or
two, spread by the travel time across the array), the pulses of the last ``horizon_s``
seconds are located together with :func:`shotwatch.pipeline.locate_pulses`, so a
multi-round incident grows as its later rounds arrive. So that the first alert does not
wait for the last straggler, the window is also located early, at most every
``min_interval_s``, as soon as ``early_sensors`` new sensors have reported since the
last run (over the reports of the last ``early_window_s`` only, so a busy array does
not re-locate its whole horizon several times a second); the incident is then
re-emitted (same id) as it grows. Incident ids stay stable across
re-runs: a result whose first shot lies within ``match_s`` / ``match_m`` of an incident
already emitted keeps that incident's id; an incident is never re-emitted smaller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from shotwatch.models import Incident, Pulse, Sensor, Weather

BatchLocate = Callable[[dict[str, Sensor], list[Pulse], Weather | None], list[Incident]]


@dataclass
class _Known:
    id: str
    t: float
    lat: float
    lon: float
    rounds: int
    seen: float


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance, metres (exact enough within a city)."""
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return 6371008.8 * math.radians(math.hypot(lat2 - lat1, (lon2 - lon1) * k))


class StreamingLocator:
    """``add(pulse, now) -> []`` and ``flush(now) -> incidents`` over a sliding window."""

    def __init__(
        self,
        sensors: dict[str, Sensor],
        weather: Weather | None,
        locate: BatchLocate | None = None,
        quiet_s: float = 0.6,
        horizon_s: float = 20.0,
        min_interval_s: float = 0.25,
        early_sensors: int = 4,
        early_window_s: float = 5.0,
        match_s: float = 3.0,
        match_m: float = 60.0,
    ) -> None:
        if locate is None:
            from shotwatch.pipeline import locate_pulses

            locate = locate_pulses
        self.sensors = sensors
        self.weather = weather
        self._locate = locate
        self.quiet_s = quiet_s
        self.horizon_s = horizon_s
        self.min_interval_s = min_interval_s
        self.early_sensors = early_sensors
        self.early_window_s = early_window_s
        self._last_run = -math.inf
        self._new_sensors: set[str] = set()
        self.match_s = match_s
        self.match_m = match_m
        self._buf: list[tuple[float, Pulse]] = []
        self._last_add = -math.inf
        self._dirty = False
        self._known: list[_Known] = []

    def add(self, pulse: Pulse, now: float) -> list[Incident]:
        if pulse.sensor_id in self.sensors:
            self._buf.append((now, pulse))
            self._last_add = now
            self._dirty = True
            self._new_sensors.add(pulse.sensor_id)
        return []

    def flush(self, now: float) -> list[Incident]:
        if not self._dirty:
            return []
        quiet = now - self._last_add >= self.quiet_s
        early = (
            len(self._new_sensors) >= self.early_sensors
            and now - self._last_run >= self.min_interval_s
        )
        if not (quiet or early):
            return []
        self._dirty = False
        self._last_run = now
        self._new_sensors.clear()
        self._buf = [(a, p) for a, p in self._buf if now - a <= self.horizon_s]
        self._known = [k for k in self._known if now - k.seen <= 3 * self.horizon_s]
        span = self.horizon_s if quiet else self.early_window_s
        pulses = sorted((p for a, p in self._buf if now - a <= span), key=lambda p: p.t)
        if len({p.sensor_id for p in pulses}) < 4:
            return []
        out: list[Incident] = []
        for inc in self._locate(self.sensors, pulses, self.weather):
            first = inc.first_shot
            match = next(
                (
                    k
                    for k in self._known
                    if abs(k.t - first.t) <= self.match_s
                    and _metres(k.lat, k.lon, first.lat, first.lon) <= self.match_m
                ),
                None,
            )
            if match is None:
                self._known.append(_Known(inc.id, first.t, first.lat, first.lon, inc.rounds, now))
                out.append(inc)
                continue
            match.seen = now
            if inc.rounds < match.rounds:
                continue  # part of the incident left the window: keep the fuller version
            match.rounds = inc.rounds
            inc.id = match.id
            out.append(inc)
        return out
