"""Expansion of scenario sources (incidents) into individual impulsive events.

Source levels are peak sound pressure levels at 1 m (dB re 20 uPa) and ``t_star`` the
positive-phase duration of the Friedlander wave. Muzzle blasts of small arms measure
about 150-165 dB peak at 1 m with 0.5-3 ms positive phases (Maher 2006; Beck, Nakasone &
Marr, *J. Acoust. Soc. Am.* 130, 2011); the blast is louder ahead of the muzzle than
behind it (here a cardioid-like ``-D (1 - cos phi)/2`` loss, D = 6-8 dB).
Confusers: aerial fireworks shells (bursting 40-200 m up, ~145-155 dB at 1 m, longer
pulses), firecrackers (~130-140 dB, very short, 20-80 ms apart), car backfires (~135-145
dB, 4-8 ms, low-frequency) and door slams (~110-120 dB, 15-30 ms, low-frequency).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shotwatch.sim.scenario import (
    BackfireSource,
    DoorSlamSource,
    FirecrackersSource,
    FireworksSource,
    GunfireSource,
    Scenario,
    Shooter,
)


@dataclass(frozen=True)
class Emitter:
    """Acoustic signature of an event class."""

    level_db: float
    level_sigma_db: float
    t_star: tuple[float, float]
    directivity_db: float = 0.0
    height_m: float = 1.5


WEAPONS: dict[str, Emitter] = {
    "handgun": Emitter(155.0, 2.0, (0.8e-3, 1.4e-3), 6.0),
    "rifle": Emitter(162.0, 2.0, (1.2e-3, 2.0e-3), 8.0),
    "shotgun": Emitter(158.0, 2.0, (2.0e-3, 3.0e-3), 6.0),
}
CONFUSERS: dict[str, Emitter] = {
    "fireworks": Emitter(150.0, 3.0, (3e-3, 6e-3), 0.0, 100.0),
    "crackle": Emitter(126.0, 3.0, (0.3e-3, 0.6e-3), 0.0, 100.0),
    "firecrackers": Emitter(135.0, 3.0, (0.4e-3, 0.8e-3), 0.0, 0.1),
    "backfire": Emitter(140.0, 3.0, (4e-3, 8e-3), 0.0, 0.4),
    "door_slam": Emitter(120.0, 3.0, (15e-3, 30e-3), 0.0, 1.0),
}
# Supersonic rifle bullet: muzzle velocity (m/s), diameter and length (m), range kept
# supersonic (m).
RIFLE_BULLET = {"speed": 850.0, "diameter": 5.7e-3, "length": 0.023, "range": 600.0}


@dataclass
class Event:
    """One impulse: emission time (s after scenario start) and ENU position (m)."""

    t: float
    pos: tuple[float, float, float]
    kind: str  # gunfire or the confuser kind
    incident: int
    shooter: int
    level_db: float
    t_star: float
    directivity_db: float = 0.0
    aim_deg: float | None = None
    weapon: str | None = None
    supersonic: bool = False
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class IncidentTruth:
    kind: str
    rounds: int
    shooters: int
    mobile: bool
    speed_mps: float | None
    heading_deg: float | None


def _level(rng: np.random.Generator, em: Emitter, override: float | None) -> float:
    base = em.level_db if override is None else override
    return float(base + rng.normal(0.0, em.level_sigma_db))


def _tstar(rng: np.random.Generator, em: Emitter) -> float:
    return float(rng.uniform(*em.t_star))


def _shot_offsets(rng: np.random.Generator, sh: Shooter) -> list[float]:
    """Times of a shooter's rounds relative to the incident start (s)."""
    t = sh.start_s
    out = [t]
    for _ in range(sh.rounds - 1):
        t += _interval(rng, sh)
        out.append(t)
    return out


def _interval(rng: np.random.Generator, sh: Shooter) -> float:
    if sh.mode == "auto":
        return float(60.0 / sh.rpm * (1.0 + rng.normal(0.0, 0.02)))
    return float(rng.uniform(*sh.cadence_s))


def _gunfire(
    rng: np.random.Generator, src: GunfireSource, inc: int
) -> tuple[list[Event], IncidentTruth]:
    aims = [
        float(rng.uniform(0.0, 360.0)) if sh.aim_deg is None else sh.aim_deg for sh in src.shooters
    ]
    firing: list[tuple[float, int]] = []
    if src.pattern == "alternate" and len(src.shooters) > 1:
        left = [sh.rounds for sh in src.shooters]
        t = min(sh.start_s for sh in src.shooters)
        k = 0
        first = True
        while any(left):
            if left[k]:
                if not first:
                    t += _interval(rng, src.shooters[k])
                firing.append((t, k))
                left[k] -= 1
                first = False
            k = (k + 1) % len(src.shooters)
    else:
        for k, sh in enumerate(src.shooters):
            firing.extend((t, k) for t in _shot_offsets(rng, sh))
    firing.sort()
    t_first = {k: min(t for t, kk in firing if kk == k) for k in range(len(src.shooters))}
    events: list[Event] = []
    for t, k in firing:
        sh = src.shooters[k]
        em = WEAPONS[sh.weapon]
        h = np.radians(sh.heading_deg)
        d = sh.speed_mps * (t - t_first[k])
        pos = (sh.east_m + d * float(np.sin(h)), sh.north_m + d * float(np.cos(h)), sh.up_m)
        aim = (aims[k] + float(rng.normal(0.0, 15.0))) % 360.0
        supersonic = sh.supersonic if sh.supersonic is not None else sh.weapon == "rifle"
        events.append(
            Event(
                t=src.t_s + t,
                pos=pos,
                kind="gunfire",
                incident=inc,
                shooter=k,
                level_db=_level(rng, em, sh.level_db),
                t_star=_tstar(rng, em),
                directivity_db=em.directivity_db,
                aim_deg=aim,
                weapon=sh.weapon,
                supersonic=supersonic,
            )
        )
    movers = [sh for sh in src.shooters if sh.speed_mps > 0]
    truth = IncidentTruth(
        kind="gunfire",
        rounds=len(events),
        shooters=len(src.shooters),
        mobile=bool(movers),
        speed_mps=movers[0].speed_mps if movers else None,
        heading_deg=(movers[0].heading_deg % 360.0) if movers else None,
    )
    return events, truth


def _fireworks(rng: np.random.Generator, src: FireworksSource, inc: int) -> list[Event]:
    em, cr = CONFUSERS["fireworks"], CONFUSERS["crackle"]
    out: list[Event] = []
    t = src.t_s
    for i in range(src.bursts):
        if i:
            t += float(rng.uniform(*src.interval_s))
        r = src.spread_m * np.sqrt(rng.random())
        a = rng.uniform(0.0, 2 * np.pi)
        hgt = float(rng.uniform(*src.burst_height_m)) if src.up_m is None else src.up_m
        p = (src.east_m + r * float(np.cos(a)), src.north_m + r * float(np.sin(a)), hgt)
        out.append(Event(t, p, "fireworks", inc, 0, _level(rng, em, src.level_db), _tstar(rng, em)))
        tc = t + float(rng.uniform(0.3, 1.5))
        for _ in range(src.crackle):
            q = (
                p[0] + float(rng.normal(0.0, 10.0)),
                p[1] + float(rng.normal(0.0, 10.0)),
                max(1.0, p[2] + float(rng.normal(0.0, 10.0))),
            )
            out.append(Event(tc, q, "fireworks", inc, 0, _level(rng, cr, None), _tstar(rng, cr)))
            tc += float(rng.uniform(0.02, 0.08))
    return out


def _firecrackers(rng: np.random.Generator, src: FirecrackersSource, inc: int) -> list[Event]:
    em = CONFUSERS["firecrackers"]
    out: list[Event] = []
    t = src.t_s
    up = em.height_m if src.up_m is None else src.up_m
    for i in range(src.pops):
        if i:
            t += float(rng.uniform(*src.gap_s))
        p = (
            src.east_m + float(rng.normal(0.0, 1.0)),
            src.north_m + float(rng.normal(0.0, 1.0)),
            up,
        )
        out.append(
            Event(t, p, "firecrackers", inc, 0, _level(rng, em, src.level_db), _tstar(rng, em))
        )
    return out


def _backfire(rng: np.random.Generator, src: BackfireSource, inc: int) -> list[Event]:
    em = CONFUSERS["backfire"]
    out: list[Event] = []
    t = 0.0
    up = em.height_m if src.up_m is None else src.up_m
    h = np.radians(src.heading_deg)
    for i in range(src.count):
        if i:
            t += float(rng.uniform(*src.gap_s))
        d = src.speed_mps * t
        p = (src.east_m + d * float(np.sin(h)), src.north_m + d * float(np.cos(h)), up)
        out.append(
            Event(
                src.t_s + t, p, "backfire", inc, 0, _level(rng, em, src.level_db), _tstar(rng, em)
            )
        )
    return out


def _door(rng: np.random.Generator, src: DoorSlamSource, inc: int) -> list[Event]:
    em = CONFUSERS["door_slam"]
    up = em.height_m if src.up_m is None else src.up_m
    out: list[Event] = []
    t = src.t_s
    for i in range(src.count):
        if i:
            t += float(rng.uniform(0.5, 3.0))
        p = (src.east_m, src.north_m, up)
        out.append(Event(t, p, "door_slam", inc, 0, _level(rng, em, src.level_db), _tstar(rng, em)))
    return out


def expand_sources(
    scenario: Scenario, rng: np.random.Generator
) -> tuple[list[Event], list[IncidentTruth]]:
    """All events of all sources, sorted by emission time, and one truth per incident."""
    events: list[Event] = []
    incidents: list[IncidentTruth] = []
    for inc, src in enumerate(scenario.sources):
        if isinstance(src, GunfireSource):
            ev, truth = _gunfire(rng, src, inc)
        else:
            if isinstance(src, FireworksSource):
                ev = _fireworks(rng, src, inc)
            elif isinstance(src, FirecrackersSource):
                ev = _firecrackers(rng, src, inc)
            elif isinstance(src, BackfireSource):
                ev = _backfire(rng, src, inc)
            else:
                ev = _door(rng, src, inc)
            moving = isinstance(src, BackfireSource) and src.speed_mps > 0
            truth = IncidentTruth(
                kind=src.kind,
                rounds=len(ev),
                shooters=0,
                mobile=moving,
                speed_mps=src.speed_mps if isinstance(src, BackfireSource) and moving else None,
                heading_deg=(src.heading_deg % 360.0)
                if isinstance(src, BackfireSource) and moving
                else None,
            )
        events.extend(ev)
        incidents.append(truth)
    events.sort(key=lambda e: (e.t, e.incident, e.shooter))
    return events, incidents
