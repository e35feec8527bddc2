"""Outdoor sound propagation for the simulator: pure numpy, no I/O, no clocks.

Positions are metres in a local east-north-up frame; levels are dB re 20 uPa; buildings
are axis-aligned boxes ``(east_min, north_min, 0, east_max, north_max, height)``.

- Air absorption: ISO 9613-1:1993, eq. (3)-(5) (pure-tone attenuation coefficient from
  the oxygen and nitrogen relaxation frequencies).
- Screening by a building: ISO 9613-2:1996 eq. (14), ``Dz = 10 log10(3 + 20 z/lambda * C3)``
  with the path difference ``z`` of the diffracted path; ``C3 = 1`` for a single edge and
  ``(1 + (5 lambda/e)^2) / (1/3 + (5 lambda/e)^2)`` for two or more edges a distance ``e``
  apart; capped at 20 dB (single) and 25 dB (multiple) as the standard does.
- Diffracted path lengths: the shortest path over the roofs in the vertical plane through
  source and receiver is the upper convex hull of the roof edges ("rubber band"); the
  path around the side is the convex hull in plan of the blocking footprints.
- Muzzle blast: Friedlander waveform ``p(t) = Ps (1 - t/t*) exp(-b t/t*)`` (Friedlander
  1946; see Maher, *Modeling and Signal Processing of Acoustic Gunshot Recordings*, IEEE
  DSP Workshop 2006) and its closed-form spectrum.
- Ballistic shock: Whitham's N-wave amplitude and duration (Whitham 1952; as used by
  Maher 2006): ``dp = 0.53 p0 (M^2-1)^(1/8) d / (b^(3/4) l^(1/4))``,
  ``T = 1.82 M b^(1/4) d / (c (M^2-1)^(3/8) l^(1/4))``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

P_REF_PA = 20e-6
P_ATM_PA = 101325.0

F64 = NDArray[np.float64]


def db_to_pa(level_db: ArrayLike) -> F64:
    """Peak sound pressure level (dB re 20 uPa) -> pressure in pascals."""
    return np.asarray(P_REF_PA * 10.0 ** (np.asarray(level_db, dtype=float) / 20.0))


def air_absorption_db_per_m(
    f_hz: ArrayLike,
    temperature_c: float,
    relative_humidity: float,
    pressure_kpa: float = 101.325,
) -> F64:
    """ISO 9613-1 pure-tone atmospheric absorption coefficient, dB per metre.

    ``f_hz`` any shape; temperature in degC, relative humidity in percent.
    """
    f = np.asarray(f_hz, dtype=float)
    t = temperature_c + 273.15
    t0, t01, pr = 293.15, 273.16, 101.325
    pa = pressure_kpa
    c_sat = -6.8346 * (t01 / t) ** 1.261 + 4.6151
    h = relative_humidity * (10.0**c_sat) * (pr / pa)  # molar water vapour, %
    fro = (pa / pr) * (24.0 + 4.04e4 * h * (0.02 + h) / (0.391 + h))
    frn = (
        (pa / pr)
        * (t / t0) ** -0.5
        * (9.0 + 280.0 * h * np.exp(-4.170 * ((t / t0) ** (-1 / 3) - 1)))
    )
    f2 = f * f
    alpha = (
        8.686
        * f2
        * (
            1.84e-11 * (pa / pr) ** -1 * (t / t0) ** 0.5
            + (t / t0) ** -2.5
            * (
                0.01275 * np.exp(-2239.1 / t) / (fro + f2 / fro)
                + 0.1068 * np.exp(-3352.0 / t) / (frn + f2 / frn)
            )
        )
    )
    return np.asarray(alpha, dtype=float)


def barrier_attenuation_db(
    path_difference_m: ArrayLike, wavelength_m: ArrayLike, edge_span_m: ArrayLike
) -> F64:
    """ISO 9613-2 screening attenuation ``Dz`` (dB) of a diffracted path.

    ``edge_span_m`` is the distance between the first and last diffracting edge (0 for a
    single edge). Broadcasts over all arguments.
    """
    z = np.maximum(np.asarray(path_difference_m, dtype=float), 0.0)
    lam = np.asarray(wavelength_m, dtype=float)
    e = np.asarray(edge_span_m, dtype=float)
    multi = e > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (5.0 * lam / np.where(multi, e, 1.0)) ** 2
        c3 = np.where(multi, (1.0 + k) / (1.0 / 3.0 + k), 1.0)
    dz = 10.0 * np.log10(3.0 + 20.0 * z / lam * c3)
    return np.asarray(np.minimum(dz, np.where(multi, 25.0, 20.0)), dtype=float)


def friedlander(t: ArrayLike, peak_pa: float, t_star: float, b: float = 1.0) -> F64:
    """Friedlander wave ``Ps (1 - t/t*) exp(-b t/t*)`` for t >= 0, zero before (Pa)."""
    tt = np.asarray(t, dtype=float)
    x = np.maximum(tt, 0.0) / t_star
    return np.asarray(np.where(tt >= 0, peak_pa * (1.0 - x) * np.exp(-b * x), 0.0))


def friedlander_spectrum(
    f_hz: ArrayLike, peak_pa: float, t_star: float, b: float = 1.0
) -> NDArray[np.complex128]:
    """Fourier transform ``P(f) = int p(t) exp(-2 pi i f t) dt`` of :func:`friedlander`.

    With ``a = b/t*`` and ``s = a + 2 pi i f``: ``P = Ps (1/s - 1/(t* s^2))`` (Pa s).
    """
    s = b / t_star + 2j * np.pi * np.asarray(f_hz, dtype=float)
    return np.asarray(peak_pa * (1.0 / s - 1.0 / (t_star * s * s)))


def nwave_spectrum(f_hz: ArrayLike, peak_pa: float, duration_s: float) -> NDArray[np.complex128]:
    """Spectrum of an ideal N-wave: +peak at t=0 falling linearly to -peak at ``duration``."""
    f = np.asarray(f_hz, dtype=float)
    w = 2 * np.pi * f
    T = duration_s
    with np.errstate(divide="ignore", invalid="ignore"):
        iw = 1j * w
        # int_0^T (1 - 2t/T) e^{-iwt} dt
        e = np.exp(-iw * T)
        val = (1 - e) / iw - 2.0 / T * ((1 - e) / (iw * iw) - T * e / iw)
    return np.asarray(np.where(f == 0, 0.0, peak_pa * val))


def whitham_nwave(
    miss_distance_m: ArrayLike,
    mach: float,
    diameter_m: float = 7.62e-3,
    length_m: float = 0.03,
    c: float = 343.0,
) -> tuple[F64, F64]:
    """Peak overpressure (Pa) and duration (s) of a bullet's N-wave at ``miss_distance_m``."""
    b = np.maximum(np.asarray(miss_distance_m, dtype=float), 0.5)
    m2 = mach * mach - 1.0
    dp = 0.53 * P_ATM_PA * m2**0.125 * diameter_m / (b**0.75 * length_m**0.25)
    dur = 1.82 * mach * b**0.25 * diameter_m / (c * m2**0.375 * length_m**0.25)
    return np.asarray(dp), np.asarray(dur)


def segment_box_hits(p0: ArrayLike, p1: ArrayLike, boxes: ArrayLike) -> NDArray[np.bool_]:
    """Which segments ``p0[i] -> p1[i]`` (n, 3) pass through which boxes (m, 6).

    Slab method (Kay & Kajiya 1986). A box is ``(x0, y0, z0, x1, y1, z1)``. Touching a
    face or an edge (zero-length overlap) is not a hit. Returns a (n, m) bool array.
    """
    a = np.asarray(p0, dtype=float)[:, None, :]
    d = np.asarray(p1, dtype=float)[:, None, :] - a
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    lo, hi = bx[None, :, :3], bx[None, :, 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (lo - a) * inv
        t2 = (hi - a) * inv
    par = d == 0.0
    inside = (a > lo) & (a < hi)
    tmin_ax = np.where(par, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
    tmax_ax = np.where(par, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
    tmin = np.maximum(tmin_ax.max(axis=2), 0.0)
    tmax = np.minimum(tmax_ax.min(axis=2), 1.0)
    length = np.linalg.norm(d, axis=2)
    return np.asarray((tmax - tmin) * length > 1e-6)


def segment_crossings_2d(
    s: ArrayLike, r: ArrayLike, boxes: ArrayLike
) -> tuple[NDArray[np.bool_], F64, F64]:
    """Horizontal segment ``s -> r`` (2,) against box footprints (m, 6).

    Returns (crossed (m,), entry parameter (m,), exit parameter (m,)), parameters in
    0..1 along the segment.
    """
    a = np.asarray(s, dtype=float)[:2]
    d = np.asarray(r, dtype=float)[:2] - a
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    lo, hi = bx[:, :2], bx[:, 3:5]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - a) / d
        t2 = (hi - a) / d
    par = d == 0.0
    inside = (a > lo) & (a < hi)
    tmin_ax = np.where(par, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
    tmax_ax = np.where(par, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
    tmin = np.maximum(tmin_ax.max(axis=1), 0.0)
    tmax = np.minimum(tmax_ax.min(axis=1), 1.0)
    length = float(np.hypot(d[0], d[1]))
    return np.asarray((tmax - tmin) * length > 1e-6), tmin, tmax


def upper_hull(points: F64) -> F64:
    """Upper convex hull of 2-D points sorted by x (Andrew's monotone chain), (k, 2)."""
    hull: list[tuple[float, float]] = []
    for x, y in points:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) >= 0:  # not a right turn
                hull.pop()
            else:
                break
        hull.append((float(x), float(y)))
    return np.asarray(hull, dtype=float)


def over_roof_path(src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike) -> tuple[F64, int, float, int]:
    """Shortest path from ``src`` to ``rcv`` (3,) over the roofs in their vertical plane
    (the plain reference of the batched :func:`over_roof_paths`).

    ``boxes`` (m, 6) are the buildings to consider (those whose footprint the horizontal
    projection crosses are used). Returns the path vertices (k, 3) from source to
    receiver, the number of diffracting edges, the horizontal span between the first
    and last edge (m), and the number of footprints the horizontal projection crosses.
    """
    s = np.asarray(src, dtype=float)
    r = np.asarray(rcv, dtype=float)
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    horiz = float(np.hypot(*(r[:2] - s[:2])))
    crossed, t_in, t_out = segment_crossings_2d(s, r, bx)
    pts = [(0.0, s[2]), (horiz, r[2])]
    for i in np.flatnonzero(crossed):
        h = bx[i, 5]
        pts.append((t_in[i] * horiz, h))
        pts.append((t_out[i] * horiz, h))
    arr = np.asarray(sorted(pts, key=lambda p: (p[0], -p[1])), dtype=float)
    # the endpoints must be the first and last point of the chain
    arr = arr[(arr[:, 0] >= 0.0) & (arr[:, 0] <= horiz)]
    hull = upper_hull(arr)
    u = (r[:2] - s[:2]) / horiz if horiz > 0 else np.zeros(2)
    verts = np.column_stack([s[0] + u[0] * hull[:, 0], s[1] + u[1] * hull[:, 0], hull[:, 1]])
    verts[0], verts[-1] = s, r
    n_edges = len(hull) - 2
    span = float(hull[-2, 0] - hull[1, 0]) if n_edges >= 2 else 0.0
    return verts, n_edges, span, int(crossed.sum())


def _convex_hull_2d(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (counter-clockwise, no repeated point) of 2-D points (monotone chain)."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        h: list[tuple[float, float]] = []
        for q in seq:
            while (
                len(h) >= 2
                and (
                    (h[-1][0] - h[-2][0]) * (q[1] - h[-2][1])
                    - (h[-1][1] - h[-2][1]) * (q[0] - h[-2][0])
                )
                <= 0
            ):
                h.pop()
            h.append(q)
        return h

    lower = half(pts)
    upper = half(pts[::-1])
    return lower[:-1] + upper[:-1]


def around_paths(src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike) -> list[F64]:
    """The two paths around the sides of the blocking buildings ``boxes`` (m, 6), in plan.

    The rubber band around the convex hull of the footprints, from ``src`` to ``rcv``;
    heights vary linearly with horizontal distance along the path. Each path is a (k, 3)
    vertex array from source to receiver. Empty if the source or the receiver lies
    inside the hull.
    """
    s = [float(v) for v in np.asarray(src, dtype=float)]
    r = [float(v) for v in np.asarray(rcv, dtype=float)]
    pts: list[tuple[float, float]] = [(s[0], s[1]), (r[0], r[1])]
    for x0, y0, _, x1, y1, _ in np.asarray(boxes, dtype=float).reshape(-1, 6).tolist():
        pts += [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    hull = _convex_hull_2d(pts)
    n = len(hull)
    try:
        i_s = hull.index((s[0], s[1]))
        i_r = hull.index((r[0], r[1]))
    except ValueError:
        return []
    out: list[F64] = []
    for step in (1, -1):
        chain = [hull[i_s]]
        i = i_s
        while i != i_r:
            i = (i + step) % n
            chain.append(hull[i])
        cum = [0.0]
        for (xa, ya), (xb, yb) in itertools.pairwise(chain):
            cum.append(cum[-1] + math.hypot(xb - xa, yb - ya))
        total = cum[-1]
        out.append(
            np.asarray(
                [
                    (x, y, s[2] + (r[2] - s[2]) * (c / total if total > 0 else 0.0))
                    for (x, y), c in zip(chain, cum, strict=True)
                ],
                dtype=float,
            )
        )
    return out


def path_length(verts: ArrayLike) -> float:
    """Length of a polyline (k, 3), metres."""
    v = np.asarray(verts, dtype=float)
    return float(np.linalg.norm(np.diff(v, axis=0), axis=1).sum())


def wall_reflections(
    src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike
) -> tuple[NDArray[np.intp], NDArray[np.intp], F64, F64]:
    """First-order specular reflections of ``src`` (3,) off the vertical walls of ``boxes``
    (the plain reference of the row-wise :func:`wall_reflections_rows`).

    Image-source method (Allen & Berkley 1979) for the four walls of each box, towards
    every receiver ``rcv`` (n, 3). A reflection is valid when source and receiver are
    on the outer side of the wall and the reflection point lies on the wall (within its
    width and between the ground and the roof).

    Returns (receiver index (k,), box index (k,), reflection points (k, 3), image source
    positions (k, 3)) of the valid reflections. Occlusion of the two legs is not tested.
    """
    s = np.asarray(src, dtype=float)
    rr = np.asarray(rcv, dtype=float).reshape(-1, 3)
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    ri: list[NDArray[np.intp]] = []
    bi: list[NDArray[np.intp]] = []
    pts: list[F64] = []
    imgs: list[F64] = []
    for axis in (0, 1):
        other = 1 - axis
        for side, col in ((-1.0, axis), (1.0, axis + 3)):
            c = bx[:, col]  # wall plane coordinate (m,)
            ok_src = (s[axis] - c) * side > 0
            if not ok_src.any():
                continue
            bidx = np.flatnonzero(ok_src)
            cw = c[bidx]
            img = np.tile(s, (len(bidx), 1))
            img[:, axis] = 2 * cw - s[axis]
            # receivers x walls
            dr = rr[:, None, :] - img[None, :, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                u = (cw[None, :] - img[None, :, axis]) / dr[:, :, axis]
            p = img[None, :, :] + u[:, :, None] * dr
            lo_o, hi_o = bx[bidx, other], bx[bidx, other + 3]
            valid = (
                ((rr[:, None, axis] - cw[None, :]) * side > 0)
                & (u > 0)
                & (u < 1)
                & (p[:, :, other] >= lo_o[None, :])
                & (p[:, :, other] <= hi_o[None, :])
                & (p[:, :, 2] >= 0)
                & (p[:, :, 2] <= bx[bidx, 5][None, :])
            )
            k_r, k_w = np.nonzero(valid)
            ri.append(k_r)
            bi.append(bidx[k_w])
            pts.append(p[k_r, k_w])
            imgs.append(img[k_w])
    if not ri:
        z = np.zeros((0, 3))
        e = np.zeros(0, dtype=np.intp)
        return e, e, z, z
    return (
        np.concatenate(ri),
        np.concatenate(bi),
        np.concatenate(pts).reshape(-1, 3),
        np.concatenate(imgs).reshape(-1, 3),
    )


class BoxIndex:
    """Uniform-grid index of boxes for fast segment tests (exact, same answer as
    :func:`segment_box_hits`).

    Each box is registered in every cell of size ``cell_m`` that overlaps its footprint
    grown by half a cell. A segment is sampled every half cell in plan: if it passes
    through a box, some sample lies within a quarter cell of the box, hence in a cell
    where the box is registered. The candidate (segment, box) pairs then get the exact
    slab test.
    """

    def __init__(self, boxes: ArrayLike, cell_m: float = 50.0) -> None:
        self.boxes = np.asarray(boxes, dtype=float).reshape(-1, 6)
        self.cell = float(cell_m)
        b = self.boxes
        if len(b) == 0:
            self.origin = np.zeros(2)
            self.shape = (1, 1)
            self.start = np.zeros(2, dtype=np.intp)
            self.ids = np.zeros(0, dtype=np.intp)
            return
        g = self.cell
        self.origin = b[:, :2].min(axis=0) - g
        top = b[:, 3:5].max(axis=0) + g
        nx, ny = (np.ceil((top - self.origin) / g).astype(int) + 1).tolist()
        self.shape = (nx, ny)
        i0 = np.floor((b[:, 0] - g / 2 - self.origin[0]) / g).astype(np.intp)
        i1 = np.floor((b[:, 3] + g / 2 - self.origin[0]) / g).astype(np.intp)
        j0 = np.floor((b[:, 1] - g / 2 - self.origin[1]) / g).astype(np.intp)
        j1 = np.floor((b[:, 4] + g / 2 - self.origin[1]) / g).astype(np.intp)
        ni = i1 - i0 + 1
        nj = j1 - j0 + 1
        cnt = ni * nj
        own = np.repeat(np.arange(len(b), dtype=np.intp), cnt)
        local = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ii = i0[own] + local // nj[own]
        jj = j0[own] + local % nj[own]
        cell_arr = ii * ny + jj
        order = np.argsort(cell_arr, kind="stable")
        self.ids = own[order]
        counts = np.bincount(cell_arr, minlength=nx * ny)
        self.start = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)

    def candidates(self, p0: ArrayLike, p1: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Candidate (segment index, box index) pairs, unique."""
        a = np.asarray(p0, dtype=float).reshape(-1, 3)
        e = np.asarray(p1, dtype=float).reshape(-1, 3)
        if len(self.boxes) == 0 or len(a) == 0:
            z = np.zeros(0, dtype=np.intp)
            return z, z
        g = self.cell
        horiz = np.hypot(e[:, 0] - a[:, 0], e[:, 1] - a[:, 1])
        ns = (np.ceil(horiz / (g / 2)).astype(np.intp) + 1).clip(min=2)
        seg = np.repeat(np.arange(len(a)), ns)
        first = np.concatenate([[0], np.cumsum(ns)[:-1]])
        k = np.arange(seg.size) - first[seg]
        u = k / (ns[seg] - 1)
        x = a[seg, 0] + u * (e[seg, 0] - a[seg, 0])
        y = a[seg, 1] + u * (e[seg, 1] - a[seg, 1])
        nx, ny = self.shape
        ix = np.floor((x - self.origin[0]) / g).astype(np.intp)
        iy = np.floor((y - self.origin[1]) / g).astype(np.intp)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        seg, cell = seg[inside], ix[inside] * ny + iy[inside]
        # a straight segment enters a (convex) cell once: consecutive repeats suffice
        first_of_run = np.ones(len(seg), dtype=bool)
        first_of_run[1:] = (seg[1:] != seg[:-1]) | (cell[1:] != cell[:-1])
        seg, cell = seg[first_of_run], cell[first_of_run]
        cnt = self.start[cell + 1] - self.start[cell]
        seg_r = np.repeat(seg, cnt)
        offs = np.repeat(self.start[cell], cnt) + (
            np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        )
        box = self.ids[offs]
        # keys arrive grouped by segment, so a stable (timsort) pass is cheap
        pair = np.sort(seg_r * len(self.boxes) + box, kind="stable")
        if len(pair):
            pair = pair[np.concatenate([[True], pair[1:] != pair[:-1]])]
        return pair // len(self.boxes), pair % len(self.boxes)

    def hits(self, p0: ArrayLike, p1: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(segment index, box index) of every segment ``p0 -> p1`` passing through a box."""
        a = np.asarray(p0, dtype=float).reshape(-1, 3)
        e = np.asarray(p1, dtype=float).reshape(-1, 3)
        s, b = self.candidates(a, e)
        if len(s) == 0:
            return s, b
        ok = _pair_hits(a[s], e[s], self.boxes[b])
        return s[ok], b[ok]

    def blocked(self, p0: ArrayLike, p1: ArrayLike) -> NDArray[np.bool_]:
        """Whether each segment passes through any box."""
        a = np.asarray(p0, dtype=float).reshape(-1, 3)
        s, _ = self.hits(a, p1)
        out = np.zeros(len(a), dtype=bool)
        out[s] = True
        return out


def _pair_hits(a: F64, e: F64, bx: F64) -> NDArray[np.bool_]:
    """Slab test of segment ``a[i] -> e[i]`` against box ``bx[i]`` (row-wise)."""
    d = e - a
    lo, hi = bx[:, :3], bx[:, 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - a) / d
        t2 = (hi - a) / d
    par = d == 0.0
    inside = (a > lo) & (a < hi)
    tmin_ax = np.where(par, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2))
    tmax_ax = np.where(par, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2))
    tmin = np.maximum(tmin_ax.max(axis=1), 0.0)
    tmax = np.minimum(tmax_ax.min(axis=1), 1.0)
    return np.asarray((tmax - tmin) * np.linalg.norm(d, axis=1) > 1e-6)


def detour_lower_bound(src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike) -> F64:
    """A lower bound (m) of the extra length of any path from ``src[i]`` to ``rcv[i]``
    (n, 3) that avoids box ``boxes[i]`` (n, 6), which the straight segment pierces.

    Over the roof the path stays in the vertical plane above the point where the segment
    enters the footprint at roof height (triangle inequality); around the side it must
    enclose one of the four corners, so it is at least as long as the taut string
    through that corner. The bound is the smaller of the two.
    """
    s = np.asarray(src, dtype=float).reshape(-1, 3)
    r = np.asarray(rcv, dtype=float).reshape(-1, 3)
    b = np.asarray(boxes, dtype=float).reshape(-1, 6)
    d0 = np.linalg.norm(r - s, axis=1)
    d = r[:, :2] - s[:, :2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (b[:, :2] - s[:, :2]) / d
        t2 = (b[:, 3:5] - s[:, :2]) / d
    par = d == 0.0
    tmin = np.where(par, 0.0, np.minimum(t1, t2)).max(axis=1).clip(0.0, 1.0)
    tmax = np.where(par, 1.0, np.maximum(t1, t2)).min(axis=1).clip(0.0, 1.0)
    over = np.zeros(len(s))
    for t in (tmin, tmax):
        e = np.column_stack([s[:, :2] + t[:, None] * d, np.maximum(b[:, 5], 0.0)])
        over = np.maximum(over, np.linalg.norm(e - s, axis=1) + np.linalg.norm(r - e, axis=1) - d0)
    side = np.full(len(s), np.inf)
    dz = r[:, 2] - s[:, 2]
    for cx, cy in ((0, 1), (3, 1), (3, 4), (0, 4)):
        c = b[:, [cx, cy]]
        plan = np.linalg.norm(c - s[:, :2], axis=1) + np.linalg.norm(r[:, :2] - c, axis=1)
        side = np.minimum(side, np.sqrt(plan**2 + dz**2) - d0)
    return np.asarray(np.maximum(np.minimum(over, side), 0.0))


class HeightRaster:
    """Conservative raster of roof heights: a cell holds the height of a box that covers
    the *whole* cell (0 otherwise), so a segment point below a cell's value is certainly
    inside a building. Used only to drop far sensors quickly; never to declare a path
    open."""

    def __init__(self, boxes: ArrayLike, cell_m: float = 5.0, max_cells: int = 16_000_000) -> None:
        b = np.asarray(boxes, dtype=float).reshape(-1, 6)
        self.cell = float(cell_m)
        if len(b) == 0:
            self.origin = np.zeros(2)
            self.grid = np.zeros((1, 1), dtype=np.float32)
            return
        lo = b[:, :2].min(axis=0)
        hi = b[:, 3:5].max(axis=0)
        ext = hi - lo
        while (ext[0] / self.cell + 1) * (ext[1] / self.cell + 1) > max_cells:
            self.cell *= 2.0
        g = self.cell
        self.origin = lo
        nx, ny = (np.ceil(ext / g).astype(int) + 1).tolist()
        grid = np.zeros((nx, ny), dtype=np.float32)
        # only cells strictly inside a footprint (1 cm clear of its walls), so that a
        # point on a wall is never taken for a point inside
        eps = 0.01
        i0 = np.ceil((b[:, 0] + eps - lo[0]) / g).astype(int)
        i1 = np.floor((b[:, 3] - eps - lo[0]) / g).astype(int)
        j0 = np.ceil((b[:, 1] + eps - lo[1]) / g).astype(int)
        j1 = np.floor((b[:, 4] - eps - lo[1]) / g).astype(int)
        for k in np.flatnonzero((i1 > i0) & (j1 > j0)).tolist():
            sl = grid[i0[k] : i1[k], j0[k] : j1[k]]
            np.maximum(sl, b[k, 5], out=sl)
        self.grid = grid

    def surely_blocked(
        self, src: ArrayLike, rcv: ArrayLike, near_src_m: float = 150.0, near_rcv_m: float = 40.0
    ) -> NDArray[np.bool_]:
        """For segments ``src`` (3,) or (n, 3) -> ``rcv`` (n, 3): True where a point of
        the first ``near_src_m`` or the last ``near_rcv_m`` metres lies certainly inside a
        building (False means "not known")."""
        r = np.asarray(rcv, dtype=float).reshape(-1, 3)
        s = np.broadcast_to(np.asarray(src, dtype=float), r.shape)
        if len(r) == 0:
            return np.zeros(0, dtype=bool)
        length = np.linalg.norm(r - s, axis=1)
        g = self.cell
        u1 = np.arange(0.0, near_src_m, g)
        u2 = np.arange(0.0, near_rcv_m, g)
        frac = np.concatenate(
            [
                np.minimum(u1[None, :] / np.maximum(length[:, None], 1e-9), 1.0),
                np.maximum(1.0 - u2[None, :] / np.maximum(length[:, None], 1e-9), 0.0),
            ],
            axis=1,
        )
        pts = s[:, None, :] + frac[:, :, None] * (r - s)[:, None, :]
        ix = np.floor((pts[:, :, 0] - self.origin[0]) / g).astype(np.intp)
        iy = np.floor((pts[:, :, 1] - self.origin[1]) / g).astype(np.intp)
        nx, ny = self.grid.shape
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        h = np.where(ok, self.grid[ix.clip(0, nx - 1), iy.clip(0, ny - 1)], 0.0)
        return np.asarray((pts[:, :, 2] < h).any(axis=1))


def over_roof_paths(
    src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike, seg: NDArray[np.intp], box: NDArray[np.intp]
) -> list[tuple[F64, int, float]]:
    """:func:`over_roof_path` for many receivers ``rcv`` (n, 3) at once.

    ``src`` is (3,) or one source per receiver (n, 3). ``(seg, box)`` are candidate
    (receiver, box) pairs (a superset of the footprints each horizontal projection
    crosses, e.g. from :meth:`BoxIndex.candidates`). Returns per receiver (path vertices
    (k, 3), number of edges, edge span in metres).
    """
    r = np.asarray(rcv, dtype=float).reshape(-1, 3)
    sa = np.broadcast_to(np.asarray(src, dtype=float), r.shape)
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    ss = sa[seg, :2]
    d = r[seg, :2] - ss
    b = bx[box]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (b[:, :2] - ss) / d
        t2 = (b[:, 3:5] - ss) / d
    par = d == 0.0
    inside = (ss > b[:, :2]) & (ss < b[:, 3:5])
    tmin = np.where(par, np.where(inside, -np.inf, np.inf), np.minimum(t1, t2)).max(axis=1)
    tmax = np.where(par, np.where(inside, np.inf, -np.inf), np.maximum(t1, t2)).min(axis=1)
    tmin, tmax = np.maximum(tmin, 0.0), np.minimum(tmax, 1.0)
    horiz = np.hypot(r[:, 0] - sa[:, 0], r[:, 1] - sa[:, 1])
    crossed = (tmax - tmin) * horiz[seg] > 1e-6
    seg_c, h_c = seg[crossed], b[crossed, 5]
    x_in = (tmin[crossed] * horiz[seg_c]).tolist()
    x_out = (tmax[crossed] * horiz[seg_c]).tolist()
    per: list[list[tuple[float, float]]] = [[] for _ in range(len(r))]
    for k, i in enumerate(seg_c.tolist()):
        per[i].append((x_in[k], float(h_c[k])))
        per[i].append((x_out[k], float(h_c[k])))
    out: list[tuple[F64, int, float]] = []
    for i in range(len(r)):
        s = sa[i]
        hz = float(horiz[i])
        pts = sorted(per[i], key=lambda p: (p[0], -p[1]))
        chain: list[tuple[float, float]] = [(0.0, float(s[2]))]
        for x, y in [*pts, (hz, float(r[i, 2]))]:
            while len(chain) >= 2:
                (x1, y1), (x2, y2) = chain[-2], chain[-1]
                if (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) >= 0:
                    chain.pop()
                else:
                    break
            chain.append((x, y))
        hull = np.asarray(chain, dtype=float)
        u = (r[i, :2] - s[:2]) / hz if hz > 0 else np.zeros(2)
        verts = np.column_stack([s[0] + u[0] * hull[:, 0], s[1] + u[1] * hull[:, 0], hull[:, 1]])
        verts[0], verts[-1] = s, r[i]
        ne = len(chain) - 2
        span = chain[-2][0] - chain[1][0] if ne >= 2 else 0.0
        out.append((verts, ne, float(span)))
    return out


def wall_reflections_rows(
    src: ArrayLike, rcv: ArrayLike, boxes: ArrayLike
) -> tuple[NDArray[np.intp], F64, F64]:
    """Row-wise :func:`wall_reflections`: source ``src[i]``, receiver ``rcv[i]`` and box
    ``boxes[i]`` (n, 3 / 3 / 6). Returns (row index (k,), reflection points (k, 3), image
    sources (k, 3)) of the valid reflections, up to four per row (one per wall)."""
    s = np.asarray(src, dtype=float).reshape(-1, 3)
    r = np.asarray(rcv, dtype=float).reshape(-1, 3)
    bx = np.asarray(boxes, dtype=float).reshape(-1, 6)
    rows: list[NDArray[np.intp]] = []
    pts: list[F64] = []
    imgs: list[F64] = []
    for axis in (0, 1):
        other = 1 - axis
        for side, col in ((-1.0, axis), (1.0, axis + 3)):
            c = bx[:, col]
            img = s.copy()
            img[:, axis] = 2 * c - s[:, axis]
            dr = r - img
            with np.errstate(divide="ignore", invalid="ignore"):
                u = (c - img[:, axis]) / dr[:, axis]
            p = img + u[:, None] * dr
            valid = (
                ((s[:, axis] - c) * side > 0)
                & ((r[:, axis] - c) * side > 0)
                & (u > 0)
                & (u < 1)
                & (p[:, other] >= bx[:, other])
                & (p[:, other] <= bx[:, other + 3])
                & (p[:, 2] >= 0)
                & (p[:, 2] <= bx[:, 5])
            )
            k = np.flatnonzero(valid)
            rows.append(k)
            pts.append(p[k])
            imgs.append(img[k])
    return np.concatenate(rows), np.concatenate(pts), np.concatenate(imgs)


def raster_blocked(
    raster: HeightRaster,
    p0: ArrayLike,
    p1: ArrayLike,
    step_m: float | None = None,
    chunk: int = 2_000_000,
) -> NDArray[np.bool_]:
    """True where segment ``p0[i] -> p1[i]`` (n, 3) certainly passes through a building:
    some sample strictly inside the segment (0.5 m clear of both ends) lies below the
    roof of a raster cell that a building covers entirely (samples every ``step_m``,
    default one cell). False means "not known"."""
    a = np.asarray(p0, dtype=float).reshape(-1, 3)
    b = np.asarray(p1, dtype=float).reshape(-1, 3)
    out = np.zeros(len(a), dtype=bool)
    if len(a) == 0 or not raster.grid.any():
        return out
    g = raster.cell
    step = g if step_m is None else float(step_m)
    length = np.linalg.norm(b - a, axis=1)
    ns = np.maximum(np.floor((length - 1.0) / step).astype(np.intp), 0) + 1
    nx, ny = raster.grid.shape
    ends = np.cumsum(ns)
    i0 = 0
    while i0 < len(a):
        i1 = int(np.searchsorted(ends, (ends[i0 - 1] if i0 else 0) + chunk, side="right"))
        i1 = max(i1, i0 + 1)
        n = ns[i0:i1]
        seg = np.repeat(np.arange(i0, i1), n)
        k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        # samples at 0.5 m + k * g along the segment, never beyond length - 0.5 m
        t = np.minimum(0.5 + k * step, np.maximum(length[seg] - 0.5, 0.0)) / np.maximum(
            length[seg], 1e-9
        )
        pts = a[seg] + t[:, None] * (b[seg] - a[seg])
        ix = np.floor((pts[:, 0] - raster.origin[0]) / g).astype(np.intp)
        iy = np.floor((pts[:, 1] - raster.origin[1]) / g).astype(np.intp)
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        h = np.where(ok, raster.grid[ix.clip(0, nx - 1), iy.clip(0, ny - 1)], 0.0)
        hit = seg[pts[:, 2] < h]
        out[hit] = True
        i0 = i1
    return out
