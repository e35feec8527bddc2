"""Shared test helpers for the live system: a tiny stand-in locator, clips, a service."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from shotwatch.models import Classification, Incident, Pulse, Sensor, Shot, Weather
from shotwatch.settings import Settings
from shotwatch.timeutil import format_utc

LAT0, LON0 = 38.5790, -121.4930


def grid_sensors(n: int = 9, spacing_deg: float = 0.003) -> dict[str, Sensor]:
    side = int(np.ceil(np.sqrt(n)))
    out = {}
    for k in range(n):
        i, j = divmod(k, side)
        sid = f"S{k:03d}"
        out[sid] = Sensor(sid, LAT0 + (i - 1) * spacing_deg, LON0 + (j - 1) * spacing_deg, 10.0)
    return out


class GroupingLocator:
    """A stand-in for the streaming locator with the same interface, for API tests only:
    pulses within ``window`` s of the first in a group form one shot at the mean sensor
    position once ``min_sensors`` sensors reported; the score decides the class."""

    def __init__(self, sensors: dict[str, Sensor], weather: Weather | None, window: float = 1.0):
        self.sensors = sensors
        self.window = window
        self.pending: list[Pulse] = []
        self.last_add = 0.0
        self.n = 0

    def _emit(self) -> list[Incident]:
        if len({p.sensor_id for p in self.pending}) < 4:
            self.pending.clear()
            return []
        ss = [self.sensors[p.sensor_id] for p in self.pending]
        score = float(np.mean([p.gunshot_score or 0.0 for p in self.pending]))
        shot = Shot(
            t=min(p.t for p in self.pending) - 0.3,
            lat=float(np.mean([s.lat for s in ss])),
            lon=float(np.mean([s.lon for s in ss])),
            elevation_m=10.0,
            error_radius_m=4.0,
            sensors=sorted({p.sensor_id for p in self.pending}),
        )
        self.n += 1
        cls = Classification.GUNFIRE if score >= 0.5 else Classification.NON_GUNFIRE
        self.pending.clear()
        return [
            Incident(
                id=f"T{self.n:04d}",
                classification=cls,
                confidence=score,
                shots=[shot],
                summary="Single round",
            )
        ]

    def add(self, pulse: Pulse, now: float) -> list[Incident]:
        out: list[Incident] = []
        if self.pending and pulse.t - self.pending[0].t > self.window:
            out = self._emit()
        self.pending.append(pulse)
        self.last_add = now
        return out

    def flush(self, now: float) -> list[Incident]:
        if self.pending and now - self.last_add > 1.0:
            return self._emit()
        return []


def wav_b64(seconds: float = 0.5, rate: int = 8000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.exp(-t * 30) * np.sin(2 * np.pi * 700 * t)
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
    return base64.b64encode(buf.getvalue()).decode()


def report(
    sid: str, t: float, score: float = 0.95, clip: str | None = None, **kw: Any
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "sensor_id": sid,
        "t_utc": format_utc(t),
        "snr_db": 20.0,
        "gunshot_score": score,
        "features": {},
        "clip": clip,
    }
    d.update(kw)
    return d


def settings_for(tmp: Path, database_url: str = "", **kw: Any) -> Settings:
    return Settings(
        data_dir=tmp,
        database_url=database_url,
        flush_interval_s=0.05,
        **kw,
    )


def wait_for(pred: Any, timeout: float = 20.0) -> Any:
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
