"""Partition a pulse stream into independent space-time groups before association.

Association (:mod:`shotwatch.core.associate`) costs a coarse-to-fine search per seed
pulse over every pulse it could be grouped with, so over a whole city it is paid for
pulses that can never share a source. Two pulses can come from one source only if

* they were heard by one sensor within ``same_sensor_s`` of each other (a shot, its
  echoes and its reverberant coda at one sensor; the association's echo-ghost window), or
* their sensors lie within ``2 * hearing_range_m`` of each other (both within hearing
  range of a common point) and their times differ by at most the travel time between
  the sensors plus ``margin_s``: ``|t_i - t_j| <= |s_i - s_j| / (c - |w|) + margin``
  (the TDOA bound, with the wind speed ``|w|`` slowing the upwind leg; the margin holds
  picking error and a blocked, diffracted path arriving late).

The connected components of that relation are independent: no shot has pulses in two of
them. A component with fewer than ``min_sensors`` distinct sensors cannot yield a located
shot and is dropped (its pulses are counted). The components that remain are merged
when their time spans come within ``burst_s`` of each other, their sensors within
``2 * hearing_range_m`` and a sensor heard both (the association re-examines the
few-sensor shots of one burst together and tells echo ghosts from shots, so rounds of
one burst belong to one call; rounds fired from one place, or from a car moving a few
metres between them, reach some of the same sensors, while in a busy city unrelated
sources a kilometre or two apart, heard by different sensors, would otherwise chain
into one group that the association must untangle).

The groups are computed by a compiled sweep over the time-sorted pulses (pairs are only
formed within the largest possible time difference) joining linked pulses in a
union-find forest; dropping and merging the components is compiled too
(:func:`_k_finish`). Arrays in, arrays out. :func:`partition_reference` is the direct
O(P^2) definition (:func:`scipy.sparse.csgraph.connected_components` over every pair,
the components dropped and merged by :func:`_finish` in numpy), kept for tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["PartitionConfig", "PulseGroups", "partition_pulses", "partition_reference"]


@dataclass(frozen=True)
class PartitionConfig:
    """Tuning of :func:`partition_pulses` (distances metres, times seconds).

    ``hearing_range_m``: how far a sensor of the deployment still hears a shot, so that
    two sensors hearing one shot are at most twice that apart. A shot heard by sensors
    farther apart still forms one group when sensors in between heard it too (the
    relation chains); one heard only at the two ends of a wider gap is split. 750 m
    keeps the groups of a busy 1,000-sensor city small (with 1.5 km, chance
    coincidences of background impulses 3 km apart chain most of the city's pulses
    into a few groups). The other defaults follow
    :class:`shotwatch.core.associate.AssociationConfig`: ``same_sensor_s`` its
    ``ghost_window_s``, ``burst_s`` its ``burst_window_s``, ``min_sensors`` its
    ``min_sensors``; ``margin_s`` covers its late-arrival allowance (150 ms in the
    plausibility test) and its timing tolerances.
    """

    hearing_range_m: float = 750.0
    margin_s: float = 0.2
    same_sensor_s: float = 1.5
    burst_s: float = 10.0
    min_sensors: int = 4


@dataclass(frozen=True)
class PulseGroups:
    """Result of :func:`partition_pulses`.

    ``groups``: pulse indices of each kept group (ascending index order), groups in order
    of their first arrival; ``label`` (P,) the group of each pulse, -1 for a pulse in a
    dropped component; ``components``: connected components before dropping and
    merging; ``dropped_components`` / ``dropped_pulses``: those with fewer than
    ``min_sensors`` distinct sensors and the pulses in them.
    """

    groups: list[NDArray[np.int64]]
    label: NDArray[np.int64]
    components: int
    dropped_components: int
    dropped_pulses: int


def _check(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    wind_speed: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], float]:
    spos = np.asarray(sensor_pos, dtype=float)
    ps = np.asarray(pulse_sensor, dtype=np.int64)
    pt = np.asarray(pulse_t, dtype=float)
    if spos.ndim != 2 or spos.shape[1] != 3:
        raise ValueError(f"sensor_pos must have shape (S, 3), got {spos.shape}")
    if ps.shape != pt.shape or ps.ndim != 1:
        raise ValueError("pulse_sensor and pulse_t must be 1-D and of the same length")
    if ps.size and (ps.min() < 0 or ps.max() >= spos.shape[0]):
        raise ValueError("pulse_sensor index out of range")
    if not np.all(np.isfinite(pt)):
        raise ValueError("pulse times must be finite")
    v = c - abs(wind_speed)
    if not v > 0:
        raise ValueError("wind speed must be below the speed of sound")
    return spos, ps, pt, v


def _linked(
    d: NDArray[np.float64], dt: NDArray[np.float64], same: NDArray[np.bool_], v: float,
    cfg: PartitionConfig,
) -> NDArray[np.bool_]:  # fmt: skip
    """The pair relation for distances ``d`` (m), |time differences| ``dt`` (s)."""
    by_sensor = same & (dt <= cfg.same_sensor_s)
    by_tdoa = ~same & (d <= 2.0 * cfg.hearing_range_m) & (dt <= d / v + cfg.margin_s)
    return np.asarray(by_sensor | by_tdoa, dtype=bool)


def _finish(
    n_comp: int,
    comp: NDArray[np.int64],
    spos: NDArray[np.float64],
    ps: NDArray[np.int64],
    pt: NDArray[np.float64],
    cfg: PartitionConfig,
) -> PulseGroups:
    """Drop the components with too few sensors, merge the rest by burst (time, place
    and a sensor in common), label."""
    n = ps.size
    # distinct sensors per component
    pair = np.unique(comp * np.int64(spos.shape[0]) + ps)
    n_sens = np.bincount(pair // spos.shape[0], minlength=n_comp)
    keep = np.flatnonzero(n_sens >= cfg.min_sensors)
    label = np.full(n, -1, dtype=np.int64)
    dropped = n_comp - keep.size
    dropped_pulses = int(np.count_nonzero(n_sens[comp] < cfg.min_sensors))
    if keep.size == 0:
        return PulseGroups([], label, n_comp, dropped, dropped_pulses)
    # Bounding circle of each kept component's sensors and its time span.
    t_lo = np.full(n_comp, np.inf)
    t_hi = np.full(n_comp, -np.inf)
    np.minimum.at(t_lo, comp, pt)
    np.maximum.at(t_hi, comp, pt)
    cnt = np.bincount(comp, minlength=n_comp).astype(float)
    cx = np.bincount(comp, spos[ps, 0], minlength=n_comp) / np.maximum(cnt, 1)
    cy = np.bincount(comp, spos[ps, 1], minlength=n_comp) / np.maximum(cnt, 1)
    rad = np.zeros(n_comp)
    np.maximum.at(rad, comp, np.hypot(spos[ps, 0] - cx[comp], spos[ps, 1] - cy[comp]))
    k = keep[np.argsort(t_lo[keep], kind="stable")]
    heard = [
        set((pair[pair // spos.shape[0] == j] % spos.shape[0]).tolist()) for j in range(n_comp)
    ]
    # Merge kept components of one burst: spans within burst_s, sensors possibly within
    # 2 * hearing range (bounding circles: conservative, it can only merge more), and a
    # sensor in common.
    rows: list[int] = []
    cols: list[int] = []
    for a in range(k.size):
        b = a + 1
        while b < k.size and t_lo[k[b]] <= t_hi[k[a]] + cfg.burst_s:
            gap = np.hypot(cx[k[a]] - cx[k[b]], cy[k[a]] - cy[k[b]]) - rad[k[a]] - rad[k[b]]
            if gap <= 2.0 * cfg.hearing_range_m and heard[k[a]] & heard[k[b]]:
                rows.append(a)
                cols.append(b)
            b += 1
    m = k.size
    g = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
    n_groups, merged = connected_components(g, directed=False)
    # order groups by first arrival (k is sorted by it: first member wins)
    first = np.full(n_groups, m)
    np.minimum.at(first, merged, np.arange(m))
    rank = np.empty(n_groups, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(n_groups)
    comp_group = np.full(n_comp, -1, dtype=np.int64)
    comp_group[k] = rank[merged]
    label = comp_group[comp]
    return PulseGroups(_groups_of(label, n_groups), label, n_comp, dropped, dropped_pulses)


def partition_pulses(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    *,
    wind_speed: float = 0.0,
    config: PartitionConfig | None = None,
) -> PulseGroups:
    """Split pulses into groups that association may treat independently.

    ``sensor_pos`` (S, 3) metres; ``pulse_sensor`` (P,) sensor index of each pulse;
    ``pulse_t`` (P,) seconds, any time base and order; ``c`` sound speed, m/s;
    ``wind_speed`` m/s (its magnitude only). See the module docstring for the relation.
    Cost: O(P log P + pairs within the largest possible time difference).
    """
    cfg = config or PartitionConfig()
    spos, ps, pt, v = _check(sensor_pos, pulse_sensor, pulse_t, c, wind_speed)
    n = ps.size
    if n == 0:
        return PulseGroups([], np.zeros(0, dtype=np.int64), 0, 0, 0)
    order = np.argsort(pt, kind="stable")
    ts = pt[order]
    ss = ps[order]
    xyz = spos[ss]
    horizon = max(cfg.same_sensor_s, 2.0 * cfg.hearing_range_m / v + cfg.margin_s)
    n_comp, comp_sorted = _k_components(
        ts, np.ascontiguousarray(xyz), ss, horizon, cfg.same_sensor_s,
        2.0 * cfg.hearing_range_m, v, cfg.margin_s,
    )  # fmt: skip
    comp = np.empty(n, dtype=np.int64)
    comp[order] = comp_sorted
    n_groups, n_kept, dropped_pulses, label = _k_finish(
        int(n_comp), comp, np.ascontiguousarray(spos[:, 0]), np.ascontiguousarray(spos[:, 1]),
        ps, pt, cfg.min_sensors, cfg.burst_s, 2.0 * cfg.hearing_range_m,
    )  # fmt: skip
    return PulseGroups(
        _groups_of(label, int(n_groups)), label, int(n_comp), int(n_comp) - int(n_kept),
        int(dropped_pulses),
    )  # fmt: skip


def _groups_of(label: NDArray[np.int64], n_groups: int) -> list[NDArray[np.int64]]:
    """The pulse indices of each group ``0 .. n_groups - 1`` (ascending)."""
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n_groups + 1))
    return [np.asarray(order[bounds[j] : bounds[j + 1]], dtype=np.int64) for j in range(n_groups)]


@numba.njit(cache=True)
def _k_finish(
    n_comp: int,
    comp: NDArray[np.int64],
    sx: NDArray[np.float64],
    sy: NDArray[np.float64],
    ps: NDArray[np.int64],
    pt: NDArray[np.float64],
    min_sensors: int,
    burst_s: float,
    max_gap: float,
) -> tuple[int, int, int, NDArray[np.int64]]:
    """:func:`_finish` compiled (the same operations in the same order, so the same
    groups): components of fewer than ``min_sensors`` distinct sensors dropped, the rest
    merged when their time spans come within ``burst_s``, their sensors' bounding
    circles (centres ``sx``, ``sy`` means, in pulse order) within ``max_gap`` and they
    have a sensor in common (:func:`_k_share`); groups
    numbered in order of first arrival. Returns the number of groups, of components
    kept, the dropped pulses and each pulse's group (-1: dropped)."""
    n = comp.shape[0]
    n_s = sx.shape[0]
    # distinct sensors per component
    pair = np.sort(comp * n_s + ps)
    n_sens = np.zeros(n_comp, dtype=np.int64)
    for i in range(n):
        if i == 0 or pair[i] != pair[i - 1]:
            n_sens[pair[i] // n_s] += 1
    label = np.full(n, -1, dtype=np.int64)
    dropped_pulses = 0
    for i in range(n):
        if n_sens[comp[i]] < min_sensors:
            dropped_pulses += 1
    n_keep = 0
    for j in range(n_comp):
        if n_sens[j] >= min_sensors:
            n_keep += 1
    if n_keep == 0:
        return 0, 0, dropped_pulses, label
    t_lo = np.full(n_comp, np.inf)
    t_hi = np.full(n_comp, -np.inf)
    cnt = np.zeros(n_comp)
    cx = np.zeros(n_comp)
    cy = np.zeros(n_comp)
    for i in range(n):
        j = comp[i]
        t_lo[j] = min(t_lo[j], pt[i])
        t_hi[j] = max(t_hi[j], pt[i])
        cnt[j] += 1.0
        cx[j] += sx[ps[i]]
        cy[j] += sy[ps[i]]
    for j in range(n_comp):
        cx[j] = cx[j] / max(cnt[j], 1.0)
        cy[j] = cy[j] / max(cnt[j], 1.0)
    rad = np.zeros(n_comp)
    for i in range(n):
        j = comp[i]
        rad[j] = max(rad[j], math.hypot(sx[ps[i]] - cx[j], sy[ps[i]] - cy[j]))
    keep = np.empty(n_keep, dtype=np.int64)
    m = 0
    for j in range(n_comp):
        if n_sens[j] >= min_sensors:
            keep[m] = j
            m += 1
    k = keep[np.argsort(t_lo[keep], kind="mergesort")]
    # each component's distinct sensors: a run of the sorted (component, sensor) codes
    start = np.full(n_comp + 1, -1, dtype=np.int64)
    uniq = np.empty(n, dtype=np.int64)
    n_u = 0
    for i in range(n):
        if i == 0 or pair[i] != pair[i - 1]:
            uniq[n_u] = pair[i]
            n_u += 1
    start[n_comp] = n_u
    for u in range(n_u - 1, -1, -1):
        start[uniq[u] // n_s] = u
    for j in range(n_comp - 1, -1, -1):
        if start[j] < 0:
            start[j] = start[j + 1]
    parent = np.arange(m)
    for a in range(m):
        b = a + 1
        while b < m and t_lo[k[b]] <= t_hi[k[a]] + burst_s:
            gap = math.hypot(cx[k[a]] - cx[k[b]], cy[k[a]] - cy[k[b]]) - rad[k[a]] - rad[k[b]]
            if gap <= max_gap and _k_share(uniq, start, n_s, k[a], k[b]):
                ra, rb = _k_find(parent, a), _k_find(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            b += 1
    # groups in order of their first member (k is sorted by first arrival)
    rank = np.full(m, -1, dtype=np.int64)
    comp_group = np.full(n_comp, -1, dtype=np.int64)
    n_groups = 0
    for a in range(m):
        r = _k_find(parent, a)
        if rank[r] < 0:
            rank[r] = n_groups
            n_groups += 1
        comp_group[k[a]] = rank[r]
    for i in range(n):
        label[i] = comp_group[comp[i]]
    return n_groups, n_keep, dropped_pulses, label


@numba.njit(cache=True)
def _k_share(uniq: NDArray[np.int64], start: NDArray[np.int64], n_s: int, a: int, b: int) -> bool:
    """Whether components ``a`` and ``b`` have a sensor in common: their runs of the
    sorted distinct codes ``uniq`` (``component * n_s + sensor``) from ``start``."""
    i, j = start[a], start[b]
    ie, je = start[a + 1], start[b + 1]
    while i < ie and j < je:
        sa = uniq[i] % n_s
        sb = uniq[j] % n_s
        if sa == sb:
            return True
        if sa < sb:
            i += 1
        else:
            j += 1
    return False


@numba.njit(cache=True)
def _k_find(parent: NDArray[np.int64], i: int) -> int:
    """Root of ``i`` in the union-find forest ``parent``, halving the path."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(cache=True)
def _k_components(
    ts: NDArray[np.float64],
    xyz: NDArray[np.float64],
    ss: NDArray[np.int64],
    horizon: float,
    same_sensor_s: float,
    max_dist: float,
    v: float,
    margin: float,
) -> tuple[int, NDArray[np.int64]]:
    """Connected components of the pair relation (:func:`_linked`) over the pulses
    sorted by time ``ts`` (sensor positions ``xyz``, sensors ``ss``): a sweep pairs each
    pulse with its successors within ``horizon`` and joins linked ones (union-find).
    Returns the number of components and each pulse's component, numbered in order of
    first pulse (as :func:`scipy.sparse.csgraph.connected_components` numbers them).

    A pair already joined (the successor's parent is the pulse's root: most pairs of a
    busy burst, once its first pulses have joined it) is not tested, and a pair farther
    apart than ``max_dist`` by a margin far beyond rounding is refused without its square
    root: neither changes a component (nor, so, the numbering)."""
    n = ts.shape[0]
    parent = np.arange(n)
    far2 = (max_dist * (1.0 + 1e-9)) ** 2  # beyond it the rounded distance exceeds max_dist
    for i in range(n):
        ri = _k_find(parent, i)  # the root of i's component, kept up to date below
        x0, x1, x2 = xyz[i, 0], xyz[i, 1], xyz[i, 2]
        for j in range(i + 1, n):
            dt = ts[j] - ts[i]
            if dt > horizon:
                break
            if parent[j] == ri:
                continue
            if ss[i] == ss[j]:
                linked = dt <= same_sensor_s
            else:
                d0 = xyz[j, 0] - x0
                d1 = xyz[j, 1] - x1
                d2 = xyz[j, 2] - x2
                dd = d0 * d0 + d1 * d1 + d2 * d2
                if dd > far2:
                    continue
                d = np.sqrt(dd)
                linked = d <= max_dist and dt <= d / v + margin
            if linked:
                rj = _k_find(parent, j)
                if rj != ri:
                    parent[max(ri, rj)] = min(ri, rj)
                    ri = min(ri, rj)
    label = np.full(n, -1, dtype=np.int64)
    comp = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        r = _k_find(parent, i)
        if label[r] < 0:
            label[r] = k
            k += 1
        comp[i] = label[r]
    return k, comp


def partition_reference(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    *,
    wind_speed: float = 0.0,
    config: PartitionConfig | None = None,
) -> PulseGroups:
    """:func:`partition_pulses` by its definition: every pair tested, O(P^2) memory."""
    cfg = config or PartitionConfig()
    spos, ps, pt, v = _check(sensor_pos, pulse_sensor, pulse_t, c, wind_speed)
    n = ps.size
    if n == 0:
        return PulseGroups([], np.zeros(0, dtype=np.int64), 0, 0, 0)
    xyz = spos[ps]
    d = np.sqrt(np.sum((xyz[:, None, :] - xyz[None, :, :]) ** 2, axis=2))
    dt = np.abs(pt[:, None] - pt[None, :])
    adj = _linked(d, dt, ps[:, None] == ps[None, :], v, cfg)
    n_comp, comp = connected_components(coo_matrix(adj), directed=False)
    return _finish(int(n_comp), np.asarray(comp, dtype=np.int64), spos, ps, pt, cfg)
