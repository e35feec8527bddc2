"""Streaming location: pulses arriving out of order, shots emitted as sensors agree,
incident ids stable as the incident grows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shotwatch.core.acoustics import speed_of_sound
from shotwatch.geo import LocalFrame
from shotwatch.models import Pulse, Sensor, Weather
from shotwatch.streaming import StreamingLocator


def _scene() -> tuple[dict[str, Sensor], list[Pulse], Weather]:
    rng = np.random.default_rng(7)
    frame = LocalFrame(40.0, -80.0, 200.0)
    gx, gy = np.meshgrid(np.arange(-2, 3) * 250.0, np.arange(-2, 3) * 250.0)
    enu = np.column_stack([gx.ravel(), gy.ravel(), rng.uniform(5, 12, 25)])
    lat, lon, h = frame.to_geodetic(enu)
    sensors = {
        f"S{i:02d}": Sensor(f"S{i:02d}", float(lat[i]), float(lon[i]), float(h[i]))
        for i in range(25)
    }
    weather = Weather(temperature_c=10.0, relative_humidity=60.0)
    c = float(speed_of_sound(10.0, 60.0))
    src = np.array([40.0, -60.0, 1.5])
    pulses = []
    for k in range(3):
        t0 = 1.8e9 + 0.6 * k
        d = np.linalg.norm(enu - src, axis=1)
        for i in np.flatnonzero(d < 600):
            t = t0 + d[i] / c + rng.normal(0, 2e-4)
            pulses.append(Pulse(f"S{i:02d}", float(t), snr_db=float(40 - 20 * np.log10(d[i] / 50))))
    return sensors, pulses, weather


def test_out_of_order_pulses_grow_one_incident_with_a_stable_id() -> None:
    sensors, pulses, weather = _scene()
    rng = np.random.default_rng(1)
    # Reports reach the server 0.1-2.5 s after the sound reached the sensor, so they
    # arrive out of order.
    arrival = np.array([p.t for p in pulses]) + rng.uniform(0.1, 2.5, len(pulses))
    order = np.argsort(arrival)
    loc = StreamingLocator(sensors, weather)
    emitted = []
    first_emit_at = None
    for j in order:
        now = float(arrival[j])
        emitted += loc.add(pulses[j], now)
        out = loc.flush(now)
        if out and first_emit_at is None:
            first_emit_at = now
        emitted += out
    end = float(arrival.max())
    for k in range(1, 40):
        emitted += loc.flush(end + 0.25 * k)
    assert emitted, "nothing was emitted"
    ids = {i.id for i in emitted}
    assert len(ids) == 1  # one incident, re-emitted as it grows
    assert max(i.rounds for i in emitted) == 3
    # The first alert does not wait for the last report.
    assert first_emit_at is not None and first_emit_at < end


def test_a_group_already_located_is_not_associated_again() -> None:
    """Incremental: reports of an unrelated, far-away impulse do not re-associate the
    shots already in the window (their group is unchanged); an unchanged incident is
    not re-emitted."""
    sensors, pulses, weather = _scene()
    loc = StreamingLocator(sensors, weather)
    for p in sorted(pulses, key=lambda p: p.t):
        loc.add(p, p.t + 0.2)
    end = max(p.t for p in pulses) + 0.2
    first = loc.flush(end + 1.0)
    assert len(first) == 1 and first[0].rounds == 3
    assert loc.last_new_shots and all(d <= end for _, d in loc.last_new_shots)
    misses = loc._cache.misses
    # a lone report too late to belong to the shots (> 1.5 km / c + margin after them):
    # its own component, dropped (one sensor), nothing re-associated
    loc.add(Pulse("S00", end + 6.0), end + 6.1)
    assert loc.flush(end + 7.0) == []
    assert loc._cache.misses == misses


def test_a_growing_group_is_reassociated_by_factors_and_whole_once_settled() -> None:
    """Reports trickling in one by one: a still-growing group keeps its last
    association until it has grown by half; once it has settled it is associated whole,
    so the final incident is the one the batch locator gives."""
    from shotwatch.pipeline import locate_pulses

    sensors, pulses, weather = _scene()
    ordered = sorted(pulses, key=lambda p: p.t)
    loc = StreamingLocator(sensors, weather, min_interval_s=0.0, early_sensors=1)
    runs = 0
    emitted = []
    for k, p in enumerate(ordered):
        now = 1.8e9 + 0.05 * k  # one report every 50 ms: the group is always growing
        loc.add(p, now)
        before = loc._cache.misses - loc._cache.deferred
        emitted += loc.flush(now)
        runs += loc._cache.misses - loc._cache.deferred - before  # associations run
    assert loc._cache.deferred > 0
    # re-associated as it grows by half: a handful of runs, not one per report
    assert runs <= 10 < len(ordered)
    end = 1.8e9 + 0.05 * len(ordered)
    for j in range(1, 10):
        emitted += loc.flush(end + 0.25 * j)
    final = [i for i in emitted if i.id == emitted[-1].id][-1]
    batch = locate_pulses(sensors, pulses, weather)
    assert len(batch) == 1
    assert final.rounds == batch[0].rounds == 3
    assert [round(s.t, 4) for s in final.shots] == [round(s.t, 4) for s in batch[0].shots]


def test_a_shot_heard_by_three_sensors_is_emitted_as_such() -> None:
    """Only the three sensors nearest the gun report it, while the reports of the same
    gun heard widely a minute earlier still arrive: one incident heard by three sensors
    (said so in its summary), with no later report needed to wake the locator."""
    sensors, pulses, weather = _scene()
    first = pulses[: len(pulses) // 3]  # the first round's reports
    near = sorted(first, key=lambda p: p.t)[:3]
    other = [replace(p, t=p.t - 60.0) for p in first]
    loc = StreamingLocator(sensors, weather)
    emitted = []
    for k, p in enumerate(near):
        now = p.t + 0.1 + 0.05 * k
        loc.add(p, now)
        for q in other[2 * k : 2 * k + 2] if k < 2 else other[4:]:
            loc.add(q, now)
        emitted += loc.flush(now)
    end = near[-1].t + 0.2
    for k in range(1, 20):
        emitted += loc.flush(end + 0.25 * k)
    three = {i.id: i for i in emitted if "heard by only three sensors" in i.summary}
    assert len(three) == 1
    inc = next(iter(three.values()))
    assert inc.rounds == 1 and sorted(inc.sensors) == sorted(p.sensor_id for p in near)


def test_a_three_sensor_group_is_located_once_and_never_inherited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same three reports in the window run after run are located once (cached
    apart); when a fourth report grows the group, it is associated afresh, not given the
    three-sensor answer."""
    from shotwatch import pipeline
    from shotwatch.pipeline import Array, ShotCache, locate_shots

    sensors, pulses, weather = _scene()
    first = sorted(pulses[: len(pulses) // 3], key=lambda p: p.t)
    array = Array.from_sensors(sensors)
    cache = ShotCache()
    calls: list[bool] = []
    real = pipeline._locate_group

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(bool(k.get("three")))
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "_locate_group", counting)
    one, _ = locate_shots(array, first[:3], weather, cache=cache)
    two, _ = locate_shots(array, first[:3], weather, cache=cache)
    assert calls == [True]  # the second run found it in the cache
    assert [(s.t, s.lat, s.lon) for s in one] == [(s.t, s.lat, s.lon) for s in two]
    assert len(one) == 1 and len(one[0].sensors) == 3
    grown, _ = locate_shots(array, first[:4], weather, cache=cache)
    assert calls == [True, False]  # associated as a group of four, not inherited
    assert len(grown) == 1 and len(grown[0].sensors) == 4
