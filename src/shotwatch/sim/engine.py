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
   diffuse loss; both legs must be open. Likewise the last leg of every direct or
   diffracted arrival (from the source or the last edge) is mirrored in the walls within
   ``echoes.sensor_radius_m`` of the sensor, keeping the screening of its path.
5. **Sensor**: each site has a background level (``background_db_spl`` + N(0,
   ``sensor_sigma_db``)) and a constant GPS clock error N(0, ``clock_sigma_s``); an
   arrival gets a random level scatter N(0, ``fluctuation_db``) (turbulence) and is
   reported when its SNR reaches ``detection_snr_db``. The SNR is what an energy
   (STA/LTA) trigger measures: the pulse's mean power over its first ``snr_window_s``
   over the background power, i.e. peak SPL + :func:`energy_correction_db` - background.
6. **Picker**: arrivals closer than ``merge_window_s`` at one sensor make one pulse
   (the first onset; the peak of the sum), detected on the merged level (so a direct
   sound just under the threshold still gives the onset of its ground reflection's
   sum); the level scatter is mostly common to the arrivals of one event at one sensor.
   The reported onset has a picking error
   N(0, s) with ``s = pick_sigma_s * sqrt(1 + 10^((20 - SNR)/10))`` (grows at low SNR).

Truth arrivals are exactly the reported pulses; their ``t_utc`` equals the pulse time
(true arrival + clock error + pick error). Beyond the contract, each truth arrival also
has ``pick_sigma_s`` (the sigma its pick error was drawn with) and the truth has a
``timing`` object (``pick_sigma_s``, ``clock_sigma_s``, ``speed_of_sound_mps``).

Speed: all (event, sensor) pairs are handled as arrays; a pair is dropped early when an
upper bound of its level (no screening for open paths; a lower bound of the detour for
blocked ones, :func:`shotwatch.sim.propagation.detour_lower_bound`) stays below the
sensor's floor, or when a conservative roof-height raster proves its line of sight
blocked. Only the rubber bands of the remaining blocked pairs are built one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
from shotwatch.sim.scenario import Scenario, Scores
from shotwatch.sim.world import World, build_world
from shotwatch.timeutil import format_utc

F64 = NDArray[np.float64]

PATH_DIRECT, PATH_DIFFRACTED, PATH_ECHO = 0, 1, 2
PATH_NAMES = ("direct", "diffracted", "echo")
GROUND_REFLECTION = 0.95
EXTRA_EDGE_DB = 1.5
URBAN_MAX_DB = 20.0


def energy_correction_db(t_star: F64, window_s: float) -> F64:
    """Mean power of a Friedlander pulse (b = 1) over its first ``window_s`` relative to
    its peak power, dB (<= 0): ``10 log10(int_0^T p^2 dt / (Ps^2 T))`` with

        int_0^T (1 - t/t*)^2 exp(-2t/t*) dt = t* (1/4 - exp(-2X) ((1-X)^2/2 - (1-X)/2 + 1/4)),

    ``X = T/t*``. A 1 ms muzzle blast loses ~9.5 dB over 2 ms, a 20 ms door slam ~1 dB.
    """
    ts = np.asarray(t_star, dtype=float)
    x = window_s / ts
    integral = ts * (0.25 - np.exp(-2 * x) * ((1 - x) ** 2 / 2 - (1 - x) / 2 + 0.25))
    return np.asarray(10 * np.log10(np.maximum(integral / window_s, 1e-12)))


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

    def add_pairs(
        self,
        ev: NDArray[np.intp],
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
        """Append arrivals of events ``ev`` (n,) at sensors ``sensor`` (n,)."""
        n = len(sensor)
        if n == 0:
            return
        self.event.append(np.asarray(ev, dtype=np.intp))
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


def _directivity_pairs(dir_db: F64, aim_deg: F64, src: F64, toward: F64) -> F64:
    """Muzzle-blast directivity (dB <= 0) for pairs: per-pair level ``dir_db``, aim
    (degrees, NaN for omnidirectional sources), source (n, 3) and target (n, 3) points."""
    a = np.radians(np.nan_to_num(aim_deg))
    d = toward[:, :2] - src[:, :2]
    n = np.hypot(d[:, 0], d[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        cosphi = np.where(n > 0, (d[:, 0] * np.sin(a) + d[:, 1] * np.cos(a)) / n, 1.0)
    out = -dir_db * (1.0 - cosphi) / 2.0
    return np.asarray(np.where(np.isnan(aim_deg) | (dir_db <= 0), 0.0, out))


def propagate_all(
    events: list[Event],
    *,
    world: World,
    medium: Medium,
    scenario: Scenario,
    noise_db: F64,
    rng: np.random.Generator,
) -> Arrivals:
    """Every physical arrival of every event at every sensor that could detect it.

    Vectorised over (event, sensor) pairs; only the rubber-band paths of blocked pairs
    that could still be heard, and the facade echoes, are computed per pair / per event.
    """
    out = Arrivals()
    pos = world.sensor_pos
    n_e, n_s = len(events), len(pos)
    if n_e == 0 or n_s == 0:
        return out
    S = np.asarray([e.pos for e in events], dtype=float).reshape(-1, 3)
    L = np.asarray([e.level_db for e in events], dtype=float)
    fc = np.clip(0.6 / np.asarray([e.t_star for e in events], dtype=float), 100.0, 2000.0)
    alpha_e = prop.air_absorption_db_per_m(fc, medium.temperature_c, medium.relative_humidity)
    lam_e = medium.c / fc
    dir_e = np.asarray([e.directivity_db for e in events], dtype=float)
    aim_e = np.asarray([np.nan if e.aim_deg is None else e.aim_deg for e in events], dtype=float)
    # Lowest level that could still be detected: a sensor's background plus the SNR
    # threshold, less 3 sigma of fluctuation (and, for the open-path range, the gain of
    # an in-phase ground reflection).
    floor_s = noise_db + scenario.noise.detection_snr_db - 3.0 * scenario.noise.fluctuation_db
    # an arrival's SNR is its level plus this (<= 0) energy correction, minus the noise
    corr = energy_correction_db(
        np.asarray([e.t_star for e in events], dtype=float), scenario.noise.snr_window_s
    )
    Lc = L + corr  # what pruning compares against the floors
    floor = float(floor_s.min()) - _RANGE_MARGIN_DB
    r_grid = np.logspace(0, 4.7, 400)
    ok_r = (
        Lc[:, None] - 20 * np.log10(r_grid)[None, :] - alpha_e[:, None] * r_grid[None, :] >= floor
    )
    r_max = np.where(ok_r.any(axis=1), r_grid[np.maximum(ok_r.sum(axis=1) - 1, 0)], 1.0)
    cap = scenario.buildings.max_open_range_m
    if cap is not None and len(world.boxes):
        # beyond the cap only blocked (diffracted) paths are looked for, and those are
        # bounded by the screening and urban losses
        ok_b = (
            Lc[:, None]
            - 20 * np.log10(r_grid)[None, :]
            - alpha_e[:, None] * r_grid[None, :]
            - 10 * np.log10(3.0)
            - urban_excess_db(scenario, r_grid)[None, :]
            >= floor
        )
        r_nlos = np.where(ok_b.any(axis=1), r_grid[np.maximum(ok_b.sum(axis=1) - 1, 0)], 1.0)
        r_max = np.minimum(r_max, np.maximum(cap, r_nlos))

    from scipy.spatial import cKDTree

    tree = cKDTree(pos[:, :2])
    lists = tree.query_ball_point(S[:, :2], r_max)
    counts = np.asarray([len(x) for x in lists], dtype=np.intp)
    pe = np.repeat(np.arange(n_e, dtype=np.intp), counts)
    ps = (
        np.concatenate([np.asarray(x, dtype=np.intp) for x in lists])
        if counts.sum()
        else np.zeros(0, dtype=np.intp)
    )
    dist = np.linalg.norm(pos[ps] - S[pe], axis=1)
    keep = dist <= r_max[pe]
    pe, ps, dist = pe[keep], ps[keep], dist[keep]
    index = world.index
    boxes = index.boxes
    hd = np.hypot(pos[ps, 0] - S[pe, 0], pos[ps, 1] - S[pe, 1])
    if len(boxes) and len(pe):
        # A blocked path loses at least 10 log10(3) dB of screening and the urban excess:
        # beyond the range where even that is too much, only an open path can be heard.
        # Far pairs whose line of sight surely ends inside a building are dropped.
        ub_nlos = (
            Lc[pe]
            - 20 * np.log10(np.maximum(dist, 1.0))
            - alpha_e[pe] * dist
            - 10 * np.log10(3.0)
            - urban_excess_db(scenario, hd)
        )
        far = np.flatnonzero(ub_nlos < floor_s[ps])
        drop = np.zeros(len(pe), dtype=bool)
        for i in range(0, len(far), 20000):  # near both ends first: cheap, decides most
            f = far[i : i + 20000]
            drop[f] = world.raster.surely_blocked(S[pe[f]], pos[ps[f]])
        f = far[~drop[far]]
        drop[f] = prop.raster_blocked(world.raster, S[pe[f]], pos[ps[f]], step_m=10.0)
        pe, ps, dist, hd = pe[~drop], ps[~drop], dist[~drop], hd[~drop]
    n_p = len(pe)
    src, rcv = S[pe], pos[ps]
    seg_i, box_i = index.hits(src, rcv)
    blocked = np.zeros(n_p, dtype=bool)
    blocked[seg_i] = True

    # last legs of the first arrivals, for the echoes off walls near the sensors:
    # (event, sensor, last vertex, time and length up to it, source level, screening)
    last: list[tuple[NDArray[Any], ...]] = []

    # 1. direct and 2. ground reflection, for open pairs
    op = np.flatnonzero(~blocked)
    if len(op):
        d = dist[op]
        tt = travel_time(np.zeros(3), rcv[op] - src[op], medium.c, medium.wind)
        sdb = L[pe[op]] + _directivity_pairs(dir_e[pe[op]], aim_e[pe[op]], src[op], rcv[op])
        lvl = sdb - 20 * np.log10(np.maximum(d, 1.0)) - alpha_e[pe[op]] * d
        out.add_pairs(pe[op], ps[op], travel=tt, level=lvl, path=PATH_DIRECT, length=d, src_db=sdb)
        z = np.zeros(len(op))
        last.append((pe[op], ps[op], src[op], z, z, sdb, z, z, z, z.astype(np.intp)))
        img = src[op] * np.array([1.0, 1.0, -1.0])
        rg = np.linalg.norm(rcv[op] - img, axis=1)
        tg = travel_time(np.zeros(3), rcv[op] - img, medium.c, medium.wind)
        sdg = sdb + 20 * np.log10(GROUND_REFLECTION)
        lg = sdg - 20 * np.log10(np.maximum(rg, 1.0)) - alpha_e[pe[op]] * rg
        out.add_pairs(pe[op], ps[op], travel=tg, level=lg, path=PATH_ECHO, length=rg, src_db=sdg)

    # 3. blocked pairs: diffracted paths, for the pairs that a lower bound of the
    # detour (hence of the screening loss) does not already put below the floor.
    det_lb = np.zeros(n_p)
    if len(seg_i):
        np.maximum.at(det_lb, seg_i, prop.detour_lower_bound(src[seg_i], rcv[seg_i], boxes[box_i]))
    urb = urban_excess_db(scenario, hd)
    ub = (
        Lc[pe]
        - 20 * np.log10(np.maximum(dist + det_lb, 1.0))
        - alpha_e[pe] * (dist + det_lb)
        - prop.barrier_attenuation_db(det_lb, lam_e[pe], 0.0)
        - urb
    )
    todo = np.flatnonzero(blocked & (ub >= floor_s[ps]))
    if len(todo):
        order = np.argsort(seg_i, kind="stable")
        seg_sorted, box_sorted = seg_i[order], box_i[order]
        starts = np.searchsorted(seg_sorted, todo)
        ends = np.searchsorted(seg_sorted, todo, side="right")
        c_seg, c_box = index.candidates(src[todo], rcv[todo])
        over = prop.over_roof_paths(src[todo], rcv[todo], boxes, c_seg, c_box)
        paths: list[tuple[int, F64, int, float]] = []  # pair, verts, edges, span
        sides: list[tuple[int, F64, int, float]] = []
        for m, i in enumerate(todo.tolist()):
            verts, n_edges, span = over[m]
            if n_edges >= 1:
                paths.append((i, verts, n_edges, span))
            hit_boxes = boxes[box_sorted[starts[m] : ends[m]]]
            for side in prop.around_paths(src[i], rcv[i], hit_boxes):
                if len(side) >= 3:
                    sp = float(np.hypot(*(side[-2, :2] - side[1, :2]))) if len(side) > 3 else 0.0
                    sides.append((i, side, len(side) - 2, sp))
        if sides:
            # a side path counts only if its own legs are open; keep the shorter per pair
            legs_a = np.concatenate([sd[1][:-1] for sd in sides])
            legs_b = np.concatenate([sd[1][1:] for sd in sides])
            owner = np.repeat(np.arange(len(sides)), [len(sd[1]) - 1 for sd in sides])
            bad = np.zeros(len(sides), dtype=bool)
            sure = prop.raster_blocked(world.raster, legs_a, legs_b)
            bad[owner[sure]] = True
            rest = np.flatnonzero(~sure & ~bad[owner])
            bad[owner[rest[index.blocked(legs_a[rest], legs_b[rest])]]] = True
            best: dict[int, tuple[int, F64, int, float]] = {}
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
            delta = length - dist[rows]
            dz = prop.barrier_attenuation_db(delta, lam_e[pe[rows]], sp_)
            first_leg = np.asarray([p[1][1] for p in paths])
            sdb_c = (
                L[pe[rows]]
                + _directivity_pairs(dir_e[pe[rows]], aim_e[pe[rows]], src[rows], first_leg)
                - EXTRA_EDGE_DB * np.maximum(ne - 2, 0)
                - urb[rows]
            )
            lvl_c = sdb_c - 20 * np.log10(length) - alpha_e[pe[rows]] * length - dz
            sel = np.flatnonzero(lvl_c + corr[pe[rows]] >= floor_s[ps[rows]])
            if len(sel):
                legs = [np.diff(paths[j][1], axis=0) for j in sel.tolist()]
                lt = travel_time(np.zeros(3), np.concatenate(legs), medium.c, medium.wind)
                first = np.concatenate([[0], np.cumsum([len(x) for x in legs])[:-1]])
                total_t = np.add.reduceat(lt, first)
                q = np.asarray([paths[j][1][-2] for j in sel.tolist()])
                last_len = np.linalg.norm(rcv[rows[sel]] - q, axis=1)
                last_t = lt[first + np.asarray([len(x) for x in legs]) - 1]
                last.append(
                    (
                        pe[rows[sel]],
                        ps[rows[sel]],
                        q,
                        total_t - last_t,
                        length[sel] - last_len,
                        sdb_c[sel],
                        dz[sel],
                        delta[sel],
                        sp_[sel],
                        ne[sel],
                    )
                )
                out.add_pairs(
                    pe[rows[sel]],
                    ps[rows[sel]],
                    travel=total_t,
                    level=lvl_c[sel],
                    path=PATH_DIFFRACTED,
                    length=length[sel],
                    src_db=sdb_c[sel],
                    delta=delta[sel],
                    span=sp_[sel],
                    edges=ne[sel],
                )

    # 4. facade echoes off the walls of buildings near each source, and 5. off the walls
    # near each sensor (the last leg of the direct or diffracted sound reflected)
    ech = scenario.echoes
    if ech.enabled and len(boxes) and last and ech.sensor_radius_m > 0:
        rec = [np.concatenate(parts) for parts in zip(*last, strict=True)]
        _sensor_echoes(
            rec,
            S,
            world=world,
            medium=medium,
            scenario=scenario,
            alpha_e=alpha_e,
            corr=corr,
            floor_s=floor_s,
            rng=rng,
            out=out,
        )
    if ech.enabled and len(boxes) and n_p:
        # an echo path is never shorter than the direct one (triangle inequality), so
        # only pairs whose direct level after a reflection could be heard are tried
        refl_db = 20 * np.log10(max(scenario.buildings.facade_reflection, 1e-6))
        best = Lc[pe] + refl_db - 20 * np.log10(np.maximum(dist, 1.0)) - alpha_e[pe] * dist
        cand = np.flatnonzero(best >= floor_s[ps])
        if len(cand):
            _echoes_all(
                pe[cand],
                ps[cand],
                S,
                world=world,
                medium=medium,
                radius=ech.radius_m,
                refl_db=refl_db,
                L=L,
                alpha_e=alpha_e,
                dir_e=dir_e,
                aim_e=aim_e,
                floor_s=floor_s,
                corr=corr,
                rng=rng,
                out=out,
            )
    return out


def _near_box_pairs(
    world: World, points: F64, radius: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(point index, box index) of the boxes whose footprint comes within ``radius`` of
    each horizontal point (n, 2+), through the cells of the box index."""
    index = world.index
    boxes = index.boxes
    g = index.cell
    nx, ny = index.shape
    top = [nx - 1, ny - 1]
    lo = np.floor((points[:, :2] - radius - index.origin) / g).astype(np.intp).clip(0, top)
    hi = np.floor((points[:, :2] + radius - index.origin) / g).astype(np.intp).clip(0, top)
    wx, wy = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    ncell = wx * wy
    e_rep = np.repeat(np.arange(len(points)), ncell)
    local = np.arange(ncell.sum()) - np.repeat(np.cumsum(ncell) - ncell, ncell)
    cell = (lo[e_rep, 0] + local // wy[e_rep]) * ny + lo[e_rep, 1] + local % wy[e_rep]
    cnt = index.start[cell + 1] - index.start[cell]
    e_box = np.repeat(e_rep, cnt)
    offs = np.repeat(index.start[cell], cnt) + (
        np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    )
    key = np.unique(e_box * len(boxes) + index.ids[offs])
    pi, bi = key // len(boxes), key % len(boxes)
    b = boxes[bi]
    ctr = (b[:, :2] + b[:, 3:5]) / 2
    halfdiag = np.hypot(b[:, 3] - b[:, 0], b[:, 4] - b[:, 1]) / 2
    near = np.hypot(*(ctr - points[pi, :2]).T) - halfdiag <= radius
    return pi[near], bi[near]


def _sensor_echoes(
    rec: list[NDArray[Any]],
    S: F64,
    *,
    world: World,
    medium: Medium,
    scenario: Scenario,
    alpha_e: F64,
    corr: F64,
    floor_s: F64,
    rng: np.random.Generator,
    out: Arrivals,
) -> None:
    """Echoes of the arrivals ``rec`` off the walls of the buildings near their sensors:
    the last leg (from the source, or from the last diffracting edge) is mirrored in each
    wall; the screening of the original path is kept."""
    k, s, q, t_pre, len_pre, sdb_o, dz_o, delta_o, span_o, edges_o = rec
    pos = world.sensor_pos
    index = world.index
    boxes = index.boxes
    ech = scenario.echoes
    refl_db = 20 * np.log10(max(scenario.buildings.facade_reflection, 1e-6))
    # the echo is weaker than its arrival by at least the wall's reflection loss
    len_o = len_pre + np.linalg.norm(pos[s] - q, axis=1)
    lvl_o = sdb_o - 20 * np.log10(np.maximum(len_o, 1.0)) - alpha_e[k] * len_o - dz_o
    cand = np.flatnonzero(lvl_o + refl_db + corr[k] >= floor_s[s])
    if len(cand) == 0:
        return
    sens = np.unique(s[cand])
    sp_i, sb = _near_box_pairs(world, pos[sens], ech.sensor_radius_m)
    # join candidates with the boxes near their sensor
    order = np.argsort(sp_i, kind="stable")
    sp_i, sb = sp_i[order], sb[order]
    start = np.searchsorted(sp_i, np.arange(len(sens)))
    cnt = np.bincount(sp_i, minlength=len(sens))
    which = np.searchsorted(sens, s[cand])
    reps = cnt[which]
    row = np.repeat(cand, reps)
    boff = np.repeat(start[which], reps) + (
        np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    box_id = sb[boff]
    if len(row) == 0:
        return
    # walls near the source already echo the direct sound (step 4): not twice
    b = boxes[box_id]
    ctr = (b[:, :2] + b[:, 3:5]) / 2
    halfdiag = np.hypot(b[:, 3] - b[:, 0], b[:, 4] - b[:, 1]) / 2
    dup = (len_pre[row] == 0) & (np.hypot(*(ctr - S[k[row], :2]).T) - halfdiag <= ech.radius_m)
    row, box_id = row[~dup], box_id[~dup]
    R = pos[s[row]]
    ri, P, img = prop.wall_reflections_rows(q[row], R, boxes[box_id])
    if len(ri) == 0:
        return
    row, box_id, R = row[ri], box_id[ri], R[ri]
    length = len_pre[row] + np.linalg.norm(R - img, axis=1)
    diffuse = rng.uniform(0.0, 4.0, size=len(row))
    sdb = sdb_o[row] + refl_db - diffuse
    lvl = sdb - 20 * np.log10(np.maximum(length, 1.0)) - alpha_e[k[row]] * length - dz_o[row]
    keep = np.flatnonzero(lvl + corr[k[row]] >= floor_s[s[row]])
    row, box_id, R, P, length, sdb, lvl = (
        row[keep],
        box_id[keep],
        R[keep],
        P[keep],
        length[keep],
        sdb[keep],
        lvl[keep],
    )
    ok = np.ones(len(row), dtype=bool)
    for a_, b_ in ((q[row], P), (P, R)):
        ok &= ~prop.raster_blocked(world.raster, a_, b_)
        rest = np.flatnonzero(ok)
        s_, bx_ = index.hits(a_[rest], b_[rest])
        foreign = bx_ != box_id[rest][s_]
        ok[rest[s_[foreign]]] = False
    if not ok.any():
        return
    row, P, R = row[ok], P[ok], R[ok]
    t1 = travel_time(np.zeros(3), P - q[row], medium.c, medium.wind)
    t2 = travel_time(np.zeros(3), R - P, medium.c, medium.wind)
    out.add_pairs(
        k[row],
        s[row],
        travel=t_pre[row] + t1 + t2,
        level=lvl[ok],
        path=PATH_ECHO,
        length=length[ok],
        src_db=sdb[ok],
        delta=delta_o[row],
        span=span_o[row],
        edges=edges_o[row],
    )


def _echoes_all(
    pe: NDArray[np.intp],
    ps: NDArray[np.intp],
    S: F64,
    *,
    world: World,
    medium: Medium,
    radius: float,
    refl_db: float,
    L: F64,
    alpha_e: F64,
    dir_e: F64,
    aim_e: F64,
    floor_s: F64,
    corr: F64,
    rng: np.random.Generator,
    out: Arrivals,
) -> None:
    """Facade echoes for the (event ``pe``, sensor ``ps``) pairs (sorted by event): image
    sources in the walls of the buildings within ``radius`` of each source; both legs
    must be open (grazing the reflecting wall itself is not a block)."""
    index = world.index
    boxes = index.boxes
    pos = world.sensor_pos
    ev = np.unique(pe)
    # (event, box) pairs of the buildings near each source
    eb_e, eb_b = _near_box_pairs(world, S[ev], radius)
    if len(eb_e) == 0:
        return
    # join with the event's sensors: rows (event, box, sensor)
    pair_ev = np.searchsorted(ev, pe)  # event position of each pair
    s_start = np.searchsorted(pair_ev, np.arange(len(ev)))
    s_cnt = np.bincount(pair_ev, minlength=len(ev))
    reps = s_cnt[eb_e]
    row_eb = np.repeat(np.arange(len(eb_e)), reps)
    row_pair = np.repeat(s_start[eb_e], reps) + (
        np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    k_ev = pe[row_pair]
    src = S[k_ev]
    rcv = pos[ps[row_pair]]
    box_id = eb_b[row_eb]
    ri, P, img = prop.wall_reflections_rows(src, rcv, boxes[box_id])
    if len(ri) == 0:
        return
    k_ev, src, rcv, box_id, sens = k_ev[ri], src[ri], rcv[ri], box_id[ri], ps[row_pair][ri]
    length = np.linalg.norm(rcv - img, axis=1)
    diffuse = rng.uniform(0.0, 4.0, size=len(ri))
    sdb = L[k_ev] + _directivity_pairs(dir_e[k_ev], aim_e[k_ev], src, P) + refl_db - diffuse
    lvl = sdb - 20 * np.log10(np.maximum(length, 1.0)) - alpha_e[k_ev] * length
    keep = np.flatnonzero(lvl + corr[k_ev] >= floor_s[sens])
    if len(keep) == 0:
        return
    k_ev, src, rcv, box_id, sens = k_ev[keep], src[keep], rcv[keep], box_id[keep], sens[keep]
    P, length, sdb, lvl = P[keep], length[keep], sdb[keep], lvl[keep]
    # the raster can only see points strictly inside a leg, where the reflecting
    # building is never met; the exact test must skip that building itself
    ok = np.ones(len(keep), dtype=bool)
    for a_, b_ in ((src, P), (P, rcv)):
        ok &= ~prop.raster_blocked(world.raster, a_, b_)
        rest = np.flatnonzero(ok)
        s_, bx_ = index.hits(a_[rest], b_[rest])
        foreign = bx_ != box_id[rest][s_]
        ok[rest[s_[foreign]]] = False
    if not ok.any():
        return
    t1 = travel_time(np.zeros(3), P[ok] - src[ok], medium.c, medium.wind)
    t2 = travel_time(np.zeros(3), rcv[ok] - P[ok], medium.c, medium.wind)
    out.add_pairs(
        k_ev[ok],
        sens[ok],
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


def _attach_scores(
    pulses: list[Pulse], scores: Scores, events: list[Event], event_of: NDArray[np.intp], seed: int
) -> None:
    """Set ``gunshot_score`` on every pulse (see :mod:`shotwatch.sim.scores`): the first
    ``len(event_of)`` pulses are arrivals of those events, the rest spurious picks."""
    from shotwatch.sim.scores import draw_scores

    heard = [events[e] for e in event_of.tolist()]
    n_sp = len(pulses) - len(heard)
    kinds = np.asarray([e.kind for e in heard] + ["noise"] * n_sp)
    # each spurious pick is its own incident
    inc = np.concatenate(
        [np.asarray([e.incident for e in heard], dtype=np.int64), -1 - np.arange(n_sp)]
    )
    rng = np.random.default_rng([seed, 5])  # its own stream: the other draws unchanged
    for k in sorted(set(kinds.tolist())):
        sel = np.flatnonzero(kinds == k)
        s = draw_scores(scores.quantiles[k], inc[sel], scores.incident_correlation, rng)
        for i, v in zip(sel.tolist(), s.tolist(), strict=True):
            pulses[i] = replace(pulses[i], gunshot_score=round(float(v), 4))


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

    arr = propagate_all(
        events,
        world=world,
        medium=medium,
        scenario=scenario,
        noise_db=noise_db,
        rng=np.random.default_rng([seed, 3]),
    )
    a = arr.stack()

    # detection, picking
    n_a = len(a["event"])
    ev_t = np.asarray([e.t for e in events], dtype=float)
    ev_ts = np.asarray([e.t_star for e in events], dtype=float)
    # level scatter: mostly shared by the arrivals of one event at one sensor (they
    # cross the same air), partly their own
    sig_fl = scenario.noise.fluctuation_db
    pair_key = a["event"] * max(n_s, 1) + a["sensor"]
    uniq, inv = np.unique(pair_key, return_inverse=True)
    common = rng.normal(0.0, 0.8 * sig_fl, len(uniq))
    fl = common[inv] + rng.normal(0.0, 0.6 * sig_fl, n_a) if n_a else np.zeros(0)
    level = a["level"] + fl
    corr = energy_correction_db(ev_ts, scenario.noise.snr_window_s)
    snr = level + corr[a["event"]] - noise_db[a["sensor"]] if n_a else np.zeros(0)
    t_true = ev_t[a["event"]] + a["travel"] if n_a else np.zeros(0)  # s after start
    t_clock = t_true + clock[a["sensor"]] if n_a else np.zeros(0)
    # the picker sees the sum of arrivals closer than the merge window: merge the ones
    # that contribute (within 6 dB of the threshold), then detect on the merged pulse
    thr = scenario.noise.detection_snr_db
    cand = np.flatnonzero(snr >= thr - 6.0)
    order = cand[np.lexsort((t_clock[cand], a["sensor"][cand]))]
    keep_rel, merged_level = _merge(
        a["sensor"][order],
        t_clock[order],
        level[order],
        ev_ts[a["event"][order]],
        scenario.timing.merge_window_s,
    )
    rep = order[keep_rel]
    rep_snr = merged_level + corr[a["event"][rep]] - noise_db[a["sensor"][rep]]
    heard = rep_snr >= thr
    rep, rep_snr, merged_level = rep[heard], rep_snr[heard], merged_level[heard]
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
    if scenario.scores is not None:
        _attach_scores(pulses, scenario.scores, events, a["event"][rep], seed)
    pulses.sort(key=lambda p: (p.t, p.sensor_id))

    # sensors and truth
    lat, lon, hh = world.frame.to_geodetic(world.sensor_pos)
    sensors = {
        sid: Sensor(sid, float(lat[i]), float(lon[i]), round(float(hh[i]), 3), float(fs))
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
