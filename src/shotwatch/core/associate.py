"""Association: pulses from many sensors -> candidate shots (one pulse per sensor each).

Real sensors report many pulses per shot: the direct sound, arrivals diffracted around
buildings, facade echoes 5-80 ms later, and unrelated local impulses. Shots of one burst
come tenths of a second apart and two shooters may interleave within milliseconds.

Method: the *consistency function* of Lédeczi et al., "Countersniper system for urban
warfare", ACM TOSN 1(2), 2005 — find the source position and time that the largest
number of sensors agree with, within a timing tolerance — searched coarse to fine and
seeded, in the manner of the grid-search associator REAL (Zhang et al., SRL 90, 2019):

1. Seeds are the unassigned pulses in time order (the earliest arrival of a shot is at
   the sensor nearest to it). Only sensors within ``max_range_m`` of the seed's sensor
   and pulses within the physically possible window are considered; a seed with fewer
   than ``min_sensors`` other sensors holding a pulse inside the TDOA bound
   ``|t_i - t_0| <= |s_i - s_0| / c`` is dropped without a search (cheap pruning).
2. Coarse: a 2-D grid (``coarse_step_m``) around the seed's sensor at the local array
   height; the origin time follows from the seed; each grid point scores the number of
   distinct sensors with a pulse within ``coarse_tol_s`` of its prediction.
3. Fine: a 5 m grid around the best coarse point, with the origin time taken from every
   candidate pulse in turn (so a late seed does not bias it) and a tight tolerance.
4. The best (position, time) starts the robust locator (:mod:`shotwatch.core.locate`);
   per sensor the pulse nearest the prediction is taken, the fit repeated, and the shot
   accepted with at least ``min_sensors`` inliers. Its pulses are then assigned.
5. Echo ghosts: an accepted candidate whose every pulse comes after, and weaker than, a
   pulse of an already accepted shot at the same sensor within ``echo_window_s`` is the
   image source of a reflection, not a second shot, and is dropped (its pulses are
   marked as echoes).
6. Then, per burst: weakly heard shots are re-associated at the place of a credible
   one (:func:`_resolve_ambiguous`); few-sensor candidates refused only for silent
   near sensors stand when their place fires again (:func:`_repeated`); further rounds
   are sought at every established place and along a moving shooter's track
   (:func:`_more_rounds`, :func:`_track_rounds`); rounds matching an established
   place's own arrival pattern claim their pulses from mixtures and are located
   relative to it, rounds heard by only three of its loudest sensors put there
   (:func:`_template_rounds`); a candidate the search found but did not keep, whose
   pattern repeats where no kept shot's does, takes its rounds back from the mixtures
   holding them (:func:`_repeat_places`); where nothing was found, a shot heard on
   time by three sensors and only late by the others stands (:func:`_three_on_time`);
   a shot made of a later shot's late
   arrivals, or within a weapon's cycle of a better-heard one at its place, is dropped
   (:func:`_drop_shadows`), and so is a few-sensor fit of facade reflections
   (:func:`_drop_echo_fits`) or of a better-heard shot's leftovers
   (:func:`_drop_second_fixes`), and an exact four-sensor fit of a burst's mixed
   arrivals away from its place (:func:`_drop_stray_fits`); last, a few-sensor shot
   that took a later, louder pulse (a reflection) is re-fitted from its sensors' first
   arrivals (:func:`_first_arrivals`).

Pure numpy/scipy: arrays in, arrays out.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, lru_cache
from itertools import combinations, pairwise
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from shotwatch.core.locate import (
    _k_travel,
    closed_form_2d,
    kernel_wind,
    refine_batch,
    three_sensor_roots,
)

__all__ = [
    "AssociationConfig",
    "LocatedShot",
    "associate",
    "rounds_at_places",
    "three_sensor_shots",
]


@dataclass(frozen=True)
class AssociationConfig:
    """Tuning of :func:`associate` (all distances metres, times seconds)."""

    min_sensors: int = 4
    max_range_m: float = 1500.0
    max_seed_sensors: int = 100
    """A seed's search uses the pulses of at most this many sensors, the nearest to the
    seed's (a burst aloft heard across a city by hundreds of sensors is located as well
    from its nearest hundred, at a fraction of the cost)."""
    coarse_step_m: float = 30.0
    fine_step_m: float = 5.0
    fine_tol_s: float = 0.025
    accept_tol_s: float = 0.012
    echo_window_s: float = 0.1
    late_window_s: float = 0.035
    ghost_window_s: float = 1.5
    ghost_drop_db: float = 6.0
    tail_drop_db: float = 8.0
    tail_min_dist_m: float = 100.0
    echo_drop_db: float = 100.0
    duplicate_s: float = 0.004
    seed_radius_m: float = 700.0
    coda_window_s: float = 0.5
    max_rounds_per_pass: int = 4
    coda_drop_db: float = 6.0
    max_dominated_share: float = 0.15
    fine_candidates: int = 6
    ambiguous_max_sensors: int = 5
    burst_window_s: float = 10.0
    same_place_m: float = 30.0
    dissolve_dist_m: float = 30.0
    image_t0_s: float = 0.03
    min_cycle_s: float = 0.05
    round_drop_db: float = 10.0
    echo_fit_max_sensors: int = 6
    """:func:`_drop_echo_fits` looks at shots heard by at most this many sensors (six:
    second paths of two rounds of a burst, 7-46 ms after each at its sensor, fitted
    a six-sensor "round" 100 m from the place; eight lose a true round)..."""
    few_fit_max_sensors: int = 5
    """A shot heard by this many sensors or fewer is re-fitted from its sensors' first
    arrivals (:func:`_first_arrivals`) and dropped as one better-heard shot's leftovers
    (:func:`_drop_second_fixes`)."""
    merge_window_s: float = 0.1
    """A round fitted twice from two parts of its arrivals, the parts' origin times up to
    this apart, is merged (:func:`_merge_split`)."""
    echo_fit_min_lag_s: float = 0.005
    """...each of whose pulses trails, by more than this (a pulse's own duplicate reports,
    ``duplicate_s``, are no predecessor)..."""
    echo_fit_window_s: float = 0.2
    """...and at most this much at its sensor,..."""
    echo_fit_drop_db: float = 1.0
    """...a pulse at least this much louder (SNR),..."""
    echo_fit_spread_s: float = 0.010
    """...by delays that differ by this much or more from sensor to sensor, unless it
    repeats an earlier shot's arrival pattern (:func:`_fired_again`)."""
    echo_fit_far_window_s: float = 0.35
    echo_fit_far_drop_db: float = 6.0
    """Reflections off farther walls: delays up to ``echo_fit_far_window_s`` when every
    pulse is at least ``echo_fit_far_drop_db`` weaker than the one it trails."""
    echo_fit_any_window_s: float = 0.15
    """Second paths of one round: delays of more than ``duplicate_s`` and up to this
    much behind any pulse, louder or not (a round whose first arrival came around a
    building, weaker than its reflection; a wall a metre from the sensor returns it
    under 5 ms later)."""
    leftover_mix_max_sensors: int = 6
    """A fit of two or more better-heard rounds' leftovers (:func:`_drop_second_fixes`) is
    looked for among shots heard by up to this many sensors, one more than
    ``few_fit_max_sensors``: two rounds leave twice the leftovers of one."""
    leftover_blocked_max_sensors: int = 10
    """...and among shots heard by up to this many, when at least half their pulses are
    blocked-path leftovers of two rounds or more (arrivals near a round's prediction at
    sensors it did not take): an automatic burst's rounds each leave late diffracted
    arrivals, and ten of those from four rounds fit a point 30 m off (suite seed 6)."""
    leftover_early_s: float = 0.005
    leftover_late_s: float = 0.04
    """A pulse at a sensor a shot did not take is its leftover when it arrives this
    much before to this much after the shot's predicted arrival (a blocked path's
    detour: :func:`_drop_second_fixes`); less than ``min_cycle_s``, so that the next
    round of a burst, a cycle or more after the last, is never one."""
    stray_near_s: float = 0.2
    """A four-sensor fit away from its burst's place within this of another shot is a
    mixture of arrivals when one of its pulses trails an as loud one
    (:func:`_drop_stray_fits`)."""
    loose_fit_s: float = 0.004
    """A shot of ``min_sensors`` arrivals that fits no tighter than this is no source
    (:func:`_drop_loose_fits`)."""
    first_arrival_window_s: float = 0.2
    """A few-sensor shot is re-fitted from a free pulse at its sensor up to this much
    before the one it took (:func:`_first_arrivals`)."""
    min_near_ratio: float = 0.6
    min_near_ratio_few: float = 0.8
    min_near_ratio_loud: float = 0.75
    shadow_near_sensors: int = 4
    """A candidate of ``strong_sensors`` or more arrivals short of ``min_near_ratio``
    stands when the nearest max(this, arrivals / 2) online sensors all heard it: the
    rest are screened off by buildings (:func:`_shadowed`)."""
    loud_snr_db: float = 25.0
    strong_sensors: int = 6
    max_height_few_m: float = 40.0
    min_median_snr_db: float = 6.0
    z_sigma_m: float = 15.0
    held_z_sigma_m: float = 2.0
    """Height prior of a round re-fitted at an established place whose free fit moved
    ``same_place_m`` or more above or below it (:func:`_refit_at`)."""
    aloft_min_sensors: int = 12
    """A shot heard by this many sensors (redundant enough that a second fit can be
    judged by its residuals; with six, a few arrivals fit a point anywhere) is..."""
    aloft_probe_m: float = 50.0
    """...gathered and fitted again from this far above it (:func:`_aloft`)..."""
    aloft_cost_ratio: float = 0.5
    """...and taken from there when its capped chi-square (:func:`_capped_cost`) is under
    this share of the first fit's..."""
    aloft_cap_sigma: float = 3.0
    """(a residual counts at most this many sigmas, a missing sensor as much)..."""
    aloft_min_rise_m: float = 10.0
    """...and lies more than this far from the first fit in height."""
    max_scale_s: float = 0.012
    scale_window_s: float = 5.0
    """A candidate's timing scale is judged against the well-heard candidates whose origin
    times lie within this of its own (the 25th percentile of their scales: the array's
    timing scale there and then), not against its whole group: a group that joined a
    reverberant burst to clean shots seconds later (:mod:`shotwatch.core.partition`'s
    ``burst_s``) would otherwise refuse the burst's rounds by the shots' tighter fits."""
    min_pulse_sigma_s: float = 5e-4
    three_seed_sensors: int = 5
    """A shot heard on time by three sensors only and late by others
    (:func:`_three_on_time`): triples of a seed pulse and two of this many sensors
    nearest to its own..."""
    three_late_max_s: float = 0.025
    """...the others heard it up to this late..."""
    three_late_min_s: float = 0.002
    """...and at least this late (none on time or earlier: a set heard on time by four
    the association judged itself)..."""
    three_late_min_sensors: int = 2
    """...this many sensors heard it late..."""
    three_max_pulses: int = 200
    """...in groups of at most this many pulses..."""
    three_max_seeds: int = 8
    """...seeded by this many of the loudest free pulses at most."""
    repeat_place_sensors: int = 5
    """A candidate of the search heard by this many sensors may be a place whose
    rounds mixtures took (:func:`_repeat_places`)..."""
    repeat_place_rounds: int = 2
    """...when this many other rounds repeat its arrival pattern..."""
    repeat_place_share: float = 0.7
    """...each at this share of its sensors (and ``min_sensors`` at least); of the
    best heard, the ``repeat_place_max`` first."""
    repeat_place_max: int = 12
    track_step_s: float = 0.25
    track_min_m: float = 5.0
    max_speed_mps: float = 25.0
    track_mixture_m: float = 25.0
    """A shot of ``min_sensors`` + 1 arrivals or fewer this far off a moving shooter's
    track at its time is taken for a mixture of the track's rounds when the track's
    rounds, sought without it, hold its pulses (:func:`_track_mixtures`)."""
    template_tol_s: float = 0.003
    """A round matches an established place's own arrival pattern (:func:`_template_rounds`)
    when its pulses come this close to that pattern shifted by one origin time: picking
    noise and about a metre of the shooter's movement."""
    template_move_m: float = 5.0
    """A round so matched lies within this distance of the place, located relative to it."""
    template_anchor_sensors: int = 6
    """A shot heard by this many sensors establishes a place for the template."""
    template_min_sensors: int = 5
    """A round matches the template at this many sensors at least..."""
    template_share: float = 0.34
    """...and at this share of the sensors that heard the shot establishing the place."""
    template_few_sensors: int = 3
    """A round heard by this many sensors (fewer than a match needs) is put at an
    established place when its free pulses match the place's pattern (:func:`_few_round`)..."""
    template_few_anchor_sensors: int = 4
    """...at a place established by a shot of this many sensors or more (fewer than a
    template match needs: a few rounds of a gun heard by four or five sensors, the rest
    by its three loudest only)."""
    track_few_window_s: float = 2.0
    """A moving shooter's few-sensor rounds are sought this far before the first and
    after the last of the rounds that give the track (:func:`_track_few_rounds`)."""
    three_sensor_max_pulses: int = 24
    """:func:`three_sensor_shots` looks at groups of at most this many pulses."""
    few_level_margin_db: float = 3.0
    """...and no sensor that missed it heard the place louder than one that heard it,
    beyond this level scatter."""

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """The hash a frozen dataclass computes (of all its fields, in order), once: the
        configuration is part of every key of the service's shot cache, whose keys are
        hashed once per pulse of a growing group
        (:meth:`shotwatch.pipeline.ShotCache.ancestor`)."""
        return hash(tuple(getattr(self, f.name) for f in fields(self)))


@dataclass
class LocatedShot:
    """One associated and located shot.

    ``pulses``: indices into the caller's pulse arrays (one per sensor, inliers only);
    ``pos`` (3,) metres; ``t0`` origin time (caller's time base); ``cov`` (4, 4);
    ``error_radius`` 95 % horizontal, m; ``scale`` robust timing residual scale, s;
    ``residual`` per pulse in ``pulses``, s; ``echoes``: pulses explained as echoes;
    ``alternative``: for a shot heard by three sensors only (:func:`three_sensor_shots`),
    the other point its arrivals fit exactly as well (None: no such point).
    """

    pulses: NDArray[np.int64]
    pos: NDArray[np.float64]
    t0: float
    cov: NDArray[np.float64]
    error_radius: float
    scale: float
    residual: NDArray[np.float64]
    echoes: list[int] = field(default_factory=list)
    alternative: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class _Obs:
    """What every step of :func:`associate` works on: sensor positions (S, 3), the sensor
    index, time, a-priori sigma and SNR of each pulse (P,), sound speed, wind, tuning."""

    spos: NDArray[np.float64]
    psens: NDArray[np.int64]
    pt: NDArray[np.float64]
    psig: NDArray[np.float64]
    psnr: NDArray[np.float64]
    c: float
    wind: NDArray[np.float64] | None
    cfg: AssociationConfig
    ppeak: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """Peak level of each pulse, dB re full scale (NaN unknown; empty: none known)."""
    fits: dict[tuple[bytes, bytes, float, float, float], tuple[LocatedShot, bool]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Memo of :func:`_fit_shot` by its exact inputs (chosen pulses, start, prior)."""

    @cached_property
    def c_slow(self) -> float:
        """Slowest effective sound speed (upwind), m/s: for time-window bounds."""
        return self.c - (0.0 if self.wind is None else float(np.linalg.norm(self.wind)))

    @cached_property
    def dominated(self) -> NDArray[np.bool_]:
        """Per pulse: whether it trails a much louder one at its sensor (:func:`_dominated`),
        once per association (the search, the rounds and the templates all ask)."""
        return _dominated(self.psens, self.pt, self.psnr, self.cfg)

    @cached_property
    def wind_a(self) -> tuple[NDArray[np.float64], float]:
        """The wind as the compiled kernels take it (:func:`kernel_wind`), once."""
        return kernel_wind(self.c, self.wind)

    def tt(self, src: NDArray[np.float64], rcv: NDArray[np.float64]) -> NDArray[np.float64]:
        """Travel times through the wind (:func:`_tt`)."""
        return _tt(src, rcv, self.c, self.wind)


def _median(v: NDArray[np.float64]) -> float:
    """``float(np.median(v))`` of a 1-D float array, bit for bit, without its per-call
    overhead (the association takes thousands of small medians): the middle value, or
    the two middle values summed and halved (as ``np.mean`` takes them); NaN when
    ``v`` holds a NaN; numpy's own answer when it is zero (signed)."""
    n = v.shape[0]
    if n == 0:
        return float(np.median(v))  # nan, with numpy's warning
    srt = np.sort(v)
    if np.isnan(srt[-1]):
        return float("nan")
    h = n // 2
    m = float(srt[h]) if n % 2 else float((srt[h - 1] + srt[h]) / 2.0)
    # a zero's sign depends on which of equal zeros numpy's selection puts in the
    # middle: leave that to numpy (any other value is the same whichever it picks)
    return m if m != 0.0 else float(np.median(v))


@lru_cache(maxsize=16)
def _disc_grid(step: float, radius: float) -> NDArray[np.float64]:
    """Offsets (n, 2) of a square grid of ``step`` within ``radius`` of the origin
    (memoised, read-only: every association searches the same two grids)."""
    k = int(np.ceil(radius / step))
    ax = np.arange(-k, k + 1) * step
    gx, gy = np.meshgrid(ax, ax, indexing="ij")
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    out: NDArray[np.float64] = pts[np.hypot(pts[:, 0], pts[:, 1]) <= radius + 1e-9]
    out.flags.writeable = False
    return out


@lru_cache(maxsize=4)
def _sensor_tree(xy: bytes) -> cKDTree:
    """A k-d tree over the sensors' horizontal positions (``xy``: their (S, 2) float64
    bytes), memoised: a service associates group after group over one array."""
    return cKDTree(np.frombuffer(xy, dtype=float).reshape(-1, 2))


def _tt(
    src: NDArray[np.float64],
    rcv: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64] | None,
    *,
    pairs: bool = False,
) -> NDArray[np.float64]:
    """Travel times, s, from ``src`` (3,) to ``rcv`` (n, 3) -> (n,), or from ``src``
    (m, 3) to each of ``rcv`` (n, 3) -> (m, n) (with ``pairs``, from each row of ``src``
    (n, 3) to the same row of ``rcv`` -> (n,)), at sound speed ``c`` through a uniform
    ``wind`` (the exact solution of ``|r - s - w t| = c t``; see
    :func:`shotwatch.core.acoustics.travel_time`). A 5 m/s wind shifts an arrival 1 km
    away by up to 43 ms, far beyond the association's tolerances."""
    d = rcv[None, :, :] - src[:, None, :] if src.ndim == 2 and not pairs else rcv - src
    dd = np.einsum("...i,...i->...", d, d)
    if wind is None or not np.any(wind):
        return np.asarray(np.sqrt(dd) / c, dtype=float)
    w = np.asarray(wind, dtype=float)
    a = c * c - float(w @ w)
    dw = d @ w
    return np.asarray((-dw + np.sqrt(dw * dw + a * dd)) / a, dtype=float)


def _per_sensor(values: NDArray[Any], col_sensor: NDArray[np.int64], op: np.ufunc) -> NDArray[Any]:
    """``op``-reduction of each row over the columns of each sensor, (rows, sensors);
    columns sorted by sensor. The same as ``op.reduceat`` at the sensors' first
    columns (the same binary operations in the same order), but vectorised over the
    sensors: the columns of a sensor with several pulses are folded into its first, one
    pass per rank within a sensor (few: a sensor holds few pulses)."""
    n_col = values.shape[1]
    first = np.concatenate(([True], col_sensor[1:] != col_sensor[:-1]))
    starts = np.flatnonzero(first)
    out = np.take(values, starts, axis=1)  # C order, like reduceat (row sums follow)
    if starts.size < n_col:
        group = np.cumsum(first) - 1
        rank = np.arange(n_col) - starts[group]
        for k in range(1, int(rank.max()) + 1):
            cols = np.flatnonzero(rank == k)
            at = group[cols]
            out[:, at] = op(out[:, at], values[:, cols])
    return out


def _count_distinct(hits: NDArray[np.bool_], col_sensor: NDArray[np.int64]) -> NDArray[np.int64]:
    """Number of distinct sensors hit per row; columns sorted by sensor."""
    if hits.shape[1] == 0:
        return np.zeros(hits.shape[0], dtype=np.int64)
    if np.all(col_sensor[1:] != col_sensor[:-1]):  # one column per sensor
        return np.asarray(np.count_nonzero(hits, axis=1), dtype=np.int64)
    per_sensor = _per_sensor(hits, col_sensor, np.logical_or)
    return np.asarray(np.count_nonzero(per_sensor, axis=1), dtype=np.int64)


def _observations(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    pulse_sigma: NDArray[np.float64] | None,
    pulse_snr: NDArray[np.float64] | None,
    wind: NDArray[np.float64] | None,
    config: AssociationConfig | None,
    pulse_peak: NDArray[np.float64] | None = None,
) -> _Obs:
    """The inputs of :func:`associate` checked and gathered (sigmas floored at
    ``min_pulse_sigma_s``, unknown SNRs 0); ``ValueError`` on mismatched or bad input."""
    cfg = config or AssociationConfig()
    spos = np.asarray(sensor_pos, dtype=float)
    psens = np.asarray(pulse_sensor, dtype=np.int64)
    pt = np.asarray(pulse_t, dtype=float)
    n_p = pt.shape[0]
    if psens.shape != (n_p,):
        raise ValueError("pulse_sensor and pulse_t must have the same length")
    if n_p and (psens.min() < 0 or psens.max() >= spos.shape[0]):
        raise ValueError("pulse_sensor index out of range")
    if not np.all(np.isfinite(pt)):
        raise ValueError("pulse times must be finite")
    psig = (
        np.full(n_p, cfg.min_pulse_sigma_s)
        if pulse_sigma is None
        else np.maximum(np.asarray(pulse_sigma, dtype=float), cfg.min_pulse_sigma_s)
    )
    psnr = np.zeros(n_p) if pulse_snr is None else np.nan_to_num(np.asarray(pulse_snr, float))
    ppeak = np.full(n_p, np.nan) if pulse_peak is None else np.asarray(pulse_peak, float)
    if ppeak.shape != (n_p,):
        raise ValueError("pulse_peak must hold one level per pulse")
    return _Obs(spos, psens, pt, psig, psnr, float(c), wind, cfg, ppeak)


def associate(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    *,
    pulse_sigma: NDArray[np.float64] | None = None,
    pulse_snr: NDArray[np.float64] | None = None,
    pulse_peak: NDArray[np.float64] | None = None,
    wind: NDArray[np.float64] | None = None,
    config: AssociationConfig | None = None,
) -> list[LocatedShot]:
    """Associate pulses into located shots.

    ``sensor_pos`` (S, 3) metres (east, north, up); ``pulse_sensor`` (P,) sensor index of
    each pulse; ``pulse_t`` (P,) seconds in any time base (subtract a reference epoch
    first: float64 keeps ~1e-7 s there); ``pulse_sigma`` (P,) a-priori onset sigma, s;
    ``pulse_snr`` (P,) dB, used to tell echoes (weaker) from direct arrivals; ``c`` sound
    speed, m/s; ``wind`` (3,) m/s. Returns shots in order of origin time.
    """
    ob = _observations(
        sensor_pos, pulse_sensor, pulse_t, c, pulse_sigma, pulse_snr, wind, config, pulse_peak
    )
    cfg, spos, psens, pt, psnr = ob.cfg, ob.spos, ob.psens, ob.pt, ob.psnr
    n_p = pt.shape[0]
    order = np.argsort(pt, kind="stable")
    pt_sorted = pt[order]
    tree = _sensor_tree(np.ascontiguousarray(spos[:, :2]).tobytes())
    c_slow = ob.c_slow
    win = 2.0 * cfg.max_range_m / c_slow
    # Sensors online: those that reported anything (a sensor that hears nothing for the
    # whole batch cannot count against a candidate).
    online = np.unique(psens)

    near_sensors: dict[int, NDArray[np.bool_]] = {}  # per seed sensor, by sensor index

    def candidates_for(p0: int, free: NDArray[np.bool_]) -> NDArray[np.int64]:
        s0 = int(psens[p0])
        near = near_sensors.get(s0)
        if near is None:
            neigh = np.asarray(tree.query_ball_point(spos[s0, :2], 2.0 * cfg.max_range_m), int)
            near = np.zeros(spos.shape[0], dtype=bool)
            near[neigh] = True
            near_sensors[s0] = near
        lo, hi = np.searchsorted(pt_sorted, [pt[p0] - win, pt[p0] + win])
        cand = order[lo:hi]
        cand = cand[free[cand] & near[psens[cand]]]
        # TDOA bound: |t_i - t_0| <= |s_i - s_0| / c (+ slack for picking and blocking).
        dist0 = np.linalg.norm(spos[psens[cand]] - spos[s0], axis=1)
        ok = np.abs(pt[cand] - pt[p0]) <= dist0 / c_slow + 0.02
        cand, dist0 = cand[ok], dist0[ok]
        sens = np.unique(psens[cand])
        if sens.size > cfg.max_seed_sensors:
            d_s = np.linalg.norm(spos[sens] - spos[s0], axis=1)
            limit = np.partition(d_s, cfg.max_seed_sensors - 1)[cfg.max_seed_sensors - 1]
            cand = cand[dist0 <= limit]
        return np.asarray(cand, dtype=np.int64)

    assigned = np.zeros(n_p, dtype=bool)
    shots: list[LocatedShot] = []
    dominated = ob.dominated
    covered = np.zeros(n_p, dtype=bool)  # inside (or explained by) some candidate
    # Seeds whose search found nothing: the free pulses only ever shrink, so a failed
    # search fails again (per eligibility pass).
    barren = np.zeros(n_p, dtype=bool)
    doubtful: list[LocatedShot] = []  # few-sensor candidates whose near sensors were silent

    hypotheses: list[LocatedShot] = []  # well-heard candidates, accepted or not

    def search_from(cand: NDArray[np.int64], p0: int, *, early_reject: bool) -> LocatedShot | None:
        """The coarse-to-fine search seeded by pulse ``p0`` over candidate pulses."""
        got = _search(
            ob, cand, int(psens[p0]), float(pt[p0]), online if early_reject else None,
        )  # fmt: skip
        if got is not None and len(got.pulses) >= cfg.repeat_place_sensors:
            hypotheses.append(replace(got, echoes=[]))
        return got

    def run_pass(eligible: NDArray[np.bool_]) -> int:
        """One round of candidates and greedy acceptance; returns shots accepted."""
        accepted = len(shots)
        # 1. Candidates, seeded strongest first; a pulse already inside a candidate seeds no
        #    other (the candidate stands for it).
        seeds = np.lexsort((pt, -psnr))
        pool: list[LocatedShot] = []
        for p0 in seeds:
            if covered[p0] or barren[p0] or not eligible[p0] or assigned[p0]:
                continue
            if psnr[p0] != 0 and psnr[p0] < cfg.min_median_snr_db:
                continue  # a shot whose strongest pulse is this weak fails the SNR test anyway
            cand = candidates_for(int(p0), eligible & ~assigned)
            if np.unique(psens[cand]).size < cfg.min_sensors:
                continue
            shot = search_from(cand, int(p0), early_reject=True)
            if shot is None:
                barren[p0] = True
                continue
            covered[shot.pulses] = True
            # Its echoes and late arrivals are explained too: they seed nothing new.
            _absorb(shot, ob, covered)
            pool.append(shot)
        # 2. Greedy best-first acceptance: most sensors first; a candidate that shares pulses
        #    with accepted shots is re-solved on its free pulses and queued again.
        # The array's own timing scale, from the well-heard candidates: a candidate
        # fitting much worse than that is a mixture of rounds or of echoes.
        # Each candidate is judged against the candidates and shots within
        # ``scale_window_s`` of its origin time: unrelated sources seconds away in the
        # same group (whose fits may be tighter or looser) do not move its limit.
        ref = pool + shots
        ref_t = np.array([x.t0 for x in ref])
        ref_scale = np.array([x.scale for x in ref])
        ref_strong = np.array([len(x.pulses) >= cfg.strong_sensors for x in ref], dtype=bool)

        def scale_limits(s: LocatedShot) -> tuple[float, float]:
            near = np.abs(ref_t - s.t0) <= cfg.scale_window_s
            strong = ref_scale[near & ref_strong]
            limit = cfg.max_scale_s
            if strong.size:
                tight = float(np.percentile(strong, 25))  # the true shots are the tightest
                limit = min(limit, max(2.5 * tight + 1e-3, 2e-3))
            else:  # only few-sensor candidates: their own tightest stand for the array
                near_all = ref_scale[near]
                tight = float(np.percentile(near_all, 25)) if near_all.size else 0.0
            # A fit with few sensors absorbs more of its noise than a fit with many (four
            # arrivals fit a point source exactly): its scale above the array's means
            # arrivals that do not belong to one source.
            return limit, min(limit, max(1.2 * tight + 1e-3, 2e-3))

        # A candidate's support, kept until the next acceptance changes the free pulses.
        support: dict[int, tuple[LocatedShot, int]] = {}

        def rank(s: LocatedShot) -> tuple[int, int, float]:
            got = support.get(id(s))
            if got is None or got[0] is not s:
                got = (s, _support(s, ob, ~assigned))
                support[id(s)] = got
            return got[1], len(s.pulses), float(np.sum(psnr[s.pulses])) - s.scale / 1e-3

        while pool:
            # Rank by support: sensors with a free pulse on time or a little late (a
            # blocked path) for the candidate, then sensors in the fit, then fit quality.
            # Mixtures of two rounds fit their own pulses but find no support elsewhere.
            pool.sort(key=rank)
            shot = pool.pop()
            if np.any(assigned[shot.pulses]):
                free = eligible & ~assigned
                keep = shot.pulses[free[shot.pulses]]
                if keep.size < cfg.min_sensors:
                    continue
                cand = candidates_for(int(keep[0]), free)
                p_ref = int(cand[np.argmax(psnr[cand])]) if cand.size else -1
                if p_ref < 0 or np.unique(psens[cand]).size < cfg.min_sensors:
                    continue
                again = search_from(cand, p_ref, early_reject=False)
                if again is not None and not np.any(assigned[again.pulses]):
                    pool.append(again)
                continue
            few = len(shot.pulses) < cfg.strong_sensors
            if len(shot.pulses) >= cfg.aloft_min_sensors:  # a burst aloft pulled down?
                free = eligible & ~assigned
                cand = candidates_for(int(shot.pulses[np.argmax(psnr[shot.pulses])]), free)
                shot = _aloft(shot, ob, psens[cand], pt[cand], cand)
            scale_limit, scale_limit_few = scale_limits(shot)
            if shot.scale > (scale_limit_few if few else scale_limit):
                continue
            plausible = _plausible(shot, ob, online)
            if not plausible and not (few and _plausible(shot, ob, online, near=False)):
                continue
            if np.mean(dominated[shot.pulses]) > cfg.max_dominated_share and not _another_round(
                shot, shots, ob
            ):
                continue  # built of reflections of louder impulses
            if _is_echo_ghost(shot, shots, ob):
                continue
            if not plausible:  # silent near sensors: it needs a second round there
                doubtful.append(shot)
                continue
            assigned[shot.pulses] = True
            shot.echoes.extend(_absorb(shot, ob, assigned))
            shots.append(shot)
            support.clear()  # the free pulses changed
        return len(shots) - accepted

    # Pass 1 on the pulses that open a burst at their sensor (direct arrivals are the
    # first and loudest; a pulse trailing a much louder one is a reflection), pass 2 on
    # everything left (second rounds inside a loud coda, weak shots).
    # Each pass repeats while it finds shots: pulses covered only by rejected
    # candidates (mixtures of two rounds, say) may seed again once those are gone.
    for eligible in (~dominated, np.ones(n_p, dtype=bool)):
        barren[:] = False
        for _ in range(cfg.max_rounds_per_pass):
            found = run_pass(eligible)
            covered[:] = assigned
            if not found:
                break
    shots.sort(key=lambda s: s.t0)
    _resolve_ambiguous(shots, ob, assigned)
    _repeated(doubtful, shots, ob, assigned)
    _more_rounds(shots, ob, assigned)
    _template_rounds(shots, ob, assigned)
    _repeat_places(shots, hypotheses, ob, assigned)
    _track_few_rounds(shots, ob, assigned)
    _track_mixtures(shots, ob, assigned)
    _three_on_time(shots, ob, assigned, online)
    _drop_shadows(shots, ob, assigned)
    _drop_echo_fits(shots, ob, assigned)
    _drop_second_fixes(shots, ob, assigned)
    _drop_stray_fits(shots, ob, assigned)
    _merge_split(shots, ob, assigned)
    _first_arrivals(shots, ob, assigned)
    _drop_loose_fits(shots, ob, assigned)
    _shared_roots(shots, ob, assigned)
    return shots


def _shared_roots(shots: list[LocatedShot], ob: _Obs, assigned: NDArray[np.bool_]) -> None:
    """A shot of ``min_sensors`` arrivals that another shot's place explains as one of
    its rounds is put there.

    Four arrivals fit a point source exactly, and in general at two points, whichever
    pulses they are: the real live fire's FP2 test_033 from the recordings, where the
    second of three rounds heard by the same four sensors took at one of them an
    impulse 132 ms before its own arrival and fitted exactly 20 m from the other two.
    A place is established when it was fitted from more than ``min_sensors`` arrivals
    (one root) or another shot repeats its whole arrival pattern
    (:func:`_pattern_mates`); the place's pattern then explains a round there from the
    shot's pulses or free ones, one per sensor agreeing on one origin time within
    ``template_tol_s`` (master-event matching, as in :func:`_template_rounds`). When
    that round holds ``min_sensors`` of the place's sensors and all but one of the
    shot's pulses, it replaces the shot: at the place, its origin time the pattern's,
    the shot's other pulse freed."""
    cfg = ob.cfg
    # the established places, once (a shot's pattern mates are sought among all shots)
    places = sorted(
        (
            a
            for a in shots
            if len(a.pulses) > cfg.min_sensors
            or (
                len(a.pulses) == cfg.min_sensors
                and next(_pattern_mates(a, shots, ob), None) is not None
            )
        ),
        key=lambda a: (-len(a.pulses), a.scale),
    )
    for k, b in enumerate(shots):
        if len(b.pulses) != cfg.min_sensors:
            continue
        in_b = np.zeros(ob.pt.size, dtype=bool)
        in_b[b.pulses] = True
        for a in places:
            if a is b or not cfg.min_cycle_s <= abs(a.t0 - b.t0) <= cfg.burst_window_s:
                continue
            travel, _ = _pattern(a, ob)
            cand = np.flatnonzero(np.isfinite(travel[ob.psens]) & (~assigned | in_b))
            tau = ob.pt[cand] - travel[ob.psens[cand]]
            own = in_b[cand]
            if int(own.sum()) < cfg.min_sensors - 1:
                continue
            pick = _closest_per_sensor(ob.psens[cand], tau - _median(tau[own]), cfg.template_tol_s)
            members = cand[pick]
            if (
                members.size < cfg.min_sensors
                or int(own[pick].sum()) < cfg.min_sensors - 1
                or float(np.linalg.norm(a.pos[:2] - b.pos[:2])) < 1.0  # there already
            ):
                continue
            t0 = _median(ob.pt[members] - travel[ob.psens[members]])
            sens = ob.spos[ob.psens[members]]
            assigned[b.pulses] = False
            assigned[members] = True
            shots[k] = replace(
                b,
                pulses=np.asarray(members, dtype=np.int64),
                pos=a.pos.copy(),
                t0=t0,
                cov=a.cov.copy(),
                error_radius=a.error_radius,
                residual=ob.pt[members] - t0 - ob.tt(a.pos, sens),
            )
            break
    shots.sort(key=lambda o: o.t0)


def _merge_split(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Merge a round fitted twice from two parts of its arrivals.

    Where a round came to its sensors over several paths (around buildings, off a wall
    louder than the first arrival), the search can split its arrivals between two
    shots: a larger one that took the first arrivals at some sensors and later paths at
    others, and a smaller one (``echo_fit_max_sensors`` or fewer) of the rest, tens of
    metres away and within ``merge_window_s`` of it (suite seed 7: a second shooter's
    round heard by ten sensors, fitted from six 45 m up and from five 22 m off and 61 ms
    later). The leftover rules (:func:`_drop_second_fixes`) miss it: the smaller shot
    holds the earlier arrival at a sensor where the larger holds a later path. The two
    are replaced by one shot when the first arrival per sensor of both fits one source
    with at least two sensors more than the larger alone, about as tightly (scale at
    most 1.5 times the looser one's, + 1 ms), and no other shot lies at that place
    within a weapon's cycle (:func:`_too_close`). Two rounds fit no one source, not
    even an automatic burst's at its fastest cycle: their arrivals differ by the cycle
    at every sensor."""
    while (found := _split_pair(shots, ob)) is not None:
        a, b, fit = found
        _drop(shots, {id(a), id(b)}, assigned)
        assigned[fit.pulses] = True
        fit.echoes.extend(_absorb(fit, ob, assigned))
        shots.append(fit)
    shots.sort(key=lambda o: o.t0)


def _split_pair(
    shots: list[LocatedShot], ob: _Obs
) -> tuple[LocatedShot, LocatedShot, LocatedShot] | None:
    """The first pair of shots :func:`_merge_split` merges (the larger ``a`` tried best
    heard first) and their merged fit, or None."""
    cfg = ob.cfg
    for a in sorted(shots, key=lambda o: -len(o.pulses)):
        need = len(a.pulses) + 2
        for b in shots:
            if (
                b is a
                or len(b.pulses) > min(len(a.pulses), cfg.echo_fit_max_sensors)
                or abs(a.t0 - b.t0) > cfg.merge_window_s
            ):
                continue
            both = np.concatenate([a.pulses, b.pulses])
            first = both[np.lexsort((ob.pt[both], ob.psens[both]))]
            first = first[np.unique(ob.psens[first], return_index=True)[1]]
            if first.size < need:
                continue
            fit, ok = _fit_shot(first, a.pos, a.t0, ob)
            if (
                ok
                and len(fit.pulses) >= need
                and fit.scale <= 1.5 * max(a.scale, b.scale) + 1e-3
                and not _too_close(fit, [o for o in shots if o is not a and o is not b], cfg)
            ):
                return a, b, fit
    return None


def rounds_at_places(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    places: list[LocatedShot],
    free: NDArray[np.bool_],
    *,
    pulse_sigma: NDArray[np.float64] | None = None,
    pulse_snr: NDArray[np.float64] | None = None,
    pulse_peak: NDArray[np.float64] | None = None,
    wind: NDArray[np.float64] | None = None,
    config: AssociationConfig | None = None,
) -> list[LocatedShot]:
    """Further rounds at the places of shots already located, from the ``free`` pulses
    only: what :func:`associate` adds at established places (:func:`_more_rounds`, and
    along a moving shooter's track, :func:`_track_rounds`), each new round then put to
    the same drop tests among all the shots (:func:`_drop_echo_fits`,
    :func:`_drop_second_fixes`, :func:`_drop_stray_fits`). ``places`` index the same
    pulse arrays as ``free``; they stand as given and are not returned.

    For a burst still arriving (:mod:`shotwatch.streaming`): the next rounds from a
    place already established are located from their own reports at the cost of a
    re-fit per place, where associating the whole group again costs seconds for a
    long burst or a fireworks show. A round from a new place is left to the next whole
    association. Returns the new shots in order of origin time."""
    ob = _observations(
        sensor_pos, pulse_sensor, pulse_t, c, pulse_sigma, pulse_snr, wind, config, pulse_peak
    )
    if np.asarray(free).shape != ob.pt.shape:
        raise ValueError("free must hold one flag per pulse")
    assigned = ~np.asarray(free, dtype=bool)
    shots = list(places)
    _more_rounds(shots, ob, assigned)
    if len(shots) == len(places):
        return []
    new = [o for o in shots if not any(o is p for p in places)]
    for step in (_drop_echo_fits, _drop_second_fixes, _drop_stray_fits):
        step(shots, ob, assigned)
    return sorted((o for o in new if any(o is s for s in shots)), key=lambda o: o.t0)


def three_sensor_shots(
    sensor_pos: NDArray[np.float64],
    pulse_sensor: NDArray[np.int64],
    pulse_t: NDArray[np.float64],
    c: float,
    *,
    pulse_sigma: NDArray[np.float64] | None = None,
    pulse_snr: NDArray[np.float64] | None = None,
    pulse_peak: NDArray[np.float64] | None = None,
    wind: NDArray[np.float64] | None = None,
    config: AssociationConfig | None = None,
) -> list[LocatedShot]:
    """Sources heard by three sensors only, in a group of pulses too small for
    :func:`associate` (the same arguments; ``sensor_pos`` every sensor of the array, all
    taken online).

    Three arrivals fix a source at a known height exactly, at up to two points
    (:func:`shotwatch.core.locate.three_sensor_roots`), so the fit itself tells nothing
    about whether they belong together. What does: a source heard by three sensors only
    is heard by the three nearest to it, so a point whose three nearest sensors are not
    the three that heard it is refused (:func:`_near_heard`), and so is one that the
    next three nearest heard too (a source heard by four or more that the association
    refused, or pulses of several sources: none is reported in part), and one whose median
    SNR is under ``min_median_snr_db``. Groups of more than ``three_sensor_max_pulses``
    pulses are left alone (echoes and coda give many chance triples), and so are pulses
    trailing a much louder one at their sensor (:func:`_dominated`). Per group of pulses
    the triples are taken loudest first, each pulse in one shot; each shot is at its
    plausible point (when both are, the one nearer the middle of its sensors: the other
    is its ``alternative``), with
    the height held at the median of its sensors' and its covariance from the exact fit.
    """
    ob = _observations(
        sensor_pos, pulse_sensor, pulse_t, c, pulse_sigma, pulse_snr, wind, config, pulse_peak
    )
    cfg, spos, psens, pt, psnr = ob.cfg, ob.spos, ob.psens, ob.pt, ob.psnr
    n_p = pt.size
    if n_p > cfg.three_sensor_max_pulses or np.unique(psens).size < 3:
        return []
    online = np.arange(spos.shape[0], dtype=np.int64)
    usable = np.flatnonzero(~ob.dominated)
    triples: list[tuple[float, tuple[int, int, int]]] = []
    for i, j, k in combinations(usable.tolist(), 3):
        if len({int(psens[i]), int(psens[j]), int(psens[k])}) < 3:
            continue
        tri = np.array([i, j, k])
        sp = spos[psens[tri]]
        dist = np.linalg.norm(sp[:, None, :] - sp[None, :, :], axis=2)
        if np.any(np.abs(pt[tri][:, None] - pt[tri][None, :]) > dist / ob.c_slow + 2e-3):
            continue  # no single source: two arrivals further apart than their sensors
        triples.append((float(np.sum(psnr[tri])), (int(i), int(j), int(k))))
    triples.sort(key=lambda x: -x[0])
    used = np.zeros(n_p, dtype=bool)
    out: list[LocatedShot] = []
    for _, tri_t in triples:
        tri = np.array(tri_t, dtype=np.int64)
        if np.any(used[tri]):
            continue
        shot = _three_sensor_fix(tri, ob, online)
        if shot is not None:
            used[tri] = True
            out.append(shot)
    out.sort(key=lambda o: o.t0)
    return out


def _triple_points(tri: NDArray[np.int64], ob: _Obs) -> tuple[Any, float, list[int]]:
    """The points that three pulses at three sensors fix exactly at the sensors' median
    height (:func:`shotwatch.core.locate.three_sensor_roots`), refined with the wind:
    the refined fixes, the reference time their origin times count from, and the roots
    that fit every arrival to 1 ms and lie within ``max_range_m`` of every sensor."""
    sp = ob.spos[ob.psens[tri]]
    z = _median(sp[:, 2])
    t_ref = float(ob.pt[tri].min())
    roots, t0s = three_sensor_roots(sp, ob.pt[tri] - t_ref, ob.c, z)
    m = roots.shape[0]
    if m == 0:
        return None, t_ref, []
    fix = refine_batch(
        np.broadcast_to(sp, (m, 3, 3)),
        np.broadcast_to(ob.pt[tri] - t_ref, (m, 3)),
        np.ones((m, 3), dtype=bool),
        roots,
        t0s,
        ob.c,
        wind=ob.wind,
        sigma=np.broadcast_to(ob.psig[tri], (m, 3)),
        z_prior=np.full(m, z),
        z_sigma=0.5,
        robust=False,
    )
    ok = [
        r
        for r in range(m)
        if np.all(np.isfinite(fix.pos[r]))
        and np.all(np.abs(fix.residual[r]) < 1e-3)
        and float(np.max(np.linalg.norm(sp[:, :2] - fix.pos[r, :2], axis=1))) <= ob.cfg.max_range_m
    ]
    return fix, t_ref, ok


def _root_shot(
    tri: NDArray[np.int64],
    fix: Any,
    t_ref: float,
    r: int,
    ob: _Obs,
    alternative: NDArray[np.float64] | None = None,
) -> LocatedShot:
    """The shot of the three pulses ``tri`` at root ``r`` of their exact fix
    (:func:`_triple_points`)."""
    pos = fix.pos[r].copy()
    t0 = float(fix.t0[r]) + t_ref
    pulses = np.sort(tri)
    return LocatedShot(
        pulses=pulses,
        pos=pos,
        t0=t0,
        cov=fix.cov[r].copy(),
        error_radius=float(fix.error_radius[r]),
        scale=float(np.sqrt(np.mean(fix.residual[r] ** 2))),
        residual=ob.pt[pulses] - t0 - ob.tt(pos, ob.spos[ob.psens[pulses]]),
        alternative=alternative,
    )


def _three_sensor_fix(
    tri: NDArray[np.int64], ob: _Obs, online: NDArray[np.int64]
) -> LocatedShot | None:
    """The shot of three pulses at three sensors (:func:`three_sensor_shots`), or None."""
    cfg = ob.cfg
    sp = ob.spos[ob.psens[tri]]
    fix, t_ref, ok = _triple_points(tri, ob)
    good: list[int] = []
    for r in ok:
        t_r = float(fix.t0[r]) + t_ref
        if _near_heard(fix.pos[r], t_r, 3, ob, online) < 1.0:
            continue
        if _near_heard(fix.pos[r], t_r, 6, ob, online) > 0.5:
            continue  # heard by more: refused by the association, or not one source
        good.append(r)
    snr = ob.psnr[tri]
    if not good or (np.any(snr != 0) and _median(snr) < cfg.min_median_snr_db):
        return None
    centre = sp[:, :2].mean(axis=0)
    best = min(good, key=lambda r: float(np.linalg.norm(fix.pos[r, :2] - centre)))
    other = [r for r in good if r != best]
    return _root_shot(
        tri, fix, t_ref, best, ob, alternative=fix.pos[other[0]].copy() if other else None
    )


def _drop_shadows(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Drop shots that cannot be rounds of their own at a place already explained.

    Rounds from one place reach each sensor in the order they were fired: when shot
    ``a`` lies within ``same_place_m`` of shot ``b`` horizontally and its origin time
    is earlier by more than their horizontal distance / c (so that no pair of real
    sources there could arrive in the other order), yet at 60 % or more of the sensors
    that heard both (two at least) its pulse comes after ``b``'s, ``a`` is made of
    ``b``'s later arrivals (diffracted paths, facade echoes) fitted to a source tens of
    metres up and tens of milliseconds earlier, where the extra path makes up their
    delay. It is dropped and its pulses freed; so is the less heard of two shots within
    ``same_place_m`` and ``min_cycle_s`` of each other (:func:`_too_close`)."""
    pt, cfg = ob.pt, ob.cfg
    gone: set[int] = set()
    for a in shots:
        for b in shots:
            if a is b or id(b) in gone or not (0 < b.t0 - a.t0 < cfg.burst_window_s):
                continue
            dist = float(np.linalg.norm(a.pos[:2] - b.pos[:2]))
            if dist >= cfg.same_place_m or b.t0 - a.t0 <= dist / ob.c_slow:
                continue
            i, j = _pair(a, b, ob)
            later = pt[i] > pt[j]
            if later.size >= 2 and later.sum() >= 0.6 * later.size:
                gone.add(id(a))
                break
    # Two shots at one place closer in time than any weapon cycles (``min_cycle_s``)
    # are one round: the better heard stands (the other fitted its echoes or the
    # next round's pulses at some sensors).
    for a in sorted(shots, key=lambda o: (len(o.pulses), -o.scale)):
        if id(a) in gone:
            continue
        if any(
            o is not a
            and id(o) not in gone
            and (len(o.pulses), -o.scale) > (len(a.pulses), -a.scale)
            and _too_close(a, [o], cfg)
            for o in shots
        ):
            gone.add(id(a))
    _drop(shots, gone, assigned)


def _drop_echo_fits(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Drop the few-sensor fits of facade reflections.

    A wall near a sensor reflects every loud arrival there into a weaker copy tens of
    milliseconds later (the simulator's facade echoes, ``sim/engine``: the last leg
    mirrored in the walls near each sensor). Four to six such copies, each at its own
    sensor, fit some source (four arrivals always do, exactly), and inside a burst that
    "shot" comes as one more round, or as a second shooter tens to hundreds of metres
    off (the simulated suite's overcounted bursts: 36 such shots in seeds 0-7, most of
    them made of echoes only). A shot heard by ``echo_fit_max_sensors`` or fewer is
    taken for such a fit when each of its pulses trails a pulse at its sensor at least
    ``echo_fit_drop_db`` louder by at most ``echo_fit_window_s`` and those delays
    differ by ``echo_fit_spread_s`` or more: each reflection path has its own extra
    length, while the next round of a gun trails the last by the firing interval at
    every sensor. Unless it is a round fired again from an earlier shot's place
    (:func:`_fired_again`: an automatic burst's, whose louder predecessor at some
    sensors is the round before last, or one shooter's next round in an exchange, whose
    louder predecessors are the other shooter's). The shot is dropped and its pulses
    freed. (The image-source method of Allen & Berkley, JASA 65(4), 1979: a reflection
    is the sound of a mirrored source, so reflections alone fit a place where nothing
    fired.) Reflections off farther walls, up to ``echo_fit_far_window_s`` (0.35 s)
    late, count only when every pulse is ``echo_fit_far_drop_db`` (6 dB) or more
    weaker than the one it trails: with the near window's 1 dB, a 0.35 s window drops
    true rounds of moving shooters and of exchanges whose predecessors were not
    located, which trail the last round by delays that differ from sensor to sensor
    (the shooter moved) but are about as loud. Within ``echo_fit_any_window_s``
    (0.15 s) a pulse need not trail a louder one, and may trail by as little as
    ``duplicate_s``: where a round's first arrival came around a building, its
    reflection off a wall near the sensor can be louder than it, and four or five such
    second paths fit a point a few metres from the round, 5-65 ms after it (the suite's
    moving shooters and exchanges); a semi-automatic's next
    round comes later (splits of 0.15 s and less are a trained shooter's, from one
    place, so at one delay at every sensor), an automatic weapon's at the same delay at
    every sensor. Left standing: fits with a pulse that trails no pulse within 0.15 s
    and none louder within the wider windows."""
    cfg = ob.cfg
    few = [o for o in shots if len(o.pulses) <= cfg.echo_fit_max_sensors]
    if not few or not np.any(ob.psnr):
        return
    need = np.concatenate([o.pulses for o in few])
    leads = [
        _louder_before(need, ob.psens, ob.pt, ob.psnr, lag, window, drop)
        for lag, window, drop in (
            (cfg.echo_fit_min_lag_s, cfg.echo_fit_window_s, cfg.echo_fit_drop_db),
            (cfg.echo_fit_min_lag_s, cfg.echo_fit_far_window_s, cfg.echo_fit_far_drop_db),
            (cfg.duplicate_s, cfg.echo_fit_any_window_s, -np.inf),
        )
    ]
    gone: set[int] = set()
    for a in few:
        for lead in leads:
            j = lead[a.pulses]
            if np.any(j < 0):
                continue
            lag = ob.pt[a.pulses] - ob.pt[j]
            if float(np.max(lag) - np.min(lag)) < cfg.echo_fit_spread_s:
                continue
            if not _fired_again(a, shots, ob):
                gone.add(id(a))
            break
    _drop(shots, gone, assigned)


def _drop_second_fixes(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Drop the few-sensor fits made of better-heard shots' leftovers.

    A round's sound reaches some sensors by two paths or more (around both sides of a
    building, a facade's reflection), and reaches sensors its fit did not take (their
    first arrival a blocked path, late beyond the fit's tolerance). Such leftovers, four
    or five of them, fit some other point exactly, 50-350 ms after the round (the
    simulated suite's overcounted moving shooters and exchanges, where each round is
    heard by a few sensors, and automatic bursts). A pulse is a leftover of a shot
    ``X`` when it is a later, weaker pulse at a sensor of ``X`` (within
    ``echo_fit_far_window_s`` of ``X``'s there) or, at a sensor ``X`` did not take,
    arrives within ``leftover_early_s`` before to ``leftover_late_s`` after ``X``'s
    predicted arrival. A shot ``B`` heard by ``few_fit_max_sensors`` or fewer is taken
    for such a fit when every one of its pulses is a leftover of one shot ``X`` heard by
    more, with at least one pulse of each kind (all of the first kind is a fit of
    echoes, :func:`_drop_echo_fits`); a shot heard by ``leftover_mix_max_sensors`` or
    fewer, when they are leftovers of two or more such shots and of no one of them alone
    (a burst's rounds each leave reflections and blocked arrivals, and four to six of
    those from two rounds fit some point too: an exchange of suite seed 1 counted one
    round more so, and an 11-round automatic burst of seed 0 two more, 63 m off), or by
    ``leftover_blocked_max_sensors`` or fewer when at least half its pulses are of the
    second kind, of two rounds or more (a 12-round automatic burst of seed 6, heard by
    13-28 sensors a round, left late diffracted arrivals at sensors its rounds' fits had
    not taken; ten of them from four rounds fitted a point 32 m off and 20 dB weaker,
    and that extra "round" made the burst's cadence irregular enough for a firecracker
    string; a second shooter's round trails louder rounds at their own sensors, the
    first kind, and comes near their predictions elsewhere only by chance); in
    all cases unless it repeats an earlier shot's arrival pattern
    (:func:`_fired_again`). The next round of a burst
    trails the last one at the sensors both took too, but elsewhere it comes a cycle
    or more after ``X``'s prediction (``leftover_late_s`` is shorter than any weapon's
    cycle); a second shooter's round, from another place, comes off ``X``'s
    predictions there."""
    cfg = ob.cfg
    gone: set[int] = set()
    for b in shots:
        n_b = len(b.pulses)
        if n_b > max(cfg.few_fit_max_sensors, cfg.leftover_mix_max_sensors,
                     cfg.leftover_blocked_max_sensors):  # fmt: skip
            continue
        xs = [
            x for x in shots if x is not b and len(x.pulses) > len(b.pulses) and id(x) not in gone
        ]
        kinds = [_leftover_kinds(b, x, ob) for x in xs]
        alone = [bool(np.all(a | c)) for a, c in kinds]  # X explains every pulse of B
        single = n_b <= cfg.few_fit_max_sensors and any(
            ok and a.any() and c.any() for ok, (a, c) in zip(alone, kinds, strict=True)
        )
        explained = len(kinds) >= 2 and bool(np.all(np.any([a | c for a, c in kinds], axis=0)))
        if n_b <= cfg.leftover_mix_max_sensors:
            many = explained and not any(alone)
        else:  # up to leftover_blocked_max_sensors: half of them blocked-path leftovers
            blocked = [c for _, c in kinds if c.any()]  # the rounds predicting some pulses
            many = explained and len(blocked) >= 2 and 2 * int(np.any(blocked, axis=0).sum()) >= n_b
        if (single or many) and not _fired_again(b, shots, ob):
            gone.add(id(b))
    _drop(shots, gone, assigned)


def _first_arrivals(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Re-fit few-sensor shots from their sensors' first arrivals.

    The direct path is the shortest: a reflection or a detour around a building comes
    later, and it can be the louder where the direct sound is shadowed. The search
    prefers, among sets heard by as many sensors, the loudest, and four arrivals (five,
    nearly) fit some point whichever of a sensor's pulses is taken; so a few-sensor
    shot can take a reflection and land at its image source (the real live fire's
    test_061 from the recordings: at two of four sensors a wall's reflection 124 ms
    after the direct sound and 8 dB louder put the rounds 52 m off). For a shot heard by
    ``few_fit_max_sensors`` or fewer, each pulse with a free pulse at its sensor up to
    ``first_arrival_window_s`` earlier, at most ``round_drop_db`` weaker, is replaced
    by the earliest such; the re-fit replaces the shot when it keeps every arrival,
    fits about as tightly (scale at most 1.5 times, or 2 ms), lies within
    ``max_height_few_m`` of its sensors' median height (an earlier impulse of another
    source puts the fit tens of metres up or down) and is no round already found
    (:func:`_too_close`). The shot's other pulses are freed."""
    cfg, psens, pt, psnr = ob.cfg, ob.psens, ob.pt, ob.psnr
    for k, s in enumerate(shots):
        if len(s.pulses) > cfg.few_fit_max_sensors:
            continue
        alt = s.pulses.copy()
        for j, p in enumerate(s.pulses):
            earlier = np.flatnonzero(
                (psens == psens[p])
                & ~assigned
                & (pt < pt[p] - cfg.duplicate_s)
                & (pt >= pt[p] - cfg.first_arrival_window_s)
                & (psnr >= psnr[p] - cfg.round_drop_db)
            )
            if earlier.size:
                alt[j] = earlier[np.argmin(pt[earlier])]
        if np.array_equal(alt, s.pulses):
            continue
        shot, ok = _fit_shot(alt, s.pos, s.t0, ob)
        if (
            not ok
            or len(shot.pulses) < len(s.pulses)
            or shot.scale > max(1.5 * s.scale, 2e-3)
            or abs(shot.pos[2] - _median(ob.spos[psens[shot.pulses], 2])) > cfg.max_height_few_m
            or _too_close(shot, [o for o in shots if o is not s], cfg)
        ):
            continue
        assigned[s.pulses] = False
        assigned[shot.pulses] = True
        shot.echoes = list(s.echoes)
        shots[k] = shot
    shots.sort(key=lambda o: o.t0)


def _drop_loose_fits(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Drop the shots of ``min_sensors`` arrivals whose fit scale is ``loose_fit_s`` or
    more, freeing their pulses.

    Four arrivals fit a free source exactly; such a shot fits loosely only where its
    place was not free: taken at an established place or on a moving shooter's track
    (:func:`_more_rounds`) or held near the ground, where its arrivals had to agree with
    that place and did not. On the suite (seeds 0-7) none of the 149 four-sensor shots
    matching a true round fitted with a scale over 4 ms, while 4 of the 29 matching
    none did."""
    cfg = ob.cfg
    loose = {
        id(o) for o in shots if len(o.pulses) == cfg.min_sensors and o.scale >= cfg.loose_fit_s
    }
    _drop(shots, loose, assigned)


def _drop_stray_fits(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Drop the exact fits of a burst's mixed arrivals that lie away from its place.

    Four arrivals fit some source exactly (four unknowns: place and origin time), so a
    shot heard by ``min_sensors`` only has no residual to betray a mixture: the direct
    sound of a round at two sensors, a reflection of the round before at a third and a
    blocked path's detour at a fourth fit a point tens of metres off the shooter.
    Inside a burst such a fit is one more round, often a second shooter (the suite's
    overcounted bursts, exchanges and moving shooters, seeds 0-11: 70 of the 117 shots
    that matched no round were four-sensor fits, against 145 true rounds among the
    four-sensor shots of seeds 0-7). The rules before this one ask what explains every
    pulse; this one asks what a true round so heard would not show all at once. A shot
    of ``min_sensors`` arrivals is dropped, its pulses freed, when the best-heard shot
    within ``burst_window_s`` of it is heard by more sensors and lies
    ``dissolve_dist_m`` or more away (not the burst's place), another shot comes within
    ``stray_near_s`` of it (inside that shot's coda), and one of its pulses trails a
    pulse at its sensor at least as loud within ``echo_fit_far_window_s`` (a reflection
    or the coda of another round), unless it repeats an earlier shot's arrival pattern
    (:func:`_fired_again`: a place fired from again). A second shooter's round heard by
    five sensors or more, or by four but apart in time from the other rounds, or with
    every pulse the loudest at its sensor, stands."""
    cfg = ob.cfg
    exact = [o for o in shots if len(o.pulses) <= cfg.min_sensors]
    if not exact or not np.any(ob.psnr):
        return
    need = np.concatenate([o.pulses for o in exact])
    lead = _louder_before(
        need, ob.psens, ob.pt, ob.psnr, cfg.echo_fit_min_lag_s, cfg.echo_fit_far_window_s, 0.0
    )
    gone: set[int] = set()
    for b in exact:
        burst = [o for o in shots if o is not b and abs(o.t0 - b.t0) <= cfg.burst_window_s]
        if not burst or not np.any(lead[b.pulses] >= 0):
            continue
        best = max(burst, key=lambda o: (len(o.pulses), float(np.sum(ob.psnr[o.pulses]))))
        if (
            len(best.pulses) > len(b.pulses)
            and float(np.linalg.norm(best.pos[:2] - b.pos[:2])) >= cfg.dissolve_dist_m
            and any(abs(o.t0 - b.t0) < cfg.stray_near_s for o in burst)
            and not _fired_again(b, shots, ob)
        ):
            gone.add(id(b))
    _drop(shots, gone, assigned)


def _leftover_kinds(
    b: LocatedShot, x: LocatedShot, ob: _Obs
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which pulses of ``b`` are leftovers of ``x`` (see :func:`_drop_second_fixes`):
    later, weaker pulses at ``x``'s sensors, and arrivals near ``x``'s prediction at the
    sensors ``x`` did not take."""
    cfg = ob.cfg
    q = _anchor_pulse_at(x, b.pulses, ob)
    held = q >= 0
    qq = np.where(held, q, b.pulses)
    lag = ob.pt[b.pulses] - ob.pt[qq]
    later = held & (lag > 0.0) & (lag <= cfg.echo_fit_far_window_s)
    later &= ob.psnr[b.pulses] < ob.psnr[qq]
    r = ob.pt[b.pulses] - x.t0 - ob.tt(x.pos, ob.spos[ob.psens[b.pulses]])
    blocked = ~held & (r >= -cfg.leftover_early_s) & (r <= cfg.leftover_late_s)
    return later, blocked


def _pattern_mates(
    a: LocatedShot, shots: list[LocatedShot], ob: _Obs, *, earlier_only: bool = False
) -> Iterator[LocatedShot]:
    """The shots whose arrival pattern ``a`` repeats (:func:`_same_pattern`), fired
    ``min_cycle_s`` to ``burst_window_s`` before it (or, unless ``earlier_only``, after
    it), in the order of ``shots``, lazily."""
    cfg = ob.cfg
    for o in shots:
        if o is a:
            continue
        dt = a.t0 - o.t0
        if cfg.min_cycle_s <= (dt if earlier_only else abs(dt)) <= cfg.burst_window_s and (
            _same_pattern(a, o, ob)
        ):
            yield o


def _fired_again(a: LocatedShot, shots: list[LocatedShot], ob: _Obs) -> bool:
    """Whether ``a`` repeats the arrival pattern of a shot fired ``min_cycle_s`` to
    ``burst_window_s`` before it (:func:`_pattern_mates`): a place fired from again is
    heard again at each sensor after the same interval, whatever pulses came in between;
    a fit of reflections, each with its own extra path, repeats no shot's pattern."""
    return next(_pattern_mates(a, shots, ob, earlier_only=True), None) is not None


def _fired_twice(a: LocatedShot, shots: list[LocatedShot], ob: _Obs) -> bool:
    """Whether ``a`` and another of ``shots`` repeat one arrival pattern
    (:func:`_pattern_mates`), either first, at a cadence no two other shots keep: one
    place fired from twice, even when heard by ``min_sensors`` only and in a louder
    gun's tail. The reverberant tails of one gun firing twice from one spot also repeat
    their pattern, but a cycle of that gun apart; within ``2 * template_tol_s`` of the
    time between two other shots, the repeat may be such tails and is not counted (a
    second gun's cadence matching the first's to milliseconds is the rarer case)."""
    cfg = ob.cfg
    for o in _pattern_mates(a, shots, ob):
        dt = a.t0 - o.t0
        t = np.sort([x.t0 for x in shots if x is not a and x is not o])
        lo = np.searchsorted(t, t + dt - 2.0 * cfg.template_tol_s, side="left")
        hi = np.searchsorted(t, t + dt + 2.0 * cfg.template_tol_s, side="right")
        if not np.any(hi > lo):
            return True
    return False


def _louder_before(
    need: NDArray[np.int64] | None,
    psens: NDArray[np.int64],
    pt: NDArray[np.float64],
    psnr: NDArray[np.float64],
    min_lag_s: float,
    window_s: float,
    drop_db: float,
) -> NDArray[np.int64]:
    """Per pulse, the latest pulse at its sensor more than ``min_lag_s`` and at most
    ``window_s`` earlier that is at least ``drop_db`` louder (SNR), or -1; computed at
    the sensors of the pulses ``need`` only (-1 elsewhere; None: at every sensor)."""
    out = np.full(pt.shape[0], -1, dtype=np.int64)
    at = np.arange(pt.shape[0]) if need is None else np.flatnonzero(np.isin(psens, psens[need]))
    order = at[np.lexsort((pt[at], psens[at]))]
    s_o, t_o, q_o = psens[order], pt[order], psnr[order]
    cuts = np.flatnonzero(np.diff(s_o)) + 1
    for idx in np.split(np.arange(order.size), cuts):
        ts, qs = t_o[idx], q_o[idx]
        dt = ts[:, None] - ts[None, :]  # (i, j): t_i - t_j
        ok = (dt > min_lag_s) & (dt <= window_s) & (qs[None, :] >= qs[:, None] + drop_db)
        has = ok.any(axis=1)
        # the latest such j: the largest column index in time order
        last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
        out[order[idx[has]]] = order[idx[last[has]]]
    return out


def _more_rounds(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Further rounds from the place of an established shot (more than ``min_sensors``).

    A shooter fires a burst from one spot; a later round in the loud coda of the first
    is heard by fewer sensors than the first (some are masked by its reverberation),
    so the plausibility rules, made for a source of unknown place, reject it. At a
    place already established the question is only whether the free pulses agree on
    another origin time there (:func:`_refit_at`): reverberation does not, since its
    delays differ from sensor to sensor. A round found so must be heard by at least
    half as many sensors as the anchor (the same gun at the same place), and be at
    least ``min_cycle_s`` from every shot already at that place (no weapon cycles
    faster), unless as loud as the anchor (:func:`_as_loud`). A round of
    ``min_sensors`` arrivals (four fit some point exactly: a loud round's echoes fit
    one near the shooter) must also repeat the anchor's arrival pattern
    (:func:`_same_pattern`) or be as loud as it. Any shot fitted from more
    arrivals than unknowns (more than ``min_sensors``) anchors: a quiet gun heard by
    five sensors has a place too, unless more than ``max_dominated_share`` of its pulses
    trail much louder ones at their sensors (:func:`_dominated`: a fit of echoes). A
    round found so anchors in its turn by the same measure (a moving shooter's next
    place), and the pulses of a round refused at one anchor stay free for the next."""
    psnr, cfg = ob.psnr, ob.cfg
    # A place made of reflections (pulses trailing much louder ones at their sensors:
    # the coda) is no place to fire from (as in :func:`_template_rounds`): echoes of a
    # loud round fit some point near the shooter and would anchor more of them.
    dominated = ob.dominated

    def clean(o: LocatedShot) -> bool:
        return float(np.mean(dominated[o.pulses])) <= cfg.max_dominated_share

    anchors = sorted(
        (o for o in shots if len(o.pulses) > cfg.min_sensors and clean(o)),
        key=lambda o: (len(o.pulses), float(np.sum(psnr[o.pulses]))),
        reverse=True,
    )
    k = 0
    while k < len(anchors):
        anchor = anchors[k]
        k += 1
        lo, hi = anchor.t0 - cfg.burst_window_s, anchor.t0 + cfg.burst_window_s
        tried: list[NDArray[np.int64]] = []
        while True:
            shot = _refit_at(anchor, ob, assigned, lo, hi)
            if shot is None:
                break
            assigned[shot.pulses] = True
            if (
                _too_close(shot, shots, cfg)
                or _weak_round(shot, anchor, ob)
                or (
                    len(shot.pulses) <= cfg.min_sensors
                    and not (_same_pattern(shot, anchor, ob) or _as_loud(shot, anchor, ob))
                )
            ):
                tried.append(shot.pulses)  # not again from this anchor
                continue
            shot.echoes.extend(_absorb(shot, ob, assigned))
            shots.append(shot)
            if len(shot.pulses) > cfg.min_sensors and clean(shot):
                anchors.append(shot)  # a moving shooter's next place
        for t in tried:  # another anchor (the shooter a few metres on) may use them
            assigned[t] = False
    _track_rounds(shots, ob, assigned)
    shots.sort(key=lambda s: s.t0)


def _template_rounds(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Rounds fired from an established place claim their pulses by that place's own
    arrival pattern (master-event matching).

    The travel time from a fixed spot to a sensor, blocked path and all, is the same for
    every round fired there: the extra delay of a path diffracted over roofs or around a
    corner depends on the geometry only. So the arrival times observed for a shot ``A``
    heard by ``template_anchor_sensors`` or more are a template: another round from the
    same spot arrives at each of ``A``'s sensors at ``A``'s time there plus one common
    shift, to within picking noise and the shooter's small movements
    (``template_tol_s``). The model travel times used elsewhere miss the diffraction
    delays by milliseconds, which is why a round heard by few sensors over such paths
    fits as loosely as a mixture of rounds, echoes and aliases of a burst's cycle and
    loses its pulses to them; against the template it fits to a millisecond or two. A
    round must match at ``template_min_sensors`` and at ``template_share`` of ``A``'s
    sensors, be about as loud as ``A`` there (coda and echo coincidences are not), be
    mostly made of pulses that trail no much louder one (:func:`_dominated`), surround
    the place well enough to show a move of metres, and lie within
    ``template_move_m`` of ``A`` as located relative to it (:func:`_claim_round`); a
    "round" fired just as another shot's sound reaches its place is that shot's
    reflection off a wall there and is refused.

    Places are taken tightest fit first: a mixture of a periodic burst's rounds (each
    sensor's pulse from a different round) repeats with the cycle like a true round, but
    fits one source loosely, so the true place's rounds claim their pulses first and
    keep them. A round takes its pulses from any other shot except one fitting as tightly
    as ``A`` and heard more widely: the same round located from fewer pulses is replaced
    (its pulses at other sensors kept), any other shot loses them and is re-fitted on
    the rest, or dissolved when ``min_sensors`` or fewer remain or the re-fit fails or
    loosens. A well-heard shot that a round of an earlier place replaced (the same round,
    its own fix kept) is a place of its own still, under its new name. Rounds heard by
    ``template_few_sensors`` (three) at free pulses, too few for a match, are put at the
    place when its loudest sensors heard them (:func:`_few_round`); for that alone a
    shot of ``template_few_anchor_sensors`` (four) or more establishes a place, after
    the well-heard ones. The rounds of one
    place then share it (:func:`_one_place`). This is the
    relative location of seismology's master-event and double-difference methods
    (Waldhauser & Ellsworth, BSSA 90(6), 2000) put to association.
    """
    psens, psnr, psig, cfg = ob.psens, ob.psnr, ob.psig, ob.cfg
    # A place made of reflections (pulses trailing much louder ones: the coda) is no
    # place to fire from, and neither is a round made mostly of them.
    dominated = ob.dominated
    anchors = sorted(
        (
            o
            for o in shots
            if len(o.pulses) >= cfg.template_few_anchor_sensors
            and np.mean(dominated[o.pulses]) <= cfg.max_dominated_share
        ),
        key=lambda o: (len(o.pulses) < cfg.template_anchor_sensors, o.scale, -len(o.pulses)),
    )
    # Rounds found so keep their pulses. Keyed by identity, holding the shot itself: a
    # shot dropped from ``shots`` would otherwise be freed and its id reused by a new
    # one, which would then pass for protected (results changing with memory layout).
    protected: dict[int, LocatedShot] = {}
    # A well-heard shot that a round of an earlier place took over (the same round, its
    # own fix kept: :func:`_claim_round`) stays a place of its own under its new name:
    # its sensors may differ from the earlier place's. (Keyed by identity, holding the
    # replaced shot alive, as above.)
    successor: dict[int, tuple[LocatedShot, LocatedShot]] = {}
    for first in anchors:
        anchor = first
        while id(anchor) in successor:
            anchor = successor[id(anchor)][1]
        if not any(anchor is o for o in shots):
            continue
        at, tau, sig_a = _pattern_times(anchor, ob)
        need = max(cfg.template_min_sensors, int(np.ceil(cfg.template_share * len(anchor.pulses))))
        taken = np.zeros(at.size, dtype=bool)
        group: list[tuple[LocatedShot, NDArray[np.float64], bool]] = [(anchor, np.zeros(3), True)]
        while len(anchor.pulses) >= cfg.template_anchor_sensors:
            found = _template_match(at, tau, taken, need, psens, psig, sig_a, psnr, cfg)
            if found is None:
                break
            members, t_r = found
            taken[np.isin(at, members)] = True
            if 2 * np.sum(_coda(members, group, ob)) > members.size:
                continue
            before = [o for o in shots if len(o.pulses) >= cfg.template_anchor_sensors]
            got = _claim_round(members, t_r, anchor, shots, ob, assigned, need, protected)
            if got is not None:
                protected[id(got[0])] = got[0]
                group.append(got)
                if got[2]:  # its own fix: an anchor it replaced lives on in it
                    for o in before:
                        if not any(o is x for x in shots) and np.all(
                            np.isin(o.pulses, got[0].pulses)
                        ):
                            successor[id(o)] = (o, got[0])
        # Rounds heard by fewer sensors than a location needs, at free pulses only.
        if cfg.template_few_sensors < need:
            for fr in _few_rounds(at, tau, taken, sig_a, group, shots, ob, assigned, below=need):
                protected[id(fr)] = fr
        _one_place(group, ob)
    shots.sort(key=lambda s: s.t0)


def _pattern_times(
    anchor: LocatedShot, ob: _Obs
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The pulses at the sensors of ``anchor`` that could be another round fired at its
    place, with the origin time each implies by its arrival pattern (:func:`_pattern`),
    ``min_cycle_s`` to ``burst_window_s`` from the anchor's; and the pattern's pick
    sigmas per sensor."""
    cfg, psens = ob.cfg, ob.psens
    travel, sig_a = _pattern(anchor, ob)
    at = np.flatnonzero(np.isfinite(travel[psens]))
    tau = ob.pt[at] - travel[psens[at]]
    dt = np.abs(tau - anchor.t0)
    keep = (dt <= cfg.burst_window_s) & (dt >= cfg.min_cycle_s)
    return at[keep], tau[keep], sig_a


def _three_on_time(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
    online: NDArray[np.int64],
) -> None:
    """A shot heard on time by three sensors and only late, over blocked paths, by the
    others, in a group where the association found none.

    Four arrivals or more with one or more over a detour fit no point well, and the
    association refuses them (the simulated suite's single shots heard by five sensors,
    three on time: none located); :func:`three_sensor_shots` takes only groups heard by
    three sensors. Three arrivals fix a source at the array's height exactly (at up to
    two points, :func:`shotwatch.core.locate.three_sensor_roots`, refined with the
    wind), and a source heard so must then reach every other sensor that heard it late
    (a diffracted path is never early), by up to ``three_late_max_s``. Seeded by the
    ``three_max_seeds`` loudest free pulses that trail no louder one (groups of up to
    ``three_max_pulses``); per seed, triples of it and the loudest free pulse at two of
    the ``three_seed_sensors`` sensors nearest to its own. A point stands when its
    three nearest sensors heard it (:func:`_near_heard`), ``three_late_min_sensors``
    more heard it late (``three_late_min_s`` or more), no free pulse elsewhere comes on
    time or early, and its pulses are not all other shots'
    reflections and blocked arrivals, nor an echo ghost. The shot holds the three
    pulses (reported as a shot heard by three: never certain gunfire, its other point
    undecided) and claims the late ones. Only where the association found nothing: in
    a burst, triples of one round's reflections with another's late arrivals fit as
    well (the suite's multi-round scenes gained extra rounds)."""
    cfg, spos, psens, pt, psnr = ob.cfg, ob.spos, ob.psens, ob.pt, ob.psnr
    dominated = ob.dominated
    if shots or pt.size > cfg.three_max_pulses:
        return
    seeds = np.flatnonzero(~assigned & ~dominated)
    seeds = seeds[np.argsort(-psnr[seeds], kind="stable")][: cfg.three_max_seeds]
    for p0 in seeds:
        if assigned[p0] or (psnr[p0] != 0 and psnr[p0] < cfg.min_median_snr_db):
            continue
        s0 = int(psens[p0])
        free = np.flatnonzero(~assigned & ~dominated)
        f = free[psens[free] != s0]
        dist = np.linalg.norm(spos[psens[f]] - spos[s0], axis=1)
        bound = np.abs(pt[f] - pt[p0]) <= dist / ob.c_slow + 0.02  # (as candidates_for)
        f, dist = f[bound], dist[bound]
        if np.unique(psens[f]).size < 3:
            continue
        # the loudest such pulse at each of the nearest sensors
        by = np.lexsort((-psnr[f], dist))
        f = f[by]
        first = np.unique(psens[f], return_index=True)[1]
        pick = f[np.sort(first)][: cfg.three_seed_sensors]
        best: LocatedShot | None = None
        best_late = np.zeros(0, dtype=np.int64)
        for i, j in combinations(pick.tolist(), 2):
            tri = np.array([p0, i, j], dtype=np.int64)
            got = _late_three_fix(tri, ob, online, free)
            if got is not None and (best is None or got[1].size > best_late.size):
                best, best_late = got
        if best is None or _too_close(best, shots, cfg) or _is_echo_ghost(best, shots, ob):
            continue
        kinds = [_leftover_kinds(best, x, ob) for x in shots]
        if kinds and bool(np.all(np.any([a | c for a, c in kinds], axis=0))):
            continue  # other shots' reflections and blocked arrivals
        assigned[best.pulses] = True
        assigned[best_late] = True
        best.echoes.extend(int(k) for k in best_late)
        shots.append(best)
    shots.sort(key=lambda o: o.t0)


def _late_three_fix(
    tri: NDArray[np.int64], ob: _Obs, online: NDArray[np.int64], free: NDArray[np.int64]
) -> tuple[LocatedShot, NDArray[np.int64]] | None:
    """The shot of three pulses heard on time whose other sensors heard it late
    (:func:`_three_on_time`), with those late pulses among ``free``, or None."""
    cfg, spos, psens, pt = ob.cfg, ob.spos, ob.psens, ob.pt
    sp = spos[psens[tri]]
    snr = ob.psnr[tri]
    if np.any(snr != 0) and _median(snr) < cfg.min_median_snr_db:
        return None
    fix, t_ref, ok = _triple_points(tri, ob)
    out: list[tuple[int, float, int, NDArray[np.int64]]] = []
    free = free[~np.isin(psens[free], psens[tri])]
    for r in ok:
        pos, t0 = fix.pos[r], float(fix.t0[r]) + t_ref
        if _near_heard(pos, t0, 3, ob, online) < 1.0:
            continue
        res = pt[free] - t0 - ob.tt(pos, spos[psens[free]])
        near = np.abs(res) <= cfg.three_late_max_s
        if np.any(near & (res < cfg.three_late_min_s)):
            continue  # on time (a set the association judged) or before the source
        late = free[near]
        late = late[np.unique(psens[late], return_index=True)[1]]
        if late.size < cfg.three_late_min_sensors:
            continue
        centre = float(np.linalg.norm(sp[:, :2].mean(axis=0) - pos[:2]))
        out.append((late.size, -centre, r, late))
    if not out:
        return None  # (the most late sensors, then the point nearer the middle)
    _, _, r, late = max(out, key=lambda o: (o[0], o[1]))
    return _root_shot(tri, fix, t_ref, r, ob), late


def _repeats(p: LocatedShot, ob: _Obs, need: int) -> list[tuple[NDArray[np.int64], float]]:
    """The other rounds (pulses and origin time) repeating ``p``'s arrival pattern at
    ``need`` sensors or more (:func:`_pattern_times`, :func:`_template_match`), whoever
    holds their pulses."""
    at, tau, sig_a = _pattern_times(p, ob)
    taken = np.zeros(at.size, dtype=bool)
    out: list[tuple[NDArray[np.int64], float]] = []
    while True:
        found = _template_match(at, tau, taken, need, ob.psens, ob.psig, sig_a, ob.psnr, ob.cfg)
        if found is None:
            return out
        taken[np.isin(at, found[0])] = True
        out.append(found)


def _repeat_places(
    shots: list[LocatedShot],
    hypotheses: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """A place whose arrival pattern repeats, found by the search but not kept, takes its
    rounds back from shots whose own patterns repeat nowhere (mixtures of its rounds).

    Where a burst's sensors lie in two clusters, a round's arrivals at one cluster and
    the next round's at the other fit a point further along the line between them, as
    exactly as a round fits its place (a common shift of one cluster is a move along
    that line), and tighter than the true round when its arrivals include a late path:
    the greedy acceptance then keeps the mixtures, and the true rounds, left without
    their pulses, are not found. But the true place's pattern repeats at every round
    fired there, while a mixture of rounds fired at an irregular cadence repeats at
    none. So each well-heard candidate (``repeat_place_sensors``) of the search that
    no shot stands for, whose pattern ``repeat_place_rounds`` other rounds repeat (at
    ``repeat_place_share`` of its sensors; the most repeated first, then the tightest),
    dissolves the shots made mostly of those rounds' pulses whose own patterns repeat
    nowhere, with the shots that are its own round or one of its rounds from part of
    their pulses, and stands, its rounds then located relative to it
    (:func:`_claim_round`; not those mostly in a louder impulse's coda,
    :func:`_coda`). Unless its pulses stay with some other shot, or it is an image
    source: an echo ghost of a kept shot (:func:`_is_echo_ghost`), or a place whose
    rounds each trail a kept shot by one delay (:func:`_trails_rounds`: a wall's image
    of a gun repeats with the gun)."""
    cfg = ob.cfg
    places: list[tuple[LocatedShot, int, list[tuple[NDArray[np.int64], float]]]] = []
    seen: list[NDArray[np.int64]] = []
    for p in sorted(hypotheses, key=lambda o: (-len(o.pulses), o.scale)):
        if any(np.mean(np.isin(p.pulses, o.pulses)) >= 0.8 for o in shots):
            continue  # a shot stands for it
        if any(np.array_equal(p.pulses, d) for d in seen):
            continue
        seen.append(p.pulses)
        if len(seen) > cfg.repeat_place_max:
            break
        need = max(cfg.min_sensors, math.ceil(cfg.repeat_place_share * len(p.pulses)))
        rounds = _repeats(p, ob, need)
        if len(rounds) >= cfg.repeat_place_rounds:
            places.append((p, need, rounds))
    places.sort(key=lambda x: (-len(x[2]), x[0].scale))
    for p, need, rounds in places:
        if any(np.mean(np.isin(p.pulses, o.pulses)) >= 0.8 for o in shots):
            continue  # a place taken before stands for it now
        each = [p.pulses, *(m for m, _ in rounds)]
        union = np.concatenate(each)
        mixtures: set[int] = set()
        same: set[int] = set()
        for o in shots:
            share = np.isin(o.pulses, union)
            if 2 * int(share.sum()) <= len(o.pulses):
                continue
            if abs(o.t0 - p.t0) < cfg.min_cycle_s and np.any(np.isin(o.pulses, p.pulses)):
                same.add(id(o))  # the place's own round, from fewer or other pulses
                continue
            if any(np.mean(np.isin(o.pulses, m)) >= 0.8 for m in each):
                continue  # one of the place's rounds
            if _same_pattern(o, p, ob, partial=True):
                same.add(id(o))  # a round of the place from part of its pulses
                continue
            # (at the share of the smaller of the two: a round heard more widely than the
            # candidate repeats at fewer sensors than it was heard by, each round being
            # heard by a different subset)
            small = min(len(o.pulses), len(p.pulses))
            own = max(cfg.min_sensors, math.ceil(cfg.repeat_place_share * small))
            if _repeats(o, ob, own):
                continue  # a place of its own
            mixtures.add(id(o))
        if not mixtures:
            continue
        gone = mixtures | same
        freed = assigned.copy()
        for o in shots:
            if id(o) in gone:
                _release(o, freed)
        if np.any(freed[p.pulses]):
            continue  # its pulses stay with a shot that is neither (or its late arrivals)
        kept = [o for o in shots if id(o) not in gone]
        if _is_echo_ghost(p, kept, ob) or _trails_rounds([p.t0, *(t for _, t in rounds)], kept, ob):
            continue  # an image source repeats with every round of the gun it reflects
        _drop(shots, gone, assigned)
        place = replace(p, echoes=[])
        assigned[place.pulses] = True
        place.echoes.extend(_absorb(place, ob, assigned))
        shots.append(place)
        protected: dict[int, LocatedShot] = {}
        group: list[tuple[LocatedShot, NDArray[np.float64], bool]] = [(place, np.zeros(3), True)]
        for members, t_r in rounds:
            free = members[~assigned[members]]
            if free.size < need or 2 * int(np.sum(_coda(free, group, ob))) > free.size:
                continue
            got = _claim_round(free, t_r, place, shots, ob, assigned, need, protected)
            if got is not None:
                protected[id(got[0])] = got[0]
                group.append(got)
    shots.sort(key=lambda o: o.t0)


def _trails_rounds(times: list[float], shots: list[LocatedShot], ob: _Obs) -> bool:
    """Whether all but one of the origin times ``times`` (two at least) trail shots of
    ``shots`` by one common lag, up to ``ghost_window_s``, to ``2 * template_tol_s``:
    the image source of a wall, or a gun's reverberant tail, repeats with every round
    of the gun it reflects, after the same delay."""
    cfg = ob.cfg
    t = np.sort([o.t0 for o in shots])
    tau = np.asarray(times, dtype=float)
    lags = (tau[:, None] - t[None, :]).ravel()
    lags = lags[(lags > 0) & (lags <= cfg.ghost_window_s)]
    tol = 2.0 * cfg.template_tol_s
    for lag in lags:
        lo = np.searchsorted(t, tau - lag - tol, side="left")
        hi = np.searchsorted(t, tau - lag + tol, side="right")
        hit = int(np.count_nonzero(hi > lo))
        if hit >= 2 and hit >= tau.size - 1:
            return True
    return False


def _pattern(anchor: LocatedShot, ob: _Obs) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A shot's arrival pattern per sensor index: each arrival less the origin time (NaN
    at sensors it was not heard at) and the arrival's pick sigma (zero there)."""
    n_s = ob.spos.shape[0]
    travel = np.full(n_s, np.nan)
    travel[ob.psens[anchor.pulses]] = ob.pt[anchor.pulses] - anchor.t0
    sig_a = np.zeros(n_s)
    sig_a[ob.psens[anchor.pulses]] = ob.psig[anchor.pulses]
    return travel, sig_a


def _moves(a: LocatedShot, b: LocatedShot, cfg: AssociationConfig) -> bool:
    """Whether one shooter could have fired ``a`` and then ``b`` on the move: between
    ``min_cycle_s`` and ``burst_window_s`` apart, and ``track_min_m`` to
    ``max_speed_mps`` x that interval apart in place (a track)."""
    dt = b.t0 - a.t0
    d = float(np.linalg.norm(b.pos[:2] - a.pos[:2]))
    return (
        cfg.min_cycle_s <= dt <= cfg.burst_window_s
        and cfg.track_min_m <= d <= cfg.max_speed_mps * dt
    )


def _track_few_rounds(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Rounds of a moving shooter heard by too few sensors to locate, matched to the
    arrival pattern of a round beside them on the track, moved along it.

    :func:`_template_rounds` matches a round to its place's own arrival pattern, blocked
    paths and all; a moving shooter's next round is fired metres away, where every
    sensor's travel time differs. Two established shots (``template_few_anchor_sensors``
    or more, not mostly coda), ``min_cycle_s`` to ``burst_window_s`` apart and
    ``track_min_m`` to ``max_speed_mps`` x their interval apart, the later one the next
    such shot after the earlier (a shot between that fits no such move, a mixture tens
    of metres off, does not break the track), give a velocity v. A round fired at time
    t from ``x(t) = x_a + v (t - t_a)`` reaches a sensor that heard the anchor ``a`` at
    ``a``'s arrival there, shifted by ``t - t_a`` and by the change of the straight-path
    travel time from ``x_a`` to ``x(t)`` (a diffracted path's extra delay changes
    little over a few metres), so each free pulse at such a sensor implies an origin
    time t (solved by fixed-point iteration: the shift changes by at most v / c of t).
    Pulses at ``template_few_sensors`` or more sensors agreeing on one within
    ``template_tol_s`` are a round, put on the track at ``x(t)`` between the two shots,
    or within ``track_few_window_s`` before a track's first shot or after its last one,
    when it passes the tests of a few-sensor round at a place (:func:`_few_round`: about
    as loud as the anchor where both were heard, no sensor that missed it heard the
    anchor clearly louder, no shot within a weapon's cycle at its place, no wall's
    re-radiation of another shot), and is not mostly the coda of other impulses. The
    earlier shot's pattern is tried first, then the later one's."""
    psens, pt, cfg = ob.psens, ob.pt, ob.cfg
    dominated = ob.dominated
    est = sorted(
        (
            o
            for o in shots
            if len(o.pulses) >= cfg.template_few_anchor_sensors
            and float(np.mean(dominated[o.pulses])) <= cfg.max_dominated_share
        ),
        key=lambda o: o.t0,
    )
    w = cfg.track_few_window_s

    # each shot with the next one a shooter could have moved to (a shot in between that
    # fits no such move, a mixture tens of metres off, does not break the track)
    nexts = (
        (a, next((b for b in est[i + 1 :] if _moves(a, b, cfg)), None)) for i, a in enumerate(est)
    )
    pairs = [(a, b) for a, b in nexts if b is not None]
    ends = {id(b) for _, b in pairs}
    starts = {id(a) for a, _ in pairs}
    for a, b in pairs:
        v = np.zeros(3)
        v[:2] = (b.pos[:2] - a.pos[:2]) / (b.t0 - a.t0)
        before = 0.0 if id(a) in ends else w
        after = 0.0 if id(b) in starts else w
        windows = ((a, a.t0 - before, b.t0), (b, a.t0, b.t0 + after))
        for anchor, lo, hi in windows:
            if not any(anchor is o for o in shots):
                continue
            travel, sig_a = _pattern(anchor, ob)
            at = np.flatnonzero(np.isfinite(travel[psens]) & ~assigned)
            if np.unique(psens[at]).size < cfg.template_few_sensors:
                continue
            rcv = ob.spos[psens[at]]
            base = ob.tt(anchor.pos, rcv)
            tau = pt[at] - travel[psens[at]]
            for _ in range(3):  # t = pt - travel_a - (tt(x(t)) - tt(x_a))
                moved = anchor.pos + v * (tau - anchor.t0)[:, None]
                shift = _tt(moved, rcv, ob.c, ob.wind, pairs=True) - base
                tau = pt[at] - travel[psens[at]] - shift
            keep = (tau >= lo) & (tau <= hi) & (np.abs(tau - anchor.t0) >= cfg.min_cycle_s)
            at, tau = at[keep], tau[keep]
            group: list[tuple[LocatedShot, NDArray[np.float64], bool]] = [
                (anchor, np.zeros(3), True)
            ]
            taken = assigned[at].copy()
            _few_rounds(at, tau, taken, sig_a, group, shots, ob, assigned, velocity=v)
    shots.sort(key=lambda s: s.t0)


def _track_mixtures(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Few-sensor shots off a moving shooter's track, dissolved when the track's rounds
    take their pulses back.

    Two rounds of a moving shooter a few hundred milliseconds apart, each heard on time
    by four or five sensors, mix: one round's arrivals at some sensors and the next
    one's at the others fit a point exactly (four arrivals fit a free source), tens to
    hundreds of metres off the track, and two such mixtures hold both rounds' pulses,
    so neither :func:`_track_rounds` nor :func:`_track_few_rounds` finds them free (the
    suite's moving shooters: mixtures 67 and 220 m off a track at 15 m/s). As
    :func:`_repeat_places` does for a place whose pattern repeats: a track through two
    consecutive shots heard by more than ``min_sensors`` (:func:`_moves`, as in
    :func:`_track_rounds`) makes every shot of ``min_sensors`` + 1 arrivals or fewer
    within ``burst_window_s`` of it and more than ``track_mixture_m`` off it at its time
    a suspect; the track's rounds are sought again with the suspects' pulses free, and
    the result is kept when its new rounds hold at least half as many pulses as the
    suspects they took pulses from (a fit of ``min_sensors`` arrivals is exact and one of
    five has a single residual to judge it by, so a suspect holds little evidence of its
    own, while a round on the track is held to the track's place; a suspect they took
    nothing from stands as it was)."""
    cfg = ob.cfg
    est = sorted((o for o in shots if len(o.pulses) > cfg.min_sensors), key=lambda o: o.t0)
    for a, b in pairwise(est):
        live = {id(o) for o in shots}  # (an earlier trial may have replaced them)
        if id(a) not in live or id(b) not in live or not _moves(a, b, cfg):
            continue
        v = (b.pos[:2] - a.pos[:2]) / (b.t0 - a.t0)
        lo, hi = a.t0 - cfg.burst_window_s, b.t0 + cfg.burst_window_s
        suspects = [
            o
            for o in shots
            if len(o.pulses) <= cfg.min_sensors + 1
            and lo <= o.t0 <= hi
            and float(np.linalg.norm(o.pos[:2] - b.pos[:2] - v * (o.t0 - b.t0)))
            > cfg.track_mixture_m
        ]
        if not suspects:
            continue
        trial_assigned = assigned.copy()
        for o in suspects:
            _release(o, trial_assigned)
        out = {id(o) for o in suspects}
        trial = [o for o in shots if id(o) not in out]
        kept = {id(o) for o in trial}
        _track_rounds(trial, ob, trial_assigned)
        _track_few_rounds(trial, ob, trial_assigned)
        new = [o for o in trial if id(o) not in kept]
        taken = np.zeros_like(assigned)
        for o in new:
            taken[o.pulses] = True
        # the suspects none of whose pulses the track's rounds took stand as they were
        back = [o for o in suspects if not np.any(taken[o.pulses])]
        gone = [o for o in suspects if np.any(taken[o.pulses])]
        if not gone or 2 * sum(len(o.pulses) for o in new) < sum(len(o.pulses) for o in gone):
            continue
        for o in back:
            trial_assigned[o.pulses] = True
            trial_assigned[np.asarray(o.echoes, dtype=np.int64)] = True
        shots[:] = sorted(trial + back, key=lambda o: o.t0)
        assigned[:] = trial_assigned


def _few_rounds(
    at: NDArray[np.int64],
    tau: NDArray[np.float64],
    taken: NDArray[np.bool_],
    sig_a: NDArray[np.float64],
    group: list[tuple[LocatedShot, NDArray[np.float64], bool]],
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
    *,
    below: int | None = None,
    velocity: NDArray[np.float64] | None = None,
) -> list[LocatedShot]:
    """The rounds of ``template_few_sensors`` or more free pulses among ``at`` (not
    ``taken``; marked as tried) agreeing on an origin time ``tau`` implied by the pattern
    of ``group``'s first shot (the anchor; pick sigmas ``sig_a`` per sensor), each put
    by :func:`_few_round` at the anchor's place, or with a ``velocity`` where the
    shooter's track puts it then, and appended to ``group``; a set of ``below`` or more
    sensors (refused as a full match) or mostly coda (:func:`_coda`) is no such round,
    unless the place fired twice (:func:`_fired_twice`) and its rounds are that much
    weaker than the leading impulse at those sensors (``shadowed``)."""
    cfg = ob.cfg
    anchor = group[0][0]
    out: list[LocatedShot] = []
    twice: bool | None = None
    while True:
        found = _template_match(
            at, tau, taken | assigned[at], cfg.template_few_sensors, ob.psens, ob.psig, sig_a,
            ob.psnr, cfg,
        )  # fmt: skip
        if found is None:
            return out
        members, t_r = found
        taken[np.isin(at, members)] = True
        if twice is None:
            twice = _fired_twice(anchor, shots, ob)
        if (below is not None and members.size >= below) or 2 * np.sum(
            _coda(members, group, ob, shadowed=twice)
        ) > members.size:
            continue
        place = None if velocity is None else anchor.pos + velocity * (t_r - anchor.t0)
        fr = _few_round(members, t_r, anchor, shots, ob, assigned, place=place)
        if fr is not None:
            group.append((fr, np.zeros(3), False))
            out.append(fr)


def _coda(
    members: NDArray[np.int64],
    group: list[tuple[LocatedShot, NDArray[np.float64], bool]],
    ob: _Obs,
    *,
    shadowed: bool = False,
) -> NDArray[np.bool_]:
    """Per pulse of ``members``: whether it trails, at its sensor and within
    ``coda_window_s``, a pulse at least ``coda_drop_db`` stronger that is not one of the
    place's rounds (``group``, as :func:`_template_rounds` builds it): the coda of some
    other loud impulse (:func:`_dominated`). A round of the same gun is no such impulse:
    in an automatic burst (a round every 60-100 ms) each round's arrival trails several
    earlier rounds within the coda window, and with the few decibels a round's level
    varies by at a sensor one of them is often 6 dB louder.

    With ``shadowed`` (the place fired from twice, :func:`_fired_twice`: a second gun
    repeating its own pattern), a pulse is coda only when its leader is not also
    ``coda_drop_db`` louder than the place's anchor at that sensor: a gun heard there
    that much under a louder one always trails it within its coda when they fire close
    together, so trailing it says nothing against the round, whose pattern and level
    :func:`_few_round` still check."""
    cfg = ob.cfg
    out = ob.dominated[members].copy()
    if not np.any(out):
        return out
    # the scan of :func:`_dominated` over every pulse but the place's rounds'
    other = np.ones(ob.pt.shape[0], dtype=bool)
    other[np.concatenate([g[0].pulses for g in group])] = False
    other[members] = True
    keep = np.flatnonzero(other)
    at = np.searchsorted(keep, members[out])
    lead = _louder_before(
        at, ob.psens[keep], ob.pt[keep], ob.psnr[keep], 0.0, cfg.coda_window_s, cfg.coda_drop_db
    )
    if shadowed:
        a_idx = _anchor_pulse_at(group[0][0], members[out], ob)
        led = lead[at]
        louder = np.zeros(led.shape[0], dtype=bool)
        ok = (led >= 0) & (a_idx >= 0)
        louder[ok] = ob.psnr[keep[led[ok]]] >= ob.psnr[a_idx[ok]] + cfg.coda_drop_db
        out[out] = (led >= 0) & ~louder
        return out
    out[out] = lead[at] >= 0
    return out


def _one_place(group: list[tuple[LocatedShot, NDArray[np.float64], bool]], ob: _Obs) -> None:
    """Rounds matched to one place's template share that place: each entry is a round,
    its horizontal move relative to the anchor (the first entry, move zero) and whether
    its own fix is independent of the anchor's. The place is the median of the
    independent fixes less their moves (their errors average out; a round located
    from few, diffracted arrivals would otherwise split off as a second shooter), and
    every round is put at the place plus its move, its origin time following."""
    indep = [(o.pos - move) for o, move, own in group if own]
    if len(indep) < 2:
        return
    place = np.median(np.array(indep), axis=0)
    for o, move, _ in group:
        new = place + move
        sens = ob.spos[ob.psens[o.pulses]]
        o.t0 += float(np.median(ob.tt(o.pos, sens) - ob.tt(new, sens)))
        o.pos = new
        o.residual = ob.pt[o.pulses] - o.t0 - ob.tt(new, sens)


def _few_round(
    members: NDArray[np.int64],
    t_r: float,
    anchor: LocatedShot,
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
    *,
    place: NDArray[np.float64] | None = None,
) -> LocatedShot | None:
    """A round heard by ``template_few_sensors`` or more sensors but fewer than a match
    needs (:func:`_template_rounds`), its free pulses ``members`` matching ``anchor``'s
    arrival pattern at origin time ``t_r``: put at the anchor's place (or at ``place``,
    where a moving shooter's track puts it: :func:`_track_few_rounds`), or None.

    Three arrivals fix no place of their own (with the height known they fit one or two
    points exactly), but a place where the gun was heard by four or more sensors is
    known (``template_few_anchor_sensors``), and three free pulses agreeing with its
    pattern to ``template_tol_s`` by chance are rare (a sensor of a ten-round burst holds
    a pulse within 3 ms of a given time about once in seventy). They must be heard
    where the place is heard best (no sensor missing the round heard the anchor
    ``few_level_margin_db`` louder than a sensor that heard it), be about as loud as the
    anchor's there, fall no closer than ``min_cycle_s`` to another shot at the place,
    and not be a wall's re-radiation of another shot (:func:`_reradiated`)."""
    cfg = ob.cfg
    pos = anchor.pos if place is None else place
    a_idx = _anchor_pulse_at(anchor, members, ob)
    if float(np.median(_level_drop(members, a_idx, ob))) < -cfg.round_drop_db:
        return None
    # Only the sensors that heard the place best may hear a round while the rest miss it:
    # a sensor that heard the anchor louder than a member did (beyond level scatter)
    # would have heard this round too.
    missing = ~np.isin(ob.psens[anchor.pulses], ob.psens[members])
    if (
        np.any(missing)
        and float(np.max(ob.psnr[anchor.pulses][missing]))
        > float(np.min(ob.psnr[a_idx])) + cfg.few_level_margin_db
    ):
        return None
    for o in shots:
        near = float(np.linalg.norm(o.pos[:2] - pos[:2])) < cfg.same_place_m
        if near and abs(o.t0 - t_r) < cfg.min_cycle_s:
            return None
    if _reradiated(t_r, pos, anchor, shots, members.size, ob):
        return None
    sens = ob.spos[ob.psens[members]]
    tt_here = ob.tt(pos, sens)
    res = ob.pt[members] - t_r - tt_here
    rel = ob.pt[members] - ob.pt[a_idx]
    if place is not None:  # the move's change of each straight path
        rel = rel - (tt_here - ob.tt(anchor.pos, sens))
    rel_res = rel - float(np.median(rel))
    shot = LocatedShot(
        pulses=np.asarray(members, dtype=np.int64),
        pos=pos.copy(),
        t0=t_r,
        cov=anchor.cov.copy(),
        error_radius=anchor.error_radius,
        scale=max(anchor.scale, float(np.sqrt(np.mean(rel_res**2)))),
        residual=res,
    )
    assigned[shot.pulses] = True
    shot.echoes.extend(_absorb(shot, ob, assigned))
    shots.append(shot)
    return shot


def _anchor_pulse_at(
    anchor: LocatedShot, members: NDArray[np.int64], ob: _Obs
) -> NDArray[np.int64]:
    """The anchor's pulse at the sensor of each of ``members`` (-1 where it has none)."""
    at_sensor = np.full(ob.spos.shape[0], -1, dtype=np.int64)
    at_sensor[ob.psens[anchor.pulses]] = anchor.pulses
    return np.asarray(at_sensor[ob.psens[members]], dtype=np.int64)


def _level_drop(i: NDArray[np.int64], j: NDArray[np.int64], ob: _Obs) -> NDArray[np.float64]:
    """How much weaker each pulse ``i`` is than pulse ``j`` at the same sensor, dB: the
    SNR's drop, or the peak level's where both peaks are known and it is the smaller.
    A round fired in the reverberation of the one before reads a lower SNR (the noise
    before its onset holds that coda: the real live fire's three-round groups read
    10-20 dB down at every sensor) though it is as loud; and a clipped peak hides how
    much louder the first round was. Either measure showing it about as loud is
    enough."""
    drop = ob.psnr[i] - ob.psnr[j]
    if ob.ppeak.size == 0:
        return drop
    peak = ob.ppeak[i] - ob.ppeak[j]
    return np.where(np.isfinite(peak), np.maximum(drop, peak), drop)


def _reradiated(
    t0: float,
    pos: NDArray[np.float64],
    anchor: LocatedShot,
    shots: list[LocatedShot],
    n_sensors: int,
    ob: _Obs,
) -> bool:
    """Whether a "round" fired at ``pos`` at ``t0`` is a wall there re-radiating another
    shot's sound as it arrives (to within ``template_tol_s``): only a shot heard by at
    least ``n_sensors`` and fitting about as tightly as the place's ``anchor`` counts (a
    loose mixture tens of metres off says nothing about where sound was when)."""
    for o in shots:
        if (
            o is not anchor
            and len(o.pulses) >= n_sensors
            and o.scale <= 1.5 * anchor.scale + 1e-3
            and o.t0 < t0
        ):
            reach = o.t0 + float(np.linalg.norm(pos - o.pos)) / ob.c
            if abs(t0 - reach) < ob.cfg.template_tol_s:
                return True
    return False


def _template_match(
    at: NDArray[np.int64],
    tau: NDArray[np.float64],
    taken: NDArray[np.bool_],
    need: int,
    psens: NDArray[np.int64],
    psig: NDArray[np.float64],
    sig_a: NDArray[np.float64],
    psnr: NDArray[np.float64],
    cfg: AssociationConfig,
) -> tuple[NDArray[np.int64], float] | None:
    """The origin time (implied by the template, ``tau``) shared by the most distinct
    sensors among the pulses ``at`` not ``taken``, and per sensor the pulse nearest to
    it; None when fewer than ``need`` sensors agree."""
    free = np.flatnonzero(~taken)
    if free.size < need:
        return None
    order = free[np.argsort(tau[free], kind="stable")]
    ts, ss = tau[order], psens[at[order]]
    tol = np.maximum(cfg.template_tol_s, 3.0 * np.hypot(psig[at[order]], sig_a[ss]))
    lo = np.searchsorted(ts, ts - cfg.template_tol_s, side="left")
    hi = np.searchsorted(ts, ts + cfg.template_tol_s, side="right")
    best = _k_window_best(
        np.ascontiguousarray(ss), np.ascontiguousarray(psnr[at[order]]), lo, hi, need,
        int(psens.max()) + 1,
    )  # fmt: skip
    if best < 0:
        return None
    centre = float(np.median(ts[lo[best] : hi[best]]))
    pick = _closest_per_sensor(ss, ts - centre, tol)
    if pick.size < need:
        return None
    return np.asarray(at[order[pick]], dtype=np.int64), centre


def _agrees(
    own: LocatedShot,
    members: NDArray[np.int64],
    a_idx: NDArray[np.int64],
    anchor: LocatedShot,
    ob: _Obs,
) -> bool:
    """Whether ``own``'s fix explains the round's ``members`` as the anchor's explains
    the anchor's pulses at the same sensors (``a_idx``): their residuals, each path's
    own delay cancelling between the two, agree to ``template_tol_s`` in the median. A
    fix of a mixture with another round's pulses, its origin time tens of milliseconds
    off, leaves the members a common offset that large."""
    s = ob.spos[ob.psens[members]]
    r_own = ob.pt[members] - own.t0 - ob.tt(own.pos, s)
    r_anchor = ob.pt[a_idx] - anchor.t0 - ob.tt(anchor.pos, s)
    return float(np.median(np.abs(r_own - r_anchor))) <= ob.cfg.template_tol_s


def _claim_round(
    members: NDArray[np.int64],
    t_r: float,
    anchor: LocatedShot,
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
    need: int,
    protected: dict[int, LocatedShot],
) -> tuple[LocatedShot, NDArray[np.float64], bool] | None:
    """Locate the round of ``members`` (one pulse per sensor, matching ``anchor``'s
    arrival pattern at origin time ``t_r``) relative to ``anchor`` and let it take its
    pulses (:func:`_template_rounds`), or None.

    Pulses held by a ``protected`` shot (a round found so) or by a shot heard by more
    sensors and fitting as tightly as the anchor stay there; the round needs ``need``
    sensors without them. Relative location: at each sensor the round's arrival minus
    the anchor's is ``dt - u . d / c`` for a source moved by ``d`` (horizontal; ``u``
    the unit vector toward the sensor) and fired ``dt`` later, solved by least squares;
    the path's own delay cancels, so the round inherits the anchor's error plus picking
    noise only. A round already located on its own from ``template_anchor_sensors`` or
    more keeps its own (independent) fix where that fix agrees with the anchor's
    (:func:`_agrees`). Returns the round, its move and whether its
    fix is independent of the anchor's."""
    psens, pt, cfg = ob.psens, ob.pt, ob.cfg
    holders = [o for o in shots if o is not anchor and np.any(np.isin(o.pulses, members))]
    keep = np.ones(members.size, dtype=bool)
    for o in holders:
        if id(o) in protected or (len(o.pulses) > members.size and o.scale <= anchor.scale):
            keep &= ~np.isin(members, o.pulses)
    members = members[keep]
    if members.size < need:
        return None
    holders = [o for o in holders if np.any(np.isin(o.pulses, members))]
    a_idx = _anchor_pulse_at(anchor, members, ob)
    drop = _level_drop(members, a_idx, ob)
    if float(np.median(drop)) < -cfg.round_drop_db:
        return None  # the same gun at the same place is as loud each round; coda is not
    rel = pt[members] - pt[a_idx]
    toward = ob.spos[psens[members], :2] - anchor.pos[:2]
    u = toward / np.maximum(np.linalg.norm(toward, axis=1, keepdims=True), 1e-9)
    design = np.column_stack([np.ones(members.size), -u / ob.c])
    # Sensors on one side of the place see a move toward them as one common shift: a
    # coincidence there matches the template however far the source is. The members
    # must surround the place well enough to tell a move of metres (horizontal sigma
    # at 1 ms of timing noise within ``template_move_m`` / 2), and the move must stay
    # within ``template_move_m``.
    normal = design.T @ design
    if np.linalg.cond(normal) > 1e12:
        return None
    spread = 1e-3 * float(np.sqrt(np.trace(np.linalg.inv(normal)[1:, 1:])))
    sol, *_ = np.linalg.lstsq(design, rel, rcond=None)
    move = np.array([sol[1], sol[2], 0.0])
    if spread > cfg.template_move_m / 2 or float(np.linalg.norm(move)) > cfg.template_move_m:
        return None
    pos = anchor.pos + move
    t0 = anchor.t0 + float(sol[0])
    # a wall at the place re-radiating another shot's sound is no round
    if _reradiated(t0, pos, anchor, shots, members.size, ob):
        return None
    same = [
        o
        for o in holders
        if abs(o.t0 - t0) < cfg.min_cycle_s
        and float(np.linalg.norm(o.pos[:2] - anchor.pos[:2])) < cfg.same_place_m
    ]
    # the same round located from fewer pulses: its pulses at other sensors stay with it
    heard = set(psens[members].tolist())
    extra = [int(p) for o in same for p in o.pulses if int(psens[p]) not in heard]
    pulses = np.unique(np.concatenate([members, np.asarray(extra, dtype=np.int64)]))
    pulses = pulses[np.unique(psens[pulses], return_index=True)[1]]
    rel_res = rel - design @ sol
    own = same[0] if len(same) == 1 else None
    # Located well on its own already, from the round's own pulses (a fix holding a
    # minority of them is of a mixture with other rounds' pulses, its origin time tens
    # of milliseconds off).
    independent = (
        own is not None
        and len(own.pulses) >= cfg.template_anchor_sensors
        and 2 * int(np.isin(own.pulses, members).sum()) > len(own.pulses)
        and _agrees(own, members, a_idx, anchor, ob)
    )
    if own is not None and independent:  # (both, for the type checker)
        # Its fix is independent of the anchor's (the errors average out over the
        # rounds: :func:`_one_place`).
        pos, t0, cov, radius, scale = own.pos, own.t0, own.cov, own.error_radius, own.scale
    else:
        cov, radius = anchor.cov.copy(), anchor.error_radius
        scale = max(anchor.scale, float(np.sqrt(np.mean(rel_res**2))))
    shot = LocatedShot(
        pulses=np.asarray(pulses, dtype=np.int64),
        pos=pos,
        t0=t0,
        cov=cov,
        error_radius=radius,
        scale=scale,
        residual=pt[pulses] - t0 - ob.tt(pos, ob.spos[psens[pulses]]),
    )
    gone = {id(o) for o in holders}
    shots[:] = [o for o in shots if id(o) not in gone]
    for o in holders:
        _release(o, assigned)
    assigned[shot.pulses] = True
    mine = set(shot.pulses.tolist())
    for o in shots:  # a pulse of the round explained as another shot's echo is not
        if o.echoes:
            o.echoes = [e for e in o.echoes if e not in mine]
    for o in holders:
        if any(o is x for x in same):
            continue
        rest = o.pulses[~assigned[o.pulses]]
        if rest.size <= cfg.min_sensors:  # four arrivals fit some source whatever they are
            continue
        again, ok = _fit_shot(rest, o.pos, o.t0, ob)
        if ok and len(again.pulses) >= cfg.min_sensors and again.scale <= 1.5 * o.scale + 1e-3:
            assigned[again.pulses] = True
            again.echoes.extend(_absorb(again, ob, assigned))
            shots.append(again)
    shot.echoes.extend(_absorb(shot, ob, assigned))
    shots.append(shot)
    return shot, move, independent


def _track_rounds(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Rounds where a moving shooter's track leads.

    Two established shots (more than ``min_sensors`` each) consecutive in time, between
    ``min_cycle_s`` and ``burst_window_s`` apart and ``track_min_m`` to
    ``max_speed_mps`` x their interval apart in place, define a constant-velocity track
    x(t) = x_b + v (t - t_b) (a person running, a car driving by). A round 12 m or more
    from every established place is not found from any of them (its pulses agree on no
    origin time there); the track predicts its place: every ``track_step_s`` along
    the track, forward from the later shot and back from the earlier one, the free
    pulses are re-fitted at the predicted place with the origin time held to that step
    (:func:`_refit_at`; within a step the shooter moves at most ``max_speed_mps`` x
    ``track_step_s`` / 2, well inside the re-fit's tolerance). A round found so passes
    the same tests as one found at a known place (:func:`_more_rounds`), and new rounds
    extend the track in turn. Two shooters trading shots a fraction of a second apart
    jump faster than any vehicle and make no track."""
    cfg = ob.cfg
    step = cfg.track_step_s
    # Pairs already tried, by identity, holding the shots (a pair dropped from ``shots``
    # must not lend its ids to new shots: see :func:`_template_rounds`).
    done: dict[tuple[int, int], tuple[LocatedShot, LocatedShot]] = {}
    while True:
        est = sorted((o for o in shots if len(o.pulses) > cfg.min_sensors), key=lambda o: o.t0)
        grew = False
        for a, b in pairwise(est):
            if (id(a), id(b)) in done:
                continue
            done[(id(a), id(b))] = (a, b)
            if not _moves(a, b, cfg):
                continue
            dt = b.t0 - a.t0
            v = np.zeros(3)
            v[:2] = (b.pos[:2] - a.pos[:2]) / dt
            for ref, sign in ((b, 1.0), (a, -1.0)):
                k = 1
                while k * step <= cfg.burst_window_s:
                    t_c = ref.t0 + sign * k * step
                    virt = replace(ref, pos=ref.pos + v * (t_c - ref.t0))
                    k += 1
                    shot = _refit_at(virt, ob, assigned, t_c - step / 2, t_c + step / 2)
                    if shot is None:
                        continue
                    if _weak_round(shot, ref, ob) or _too_close(shot, shots, cfg):
                        continue
                    assigned[shot.pulses] = True
                    shot.echoes.extend(_absorb(shot, ob, assigned))
                    shots.append(shot)
                    grew = True
        if not grew:
            break


def _repeated(
    doubtful: list[LocatedShot],
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> None:
    """Few-sensor candidates refused only because sensors near them heard nothing
    (``doubtful``; every other test passed) stand when the same place fires again.

    Among buildings a gun's nearest sensors may be screened off entirely while sensors
    further out hear it over open or diffracted paths, so the nearest-sensor test of
    :func:`_plausible` refuses some true shots heard by few sensors. What that test
    guards against is a chance coincidence of unrelated pulses, and such a coincidence
    does not repeat at one place: a doubtful candidate (most sensors, tightest first,
    fitted from more arrivals than unknowns, i.e. more than ``min_sensors``: four
    arrivals fit some source whatever they are, and on the live-fire recordings two
    such sets of coda pulses 370 m from the gun "repeated"; its pulses still free, no
    round already there, no echo ghost) stands with a second
    round re-fitted at its place within ``burst_window_s`` from the free pulses
    (:func:`_refit_at`), itself no ghost and heard by at least half as many sensors or
    as loud (:func:`_as_loud`), as any round from a known place must be
    (:func:`_more_rounds`, which then finds any further rounds there)."""
    cfg = ob.cfg
    for d in sorted(doubtful, key=lambda o: (-len(o.pulses), o.scale)):
        if len(d.pulses) <= cfg.min_sensors or np.any(assigned[d.pulses]):
            continue  # (four arrivals fit some source whatever they are)
        if _too_close(d, shots, cfg) or _is_echo_ghost(d, shots, ob):
            continue
        assigned[d.pulses] = True
        again = _refit_at(d, ob, assigned, d.t0 - cfg.burst_window_s, d.t0 + cfg.burst_window_s)
        if (
            again is None
            or _too_close(again, [*shots, d], cfg)
            or _is_echo_ghost(again, [*shots, d], ob)
            or (2 * len(again.pulses) < len(d.pulses) and not _as_loud(again, d, ob))
        ):
            assigned[d.pulses] = False
            continue
        assigned[again.pulses] = True
        for o in (d, again):
            o.echoes.extend(_absorb(o, ob, assigned))
            shots.append(o)


def _resolve_ambiguous(
    shots: list[LocatedShot],
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> int:
    """Shots heard by few sensors (<= ``ambiguous_max_sensors``, or at most half as many
    as a credible shot of their burst) fit any consistent set
    of one pulse per sensor: with rounds a fraction of a second apart, two of them can
    trade pulses and both land far from the shooter, and a loud reflection can stand in
    for a blocked direct sound. For each credible shot (most sensors, loudest first),
    the few-sensor shots of the same burst (within ``burst_window_s``) lying away from it
    are dissolved and their pulses re-associated *at its place*, origin times free; the
    result replaces them when it explains at least as many shots, every one fitting with
    all its pulses: consecutive rounds come from about the same place (a moving shooter
    covers metres between rounds), or when the anchor is heard by at least
    ``strong_sensors`` and twice as many sensors as each of them. Otherwise they are
    left as they were. A dissolved shot none of whose pulses the anchor's place
    re-explains, whose origin time is no other shot's (``image_t0_s``: not a
    reflection's image source), and with more arrivals than ``min_sensors`` (or when the
    anchor's place explained as many shots as were dissolved), stands even so. A shot
    dissolved for good frees its pulses and the late arrivals it had claimed
    (``echoes``). Returns how many shots were dissolved for good."""
    psnr, cfg = ob.psnr, ob.cfg
    dissolved = 0

    def weight(o: LocatedShot) -> tuple[int, float]:
        return len(o.pulses), float(np.sum(psnr[o.pulses]))

    for anchor in sorted(shots, key=weight, reverse=True):
        if not any(anchor is o for o in shots):
            continue
        weak = [
            o
            for o in shots
            if o is not anchor
            and len(o.pulses) <= max(cfg.ambiguous_max_sensors, len(anchor.pulses) // 2)
            and weight(o) < weight(anchor)
            and abs(o.t0 - anchor.t0) <= cfg.burst_window_s
            and float(np.linalg.norm(o.pos[:2] - anchor.pos[:2])) >= cfg.dissolve_dist_m
        ]
        if not weak:
            continue
        released = np.concatenate([o.pulses for o in weak])
        assigned[released] = False
        lo = min(o.t0 for o in weak) - 1.0
        hi = max(o.t0 for o in weak) + 1.0
        new: list[LocatedShot] = []
        kept = [o for o in shots if not any(o is w for w in weak)]
        tried: list[NDArray[np.int64]] = []
        while True:
            shot = _refit_at(anchor, ob, assigned, lo, hi)
            if shot is None:
                break
            assigned[shot.pulses] = True
            if _too_close(shot, kept + new, cfg):  # a round already found, again
                tried.append(shot.pulses)
                continue
            new.append(shot)
        # A well-heard anchor outweighs shots heard by at most half as many sensors: a
        # second gun near the array would be heard about as widely, while mixtures of
        # the burst's coda pulses are heard by few.
        outweighed = len(anchor.pulses) >= cfg.strong_sensors and all(
            2 * len(o.pulses) <= len(anchor.pulses) for o in weak
        )
        if len(new) >= len(weak) or outweighed:
            # A dissolved shot none of whose pulses the anchor's place re-explains (a
            # new round there, or a round found again) had no other explanation: it
            # stands (a moving or second shooter heard by few sensors, away from the
            # anchor), if it has more arrivals than unknowns (four arrivals fit some
            # source) or the anchor's place explained as many shots as were dissolved,
            # and is no image source of a shot (a reflection's image source fits with
            # that shot's origin time).
            taken = np.concatenate([o.pulses for o in new] + tried + [np.zeros(0, np.int64)])
            back = [
                o
                for o in weak
                if (
                    len(o.pulses) > cfg.min_sensors
                    or len(new) >= len(weak)
                    or _fired_twice(o, [*weak, *kept], ob)
                )
                and not np.any(np.isin(o.pulses, taken))
                and not any(abs(o.t0 - x.t0) < cfg.image_t0_s for x in kept + new)
            ]
            for o in back:
                assigned[o.pulses] = True
            gone = {id(o) for o in weak} - {id(o) for o in back}
            for o in weak:  # what a dissolved shot explained is free again
                if id(o) in gone:
                    dissolved += 1
                    if o.echoes:
                        claimed = np.concatenate([x.pulses for x in kept + new + back])
                        echoes = np.asarray(o.echoes, dtype=np.int64)
                        assigned[echoes[~np.isin(echoes, claimed)]] = False
            shots[:] = [o for o in shots if id(o) not in gone] + new
        else:  # no better explanation: restore
            for o in new:
                assigned[o.pulses] = False
            for t in tried:
                assigned[t] = False
            assigned[released] = True
    shots.sort(key=lambda s: s.t0)
    return dissolved


def _refit_at(
    anchor: LocatedShot,
    ob: _Obs,
    assigned: NDArray[np.bool_],
    lo: float,
    hi: float,
) -> LocatedShot | None:
    """The largest set of free pulses agreeing on one origin time in [lo, hi] for a
    source at ``anchor``'s place, robustly fitted from there; None if it is smaller than
    ``min_sensors``, moves away, or keeps out a pulse that :func:`_late_only` does not
    excuse."""
    spos, psens, pt, cfg = ob.spos, ob.psens, ob.pt, ob.cfg
    pool = np.flatnonzero(~assigned)
    tau = pt[pool] - ob.tt(anchor.pos, spos[psens[pool]])
    keep = (tau >= lo) & (tau <= hi)
    pool, tau = pool[keep], tau[keep]
    if pool.size < cfg.min_sensors:
        return None
    order = np.argsort(psens[pool], kind="stable")
    pool, tau = pool[order], tau[order]
    hits = np.abs(tau[:, None] - tau[None, :]) < cfg.fine_tol_s
    cnt = _count_distinct(hits, psens[pool])
    a = int(np.argmax(cnt))
    if cnt[a] < cfg.min_sensors:
        return None
    chosen = _nearest_per_sensor(
        ob, psens[pool], pt[pool], pool.astype(np.int64), anchor.pos, float(tau[a]),
        cfg.fine_tol_s,
    )  # fmt: skip
    if chosen.size < cfg.min_sensors:
        return None
    shot, ok = _fit_shot(chosen, anchor.pos, float(tau[a]), ob)
    if ok and abs(shot.pos[2] - anchor.pos[2]) >= cfg.same_place_m:
        # A round from an established place is fired where the shooter stands: a fit
        # that rose or sank tens of metres from it is held to its height (a few
        # arrivals, a mixture of echoes among them, fit some point up or down there)
        shot, ok = _fit_shot(chosen, anchor.pos, float(tau[a]), ob, z_sigma=cfg.held_z_sigma_m)
    near = float(np.linalg.norm(shot.pos[:2] - anchor.pos[:2])) < cfg.same_place_m
    if not (ok and near and _late_only(shot, chosen, ob)):
        return None
    if shot.scale > max(1.5 * anchor.scale + 1e-3, cfg.max_scale_s / 2):
        return None
    return shot


def _as_loud(shot: LocatedShot, anchor: LocatedShot, ob: _Obs) -> bool:
    """Whether ``shot``, a round re-fitted at ``anchor``'s place, is heard about as loud
    as the anchor where both are heard: at two or more shared sensors, its median SNR
    at most ``round_drop_db`` below the anchor's there, fitting about as tightly, and
    heard by at least a third as many sensors (four faint pulses among the twenty
    sensors of a loud shot's neighbourhood agree on some origin time by chance: seen on
    the live-fire recordings).
    The same gun at the same place is as loud each round; a round can still be heard by
    far fewer sensors (at the rest its pulse is lost in the previous round's coda or
    another gun's), whereas coincidences of coda and reflection pulses, which is what
    the half-the-sensors rule guards against, are tens of dB weaker than the direct
    sound they trail."""
    psnr = ob.psnr
    if not np.any(psnr[shot.pulses] != 0) or shot.scale > anchor.scale + 1e-3:
        return False
    if 3 * len(shot.pulses) < len(anchor.pulses):
        return False
    i, j = _pair(shot, anchor, ob)
    drop = _level_drop(i, j, ob)
    return drop.size >= 2 and float(np.median(drop)) >= -ob.cfg.round_drop_db


def _pair(
    shot: LocatedShot, other: LocatedShot, ob: _Obs
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The pulses of ``shot`` and of ``other`` at the sensors that heard both (a shot
    holds one pulse per sensor), aligned by sensor."""
    _, i, j = np.intersect1d(ob.psens[shot.pulses], ob.psens[other.pulses], return_indices=True)
    return shot.pulses[i], other.pulses[j]


def _drop(shots: list[LocatedShot], gone: set[int], assigned: NDArray[np.bool_]) -> None:
    """Remove the shots whose ``id`` is in ``gone`` from ``shots``, freeing their pulses."""
    for o in shots:
        if id(o) in gone:
            _release(o, assigned)
    shots[:] = [o for o in shots if id(o) not in gone]


def _release(shot: LocatedShot, assigned: NDArray[np.bool_]) -> None:
    """Free the pulses of a dropped shot and the late arrivals it had claimed."""
    assigned[shot.pulses] = False
    assigned[np.asarray(shot.echoes, dtype=np.int64)] = False


def _weak_round(shot: LocatedShot, ref: LocatedShot, ob: _Obs) -> bool:
    """Whether ``shot``, a round re-fitted at ``ref``'s place, fails to stand there:
    faint (median SNR below ``min_median_snr_db``), or heard by fewer than half as many
    sensors as ``ref`` and not as loud (:func:`_as_loud`), or heard only beyond
    ``max_range_m`` (:func:`_out_of_range`: kilometres away, the pulses of an unrelated
    fireworks show agree on some origin time at any place by chance)."""
    snr = ob.psnr[shot.pulses]
    faint = bool(np.any(snr != 0)) and float(np.median(snr)) < ob.cfg.min_median_snr_db
    return (
        faint
        or _out_of_range(shot, ob)
        or (2 * len(shot.pulses) < len(ref.pulses) and not _as_loud(shot, ref, ob))
    )


def _out_of_range(shot: LocatedShot, ob: _Obs) -> bool:
    """True when every sensor of ``shot`` is more than ``max_range_m`` from it: heard only
    beyond the range of a gun while the sensors between heard nothing of it. Far
    arrivals (a fireworks show kilometres away) fit a point along their bearing, which
    their timing hardly fixes in range."""
    d = np.linalg.norm(ob.spos[ob.psens[shot.pulses]] - shot.pos, axis=1)
    return bool(d.size) and float(d.min()) > ob.cfg.max_range_m


def _too_close(shot: LocatedShot, others: list[LocatedShot], cfg: AssociationConfig) -> bool:
    """True when one of ``others`` lies within ``same_place_m`` of ``shot`` and less than
    ``min_cycle_s`` from it in origin time: the same round (no weapon cycles faster)."""
    return any(
        abs(shot.t0 - o.t0) < cfg.min_cycle_s
        and float(np.linalg.norm(shot.pos[:2] - o.pos[:2])) < cfg.same_place_m
        for o in others
    )


def _late_only(shot: LocatedShot, chosen: NDArray[np.int64], ob: _Obs) -> bool:
    """Whether the pulses of ``chosen`` that the fit of ``shot`` left out are explained
    as blocked paths: every one of them *late* against the fitted source (a diffracted
    arrival is never early; an early outlier means the set is not one source), and at
    most a third of the set, leaving at least ``min_sensors``."""
    out = np.setdiff1d(chosen, shot.pulses)
    if out.size == 0:
        return True
    if 3 * out.size > chosen.size or shot.pulses.size < ob.cfg.min_sensors:
        return False
    r = ob.pt[out] - shot.t0 - ob.tt(shot.pos, ob.spos[ob.psens[out]])
    return bool(np.all(r > 0))


def _fit_shot(
    chosen: NDArray[np.int64],
    x0: NDArray[np.float64],
    t0: float,
    ob: _Obs,
    z_prior: float | None = None,
    z_sigma: float | None = None,
) -> tuple[LocatedShot, bool]:
    """Robust fit of the ``chosen`` pulses from (``x0``, ``t0``), height prior at
    ``z_prior`` (default: the start's height) with ``z_sigma`` (default
    ``z_sigma_m``); the shot keeps the inliers only. Returns
    the shot and whether the fit converged.

    With few sensors (fewer than ``strong_sensors``) the arrival-time surface has
    several minima: four arrivals fit a point source exactly at two roots, and a robust
    fit from a poor start can drop one good arrival and fit the other three anywhere.
    So the fit then also starts from the
    spherical-interpolation solution of the chosen arrivals at the prior height
    (:func:`~shotwatch.core.locate.closed_form_2d`), and keeps the start whose result
    has the lowest truncated (MSAC) cost: squared residuals capped at ``accept_tol_s``
    (a dropped arrival costs the cap), plus the height prior in units of 1 ms
    (Torr & Zisserman, CVIU 78, 2000)."""
    spos, psens, pt, psig, c, wind, cfg = ob.spos, ob.psens, ob.pt, ob.psig, ob.c, ob.wind, ob.cfg
    zp = float(x0[2] if z_prior is None else z_prior)
    zs = cfg.z_sigma_m if z_sigma is None else z_sigma
    key = (np.asarray(chosen, dtype=np.int64).tobytes(), np.asarray(x0, dtype=float).tobytes(),
           float(t0), zp, zs)  # fmt: skip
    got = ob.fits.get(key)
    if got is not None:  # the same fit again (a seed of the same shot): a fresh copy
        return replace(got[0], echoes=[]), got[1]
    starts = [np.asarray(x0, dtype=float)]
    t_starts = [t0]
    if 4 <= chosen.size < cfg.strong_sensors:
        order = np.argsort(pt[chosen], kind="stable")
        cf, cf_t = closed_form_2d(
            spos[psens[chosen[order]]][None], (pt[chosen[order]] - t0)[None], c, zp
        )
        if np.all(np.isfinite(cf[0])) and float(np.linalg.norm(cf[0, :2] - x0[:2])) > 1.0:
            starts.append(cf[0])
            t_starts.append(float(cf_t[0]) + t0)
    m = len(starts)
    fix = refine_batch(
        np.broadcast_to(spos[psens[chosen]], (m, chosen.size, 3)),
        np.broadcast_to(pt[chosen] - t0, (m, chosen.size)),
        np.ones((m, chosen.size), dtype=bool),
        np.array(starts),
        np.array(t_starts) - t0,
        c,
        wind=wind,
        sigma=np.broadcast_to(psig[chosen], (m, chosen.size)),
        z_prior=np.full(m, zp),
        z_sigma=zs,
    )
    cap = cfg.accept_tol_s**2
    r2 = np.where(fix.inlier, np.nan_to_num(fix.residual, nan=np.inf) ** 2, cap)
    cost = np.minimum(r2, cap).sum(axis=1) + (1e-3 * (fix.pos[:, 2] - zp) / zs) ** 2
    cost = np.where(fix.ok, cost, np.inf)
    b = int(np.argmin(cost))
    inl = fix.inlier[b]
    shot = LocatedShot(
        pulses=np.asarray(chosen[inl], dtype=np.int64),
        pos=fix.pos[b],
        t0=float(fix.t0[b]) + t0,
        cov=fix.cov[b],
        error_radius=float(fix.error_radius[b]),
        scale=float(fix.scale[b]),
        residual=fix.residual[b][inl],
    )
    ob.fits[key] = (replace(shot, echoes=[]), bool(fix.ok[b]))
    return shot, bool(fix.ok[b])


def _support(
    shot: LocatedShot,
    ob: _Obs,
    free: NDArray[np.bool_],
) -> int:
    """Distinct sensors holding a free pulse within [-accept_tol, +late_window] of the
    arrival predicted for ``shot`` (its own pulses included)."""
    spos, psens, pt, cfg = ob.spos, ob.psens, ob.pt, ob.cfg
    mask = free.copy()
    mask[shot.pulses] = True
    idx = np.flatnonzero(mask)
    r = pt[idx] - shot.t0 - ob.tt(shot.pos, spos[psens[idx]])
    ok = (r > -cfg.accept_tol_s) & (r < cfg.late_window_s)
    heard = np.zeros(spos.shape[0], dtype=bool)
    heard[psens[idx[ok]]] = True
    return int(np.count_nonzero(heard))


def _another_round(shot: LocatedShot, accepted: list[LocatedShot], ob: _Obs) -> bool:
    """True when ``shot`` lies within ``same_place_m`` of an accepted shot, between
    ``min_cycle_s`` and ``burst_window_s`` from it in origin time, and is heard by at
    least half as many sensors and fitting about as tightly (the same gun at the same
    place; as in :func:`_more_rounds` and :func:`_refit_at`): another round of a burst
    from that spot. Its pulses may trail louder ones at the same sensors (the
    earlier rounds, a few dB louder by chance or by a different path) without being
    their reflections: a reflection's image source lies behind its reflector, and an
    image of that shot would share its origin time. Four arrivals fit some source
    exactly, and between rounds a fraction of a second apart a mixture of them can land
    near the spot: a shot of ``min_sensors`` arrivals qualifies only when it repeats the
    earlier shot's own arrival pattern (:func:`_same_pattern`), which a mixture of two
    rounds (off by the time between them at some sensors) does not."""
    cfg = ob.cfg
    few = len(shot.pulses) <= cfg.min_sensors
    return any(
        cfg.min_cycle_s <= abs(shot.t0 - o.t0) <= cfg.burst_window_s
        and 2 * len(shot.pulses) >= len(o.pulses)
        and shot.scale <= 1.5 * o.scale + 1e-3
        and float(np.linalg.norm(shot.pos[:2] - o.pos[:2])) < cfg.same_place_m
        and (not few or _same_pattern(shot, o, ob))
        for o in accepted
    )


def _same_pattern(
    shot: LocatedShot, other: LocatedShot, ob: _Obs, *, partial: bool = False
) -> bool:
    """Every sensor of ``shot`` heard ``other`` too (with ``partial``: ``min_sensors -
    1`` of them at least), and each of ``shot``'s arrivals at those lies one common
    offset after ``other``'s at that sensor, within ``template_tol_s``: the same source
    again, whatever its paths (master-event matching, as in :func:`_template_rounds`)."""
    mine, theirs = _pair(shot, other, ob)
    if mine.size < (ob.cfg.min_sensors - 1 if partial else shot.pulses.size):
        return False
    d = ob.pt[mine] - ob.pt[theirs]
    return bool(np.all(np.abs(d - _median(d)) <= ob.cfg.template_tol_s))


def _dominated(
    psens: NDArray[np.int64],
    pt: NDArray[np.float64],
    psnr: NDArray[np.float64],
    cfg: AssociationConfig,
) -> NDArray[np.bool_]:
    """Pulses that trail, at the same sensor and within ``coda_window_s``, a pulse at
    least ``coda_drop_db`` stronger (the reverberant coda of a loud impulse)."""
    if not np.any(psnr):
        return np.zeros(pt.shape[0], dtype=bool)
    lead = _louder_before(None, psens, pt, psnr, 0.0, cfg.coda_window_s, cfg.coda_drop_db)
    return np.asarray(lead >= 0)


def _near_heard(
    pos: NDArray[np.float64],
    t0: float,
    n: int,
    ob: _Obs,
    online: NDArray[np.int64],
    early_s: float = 0.01,
) -> float:
    """Share of the ``n`` online sensors nearest to ``pos`` that hold a pulse within
    [-``early_s``, +150 ms] of the arrival predicted for a source at (``pos``, ``t0``)
    (``early_s``: the precision of the prediction; a blocked path is only ever late)."""
    spos, psens, pt = ob.spos, ob.psens, ob.pt
    d = np.linalg.norm(spos[online] - pos, axis=1)
    nearest = online[np.argsort(d)][:n]
    if not n:
        return 0.0
    lo, hi = t0 - early_s, t0 + (float(d.max()) if d.size else 0.0) / ob.c_slow + 0.15
    near = np.zeros(spos.shape[0], dtype=bool)
    near[nearest] = True
    w = (pt > lo) & (pt < hi) & near[psens]
    r = pt[w] - t0 - ob.tt(pos, spos[psens[w]])
    heard = np.zeros(spos.shape[0], dtype=bool)
    heard[psens[w][(r > -early_s) & (r < 0.15)]] = True
    return float(heard[nearest].mean())


def _shadowed(
    pos: NDArray[np.float64],
    t0: float,
    n: int,
    ob: _Obs,
    online: NDArray[np.int64],
    early_s: float = 0.01,
) -> bool:
    """Whether every one of the ``max(shadow_near_sensors, n // 2)`` online sensors
    nearest to a source at (``pos``, ``t0``) heard it (:func:`_near_heard`), which
    excuses a well-heard candidate (``n`` >= ``strong_sensors`` arrivals) the silence of
    sensors further out (:func:`_plausible`). A block of buildings screens a whole
    sector off, so sensors behind it stay silent while sensors further out in the open
    hear the shot: on the scene suite, a moving shooter's round heard by eight sensors
    over open or diffracted paths, the four nearest among them and the next four (300 to
    450 m away) silent behind a block, failed ``min_near_ratio`` with 4 of its 8 nearest.
    A mixture of unrelated pulses fits wherever their times put it and has no reason to
    be heard by every one of the sensors nearest to that point."""
    k = max(ob.cfg.shadow_near_sensors, n // 2)
    return _near_heard(pos, t0, k, ob, online, early_s) >= 1.0


def _plausible(
    shot: LocatedShot,
    ob: _Obs,
    online: NDArray[np.int64],
    *,
    near: bool = True,
) -> bool:
    """Physical plausibility of a candidate beyond its timing fit.

    A source is heard within ``max_range_m`` by at least one of its sensors. A loud
    impulse is heard by the sensors *nearest* to it: among the ``n`` online
    sensors closest to the located source (``n`` = sensors in the fit), at least
    ``min_near_ratio`` must hold a pulse within [-10 ms, +150 ms] of the predicted arrival
    (late: a blocked path), or, for a candidate of ``strong_sensors`` or more, every
    one of the nearest few (:func:`_shadowed`: the rest screened off by buildings).
    Chance coincidences of unrelated pulses fail this, since
    their apparent source lies wherever the geometry puts it, not next to the sensors
    that heard it. With SNRs known, the median inlier SNR must reach ``min_median_snr_db``.
    """
    spos, psnr, cfg = ob.spos, ob.psnr, ob.cfg
    n = len(shot.pulses)
    if _out_of_range(shot, ob):
        return False
    ratio = _near_heard(shot.pos, shot.t0, n, ob, online) if near else 1.0
    few = n < cfg.strong_sensors
    snr = psnr[shot.pulses]
    loud = bool(np.any(snr != 0)) and _median(snr) >= cfg.loud_snr_db
    if few:
        # One of the nearest few silent (behind a building) is allowed for a loud shot.
        if ratio < (cfg.min_near_ratio_loud if loud else cfg.min_near_ratio_few):
            return False
    elif ratio < cfg.min_near_ratio and not _shadowed(shot.pos, shot.t0, n, ob, online):
        return False
    d = np.linalg.norm(spos[online] - shot.pos, axis=1)
    nearest = online[np.argsort(d)][:n]
    # Few sensors cannot vouch for a source far above or below the sensors around it
    # (on hilly ground those differ in height by tens of metres themselves).
    z_near = spos[nearest, 2]
    z = float(shot.pos[2])
    if few and not (
        float(z_near.min()) - cfg.max_height_few_m
        <= z
        <= float(z_near.max()) + cfg.max_height_few_m
    ):
        return False
    return not (np.any(snr != 0) and _median(snr) < cfg.min_median_snr_db)


def _search(
    ob: _Obs,
    cand: NDArray[np.int64],
    s0: int,
    t_seed: float,
    online: NDArray[np.int64] | None = None,
) -> LocatedShot | None:
    spos, psens, pt, psnr, c, cfg = ob.spos, ob.psens, ob.pt, ob.psnr, ob.c, ob.cfg
    cand = cand[np.argsort(psens[cand], kind="stable")]
    cs = psens[cand]
    ct = pt[cand]
    first = np.ones(cs.size, dtype=bool)
    first[1:] = cs[1:] != cs[:-1]
    local = cs[first]  # np.unique(cs): cs is sorted
    z_ref = _median(spos[local, 2])
    wind, a_w = ob.wind_a
    csnr = np.asarray(psnr[cand], float)
    rcv, seed_pos = spos[local], spos[s0]
    key = _grid_key(seed_pos, z_ref, rcv, cs, ct, csnr, t_seed, c, wind, a_w, cfg)
    got = _GRID_MEMO.get(key)
    if got is not None:
        _GRID_MEMO.move_to_end(key)
    else:
        # Coarse: seed-anchored origin time, the pulses gathered at every grid point.
        coarse = _disc_grid(cfg.coarse_step_m, cfg.seed_radius_m)
        g = np.column_stack([coarse + seed_pos[:2], np.full(coarse.shape[0], z_ref)])
        col = np.cumsum(first) - 1  # each pulse's row of rcv
        got = _k_coarse_fine(
            g, rcv, seed_pos, col, ct, cs, csnr, t_seed, 1.5 * cfg.coarse_step_m / c, c,
            wind, a_w, _disc_grid(cfg.fine_step_m, 1.5 * cfg.coarse_step_m), cfg.fine_tol_s,
            cfg.fine_candidates, cfg.min_sensors,
        )  # fmt: skip
        got[2].flags.writeable = False
        _GRID_MEMO[key] = got
        if len(_GRID_MEMO) > GRID_MEMO_SIZE:
            _GRID_MEMO.popitem(last=False)  # the least recently used
    found, k_fine, x0, t0 = got
    if not found or k_fine < cfg.min_sensors:
        return None
    if online is not None:
        # (the grid point's origin time is good to the fine tolerance only)
        ratio = _near_heard(x0, t0, k_fine, ob, online, cfg.fine_tol_s)
        lowest = cfg.min_near_ratio_loud if k_fine < cfg.strong_sensors else cfg.min_near_ratio
        if ratio < lowest and not (
            k_fine >= cfg.strong_sensors and _shadowed(x0, t0, k_fine, ob, online, cfg.fine_tol_s)
        ):
            return None  # cheap early rejection, before any fit (see _plausible)
    for tol in (cfg.fine_tol_s, cfg.accept_tol_s):
        chosen = _nearest_per_sensor(ob, cs, ct, cand, x0, t0, tol)
        if chosen.size < cfg.min_sensors:
            return None
        shot, ok = _fit_shot(chosen, x0, t0, ob, z_ref)
        x0, t0 = shot.pos, shot.t0
    if len(shot.pulses) < cfg.min_sensors or not ok or shot.scale > cfg.max_scale_s:
        return None
    return shot


def _grid_key(
    seed_pos: NDArray[np.float64], z_ref: float, rcv: NDArray[np.float64],
    cs: NDArray[np.int64], ct: NDArray[np.float64], csnr: NDArray[np.float64],
    t_seed: float, c: float, wind: NDArray[np.float64], a_w: float, cfg: AssociationConfig,
) -> bytes:  # fmt: skip
    """The inputs of one grid search of :func:`_search` as bytes, exactly: the seed
    sensor's position ``seed_pos`` and arrival ``t_seed``, the grid height ``z_ref``, the
    candidate pulses' sensors ``cs`` (sorted) at ``rcv`` (one row per distinct sensor),
    times ``ct`` and SNRs ``csnr``, sound speed, wind (:func:`kernel_wind`) and the
    tuning the search uses."""
    head = np.array([
        rcv.shape[0], ct.shape[0], z_ref, t_seed, c, a_w, cfg.coarse_step_m,
        cfg.seed_radius_m, cfg.fine_step_m, cfg.fine_tol_s, cfg.fine_candidates,
        cfg.min_sensors,
    ], dtype=float)  # fmt: skip
    parts = (head, seed_pos, wind, rcv, ct, csnr, cs)
    return b"".join(np.ascontiguousarray(v).tobytes() for v in parts)


GRID_MEMO_SIZE = 2048
"""Grid searches remembered by their exact inputs (:func:`_grid_key`), least recently
used dropped first: a service re-associates a group whenever a report joins it, and
many of its seeds then search the same pulses again, as do some seeds of the later
passes of one association (4,305 of the 1-hour city's 21,800 searches)."""
_GRID_MEMO: OrderedDict[bytes, tuple[bool, int, NDArray[np.float64], float]] = OrderedDict()


def _aloft(
    shot: LocatedShot,
    ob: _Obs,
    cs: NDArray[np.int64],
    ct: NDArray[np.float64],
    cand: NDArray[np.int64],
) -> LocatedShot:
    """The shot again from a start ``aloft_probe_m`` above it, when that fits far better.

    The search gathers each sensor's pulse at the array's height. For a burst aloft the
    arrival predicted there at a sensor close below it comes early (its path is shorter
    than the true slant one), so during a fireworks show the pulse taken there can be
    another burst's or crackle's, tens of milliseconds before the true one; an early
    arrival is never down-weighted (blocked paths are only ever late), so the fit pulls
    the source down to where that pulse fits, a few metres over the street, with every
    other arrival a millisecond or two off. Gathered again at a point above the shot
    (origin time from the shot's own arrivals) the near sensors' true arrivals are
    nearest, and the fit, its height prior centred on its own result, finds the burst.
    The alternative replaces the shot only when it lies more than ``aloft_min_rise_m``
    away in height and its capped chi-square over the sensors of both is under
    ``aloft_cost_ratio`` times the first fit's (:func:`_capped_cost`; a ground shot
    re-gathered aloft takes echoes at its near sensors and fits worse, so it stays)."""
    cfg = ob.cfg
    x1 = shot.pos + np.array([0.0, 0.0, cfg.aloft_probe_m])
    sp = ob.spos[ob.psens[shot.pulses]]
    t1 = _median(ob.pt[shot.pulses] - ob.tt(x1, sp))
    best = shot
    for _ in range(2):
        chosen = _nearest_per_sensor(ob, cs, ct, cand, x1, t1, cfg.accept_tol_s)
        if chosen.size < cfg.aloft_min_sensors:
            return shot
        alt, ok = _fit_shot(chosen, x1, t1, ob, float(x1[2]))
        if not ok:
            return shot
        x1, t1, best = alt.pos, alt.t0, alt
    if abs(float(best.pos[2] - shot.pos[2])) <= cfg.aloft_min_rise_m:
        return shot
    union = np.union1d(ob.psens[shot.pulses], ob.psens[best.pulses]).size
    if _capped_cost(best, ob, union) < cfg.aloft_cost_ratio * _capped_cost(shot, ob, union):
        return best
    return shot


def _capped_cost(shot: LocatedShot, ob: _Obs, n_sensors: int) -> float:
    """Truncated chi-square of a shot over ``n_sensors`` sensors: each arrival's squared
    residual in units of its sigma (at least ``min_pulse_sigma_s``), capped at
    ``aloft_cap_sigma`` squared, which is also what each sensor not in the shot costs
    (MSAC, Torr & Zisserman, CVIU 78, 2000, with the pick sigmas as scale)."""
    cfg = ob.cfg
    cap = cfg.aloft_cap_sigma**2
    sig = np.maximum(ob.psig[shot.pulses], cfg.min_pulse_sigma_s)
    r2 = np.minimum((np.nan_to_num(shot.residual, nan=np.inf) / sig) ** 2, cap)
    return float(r2.sum() + cap * max(n_sensors - len(shot.pulses), 0))


@numba.njit(cache=True)
def _k_gather_into(
    gp: NDArray[np.float64],
    rcv: NDArray[np.float64],
    seed_pos: NDArray[np.float64],
    col: NDArray[np.int64],
    ct: NDArray[np.float64],
    t_seed: float,
    tol: float,
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    tt: NDArray[np.float64],
    out: NDArray[np.bool_],
) -> None:
    """:func:`_k_gathered` into ``out`` (n_q,), with ``tt`` (n_sensors,) as scratch."""
    origin = t_seed - _k_travel(
        seed_pos[0] - gp[0], seed_pos[1] - gp[1], seed_pos[2] - gp[2], c, wind, a_w
    )
    for j in range(rcv.shape[0]):
        tt[j] = _k_travel(rcv[j, 0] - gp[0], rcv[j, 1] - gp[1], rcv[j, 2] - gp[2], c, wind, a_w)
    for q in range(ct.shape[0]):
        out[q] = abs(ct[q] - origin - tt[col[q]]) < tol


@numba.njit(cache=True)
def _k_gathered(
    gp: NDArray[np.float64],
    rcv: NDArray[np.float64],
    seed_pos: NDArray[np.float64],
    col: NDArray[np.int64],
    ct: NDArray[np.float64],
    t_seed: float,
    tol: float,
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
) -> NDArray[np.bool_]:
    """The pulses gathered at the grid point ``gp`` (3,): the origin time is the seed's
    arrival ``t_seed`` less its travel time from ``gp`` to ``seed_pos``; a pulse (arrival
    ``ct[q]`` at sensor ``rcv[col[q]]``) is gathered when it arrives within ``tol`` of
    its prediction. Travel times as :func:`~shotwatch.core.locate._k_travel`."""
    out = np.empty(ct.shape[0], dtype=np.bool_)
    tt = np.empty(rcv.shape[0])
    _k_gather_into(gp, rcv, seed_pos, col, ct, t_seed, tol, c, wind, a_w, tt, out)
    return out


@numba.njit(cache=True)
def _k_coarse(
    grid: NDArray[np.float64],
    rcv: NDArray[np.float64],
    seed_pos: NDArray[np.float64],
    col: NDArray[np.int64],
    ct: NDArray[np.float64],
    cs: NDArray[np.int64],
    csnr: NDArray[np.float64],
    t_seed: float,
    tol: float,
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The coarse step of :func:`_search`, compiled: at each grid point the pulses of
    :func:`_k_gathered` (sensors ``cs`` sorted). Returns per grid point the distinct
    sensors gathered and the loudness of the set (sum over its sensors of the largest
    gathered SNR ``csnr``).

    The same arithmetic as :func:`_k_gathered` and :func:`_k_set_score` at each point,
    in the same order per point, but swept over all grid points at once per pulse
    (contiguous loops the compiler vectorises): a sensor's travel times are computed
    once for the whole grid, and each sensor's running maximum and hit flag are kept
    per grid point until its last pulse."""
    n_g, n_q = grid.shape[0], ct.shape[0]
    counts = np.zeros(n_g, dtype=np.int64)
    strength = np.zeros(n_g)
    gx = np.ascontiguousarray(grid[:, 0])
    gy = np.ascontiguousarray(grid[:, 1])
    gz = np.ascontiguousarray(grid[:, 2])
    origin = np.empty(n_g)
    for g in range(n_g):
        origin[g] = t_seed - _k_travel(
            seed_pos[0] - gx[g], seed_pos[1] - gy[g], seed_pos[2] - gz[g], c, wind, a_w
        )
    tt = np.empty(n_g)
    cur_max = np.empty(n_g)
    cur_hit = np.empty(n_g, dtype=np.bool_)
    for q in range(n_q):
        if q == 0 or col[q] != col[q - 1]:
            r0, r1, r2 = rcv[col[q], 0], rcv[col[q], 1], rcv[col[q], 2]
            for g in range(n_g):
                tt[g] = _k_travel(r0 - gx[g], r1 - gy[g], r2 - gz[g], c, wind, a_w)
        new_sensor = q == 0 or cs[q] != cs[q - 1]
        if new_sensor and q > 0:
            for g in range(n_g):
                strength[g] += cur_max[g]
                counts[g] += 1 if cur_hit[g] else 0
        x, v = ct[q], csnr[q]
        if new_sensor:
            for g in range(n_g):
                h = abs(x - origin[g] - tt[g]) < tol
                cur_hit[g] = h
                cur_max[g] = v if h else 0.0
        else:
            for g in range(n_g):
                h = abs(x - origin[g] - tt[g]) < tol
                cur_max[g] = max(cur_max[g], v if h else 0.0)
                cur_hit[g] = cur_hit[g] or h
    if n_q > 0:
        for g in range(n_g):
            strength[g] += cur_max[g]
            counts[g] += 1 if cur_hit[g] else 0
    return counts, strength


_COARSE_BLOCK_M = 60.0
"""Side of the blocks of coarse grid points bounded together (two by two of 30 m)."""

_COARSE_FIRST_BATCH = 16
"""Coarse points scored exactly at first, the most promising: their best sets the bound
the others must reach; each further batch is twice as large."""

_FINE_BLOCK_M = 10.0
"""Side of the blocks of fine grid points bounded together (two by two of 5 m)."""


@numba.njit(cache=True)
def _k_blocks(
    pts: NDArray[np.float64], size: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], float]:
    """The points ``pts`` (n, 3), n > 0 and finite, in square blocks of ``size`` m (cells
    from the least x and y): ``members[start[b]:start[b + 1]]`` are block ``b``'s points
    in ascending order, ``centre[b]`` (3,) the middle of their bounding box. Returns
    those and the largest distance of any point from its block's centre."""
    n = pts.shape[0]
    x0, y0 = pts[:, 0].min(), pts[:, 1].min()
    cell = np.empty(n, dtype=np.int64)
    ny = int((pts[:, 1].max() - y0) / size) + 1
    for p in range(n):
        cell[p] = int((pts[p, 0] - x0) / size) * ny + int((pts[p, 1] - y0) / size)
    # a counting sort of the points by cell, stable
    first = np.zeros(cell.max() + 2, dtype=np.int64)
    for p in range(n):
        first[cell[p] + 1] += 1
    n_b = 0
    for k in range(1, first.shape[0]):
        n_b += 1 if first[k] > 0 else 0
        first[k] += first[k - 1]
    members = np.empty(n, dtype=np.int64)
    fill = first[:-1].copy()
    for p in range(n):
        members[fill[cell[p]]] = p
        fill[cell[p]] += 1
    start = np.empty(n_b + 1, dtype=np.int64)
    b = 0
    for k in range(first.shape[0] - 1):
        if first[k + 1] > first[k]:
            start[b] = first[k]
            b += 1
    start[n_b] = n
    centre = np.empty((n_b, 3))
    radius = 0.0
    for b in range(n_b):
        for d in range(3):
            lo_d = hi_d = pts[members[start[b]], d]
            for j in range(start[b], start[b + 1]):
                lo_d = min(lo_d, pts[members[j], d])
                hi_d = max(hi_d, pts[members[j], d])
            centre[b, d] = 0.5 * (lo_d + hi_d)
        for j in range(start[b], start[b + 1]):
            dx = pts[members[j], 0] - centre[b, 0]
            dy = pts[members[j], 1] - centre[b, 1]
            dz = pts[members[j], 2] - centre[b, 2]
            radius = max(radius, math.sqrt(dx * dx + dy * dy + dz * dz))
    return members, start, centre, radius


@numba.njit(cache=True)
def _k_time_scale(t: NDArray[np.float64], t0: float) -> float:
    """The largest of ``|t0|`` and ``|t|``, the size of the times whose rounding
    :func:`_k_widened`'s margin covers; ``inf`` when any is NaN or infinite (no bound)."""
    m = abs(t0) if abs(t0) < np.inf else np.inf
    for q in range(t.shape[0]):
        if not abs(t[q]) <= m:
            m = abs(t[q]) if abs(t[q]) < np.inf else np.inf
    return m


@numba.njit(cache=True)
def _k_widened(
    tol: float, radius: float, c: float, wind: NDArray[np.float64], a_w: float, t_max: float
) -> float:
    """The tolerance at a block's centre that holds every pulse set gathered within
    ``tol`` at any of its points (``radius`` m from it at most), or ``inf`` when the
    travel times have no useful bound.

    A travel time (:func:`~shotwatch.core.locate._k_travel`) is the exact time through a
    uniform wind ``w`` at the speed ``v = sqrt(a_w + |w|^2)`` (``c`` in still air); its
    gradient w.r.t. the source is ``e / (v + e.w)`` for the unit direction ``e`` of the
    sound, at most ``1 / (v - |w|)`` long. Moving the source ``radius`` changes each
    travel time by at most ``radius / (v - |w|)``, so a difference of two travel times
    (an arrival's residual against the origin time, or two pulses' origin times) by
    twice that. The margin covers the rounding of the times (up to ``t_max`` s) at the
    point and at the centre: a few units in their last place, far below 1e-13 of them."""
    if a_w == 0.0:
        v, w = c, 0.0
    else:
        ww = wind[0] * wind[0] + wind[1] * wind[1] + wind[2] * wind[2]
        v, w = math.sqrt(a_w + ww), math.sqrt(ww)
    if not v - w > 0.0:
        return np.inf
    wide = tol + 2.0 * radius * (1.0 + 1e-9) / (v - w) + 1e-9 + 1e-13 * t_max
    return wide if wide < np.inf else np.inf  # NaN or infinite times: no bound


@numba.njit(cache=True)
def _k_coarse_bounded(
    grid: NDArray[np.float64],
    rcv: NDArray[np.float64],
    seed_pos: NDArray[np.float64],
    col: NDArray[np.int64],
    ct: NDArray[np.float64],
    cs: NDArray[np.int64],
    csnr: NDArray[np.float64],
    t_seed: float,
    tol: float,
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    least: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """:func:`_k_coarse` at the grid points that can matter to :func:`_k_coarse_fine`,
    by branch and bound: exact counts and loudness at every point of ``best - 1``
    sensors or more when the most sensors ``best`` of any point is ``least`` or more
    (else at none of them necessarily); -1 and 0 at the others.

    The grid is cut into blocks (:func:`_k_blocks`); :func:`_k_coarse` at the blocks'
    centres with the tolerance widened for the blocks' size (:func:`_k_widened`) counts
    at least the sensors of any of their points. Blocks are then scored exactly in
    descending order of that bound, a few points first and more at a time after, until
    the bound is below ``best - 1`` of the points scored (or below ``least`` while these
    have fewer): no point left could enter the search. The points scored are scored as
    by :func:`_k_coarse` over the whole grid, bit for bit (the same sums per point)."""
    n_g = grid.shape[0]
    t_max = _k_time_scale(ct, t_seed)
    if n_g == 0 or not np.isfinite(grid).all():
        return _k_coarse(grid, rcv, seed_pos, col, ct, cs, csnr, t_seed, tol, c, wind, a_w)
    members, start, centre, radius = _k_blocks(grid, _COARSE_BLOCK_M)
    wide = _k_widened(tol, radius, c, wind, a_w, t_max)
    if wide == np.inf:
        return _k_coarse(grid, rcv, seed_pos, col, ct, cs, csnr, t_seed, tol, c, wind, a_w)
    bound, _ = _k_coarse(centre, rcv, seed_pos, col, ct, cs, csnr, t_seed, wide, c, wind, a_w)
    order = np.argsort(-bound, kind="mergesort")
    counts = np.full(n_g, -1, dtype=np.int64)
    strength = np.zeros(n_g)
    sub = np.empty((n_g, 3))
    idx = np.empty(n_g, dtype=np.int64)
    best = -1
    batch = _COARSE_FIRST_BATCH
    i = 0
    n_b = order.shape[0]
    while i < n_b:
        need = best - 1 if best >= least else least
        if bound[order[i]] < need:
            break
        n = 0
        while i < n_b and bound[order[i]] >= need and n < batch:
            b = order[i]
            for j in range(start[b], start[b + 1]):
                idx[n] = members[j]
                sub[n] = grid[members[j]]
                n += 1
            i += 1
        k, s = _k_coarse(sub[:n], rcv, seed_pos, col, ct, cs, csnr, t_seed, tol, c, wind, a_w)
        for j in range(n):
            counts[idx[j]] = k[j]
            strength[idx[j]] = s[j]
        best = max(best, k.max())
        batch *= 2
    return counts, strength


@numba.njit(cache=True)
def _k_coarse_fine(
    grid: NDArray[np.float64],
    rcv: NDArray[np.float64],
    seed_pos: NDArray[np.float64],
    col: NDArray[np.int64],
    ct: NDArray[np.float64],
    cs: NDArray[np.int64],
    csnr: NDArray[np.float64],
    t_seed: float,
    tol: float,
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    fine: NDArray[np.float64],
    fine_tol: float,
    n_top: int,
    min_count: int,
) -> tuple[bool, int, NDArray[np.float64], float]:
    """The grid part of :func:`_search`, compiled: the coarse scores (:func:`_k_coarse`),
    then at the ``n_top`` best coarse points (most sensors, then the loudest set; only
    points within one sensor of the most) the fine search (:func:`_k_fine_best` over the
    ``fine`` offsets around the point, at its height, with the pulses it gathered,
    :func:`_k_gathered`). A point whose coarse count is below the best fine count so far
    is skipped (the fine count is at most the coarse count), and nothing is searched
    when no coarse point gathers ``min_count`` sensors. Returns whether any point was
    searched, the best fine count, its position (3,) and origin time: the first point
    of the most sensors, then the loudest step, then the smallest spread.

    Both grids are searched by branch and bound (:func:`_k_coarse_bounded`; the fine
    search skips the points that cannot reach the best fine count so far), with the
    same answer as scoring every point: the coarse points that could be among the best
    are all scored, and exactly so; a fine search that cannot match the best so far
    loses the comparison below whatever it returns."""
    least = max(min_count, 1)
    counts, strength = _k_coarse_bounded(
        grid, rcv, seed_pos, col, ct, cs, csnr, t_seed, tol, c, wind, a_w, least
    )  # fmt: skip
    best = counts.max() if counts.shape[0] else 0
    pos = np.zeros(3)
    if best < least:
        return False, 0, pos, 0.0
    top = np.flatnonzero(counts >= best - 1)
    # most sensors first, then the loudest, then grid order (a lexsort, stable)
    top = top[np.argsort(-strength[top], kind="mergesort")]
    top = top[np.argsort(-counts[top], kind="mergesort")][:n_top]
    found = False
    bk, b_nl, b_sp, b_t0 = 0, 0.0, 0.0, 0.0
    n_f = fine.shape[0]
    fg = np.empty((n_f, 3))
    for f in range(n_f):
        fg[f, 0], fg[f, 1], fg[f, 2] = fine[f, 0], fine[f, 1], 0.0
    # the fine blocks once, shifted to each point (``radius`` holds the rounding of the
    # shifts many times over, and the tolerance's margin far more)
    members, start, offset, radius = _k_blocks(fg, _FINE_BLOCK_M)
    centre = np.empty_like(offset)
    qm = np.empty(ct.shape[0], dtype=np.bool_)
    tt = np.empty(rcv.shape[0])
    for gi in top:
        if found and counts[gi] < bk:
            continue
        _k_gather_into(grid[gi], rcv, seed_pos, col, ct, t_seed, tol, c, wind, a_w, tt, qm)
        q = np.flatnonzero(qm)
        for f in range(n_f):
            fg[f, 0] = fine[f, 0] + grid[gi, 0]
            fg[f, 1] = fine[f, 1] + grid[gi, 1]
            fg[f, 2] = grid[gi, 2]
        for b in range(centre.shape[0]):
            centre[b, 0] = offset[b, 0] + grid[gi, 0]
            centre[b, 1] = offset[b, 1] + grid[gi, 1]
            centre[b, 2] = grid[gi, 2]
        qcol = col[q]
        k, loud, spread, fi, t0 = _k_fine_best(
            fg, rcv[qcol], ct[q], cs[q], csnr[q], c, wind, a_w, fine_tol, bk if found else 0,
            members, start, centre, radius,
        )  # fmt: skip
        nl = -loud
        # (sensors, minus the loudness step, spread): more sensors, then smaller
        if found and k == bk:
            better = nl < b_nl if nl != b_nl else spread < b_sp
        else:
            better = not found or k > bk
        if better:
            found = True
            bk, b_nl, b_sp, b_t0 = k, nl, spread, t0
            pos[:] = fg[fi]
    return found, bk, pos, b_t0


@numba.njit(cache=True)
def _k_window_best(
    ss: NDArray[np.int64],
    snr: NDArray[np.float64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    need: int,
    n_sensors: int,
) -> int:
    """The window ``[lo[k], hi[k])`` of the sorted implied origin times
    (:func:`_template_match`) with the most distinct sensors ``ss``, then the loudest
    (sum of ``snr``), the first of equals; -1 when none has ``need``."""
    stamp = np.full(n_sensors, -1, dtype=np.int64)
    best, best_n, best_s = -1, 0, 0.0
    for k in range(lo.shape[0]):
        if hi[k] - lo[k] < need:
            continue
        n = 0
        total = 0.0
        for i in range(lo[k], hi[k]):
            if stamp[ss[i]] != k:
                stamp[ss[i]] = k
                n += 1
            total += snr[i]
        if n >= need and (n > best_n or (n == best_n and total > best_s)):
            best, best_n, best_s = k, n, total
    return best


@numba.njit(cache=True)
def _k_set_score(
    hit: NDArray[np.bool_], qs: NDArray[np.int64], qsnr: NDArray[np.float64]
) -> tuple[int, float]:
    """A set of pulses (``hit`` among pulses of sensors ``qs``, sorted): its distinct
    sensors and its loudness, the sum over its sensors of the largest SNR ``qsnr`` of
    their pulses in the set (the per-sensor maximum of ``snr if hit else 0``, the
    pulses of a sensor in order)."""
    k = 0
    total = 0.0
    cur = -1
    cur_max = 0.0
    cur_hit = False
    for q in range(hit.shape[0]):
        v = qsnr[q] if hit[q] else 0.0
        if q == 0 or qs[q] != cur:
            if q > 0:
                total += cur_max
                k += 1 if cur_hit else 0
            cur, cur_max, cur_hit = qs[q], v, hit[q]
        else:
            cur_max = max(cur_max, v)
            cur_hit = cur_hit or hit[q]
    if hit.shape[0] > 0:
        total += cur_max
        k += 1 if cur_hit else 0
    return k, total


@numba.njit(cache=True)
def _k_fine_best(
    fg: NDArray[np.float64],
    rcv: NDArray[np.float64],
    qt: NDArray[np.float64],
    qs: NDArray[np.int64],
    qsnr: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    tol: float,
    floor: int,
    members: NDArray[np.int64],
    start: NDArray[np.int64],
    centre: NDArray[np.float64],
    radius: float,
) -> tuple[int, float, float, int, float]:
    """The fine search of :func:`_search` around one coarse point, compiled (see
    :func:`_k_coarse_fine`): for every grid point ``fg[f]`` and
    anchor pulse ``a`` the pulses ``q`` (arrival ``qt[q]`` at ``rcv[q]``) whose implied
    origin time ``tau[f, q]`` lies within ``tol`` of ``tau[f, a]``; the most distinct
    sensors (``qs`` sorted), then the loudest set (sum over its sensors of the largest
    SNR, in 3 dB steps per sensor, rounded half to even), then the smallest mean offset;
    the first of equals. Travel times as :func:`~shotwatch.core.locate._k_travel`, once
    per sensor and grid point (the pulses of a sensor share its ``rcv`` row).
    Returns (sensors, loudness step, spread, f, origin time); only the sensors, fewer
    than ``floor``, when no set reaches ``floor`` sensors (a caller's best so far).

    Exactly the answer of scanning every (grid point, anchor, pulse), in O(F Q log Q)
    instead of O(F Q^2): a fireworks show's seeds gather a hundred pulses and more, and
    that scan was half the locator's time in the simulated city's busiest hour. And by
    branch and bound over blocks of grid points (``members[start[b]:start[b + 1]]``
    around ``centre[b]``, within ``radius`` of it: :func:`_k_blocks`): the sets at a
    block's centre with the tolerance widened for its size (:func:`_k_widened`) hold
    every set of its points, so their most sensors bound the points'. Blocks are
    searched in descending order of that bound until it falls below both the most
    sensors found and ``floor``: every point of the most sensors is searched."""
    n_f, n_q = fg.shape[0], qt.shape[0]
    sid = np.empty(n_q, dtype=np.int64)  # sensor of each pulse, numbered 0.. (qs sorted)
    n_s = 0
    for q in range(n_q):
        if q > 0 and qs[q] != qs[q - 1]:
            n_s += 1
        sid[q] = n_s
    t_max = _k_time_scale(qt, 0.0)
    # The winner is the first (grid point, anchor), in that order, of the most sensors,
    # then the loudest, then the tightest set. Pass 1 counts the sensors of every set;
    # pass 2 scores only the sets of the most sensors, as the exhaustive scan would.
    # A set is a run of the pulses sorted by origin time (subtraction is monotonic in
    # floating point; which of equal times comes first changes no run's members): two
    # pointers find every anchor's run, and a count per sensor follows the run as it
    # slides. Runs and counts are kept by rank in the sorted order.
    per = np.zeros(n_s + 1, dtype=np.int64)
    tau = np.empty((n_f, n_q))
    k_of = np.empty((n_f, n_q), dtype=np.int64)
    perm = np.empty((n_f, n_q), dtype=np.int64)
    lo = np.empty((n_f, n_q), dtype=np.int64)
    hi = np.empty((n_f, n_q), dtype=np.int64)
    ts = np.empty(n_q)
    ss = np.empty(n_q, dtype=np.int64)
    n_b = start.shape[0] - 1
    wide = _k_widened(tol, radius, c, wind, a_w, t_max)
    bound = np.full(n_b, n_s + 1, dtype=np.int64)
    c_perm = np.empty((n_b, n_q), dtype=np.int64)
    if wide < np.inf:
        tc = np.empty(n_q)
        lo_c = np.empty(n_q, dtype=np.int64)
        hi_c = np.empty(n_q, dtype=np.int64)
        k_c = np.empty(n_q, dtype=np.int64)
        for b in range(n_b):
            _k_origin_times(centre[b], rcv, qt, sid, c, wind, a_w, tc)
            # neighbouring points order the pulses almost alike: insertion sort from
            # the previous order is then close to linear
            if b == 0:
                c_perm[0] = np.argsort(tc)
            else:
                c_perm[b] = c_perm[b - 1]
                _k_insertion_sort(c_perm[b], tc)
            for i in range(n_q):
                ts[i] = tc[c_perm[b, i]]
                ss[i] = sid[c_perm[b, i]]
            bound[b] = _k_runs(ts, ss, wide, per, lo_c, hi_c, k_c)
    k_max = np.full(n_f, -1, dtype=np.int64)
    k_best = -1
    prev = -1
    for b in np.argsort(-bound, kind="mergesort"):
        if bound[b] < max(k_best, floor):
            break
        for j in range(start[b], start[b + 1]):
            f = members[j]
            _k_origin_times(fg[f], rcv, qt, sid, c, wind, a_w, tau[f])
            if wide < np.inf:
                perm[f] = c_perm[b] if j == start[b] else perm[prev]
                _k_insertion_sort(perm[f], tau[f])
            elif prev < 0:
                perm[f] = np.argsort(tau[f])
            else:
                perm[f] = perm[prev]
                _k_insertion_sort(perm[f], tau[f])
            prev = f
            for i in range(n_q):
                ts[i] = tau[f, perm[f, i]]
                ss[i] = sid[perm[f, i]]
            k_max[f] = _k_runs(ts, ss, tol, per, lo[f], hi[f], k_of[f])
            k_best = max(k_best, k_max[f])
    if k_best < floor:
        return k_best, 0.0, 0.0, 0, 0.0
    found = False
    best_loud, best_spread, bf, ba = -np.inf, np.inf, 0, 0
    hits = np.empty(n_q, dtype=np.bool_)
    rank = np.empty(n_q, dtype=np.int64)
    for f in range(n_f):
        if k_max[f] < k_best:
            continue
        tf = tau[f]
        rank[perm[f]] = np.arange(n_q)
        for a in range(n_q):
            i = rank[a]
            if k_of[f, i] < k_best:
                continue
            # Few sets get here: score them as the scan did (sums in pulse order).
            hits[:] = False
            hits[perm[f, lo[f, i] : hi[f, i]]] = True
            ta = tf[a]
            total = 0.0
            for q in range(n_q):
                if hits[q]:
                    total += abs(tf[q] - ta)
            _, strength = _k_set_score(hits, qs, qsnr)
            spread = total / max(hi[f, i] - lo[f, i], 1)
            loud = np.rint(strength / (3.0 * k_best))
            if not found or loud > best_loud or (loud == best_loud and spread < best_spread):
                found = True
                best_loud, best_spread, bf, ba = loud, spread, f, a
    return k_best, best_loud, best_spread, bf, tau[bf, ba]


@numba.njit(cache=True)
def _k_origin_times(
    p: NDArray[np.float64],
    rcv: NDArray[np.float64],
    qt: NDArray[np.float64],
    sid: NDArray[np.int64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    out: NDArray[np.float64],
) -> None:
    """The origin times ``out`` (n_q,) that the arrivals ``qt`` imply for a source at
    ``p`` (3,): one travel time per sensor (``sid`` numbers the pulses' sensors, in
    runs; the pulses of a sensor share its ``rcv`` row)."""
    tt = 0.0
    for q in range(qt.shape[0]):
        if q == 0 or sid[q] != sid[q - 1]:
            tt = _k_travel(rcv[q, 0] - p[0], rcv[q, 1] - p[1], rcv[q, 2] - p[2], c, wind, a_w)
        out[q] = qt[q] - tt


@numba.njit(cache=True)
def _k_insertion_sort(perm: NDArray[np.int64], key: NDArray[np.float64]) -> None:
    """Sort the indices ``perm`` by ``key[perm]`` in place (insertion sort: linear when
    ``perm`` is nearly in order already)."""
    for i in range(1, perm.shape[0]):
        p = perm[i]
        v = key[p]
        j = i - 1
        while j >= 0 and key[perm[j]] > v:
            perm[j + 1] = perm[j]
            j -= 1
        perm[j + 1] = p


@numba.njit(cache=True)
def _k_runs(
    ts: NDArray[np.float64],
    ss: NDArray[np.int64],
    tol: float,
    per: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    k_of: NDArray[np.int64],
) -> int:
    """For origin times ``ts`` (n,) in ascending order (of pulses at sensors ``ss``): for
    each rank ``i`` the run ``lo[i]:hi[i]`` of the pulses whose origin time is within
    ``tol`` of its own, and ``k_of[i]`` the distinct sensors in that run (``per`` is
    scratch, one count per sensor). Returns the most sensors of any run. (The times are
    sorted, so ``ts[i] - ts[j]`` for ``j <= i`` is the ``abs`` of their difference.)"""
    n = ts.shape[0]
    per[:] = 0
    distinct = 0
    most = 0
    j0 = 0
    j1 = 0
    for i in range(n):
        ti = ts[i]
        while ti - ts[j0] >= tol:
            s = ss[j0]
            per[s] -= 1
            if per[s] == 0:
                distinct -= 1
            j0 += 1
        while j1 < n and (j1 <= i or ts[j1] - ti < tol):
            s = ss[j1]
            if per[s] == 0:
                distinct += 1
            per[s] += 1
            j1 += 1
        lo[i] = j0
        hi[i] = j1
        k_of[i] = distinct
        most = max(most, distinct)
    return most


def _nearest_per_sensor(
    ob: _Obs,
    cs: NDArray[np.int64],
    ct: NDArray[np.float64],
    cand: NDArray[np.int64],
    x: NDArray[np.float64],
    t0: float,
    tol: float,
) -> NDArray[np.int64]:
    """Per sensor, the candidate pulse nearest the prediction of (x, t0), if within tol."""
    return np.asarray(cand[_closest_per_sensor(cs, ct - t0 - ob.tt(x, ob.spos[cs]), tol)])


def _closest_per_sensor(
    sens: NDArray[np.int64], r: NDArray[np.float64], tol: float | NDArray[np.float64]
) -> NDArray[np.int64]:
    """Positions (into ``sens`` and ``r``) of the pulse with the smallest ``|r|`` at each
    sensor, among those with ``|r| < tol``."""
    idx = np.flatnonzero(np.abs(r) < tol)
    if idx.size == 0:
        return idx.astype(np.int64)
    idx = idx[np.lexsort((np.abs(r[idx]), sens[idx]))]
    first = np.concatenate(([True], sens[idx][1:] != sens[idx][:-1]))
    return np.asarray(idx[first], dtype=np.int64)


def _absorb(
    shot: LocatedShot,
    ob: _Obs,
    assigned: NDArray[np.bool_],
) -> list[int]:
    """Claim the pulses that this shot explains besides its direct arrivals, so they
    cannot seed phantom shots: at sensors of the fit, double reports (within
    ``duplicate_s``) and weaker echoes up to ``echo_window_s`` later (``echo_drop_db``
    weaker); at other sensors, arrivals up to ``late_window_s`` after the prediction
    (blocked, diffracted paths). Sets ``assigned``; returns the claimed indices."""
    spos, psens, pt, psnr, cfg = ob.spos, ob.psens, ob.pt, ob.psnr, ob.cfg
    free = np.flatnonzero(~assigned)
    if free.size == 0:
        return []
    used = np.full(spos.shape[0], -1, dtype=np.int64)  # the shot's pulse at each sensor
    used[psens[shot.pulses]] = shot.pulses
    j = used[psens[free]]
    own = j >= 0
    r = pt[free] - shot.t0 - ob.tt(shot.pos, spos[psens[free]])
    dt = pt[free] - pt[np.where(own, j, free)]
    claim = np.where(
        own,
        (np.abs(dt) <= cfg.duplicate_s)
        | ((dt > 0) & (dt <= cfg.echo_window_s)
           & (psnr[free] <= psnr[np.where(own, j, free)] - cfg.echo_drop_db)),
        (r > -cfg.accept_tol_s) & (r < cfg.late_window_s),
    )  # fmt: skip
    hit = free[claim]
    assigned[hit] = True
    return [int(k) for k in hit]


def _is_echo_ghost(
    shot: LocatedShot,
    accepted: list[LocatedShot],
    ob: _Obs,
) -> bool:
    """True for the reverberant tail of an accepted shot: a candidate heard by fewer
    sensors, within ``ghost_window_s`` after it, at least three quarters of whose pulses
    trail that shot's pulse at the same sensor by up to ``ghost_window_s`` and are weaker
    on average; or a duplicate fix of it (same place, origin within 30 ms —
    one weapon cannot fire twice from one spot that fast). A candidate within
    ``same_place_m`` of the shot but later is another round, not a ghost; so is one
    heard by ``strong_sensors`` or more whose origin time is further from the shot's
    than an image source's could be."""
    pt, psnr, cfg = ob.pt, ob.psnr, ob.cfg
    twice: bool | None = None  # whether its place fired twice (asked when it matters)
    for other in accepted:
        dt0 = shot.t0 - other.t0
        dist = float(np.linalg.norm(shot.pos[:2] - other.pos[:2]))
        if dist < cfg.same_place_m:
            if abs(dt0) < 0.03:
                return True
            # Another round from the same spot: real, whatever its level (an echo's
            # image source lies behind its reflector, tens of metres away or more).
            continue
        if abs(dt0) > cfg.ghost_window_s or len(shot.pulses) >= len(other.pulses):
            continue
        if twice is None:
            twice = _fired_twice(shot, accepted, ob)
        if twice:
            continue  # a second gun behind buildings, heard in the first one's tail
        # The reverberant tail of a loud shot heard far away (a hill, a large facade):
        # far fewer sensors, all of them faint next to the shot itself. A second gun
        # would be loud at the sensors nearest to it.
        if (
            dt0 >= -0.5
            and dist > cfg.tail_min_dist_m
            and 2 * len(shot.pulses) <= len(other.pulses)
            and np.any(psnr[shot.pulses] != 0)
            and _median(psnr[shot.pulses]) <= _median(psnr[other.pulses]) - cfg.tail_drop_db
        ):
            return True
        # A well-heard candidate fitting one source is a reflection only as an image
        # source, which emits with the shot: its origin time differs from the shot's by
        # no more than their distance allows. Otherwise its pulses trail the shot's
        # because it is a later shot (a second gun near the first, behind buildings).
        if len(shot.pulses) >= cfg.strong_sensors and abs(dt0) > dist / ob.c_slow + cfg.image_t0_s:
            continue
        i, j = _pair(shot, other, ob)
        lag = pt[i] - pt[j]
        trail = (lag > 0) & (lag <= cfg.ghost_window_s)
        if (
            trail.sum() >= 0.6 * len(shot.pulses)
            and trail.any()
            and float(np.mean(psnr[j[trail]] - psnr[i[trail]])) >= cfg.ghost_drop_db
        ):
            return True
    return False


def warm_up() -> None:
    """Compile (first run after an install, about 20 s) or load from numba's cache
    (about 0.2 s) every kernel of the partition, the association and the fit, on a
    small synthetic shot heard by six sensors and the same shot heard by three, so that
    a service's first real shot does not wait for it (nor a benchmark's timing hold
    it). Idempotent and cheap once done."""
    ang = np.linspace(0.0, 2.0 * np.pi, 6, endpoint=False)
    spos = np.column_stack([300.0 * np.cos(ang), 300.0 * np.sin(ang), np.full(6, 5.0)])
    src = np.array([20.0, -10.0, 1.5])
    c = 343.0
    pt = 1.0 + np.linalg.norm(spos - src, axis=1) / c
    sens = np.arange(6, dtype=np.int64)
    from shotwatch.core.partition import partition_pulses

    partition_pulses(spos, sens, pt, c)
    # two rounds from one spot: the second is matched to the first's arrival pattern
    associate(
        spos, np.concatenate([sens, sens]), np.concatenate([pt, pt + 0.5]), c,
        pulse_snr=np.full(12, 30.0),
    )  # fmt: skip
    associate(spos, sens, pt, c, pulse_snr=np.full(6, 30.0), wind=np.array([3.0, 1.0, 0.0]))
    # a shot heard by three sensors: its exact fit runs on broadcast (read-only) arrays
    three_sensor_shots(spos, sens[:3], pt[:3], c, pulse_snr=np.full(3, 30.0))
