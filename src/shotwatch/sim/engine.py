"""The simulator: scenario + seed -> sensors, weather, pulse reports, audio and truth.

Per event and sensor (positions in the local ENU frame, metres):

1. **Direct path** when the segment source->sensor misses every building (slab test):
   travel time from :func:`shotwatch.core.acoustics.travel_time` (uniform wind), level
   ``L1 + D(phi) - 20 log10 r - alpha(f_c) r`` with the source level ``L1`` at 1 m, the
   muzzle directivity ``D``, spherical spreading and ISO 9613-1 air absorption at the
   pulse's characteristic frequency ``f_c = 0.6 / t*`` (100-2000 Hz).
2. **Ground reflection** (image source below the flat, hard ground, |R| = 0.95) for
   open paths; a few tenths of a millisecond behind the direct sound for shots near the
   ground, it merges with it (see 6.), tens of milliseconds for fireworks aloft.
3. **Blocked path**: the first arrival is diffracted over the roofs (rubber band in the
   vertical plane) or around the sides of the blocking buildings (rubber band in plan,
   kept only if its own legs are open); travel time summed leg by leg through the wind,
   extra loss ``Dz`` of ISO 9613-2 from the path difference (capped 20/25 dB) plus
   1.5 dB per edge beyond the second, plus ``buildings.excess_db_per_100m`` per 100 m of
   horizontal distance beyond the first 100 m (at most 20 dB): a simple fit for the
   scattering and repeated screening of sound travelling across many rows of roofs, in
   the spirit of the multi-screen term of Walfisch & Bertoni (1988); it makes
   dense-urban ranges a few hundred metres, as deployed systems see.
4. **Facade echoes**: image sources of the walls of buildings within ``echoes.radius_m``
   of the source, pressure reflection coefficient ``facade_reflection`` and 0-4 dB of
   diffuse loss; both legs must be open.
5. **Sensor**: each site has a background level (``background_db_spl`` + N(0,
   ``sensor_sigma_db``)) and a constant GPS clock error N(0, ``clock_sigma_s``); an
   arrival gets a random level scatter N(0, ``fluctuation_db``) (turbulence) and is
   reported when its SNR (peak SPL minus background) reaches ``detection_snr_db``.
6. **Picker**: arrivals closer than ``merge_window_s`` at one sensor make one pulse
   (the first onset; the peak of the sum); the reported onset has a picking error
   N(0, s) with ``s = pick_sigma_s * sqrt(1 + 10^((20 - SNR)/10))`` (grows at low SNR).

Truth arrivals are exactly the reported pulses; their ``t_utc`` equals the pulse time
(true arrival + clock error + pick error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.core.acoustics import speed_of_sound, travel_time, wind_vector
from shotwatch.errors import InputError
from shotwatch.formats import Clip
from shotwatch.geo import LocalFrame
from shotwatch.models import Pulse, Sensor, Weather
from shotwatch.sim import propagation as prop
from shotwatch.sim.events import Event, IncidentTruth, expand_sources
from shotwatch.sim.scenario import Scenario
from shotwatch.sim.world import World, build_world
from shotwatch.timeutil import format_utc

F64 = NDArray[np.float64]

PATH_DIRECT, PATH_DIFFRACTED, PATH_ECHO = 0, 1, 2
PATH_NAMES = ("direct", "diffracted", "echo")
GROUND_REFLECTION = 0.95
EXTRA_EDGE_DB = 1.5
URBAN_MAX_DB = 20.0


def urban_excess_db(scenario: Scenario, horizontal_m: F64) -> F64:
    """Extra loss (dB) of a blocked path over ``horizontal_m`` of city (see module doc)."""
    b = scenario.buildings
    rate = b.excess_db_per_100m
    if rate is None:
        rate = 3.3 * b.density if b.mode == "random" else 0.0
    x = rate * np.maximum(np.asarray(horizontal_m, dtype=float) - 100.0, 0.0) / 100.0
    return np.asarray(np.minimum(x, URBAN_MAX_DB))


# dB that an arrival can gain over its straight-path level by merging with its ground
# reflection (plus 3 sigma of fluctuation, added below) when choosing sensors to test.
_RANGE_MARGIN_DB = 6.0


def characteristic_frequency(t_star: float) -> float:
    """Frequency (Hz) at which a pulse of positive phase ``t_star`` is attenuated."""
    return float(np.clip(0.6 / t_star, 100.0, 2000.0))


@dataclass
class Arrivals:
    """Physical arrivals (one row each), before detection."""

    event: list[NDArray[np.intp]] = field(default_factory=list)
    sensor: list[NDArray[np.intp]] = field(default_factory=list)
    travel: list[F64] = field(default_factory=list)
    level: list[F64] = field(default_factory=list)
    path: list[NDArray[np.intp]] = field(default_factory=list)
    length: list[F64] = field(default_factory=list)
    src_db: list[F64] = field(default_factory=list)  # L1 + directivity + reflection gains
    delta: list[F64] = field(default_factory=list)  # diffraction path difference (m)
    span: list[F64] = field(default_factory=list)  # diffraction edge span (m)
    edges: list[NDArray[np.intp]] = field(default_factory=list)

    def add(
        self,
        ev: int,
        sensor: NDArray[np.intp],
        *,
        travel: F64,
        level: F64,
        path: int,
        length: F64,
        src_db: F64,
        delta: F64 | None = None,
        span: F64 | None = None,
        edges: NDArray[np.intp] | None = None,
    ) -> None:
        n = len(sensor)
        if n == 0:
            return
        self.event.append(np.full(n, ev, dtype=np.intp))
        self.sensor.append(np.asarray(sensor, dtype=np.intp))
        self.travel.append(np.asarray(travel, dtype=float))
        self.level.append(np.asarray(level, dtype=float))
        self.path.append(np.full(n, path, dtype=np.intp))
        self.length.append(np.asarray(length, dtype=float))
        self.src_db.append(np.asarray(src_db, dtype=float))
        self.delta.append(np.zeros(n) if delta is None else np.asarray(delta, dtype=float))
        self.span.append(np.zeros(n) if span is None else np.asarray(span, dtype=float))
        self.edges.append(
            np.zeros(n, dtype=np.intp) if edges is None else np.asarray(edges, dtype=np.intp)
        )

    def stack(self) -> dict[str, NDArray[Any]]:
        names = (
            "event",
            "sensor",
            "travel",
            "level",
            "path",
            "length",
            "src_db",
            "delta",
            "span",
            "edges",
        )
        out: dict[str, NDArray[Any]] = {}
        for k in names:
            parts = getattr(self, k)
            dtype = np.intp if k in ("event", "sensor", "path", "edges") else float
            out[k] = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        return out


@dataclass
class Medium:
    """Propagation conditions."""

    c: float
    wind: F64
    temperature_c: float
    relative_humidity: float

    def alpha(self, f_hz: float) -> float:
        """Air absorption, dB/m, at ``f_hz``."""
        return float(prop.air_absorption_db_per_m(f_hz, self.temperature_c, self.relative_humidity))


def _directivity(ev: Event, src: F64, toward: F64) -> F64:
    """Muzzle-blast directivity (dB <= 0) towards the points ``toward`` (n, 3)."""
    if ev.directivity_db <= 0 or ev.aim_deg is None:
        return np.zeros(len(toward))
    a = np.radians(ev.aim_deg)
    aim = np.array([np.sin(a), np.cos(a)])
    d = toward[:, :2] - src[:2]
    n = np.linalg.norm(d, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosphi = np.where(n > 0, d @ aim / np.where(n > 0, n, 1.0), 1.0)
    return np.asarray(-ev.directivity_db * (1.0 - cosphi) / 2.0)


def _max_range(level_db: float, alpha: float, floor_db: float) -> float:
    """Largest distance (m) at which ``level_db - 20 log r - alpha r`` reaches ``floor_db``."""
    r = np.logspace(0, 4.7, 400)
    ok = level_db - 20 * np.log10(r) - alpha * r >= floor_db
    return float(r[ok].max()) if ok.any() else 1.0


def propagate_event(
    k: int,
    ev: Event,
    *,
    world: World,
    medium: Medium,
    scenario: Scenario,
    noise_db: F64,
    rng: np.random.Generator,
    out: Arrivals,
) -> None:
    """Append every physical arrival of event ``k`` at every sensor in range to ``out``."""
    src = np.asarray(ev.pos, dtype=float)
    f_c = characteristic_frequency(ev.t_star)
    alpha = medium.alpha(f_c)
    lam = medium.c / f_c
    # Lowest level that could still be detected: a sensor's background plus the SNR
    # threshold, less 3 sigma of fluctuation (and, for the open-path range, the gain of
    # an in-phase ground reflection).
    fl3 = 3.0 * scenario.noise.fluctuation_db
    floor_s = noise_db + scenario.noise.detection_snr_db - fl3  # per sensor
    floor = float(floor_s.min()) - _RANGE_MARGIN_DB if len(floor_s) else 0.0
    r_max = _max_range(ev.level_db, alpha, floor)
    pos = world.sensor_pos
    dist = np.linalg.norm(pos - src, axis=1)
    J = np.flatnonzero(dist <= r_max)
    index = world.index
    if len(J) and len(index.boxes):
        # A blocked path loses at least 10 log10(3) dB of screening and the urban excess:
        # beyond the range where even that is too much, only an open path can be heard.
        # Far sensors whose line of sight surely ends inside a building are dropped.
        hd = np.hypot(*(pos[J, :2] - src[:2]).T)
        ub_nlos = (
            ev.level_db
            - 20 * np.log10(np.maximum(dist[J], 1.0))
            - alpha * dist[J]
            - 10 * np.log10(3.0)
            - urban_excess_db(scenario, hd)
        )
        far = ub_nlos < floor_s[J]
        if far.any():
            sure = world.raster.surely_blocked(src, pos[J[far]])
            drop = np.flatnonzero(far)[sure]
            J = np.delete(J, drop)
    if len(J) == 0:
        return
    R = pos[J]
    boxes = index.boxes
    seg_i, box_i = index.hits(np.broadcast_to(src, R.shape), R)
    n_hit = np.bincount(seg_i, minlength=len(J))
    blocked = n_hit > 0

    # 1. direct
    op = ~blocked
    if op.any():
        r = dist[J[op]]
        tt = travel_time(src, R[op], medium.c, medium.wind)
        sdb = ev.level_db + _directivity(ev, src, R[op])
        lvl = sdb - 20 * np.log10(np.maximum(r, 1.0)) - alpha * r
        out.add(k, J[op], travel=tt, level=lvl, path=PATH_DIRECT, length=r, src_db=sdb)
        # 2. ground reflection
        img = src * np.array([1.0, 1.0, -1.0])
        rg = np.linalg.norm(R[op] - img, axis=1)
        tg = travel_time(img, R[op], medium.c, medium.wind)
        sdg = sdb + 20 * np.log10(GROUND_REFLECTION)
        lg = sdg - 20 * np.log10(np.maximum(rg, 1.0)) - alpha * rg
        out.add(k, J[op], travel=tg, level=lg, path=PATH_ECHO, length=rg, src_db=sdg)

    # 3. blocked: diffracted paths. Skip sensors that a lower bound of the detour
    # (hence of the screening loss) and the building rows the line of sight pierces
    # keep below the floor.
    d_b = dist[J]
    det_lb = np.zeros(len(J))
    if len(seg_i):
        np.maximum.at(det_lb, seg_i, prop.detour_lower_bound(src, R[seg_i], boxes[box_i]))
    ub = (
        ev.level_db
        - 20 * np.log10(np.maximum(d_b + det_lb, 1.0))
        - alpha * (d_b + det_lb)
        - prop.barrier_attenuation_db(det_lb, lam, 0.0)
        - urban_excess_db(scenario, np.hypot(*(R[:, :2] - src[:2]).T))
    )
    hit_by: dict[int, list[int]] = {}
    for s_, b_ in zip(seg_i.tolist(), box_i.tolist(), strict=True):
        hit_by.setdefault(s_, []).append(b_)
    todo = np.flatnonzero(blocked & (ub >= floor_s[J]))
    c_seg, c_box = index.candidates(np.broadcast_to(src, (len(todo), 3)), R[todo])
    over = prop.over_roof_paths(src, R[todo], boxes, c_seg, c_box)
    hd_all = np.hypot(R[todo, 0] - src[0], R[todo, 1] - src[1])
    urb_all = urban_excess_db(scenario, hd_all).tolist()
    paths: list[tuple[int, F64, int, float, float]] = []  # sensor row, verts, edges, span, urban
    sides: list[tuple[int, F64, int, float, float]] = []
    for m, i in enumerate(todo.tolist()):
        rcv = R[i]
        verts, n_edges, span = over[m]
        urban = urb_all[m]
        if n_edges >= 1:
            paths.append((i, verts, n_edges, span, urban))
        for side in prop.around_paths(src, rcv, boxes[hit_by[i]]):
            if len(side) >= 3:
                sp = float(np.hypot(*(side[-2, :2] - side[1, :2]))) if len(side) > 3 else 0.0
                sides.append((i, side, len(side) - 2, sp, urban))
    if sides:
        # a side path counts only if its own legs are open; keep the shorter per sensor
        legs_a = np.concatenate([s[1][:-1] for s in sides])
        legs_b = np.concatenate([s[1][1:] for s in sides])
        owner = np.repeat(np.arange(len(sides)), [len(s[1]) - 1 for s in sides])
        bad = np.zeros(len(sides), dtype=bool)
        bad[owner[index.blocked(legs_a, legs_b)]] = True
        best: dict[int, tuple[int, F64, int, float, float]] = {}
        for sd, is_bad in zip(sides, bad.tolist(), strict=True):
            if not is_bad and (
                sd[0] not in best or prop.path_length(sd[1]) < prop.path_length(best[sd[0]][1])
            ):
                best[sd[0]] = sd
        paths.extend(best.values())
    if paths:
        rows = np.asarray([p[0] for p in paths], dtype=np.intp)
        length = np.asarray([prop.path_length(p[1]) for p in paths])
        ne = np.asarray([p[2] for p in paths], dtype=np.intp)
        sp_ = np.asarray([p[3] for p in paths])
        urb = np.asarray([p[4] for p in paths])
        delta = length - d_b[rows]
        dz = prop.barrier_attenuation_db(delta, lam, sp_)
        first_leg = np.asarray([p[1][1] for p in paths])
        sdb_c = (
            ev.level_db
            + _directivity(ev, src, first_leg)
            - EXTRA_EDGE_DB * np.maximum(ne - 2, 0)
            - urb
        )
        lvl_c = sdb_c - 20 * np.log10(length) - alpha * length - dz
        ok = lvl_c >= floor_s[J[rows]]
        if ok.any():
            sel = np.flatnonzero(ok)
            legs = [np.diff(paths[j][1], axis=0) for j in sel]
            lt = travel_time(np.zeros(3), np.concatenate(legs), medium.c, medium.wind)
            tt = np.add.reduceat(lt, np.concatenate([[0], np.cumsum([len(x) for x in legs])[:-1]]))
            out.add(
                k,
                J[rows[sel]],
                travel=tt,
                level=lvl_c[sel],
                path=PATH_DIFFRACTED,
                length=length[sel],
                src_db=sdb_c[sel],
                delta=delta[sel],
                span=sp_[sel],
                edges=ne[sel],
            )

    # 4. facade echoes off the walls of buildings near the source
    ech = scenario.echoes
    if not (ech.enabled and len(boxes)):
        return
    ctr = (boxes[:, :2] + boxes[:, 3:5]) / 2
    halfdiag = np.hypot(boxes[:, 3] - boxes[:, 0], boxes[:, 4] - boxes[:, 1]) / 2
    near = prop.boxes_near(boxes, src[None, :], ech.radius_m)
    nb = near[np.hypot(*(ctr[near] - src[:2]).T) - halfdiag[near] <= ech.radius_m]
    if len(nb) == 0:
        return
    ri, bi, P, img = prop.wall_reflections(src, R, boxes[nb])
    if len(ri) == 0:
        return
    length = np.linalg.norm(R[ri] - img, axis=1)
    refl_db = 20 * np.log10(max(scenario.buildings.facade_reflection, 1e-6))
    diffuse = rng.uniform(0.0, 4.0, size=len(ri))
    sdb = ev.level_db + _directivity(ev, src, P) + refl_db - diffuse
    lvl = sdb - 20 * np.log10(np.maximum(length, 1.0)) - alpha * length
    keep = lvl >= floor_s[J[ri]]
    if not keep.any():
        return
    ri, own, P, length, sdb, lvl = (
        ri[keep],
        nb[bi[keep]],
        P[keep],
        length[keep],
        sdb[keep],
        lvl[keep],
    )
    ok = np.ones(len(ri), dtype=bool)
    for a_, b_ in ((np.broadcast_to(src, P.shape), P), (P, R[ri])):
        s_, bx_ = index.hits(a_, b_)
        foreign = bx_ != own[s_]  # grazing the reflecting wall itself is not a block
        ok[s_[foreign]] = False
    if not ok.any():
        return
    t1 = travel_time(np.zeros(3), P[ok] - src, medium.c, medium.wind)
    t2 = travel_time(np.zeros(3), R[ri[ok]] - P[ok], medium.c, medium.wind)
    out.add(
        k,
        J[ri[ok]],
        travel=t1 + t2,
        level=lvl[ok],
        path=PATH_ECHO,
        length=length[ok],
        src_db=sdb[ok],
    )


@dataclass
class SimResult:
    """Everything one simulation run produced (the bench and the demo read this)."""

    scenario: Scenario
    seed: int
    frame: LocalFrame
    sensors: dict[str, Sensor]
    sensor_positions: dict[str, tuple[float, float, float]]
    buildings: F64
    weather: Weather
    pulses: list[Pulse]
    clips: dict[str, Clip]
    truth: dict[str, Any]
    start: float
    end: float
    sample_rate: int | None = None


def _pick_sigma(base: float, snr: F64) -> F64:
    return np.asarray(base * np.sqrt(1.0 + 10.0 ** ((20.0 - snr) / 10.0)))


def _merge(
    sensor: NDArray[np.intp], t: F64, level: F64, tstar: F64, window: float
) -> tuple[NDArray[np.intp], F64]:
    """Greedy picker dead time: indices of the reported arrivals and their merged levels.

    Arrivals must be sorted by (sensor, t). An arrival within ``window`` after the last
    reported one at the same sensor is folded into it: the pulse keeps the first onset and
    the larger of the peaks, or their in-phase sum while the later one starts within
    half of the first pulse's positive phase.
    """
    keep: list[int] = []
    levels: list[float] = []
    last_s, last_t, last_p, last_ts = -1, -np.inf, 0.0, 0.0
    s_l, t_l, l_l, ts_l = sensor.tolist(), t.tolist(), level.tolist(), tstar.tolist()
    for i in range(len(s_l)):
        s, ti, li = s_l[i], t_l[i], l_l[i]
        p = 10.0 ** (li / 20.0)
        if s == last_s and ti - last_t <= window:
            dt = ti - last_t
            coh = last_p + p * max(0.0, 1.0 - 2.0 * dt / last_ts) if last_ts > 0 else last_p
            new_p = max(last_p, p, coh)
            levels[-1] = 20.0 * np.log10(new_p)
            last_p = new_p
            continue
        keep.append(i)
        levels.append(li)
        last_s, last_t, last_p, last_ts = s, ti, p, ts_l[i]
    return np.asarray(keep, dtype=np.intp), np.asarray(levels, dtype=float)


def simulate(
    scenario: Scenario, seed: int, audio: bool = False, sample_rate: int = 16000
) -> SimResult:
    """Run the scenario with random seed ``seed`` (deterministic for a seed).

    Pulses-only mode is vectorised per event; ``audio=True`` also synthesizes one
    continuous recording per sensor (see :mod:`shotwatch.sim.audio`).
    """
    if audio and not 4000 <= sample_rate <= 192_000:
        raise InputError(f"sample rate must be within 4000..192000 Hz, got {sample_rate}")
    rng = np.random.default_rng(seed)
    world = build_world(scenario)
    n_s = len(world.sensor_ids)
    wx = scenario.weather
    weather = Weather(wx.temperature_c, wx.relative_humidity, wx.wind_speed_mps, wx.wind_from_deg)
    c = float(speed_of_sound(wx.temperature_c, wx.relative_humidity))
    medium = Medium(
        c, wind_vector(wx.wind_speed_mps, wx.wind_from_deg), wx.temperature_c, wx.relative_humidity
    )
    start = scenario.start
    # per-sensor state (drawn first, so adding sources does not change the sites)
    srng = np.random.default_rng([seed, 1])
    noise_db = scenario.noise.background_db_spl + srng.normal(
        0.0, scenario.noise.sensor_sigma_db, n_s
    )
    clock = srng.normal(0.0, scenario.timing.clock_sigma_s, n_s)

    events, incidents = expand_sources(scenario, np.random.default_rng([seed, 2]))
    last = max((e.t for e in events), default=0.0)
    duration = scenario.duration_s if scenario.duration_s is not None else max(10.0, last + 5.0)
    end = start + duration

    arr = Arrivals()
    prng = np.random.default_rng([seed, 3])
    for k, ev in enumerate(events):
        propagate_event(
            k,
            ev,
            world=world,
            medium=medium,
            scenario=scenario,
            noise_db=noise_db,
            rng=prng,
            out=arr,
        )
    a = arr.stack()

    # detection, picking
    n_a = len(a["event"])
    ev_t = np.asarray([e.t for e in events], dtype=float)
    ev_ts = np.asarray([e.t_star for e in events], dtype=float)
    fl = rng.normal(0.0, scenario.noise.fluctuation_db, n_a) if n_a else np.zeros(0)
    level = a["level"] + fl
    snr = level - noise_db[a["sensor"]] if n_a else np.zeros(0)
    t_true = ev_t[a["event"]] + a["travel"] if n_a else np.zeros(0)  # s after start
    t_clock = t_true + clock[a["sensor"]] if n_a else np.zeros(0)
    det = np.flatnonzero(snr >= scenario.noise.detection_snr_db)
    order = det[np.lexsort((t_clock[det], a["sensor"][det]))]
    keep_rel, merged_level = _merge(
        a["sensor"][order],
        t_clock[order],
        level[order],
        ev_ts[a["event"][order]],
        scenario.timing.merge_window_s,
    )
    rep = order[keep_rel]
    rep_snr = merged_level - noise_db[a["sensor"][rep]]
    sig = _pick_sigma(scenario.timing.pick_sigma_s, rep_snr)
    pick = rng.normal(0.0, 1.0, len(rep)) * sig
    t_rep = t_clock[rep] + pick
    fs = scenario.noise.full_scale_db_spl

    pulses: list[Pulse] = []
    for j, idx in enumerate(rep):
        s = int(a["sensor"][idx])
        pulses.append(
            Pulse(
                sensor_id=world.sensor_ids[s],
                t=start + float(t_rep[j]),
                snr_db=round(float(rep_snr[j]), 2),
                peak_dbfs=round(float(min(0.0, merged_level[j] - fs)), 2),
            )
        )
    # spurious picks of background noise bursts (no event behind them)
    rate = scenario.noise.spurious_per_sensor_hour
    if rate > 0 and n_s:
        counts = rng.poisson(rate * duration / 3600.0, n_s)
        for s_sp in np.flatnonzero(counts).tolist():
            for _ in range(int(counts[s_sp])):
                pulses.append(
                    Pulse(
                        sensor_id=world.sensor_ids[s_sp],
                        t=start + float(rng.uniform(0.0, duration)),
                        snr_db=round(
                            float(scenario.noise.detection_snr_db + rng.exponential(3.0)), 2
                        ),
                        peak_dbfs=round(float(min(0.0, noise_db[s_sp] + 12.0 - fs)), 2),
                    )
                )
    pulses.sort(key=lambda p: (p.t, p.sensor_id))

    # sensors and truth
    lat, lon, hh = world.frame.to_geodetic(world.sensor_pos)
    sensors = {
        sid: Sensor(sid, float(lat[i]), float(lon[i]), round(float(hh[i]), 3))
        for i, sid in enumerate(world.sensor_ids)
    }
    truth = _truth(
        scenario=scenario,
        world=world,
        weather=weather,
        events=events,
        incidents=incidents,
        a=a,
        rep=rep,
        t_rep=t_rep,
        pick=pick,
        sig=sig,
        clock=clock,
        start=start,
    )
    truth["timing"] = {
        "pick_sigma_s": scenario.timing.pick_sigma_s,
        "clock_sigma_s": scenario.timing.clock_sigma_s,
        "speed_of_sound_mps": c,
    }
    clips: dict[str, Clip] = {}
    if audio:
        from shotwatch.sim.audio import render_clips

        clips = render_clips(
            world=world,
            events=events,
            arrivals=a,
            t_true=t_true,
            clock=clock,
            noise_db=noise_db,
            medium=medium,
            scenario=scenario,
            start=start,
            duration=duration,
            sample_rate=sample_rate,
            rng=np.random.default_rng([seed, 4]),
        )
    return SimResult(
        scenario=scenario,
        seed=seed,
        frame=world.frame,
        sensors=sensors,
        sensor_positions={
            sid: (float(p[0]), float(p[1]), float(p[2]))
            for sid, p in zip(world.sensor_ids, world.sensor_pos, strict=True)
        },
        buildings=world.boxes,
        weather=weather,
        pulses=pulses,
        clips=clips,
        truth=truth,
        start=start,
        end=end,
        sample_rate=sample_rate if audio else None,
    )


def _truth(
    *,
    scenario: Scenario,
    world: World,
    weather: Weather,
    events: list[Event],
    incidents: list[IncidentTruth],
    a: dict[str, NDArray[Any]],
    rep: NDArray[np.intp],
    t_rep: F64,
    pick: F64,
    sig: F64,
    clock: F64,
    start: float,
) -> dict[str, Any]:
    frame = world.frame
    by_event: dict[int, list[int]] = {}
    for j, idx in enumerate(rep):
        by_event.setdefault(int(a["event"][idx]), []).append(j)
    pos = np.asarray([e.pos for e in events], dtype=float).reshape(-1, 3)
    lat, lon, hh = frame.to_geodetic(pos)[:3]
    out_events = []
    for k, ev in enumerate(events):
        arrivals = []
        for j in sorted(by_event.get(k, []), key=lambda j: float(t_rep[j])):
            idx = rep[j]
            s = int(a["sensor"][idx])
            arrivals.append(
                {
                    "sensor_id": world.sensor_ids[s],
                    "t_utc": format_utc(start + float(t_rep[j])),
                    "path": PATH_NAMES[int(a["path"][idx])],
                    "true_travel_s": round(float(a["travel"][idx]), 7),
                    "pick_error_s": round(float(pick[j]), 7),
                    "clock_error_s": round(float(clock[s]), 7),
                    "pick_sigma_s": round(float(sig[j]), 7),
                }
            )
        out_events.append(
            {
                "id": f"e{k}",
                "incident": f"i{ev.incident}",
                "kind": ev.kind,
                "shooter": ev.shooter,
                "t_utc": format_utc(start + ev.t),
                "lat": round(float(lat[k]), 8),
                "lon": round(float(lon[k]), 8),
                "elevation_m": round(float(hh[k]), 3),
                "east_m": round(ev.pos[0], 3),
                "north_m": round(ev.pos[1], 3),
                "up_m": round(ev.pos[2], 3),
                "weapon": ev.weapon,
                "arrivals": arrivals,
            }
        )
    out_inc = [
        {
            "id": f"i{i}",
            "kind": inc.kind,
            "rounds": inc.rounds,
            "shooters": inc.shooters,
            "mobile": inc.mobile,
            "speed_mps": inc.speed_mps,
            "heading_deg": inc.heading_deg,
        }
        for i, inc in enumerate(incidents)
    ]
    return {
        "frame": {"lat0": frame.lat0, "lon0": frame.lon0, "h0": frame.h0},
        "weather": {
            "temperature_c": weather.temperature_c,
            "relative_humidity": weather.relative_humidity,
            "wind_speed_mps": weather.wind_speed_mps,
            "wind_from_deg": weather.wind_from_deg,
        },
        "events": out_events,
        "incidents": out_inc,
    }
