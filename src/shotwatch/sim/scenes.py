"""Seeded scene generators for the benchmarks and the demo.

:func:`urban_scene` builds a dense-urban deployment (sensors 250-350 m apart on poles and
rooftops, city blocks of 100 m with 20 m streets, 45 % of the lots built 6-20 m high,
56 dB background) with one incident of
a given kind near the middle; :func:`city_scene` a whole city of ``n_sensors`` sensors
over ``hours`` with realistic background: a few unrelated local impulses per sensor per
hour (door slams, backfires, short firecracker strings), spurious noise picks, a few
gunfire incidents and fireworks. Sources stand in the streets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shotwatch.sim.scenario import Scenario, scenario_from_dict

KINDS = (
    "single",
    "multi_round",
    "two_shooters",
    "mobile",
    "fireworks",
    "firecrackers",
    "backfire",
    "door_slam",
    "open",
)

BLOCK_M = 100.0
STREET_M = 20.0
LAT0, LON0 = 40.0, -80.0  # a synthetic place (no real city)


def _street_point(
    rng: np.random.Generator, x: float, y: float, size: tuple[float, float]
) -> tuple[float, float, str]:
    """Snap (x, y) into the nearest street of the block grid; returns the axis of the
    street ("ns" runs north-south, "ew" east-west)."""
    w, h = size
    gx = -w / 2 + round((x + w / 2) / BLOCK_M) * BLOCK_M
    gy = -h / 2 + round((y + h / 2) / BLOCK_M) * BLOCK_M
    off = float(rng.uniform(-STREET_M / 3, STREET_M / 3))
    if abs(x - gx) <= abs(y - gy):
        return gx + off, y, "ns"
    return x, gy + off, "ew"


def _two(rng: np.random.Generator, half: float) -> tuple[float, float]:
    x, y = rng.uniform(-half, half, size=2).tolist()
    return float(x), float(y)


def _weapon(rng: np.random.Generator) -> str:
    return str(rng.choice(["handgun", "rifle", "shotgun"], p=[0.8, 0.12, 0.08]))


def _base(
    rng: np.random.Generator, size: tuple[float, float], spacing: float, open_field: bool
) -> dict[str, Any]:
    return {
        "start_utc": "2026-07-04T21:00:00Z",
        "area": {"lat": LAT0, "lon": LON0, "elevation_m": 250.0, "size_m": list(size)},
        "sensors": {
            "layout": "grid",
            "spacing_m": spacing,
            "jitter_m": 40.0,
            "height_m": [5.0, 15.0],
            "seed": int(rng.integers(1 << 31)),
        },
        "buildings": (
            {"mode": "none"}
            if open_field
            else {
                "mode": "random",
                "block_m": BLOCK_M,
                "street_m": STREET_M,
                "density": 0.45,
                "height_m": [6.0, 20.0],
                "seed": int(rng.integers(1 << 31)),
            }
        ),
        "weather": {
            "temperature_c": round(float(rng.uniform(-5.0, 32.0)), 1),
            "relative_humidity": round(float(rng.uniform(20.0, 95.0)), 1),
            "wind_speed_mps": round(float(rng.uniform(0.0, 8.0)), 1),
            "wind_from_deg": round(float(rng.uniform(0.0, 360.0)), 1),
        },
        "noise": {"background_db_spl": 56.0, "sensor_sigma_db": 3.0},
        "timing": {"clock_sigma_s": 5e-5, "pick_sigma_s": 1e-4},
    }


def _incident(
    rng: np.random.Generator, kind: str, *, x: float, y: float, axis: str, t_s: float
) -> dict[str, Any]:
    if kind in ("single", "open"):
        return {"kind": "gunfire", "t_s": t_s, "east_m": x, "north_m": y, "weapon": _weapon(rng)}
    if kind == "multi_round":
        if rng.random() < 0.25:
            return {
                "kind": "gunfire",
                "t_s": t_s,
                "east_m": x,
                "north_m": y,
                "weapon": "rifle",
                "mode": "auto",
                "rpm": float(rng.uniform(600.0, 900.0)),
                "rounds": int(rng.integers(4, 13)),
            }
        return {
            "kind": "gunfire",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "weapon": _weapon(rng),
            "rounds": int(rng.integers(2, 11)),
        }
    if kind == "two_shooters":
        sep = float(rng.uniform(20.0, 40.0))
        dx, dy = (0.0, sep) if axis == "ns" else (sep, 0.0)
        return {
            "kind": "gunfire",
            "t_s": t_s,
            "pattern": "alternate",
            "shooters": [
                {
                    "east_m": x,
                    "north_m": y,
                    "weapon": _weapon(rng),
                    "rounds": int(rng.integers(2, 6)),
                },
                {
                    "east_m": x + dx,
                    "north_m": y + dy,
                    "weapon": _weapon(rng),
                    "rounds": int(rng.integers(2, 6)),
                    "cadence_s": [0.3, 0.9],
                },
            ],
        }
    if kind == "mobile":
        base = 0.0 if axis == "ns" else 90.0
        heading = (base + (180.0 if rng.random() < 0.5 else 0.0)) % 360.0
        return {
            "kind": "gunfire",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "up_m": 1.2,
            "weapon": str(rng.choice(["handgun", "rifle"], p=[0.8, 0.2])),
            "rounds": int(rng.integers(4, 9)),
            "cadence_s": [0.3, 0.8],
            "speed_mps": round(float(rng.uniform(3.0, 25.0)), 2),
            "heading_deg": heading,
        }
    if kind == "fireworks":
        return {
            "kind": "fireworks",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "bursts": int(rng.integers(2, 7)),
            "crackle": int(rng.integers(0, 20)),
        }
    if kind == "firecrackers":
        return {
            "kind": "firecrackers",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "pops": int(rng.integers(15, 60)),
        }
    if kind == "backfire":
        base = 0.0 if axis == "ns" else 90.0
        return {
            "kind": "backfire",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "count": int(rng.integers(1, 4)),
            "speed_mps": round(float(rng.uniform(0.0, 15.0)), 2),
            "heading_deg": (base + (180.0 if rng.random() < 0.5 else 0.0)) % 360.0,
        }
    if kind == "door_slam":
        return {
            "kind": "door_slam",
            "t_s": t_s,
            "east_m": x,
            "north_m": y,
            "count": int(rng.integers(1, 3)),
        }
    raise ValueError(f"unknown scene kind {kind!r}; one of {', '.join(KINDS)}")


def urban_scene(seed: int, kind: str) -> Scenario:
    """A dense-urban deployment with one incident of ``kind`` near the middle.

    ``kind`` is one of :data:`KINDS`. ``"open"`` has no buildings and no facade echoes
    (every direct path open) and the weather is the one reported, for checking a locator
    against the Cramér-Rao bound.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; one of {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    size = (2400.0, 2400.0)
    spacing = round(float(rng.uniform(250.0, 350.0)), 1)
    doc = _base(rng, size, spacing, open_field=kind == "open")
    x0, y0 = rng.uniform(-400.0, 400.0, size=2)
    x, y, axis = _street_point(rng, float(x0), float(y0), size)
    doc["sources"] = [_incident(rng, kind, x=round(x, 2), y=round(y, 2), axis=axis, t_s=2.0)]
    if kind == "open":
        doc["echoes"] = {"enabled": False}
    doc["name"] = f"urban-{kind}-{seed}"
    return scenario_from_dict(doc, f"urban_scene({seed}, {kind!r})")


def city_scene(
    seed: int,
    n_sensors: int = 1000,
    hours: float = 1.0,
    *,
    spacing_m: float = 300.0,
    local_per_sensor_hour: float = 0.8,
    gunfire_per_hour: float | None = None,
    fireworks_per_hour: float | None = None,
    spurious_per_sensor_hour: float = 2.0,
) -> Scenario:
    """A city of ``n_sensors`` sensors (square grid, ``spacing_m`` apart) over ``hours``.

    Background: ``local_per_sensor_hour`` unrelated local impulse sources started per
    sensor per hour (door slams 55 %, backfires 30 %, short firecracker strings 15 %)
    within 60 m of a sensor's grid site; each is heard by one to several sensors, so at
    the default a sensor hears about four of them per hour. Plus
    ``spurious_per_sensor_hour`` noise picks per sensor; incidents: gunfire
    (default 4 per hour per 1000 sensors) and fireworks (default 2 per hour per 1000).
    """
    if n_sensors < 1 or hours <= 0:
        raise ValueError("n_sensors must be >= 1 and hours > 0")
    rng = np.random.default_rng(seed)
    side = float(np.ceil(np.sqrt(n_sensors))) * spacing_m
    size = (side, side)
    doc = _base(rng, size, spacing_m, open_field=False)
    doc["sensors"]["count"] = n_sensors
    doc["buildings"]["max_open_range_m"] = 1500.0
    doc["noise"]["spurious_per_sensor_hour"] = spurious_per_sensor_hour
    duration = hours * 3600.0
    doc["duration_s"] = duration
    doc["echoes"] = {"enabled": True, "radius_m": 80.0}
    scale = n_sensors / 1000.0 * hours
    n_gun = int(rng.poisson(4.0 * scale if gunfire_per_hour is None else gunfire_per_hour * hours))
    n_fw = int(
        rng.poisson(2.0 * scale if fireworks_per_hour is None else fireworks_per_hour * hours)
    )
    sources: list[dict[str, Any]] = []
    half = side / 2 - spacing_m
    for _ in range(n_gun):
        x, y, axis = _street_point(rng, *_two(rng, half), size)
        k = str(
            rng.choice(
                ["single", "multi_round", "two_shooters", "mobile"], p=[0.35, 0.4, 0.1, 0.15]
            )
        )
        sources.append(
            _incident(rng, k, x=x, y=y, axis=axis, t_s=float(rng.uniform(0.0, duration - 30.0)))
        )
    for _ in range(n_fw):
        x, y, axis = _street_point(rng, *_two(rng, half), size)
        sources.append(
            _incident(
                rng, "fireworks", x=x, y=y, axis=axis, t_s=float(rng.uniform(0.0, duration - 30.0))
            )
        )
    # local impulses near sensors: positions relative to the sensor grid (the layout's
    # jitter moves sensors up to 40 m, so "near" is within ~100 m)
    n_side = int(np.ceil(np.sqrt(n_sensors)))
    n_local = int(rng.poisson(local_per_sensor_hour * hours * n_sensors))
    cells = rng.integers(0, n_side, size=(n_local, 2))
    for cx, cy in cells.tolist():
        gx = -side / 2 + spacing_m / 2 + cx * spacing_m
        gy = -side / 2 + spacing_m / 2 + cy * spacing_m
        r = float(rng.uniform(5.0, 60.0))
        a = float(rng.uniform(0.0, 2 * np.pi))
        x, y, axis = _street_point(rng, gx + r * np.cos(a), gy + r * np.sin(a), size)
        t = float(rng.uniform(0.0, duration - 10.0))
        u = rng.random()
        if u < 0.55:
            sources.append({"kind": "door_slam", "t_s": t, "east_m": x, "north_m": y})
        elif u < 0.85:
            sources.append(
                {
                    "kind": "backfire",
                    "t_s": t,
                    "east_m": x,
                    "north_m": y,
                    "count": int(rng.integers(1, 3)),
                }
            )
        else:
            sources.append(
                {
                    "kind": "firecrackers",
                    "t_s": t,
                    "east_m": x,
                    "north_m": y,
                    "pops": int(rng.integers(3, 12)),
                }
            )
    doc["sources"] = sources
    doc["name"] = f"city-{n_sensors}-{hours}h-{seed}"
    return scenario_from_dict(doc, f"city_scene({seed})")
