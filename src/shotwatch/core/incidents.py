"""Shots -> incidents: rounds, shooters, mobile shooter, classification, summary.

The dispatcher is told what the sensors heard in the words of general order 510.05
§B.3: a single shooter firing a single round; a single shooter firing multiple rounds;
the possibility of multiple shooters; the possibility of a mobile shooter with speed and
direction of travel. This module turns located shots (origin time, position and its
covariance, height above ground, gunshot score) into those statements.

Method
------
1. **Incidents.** Shots are chained by single linkage in space and time: two shots are
   linked when their origin times differ by at most ``max_gap_s`` and their horizontal
   distance is at most ``max_dist_m``. When the chain's heights are physically sane (no
   shot more than ``below_ground_m`` below ground even 2 sigma higher), it is split by
   height: aerial sources (at least ``aerial_height_m`` above ground even 2 sigma lower)
   are never chained with ground sources (below it even 2 sigma higher), so a firework
   show and gunfire under it stay separate incidents; a shot of unknown or ambiguous
   height joins the layer of the definite shots it could chain with (its own estimate
   decides a tie; a chain without any definite height stays whole). A chain with
   insane heights is not split by height: only the median of its heights is trusted (a
   burst located 49 m and 146 m up and 53 m and 36 m underground is one ground burst). An
   incident is aerial when the median of its known heights is at least
   ``aerial_height_m`` and the heights say so surely: a shot at least that high even 2
   sigma lower (the model floor ``floor_m`` included), and of four shots or more two
   such (a ground gun's shot can be fitted aloft, and when the other shots' heights are
   unresolved the median rests on that one). Known heights of ``aerial_height_m`` and
   more that are not so sure (free-height fits of a ground gun in blocked paths came
   out 30-32 m +- 4 m) do not make fireworks; such an incident is never automatic
   gunfire either (probable at most: a reviewer decides).
2. **Static shooters.** Shots are merged agglomeratively (greedy, smallest statistic
   first) while the Mahalanobis statistic of the difference of two cluster means,

       T = d^T (S_a + S_b)^-1 d,   S = (sum_i C_i^-1)^-1 + f^2 I,

   stays below ``same_place_chi2`` (chi-square, 3 dof; ``f`` = ``floor_m`` is a model
   error floor, metres). Timing is used as a cannot-link constraint: two shots closer in
   time than a weapon can cycle (``min_cycle_s``) whose places differ significantly
   (pair statistic above ``distinct_place_chi2``) come from two weapons and never share
   a shooter (constrained clustering in the manner of Wagstaff et al., ICML 2001).
   Automatic fire (600-900 rounds/min, 0.066-0.1 s) from one place stays one shooter.
3. **Mobile shooter.** Track hypotheses x(t) = x0 + v (t - t0) are drawn from pairs of
   shots (RANSAC, Fischler & Bolles 1981, made exhaustive over pairs whose implied
   horizontal speed is plausible), their inliers gated by chi-square, then refined by
   weighted least squares with each shot's covariance. A track is accepted when it holds at least
   ``min_track_shots`` (three) shots, fewer than ``firm_track_shots`` (four) only when
   none of them shares its place with a shot off the track (a shooter who fires twice
   from one spot is standing there; between two alternating shooters a mixture of their
   arrivals fits a point half-way, which with one round of each lines up as a
   "vehicle"), its horizontal speed exceeds both ``min_speed_mps`` and
   ``speed_sigma_factor`` times its standard error, its own shots are better explained
   by the track than by static places (by BIC; against one or two places, which need no
   more parameters than a track, it must also win by ``two_place_margin``: alternating
   shooters jump back and forth and never fit a track, while two shooters firing one
   after the other are told from a moving one by the shots within each group staying
   put), and the Bayesian information criterion (Schwarz 1978) of "track + static rest"
   is lower than that of the all-static model, BIC = chi^2 + k ln(3 n). Speed (m/s) and heading
   (degrees clockwise from north) come with 1-sigma errors propagated from the
   least-squares covariance (scaled by the reduced chi-square when it exceeds 1).
4. **Classification.** A logistic score (log-odds that the incident is gunfire) adds
   documented evidence terms: the logit of the median pulse gunshot score (nan = no
   evidence) grown slowly with the number of scored shots; a penalty for sources between
   ``elevated_height_m`` and ``aerial_height_m`` above ground; aerial sources (at least
   ``aerial_height_m`` up, surely: see 1.) are fireworks and always ``non_gunfire``; a
   firecracker string (many pops at short, irregular intervals from one spot, the
   intervals of the shots heard by at least half as many sensors as the median shot;
   intervals that are whole
   multiples of one cycle are automatic fire with missed rounds), ground thumps each followed
   by a burst aloft (firework launches) and a long perfectly regular slow cadence
   (hammering, machinery) are penalised; an isolated single impulse heard
   by few sensors is weak. Loudness: where the sensors are calibrated, the lower median
   estimated source level (peak dB SPL at 1 m) of the shots adds up to
   ``level_up_logit`` from ``level_gun_db`` to ``level_up_db`` above it (muzzle blasts
   are 150-165 dB at 1 m, backfires 135-145, firecrackers 130-140), nothing between
   ``level_low_db`` and ``level_gun_db``, and takes off at most ``level_down_logit``
   from ``level_low_db`` to ``level_down_db`` below it (a gun among buildings reaches
   no sensor over an open path and reads low). A single impulse's ramp starts
   ``level_single_db`` higher: with one shot the level is one draw of the source's
   level, while with two both must reach it (the lower median), with three two of
   three. For a confuser whose levels scatter by sigma (backfires 140 +- 3 dB: the
   135-145 of the literature at +-1.7 sigma) the chance that one draw clears
   ``level_gun_db`` + sigma (Q(3.3) = 4e-4) is that of two of three clearing
   ``level_gun_db`` (3 Q(2.3)^2 = 3e-4), while one draw clears ``level_gun_db`` about
   30 times as often (Q(2.3) = 1e-2); a muzzle blast (150-165 dB) clears it by more
   where it reaches a sensor over an open path. Three or more rounds that are no
   firecracker string, cadence or launches add ``rounds_logit`` (backfires and door
   slams come singly or in pairs); where they are not, reach stands in
   for loudness: a ground source heard by many sensors adds up to
   ``reach_max_logit``. ``confidence`` is the
   resulting probability that the incident is gunfire: ``gunfire`` at or above
   ``gunfire_threshold``, ``probable_gunfire`` at or above ``probable_threshold``,
   ``non_gunfire`` below. Two caps follow: an incident heard by three sensors only, and
   a ground incident under a fireworks show (each shot within ``show_window_s`` and
   ``show_dist_m`` of a burst aloft heard by ``show_min_sensors`` sensors: mixtures of
   the show's arrivals fit sources in the street), are at most ``probable_gunfire``, and
   their summaries say why: a reviewer decides.

All positions are metres in a local east-north-up frame; all times epoch seconds.
Pure numeric code: no I/O, no clocks, no globals.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

GUNFIRE = "gunfire"
PROBABLE_GUNFIRE = "probable_gunfire"
NON_GUNFIRE = "non_gunfire"

# chi-square quantiles, 3 degrees of freedom
CHI2_3DOF_P95 = 7.815
CHI2_3DOF_P999 = 16.266

_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class ShotArrays:
    """Located shots as arrays (validated on construction).

    ``t`` (n,) origin times, epoch seconds, any order; ``pos`` (n, 3) east, north, up,
    metres in a local frame; ``cov`` (n, 3, 3) position covariance, m^2; ``height_agl``
    (n,) height above local ground, m (nan = unknown); ``score`` (n,) median gunshot score
    of the shot's pulses in 0..1 (nan = none); ``n_sensors`` (n,) sensors that located
    the shot; optional ``height_sigma`` (n,) 1-sigma error of ``height_agl``, m (nan or
    absent: the vertical standard deviation of ``cov`` is used); optional ``source_db``
    (n,) the shot's estimated peak level at 1 m, dB SPL (nan or absent: unknown; see
    :func:`shotwatch.core.acoustics.source_level_db`); optional ``alt_pos`` (n, 3) the
    other point that a shot heard by three sensors only fits as well (nan: none);
    optional ``off_ground`` (n,) bool: the shot was fitted from too few sensors for a
    height, yet far off the ground (its place unchecked: its reach is no evidence of a
    loud ground source; see :data:`shotwatch.pipeline.UNCHECKED_HEIGHT_M`). Raises
    :class:`~shotwatch.errors.InputError` (a ``ValueError``) on mismatched shapes or
    non-finite times, positions or covariances.
    """

    t: F64
    pos: F64
    cov: F64
    height_agl: F64
    score: F64
    n_sensors: I64
    height_sigma: F64 | None = None
    source_db: F64 | None = None
    alt_pos: F64 | None = None
    off_ground: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        def arr(name: str, dtype: type) -> NDArray[np.float64]:
            try:
                a: NDArray[np.float64] = np.asarray(getattr(self, name), dtype=dtype)
            except (TypeError, ValueError) as e:
                raise InputError(f"ShotArrays.{name}: not numeric ({e})") from None
            object.__setattr__(self, name, a)
            return a

        t = arr("t", np.float64)
        pos = arr("pos", np.float64)
        cov = arr("cov", np.float64)
        h = arr("height_agl", np.float64)
        s = arr("score", np.float64)
        try:
            ns_f = np.asarray(self.n_sensors, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(f"ShotArrays.n_sensors: not numeric ({e})") from None
        if ns_f.size and (~np.isfinite(ns_f) | (ns_f != np.round(ns_f))).any():
            raise InputError("ShotArrays.n_sensors: must be finite integers")
        ns = arr("n_sensors", np.int64)
        if t.ndim != 1:
            raise InputError(f"ShotArrays.t: expected shape (n,), got {t.shape}")
        n = t.shape[0]
        expect = {
            "pos": (pos, (n, 3)),
            "cov": (cov, (n, 3, 3)),
            "height_agl": (h, (n,)),
            "score": (s, (n,)),
            "n_sensors": (ns, (n,)),
        }
        for name, (a, shape) in expect.items():
            if a.shape != shape:
                raise InputError(
                    f"ShotArrays.{name}: expected shape {shape} to match t with n={n}, "
                    f"got {a.shape}"
                )
        for name, a in (("t", t), ("pos", pos), ("cov", cov)):
            bad = ~np.isfinite(a.reshape(n, -1)).all(axis=1) if n else np.zeros(0, bool)
            if bad.any():
                raise InputError(
                    f"ShotArrays.{name}: non-finite (NaN/inf) values at shot index "
                    f"{np.flatnonzero(bad)[:5].tolist()}"
                )
        if n:
            asym = np.abs(cov - cov.transpose(0, 2, 1)).max(axis=(1, 2))
            diag = np.diagonal(cov, axis1=1, axis2=2)
            bad = (asym > 1e-6 * (1.0 + np.abs(cov).max(axis=(1, 2)))) | (diag < 0).any(axis=1)
            if bad.any():
                raise InputError(
                    "ShotArrays.cov: covariances must be symmetric with non-negative "
                    f"variances (bad at {np.flatnonzero(bad)[:5].tolist()})"
                )
        if np.isinf(h).any():
            raise InputError("ShotArrays.height_agl: infinite value (use nan for unknown)")
        fs = s[np.isfinite(s)]
        if np.isinf(s).any() or ((fs < 0) | (fs > 1)).any():
            raise InputError("ShotArrays.score: gunshot scores must be in 0..1 or nan")
        if (ns < 0).any():
            raise InputError("ShotArrays.n_sensors: must be >= 0")
        if self.height_sigma is not None:
            hs = arr("height_sigma", np.float64)
            if hs.shape != (n,):
                raise InputError(
                    f"ShotArrays.height_sigma: expected shape {(n,)} to match t, got {hs.shape}"
                )
            if (hs[np.isfinite(hs)] < 0).any() or np.isinf(hs).any():
                raise InputError("ShotArrays.height_sigma: must be >= 0 or nan")
        if self.source_db is not None:
            sd = arr("source_db", np.float64)
            if sd.shape != (n,):
                raise InputError(
                    f"ShotArrays.source_db: expected shape {(n,)} to match t, got {sd.shape}"
                )
            if np.isinf(sd).any():
                raise InputError("ShotArrays.source_db: infinite value (use nan for unknown)")
        if self.off_ground is not None:
            og = np.asarray(self.off_ground)
            if og.shape != (n,) or og.dtype != np.bool_:
                raise InputError(
                    f"ShotArrays.off_ground: expected booleans of shape {(n,)}, got "
                    f"{og.dtype} {og.shape}"
                )
            object.__setattr__(self, "off_ground", og)
        if self.alt_pos is not None:
            ap = arr("alt_pos", np.float64)
            if ap.shape != (n, 3) or np.isinf(ap).any():
                raise InputError(
                    f"ShotArrays.alt_pos: expected shape {(n, 3)} to match t, finite or nan, "
                    f"got {ap.shape}"
                )

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True)
class IncidentGroup:
    """One incident: which shots, which shooter fired each, and what to tell dispatch.

    ``shot_index`` indices into the :class:`ShotArrays`, time-ordered; ``shooter`` (k,)
    0-based shooter per shot (numbered in order of first shot); ``speed_mps`` horizontal
    speed, m/s, and ``heading_deg`` direction of travel, degrees clockwise from north in
    0..360, with 1-sigma errors, all ``None`` unless ``mobile``; ``confidence`` the
    probability (0..1) that the incident is gunfire; ``kind`` the likely source of a
    ``non_gunfire`` incident (``"aerial"`` fireworks, ``"launch"`` firework launches,
    ``"firecracker"``, ``"cadence"``) or ``None``.
    """

    shot_index: I64
    shooter: I64
    shooters: int
    mobile: bool
    speed_mps: float | None
    heading_deg: float | None
    speed_sigma_mps: float | None
    heading_sigma_deg: float | None
    classification: str
    confidence: float
    summary: str
    kind: str | None = None

    @property
    def rounds(self) -> int:
        return int(self.shot_index.shape[0])


@dataclass(frozen=True)
class _Track:
    members: I64  # local indices
    theta: F64  # (6,) x0 (3), v (3) at reference time t0
    t0: float
    speed: float
    speed_sigma: float
    heading: float
    heading_sigma: float
    chi2: float


# --------------------------------------------------------------------------- summary


def compass_point(heading_deg: float) -> str:
    """Eight-point compass name (N, NE, ..., NW) of a heading in degrees from north."""
    return _COMPASS[int(((heading_deg % 360.0) + 22.5) // 45.0) % 8]


def incident_summary(
    rounds: int,
    shooters: int,
    mobile: bool,
    speed_mps: float | None,
    heading_deg: float | None,
    classification: str,
    *,
    kind: str | None = None,
    height_m: float | None = None,
) -> str:
    """The dispatcher's one line, worded after general order 510.05 §B.3.

    Gunfire: "Single round"; "Multiple rounds, 5 rounds"; "Possible multiple shooters,
    9 rounds"; "Possible mobile shooter, 4 rounds, 12 m/s heading NE (45°)". A
    ``probable_gunfire`` line is prefixed "Probable gunfire: ". Non-gunfire lines name the
    likely source when ``kind`` is given: ``"aerial"`` (with ``height_m``, metres above
    ground) -> "Probable fireworks (aerial, 85 m up), 6 bursts"; ``"firecracker"`` ->
    "Probable firecrackers, 40 pops"; ``"launch"`` -> "Probable fireworks (launches),
    3 launches"; ``"cadence"`` -> "Probable non-gunfire (regular
    cadence), 12 impulses"; otherwise "Probable non-gunfire impulse(s)".
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if classification not in (GUNFIRE, PROBABLE_GUNFIRE, NON_GUNFIRE):
        raise ValueError(f"unknown classification {classification!r}")
    if classification == NON_GUNFIRE:
        if kind == "aerial":
            up = "" if height_m is None or not math.isfinite(height_m) else f", {height_m:.0f} m up"
            unit = "burst" if rounds == 1 else "bursts"
            return f"Probable fireworks (aerial{up}), {rounds} {unit}"
        if kind == "firecracker":
            return f"Probable firecrackers, {rounds} pops"
        if kind == "launch":
            unit = "launch" if rounds == 1 else "launches"
            return f"Probable fireworks (launches), {rounds} {unit}"
        if kind == "cadence":
            return f"Probable non-gunfire (regular cadence), {rounds} impulses"
        if rounds == 1:
            return "Probable non-gunfire impulse"
        return f"Probable non-gunfire impulses, {rounds} impulses"
    parts: list[str] = []
    if rounds == 1:
        parts.append("Single round")
    else:
        if shooters > 1:
            parts.append("Possible multiple shooters")
        if mobile:
            parts.append("Possible mobile shooter")
        if not parts:
            parts.append("Multiple rounds")
        parts.append(f"{rounds} rounds")
        if mobile and speed_mps is not None and heading_deg is not None:
            h = heading_deg % 360.0
            parts.append(f"{speed_mps:.0f} m/s heading {compass_point(h)} ({h:.0f}°)")
    line = ", ".join(parts)
    return f"Probable gunfire: {line}" if classification == PROBABLE_GUNFIRE else line


THREE_SENSORS = 3
"""A shot heard by this many sensors or fewer has no redundant arrival to check its fix."""


def three_sensor_note(pos: F64, alt: F64 | None) -> str:
    """The summary's warning for an incident heard by three sensors only: "heard by only
    three sensors, location uncertain", and where the second point lies that the same
    arrivals fit as well (distance and compass point from the first, e.g. "or 240 m NE")
    when there is one (``alt`` finite)."""
    note = "heard by only three sensors, location uncertain"
    if alt is None or not np.all(np.isfinite(alt)):
        return note
    d = np.asarray(alt, dtype=float)[:2] - np.asarray(pos, dtype=float)[:2]
    dist = float(np.hypot(d[0], d[1]))
    bearing = math.degrees(math.atan2(d[0], d[1])) % 360.0
    return f"{note} (or {dist:.0f} m {compass_point(bearing)})"


# --------------------------------------------------------------------------- helpers


def _sym_inv(m: F64) -> F64:
    """Inverse of a stack (..., 3, 3) of symmetric positive-definite matrices."""
    return np.asarray(np.linalg.inv(m), dtype=np.float64)


def _resolve_layers(
    t: F64, xy: F64, layer: I64, high: NDArray[np.bool_], *, max_gap_s: float, max_dist_m: float
) -> I64:
    """Give each shot of ambiguous height (``layer`` 0) the layer of the definite shots it
    could chain with; when it could chain with both, or none, its point estimate decides
    (``high``: at least the aerial height). Ambiguous shots thus never bridge a firework
    show and the ground impulses under it."""
    out = layer.copy()
    amb = np.flatnonzero(layer == 0)
    if amb.size == 0:
        return out
    definite = np.flatnonzero(layer != 0)
    definite = definite[np.argsort(t[definite], kind="stable")]
    td = t[definite]
    for i in amb:
        lo, hi = np.searchsorted(td, [t[i] - max_gap_s, t[i] + max_gap_s], side="left")
        js = definite[lo:hi]
        js = js[np.hypot(*(xy[js] - xy[i]).T) <= max_dist_m]
        near = set(layer[js].tolist())
        out[i] = near.pop() if len(near) == 1 else (1 if high[i] else -1)
    return out


def _height_sigma(shots: ShotArrays) -> F64:
    """1-sigma error of each height above ground, m: ``height_sigma`` when given and
    finite, else the vertical standard deviation of the position covariance."""
    sz = np.sqrt(shots.cov[:, 2, 2])
    if shots.height_sigma is None:
        return np.asarray(sz, dtype=np.float64)
    return np.asarray(np.where(np.isfinite(shots.height_sigma), shots.height_sigma, sz))


def _incident_groups(
    shots: ShotArrays,
    *,
    max_gap_s: float,
    max_dist_m: float,
    floor_m: float,
    aerial_height_m: float,
    below_ground_m: float,
) -> tuple[list[I64], I64, I64]:
    """Chain shots into incidents (see the module docstring, step 1).

    Returns the groups (time-ordered index arrays, ordered by first shot), each shot's
    height layer (+1 aerial, -1 ground) and its height's own verdict (+1 aloft even 2
    sigma lower, -1 below even 2 sigma higher, 0 unknown or ambiguous). A space-time
    chain whose heights are not physically sane (a shot more than ``below_ground_m``
    below ground even 2 sigma higher) is not split by height; its layer follows the
    median of its heights.
    """
    t, xy = shots.t, shots.pos[:, :2]
    h = shots.height_agl
    known = np.isfinite(h)
    hz = np.where(known, h, 0.0)
    sz = 2.0 * np.sqrt(_height_sigma(shots) ** 2 + floor_m * floor_m)
    raw = np.where(
        ~known,
        0,
        np.where(hz - sz >= aerial_height_m, 1, np.where(hz + sz < aerial_height_m, -1, 0)),
    ).astype(np.int64)
    below = known & (hz + sz < -below_ground_m)
    layer = np.full(t.shape[0], -1, dtype=np.int64)
    groups: list[I64] = []
    zero = np.zeros(t.shape[0], dtype=np.int64)
    for cand in _chain(t, xy, zero, max_gap_s, max_dist_m):
        # insane heights, or none decisive: the chain stays whole, its median decides
        if below[cand].any() or (raw[cand] == 0).all():
            hk = h[cand][known[cand]]
            layer[cand] = 1 if hk.size and np.median(hk) >= aerial_height_m else -1
            groups.append(cand)
            continue
        lay = _resolve_layers(
            t[cand],
            xy[cand],
            raw[cand],
            hz[cand] >= aerial_height_m,
            max_gap_s=max_gap_s,
            max_dist_m=max_dist_m,
        )
        layer[cand] = lay
        groups.extend(cand[sub] for sub in _chain(t[cand], xy[cand], lay, max_gap_s, max_dist_m))
    groups = [g[np.argsort(t[g], kind="stable")] for g in groups]
    groups.sort(key=lambda g: float(t[g[0]]))
    return groups, layer, raw


def _chain(t: F64, xy: F64, layer: I64, max_gap_s: float, max_dist_m: float) -> list[I64]:
    """Single-linkage chaining in space-time; returns groups of indices, time-ordered.

    ``layer`` is -1 (ground) or +1 (aerial): shots of different layers are never linked.
    """
    n = t.shape[0]
    order = np.argsort(t, kind="stable")
    ts, ps, ly = t[order], xy[order], layer[order]
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    ends = np.searchsorted(ts, ts + max_gap_s, side="right")
    for i in range(n):
        if ends[i] <= i + 1:
            continue
        js = np.arange(i + 1, ends[i])
        d = np.hypot(ps[js, 0] - ps[i, 0], ps[js, 1] - ps[i, 1])
        for j in js[(d <= max_dist_m) & (ly[js] == ly[i])]:
            ri, rj = find(i), find(int(j))
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    groups: dict[int, list[int]] = {}
    for k in range(n):
        groups.setdefault(int(roots[k]), []).append(int(order[k]))
    out = [np.asarray(g, dtype=np.int64) for g in groups.values()]
    out.sort(key=lambda g: float(t[g[0]]))
    return out


def _floor_matrix(horizontal_m: float, up_m: float) -> F64:
    """Model-error covariance floor, m^2: ``diag(h^2, h^2, up^2)``."""
    return np.diag([horizontal_m**2, horizontal_m**2, up_m**2])


def _corroborated(labels: I64, n_sensors: I64, t: F64, min_sensors: int) -> I64:
    """Shooters of one shot heard by fewer than ``min_sensors`` sensors, beside a shooter
    of several shots, are given to the nearest shooter in time.

    Four or five arrivals fit some source exactly, and inside a burst a mixture of
    two rounds' pulses can fit one tens of metres off, once; a second gun fires more
    than once or is heard more widely. The shot still counts as a round."""
    ids, counts = np.unique(labels, return_counts=True)
    if ids.size < 2 or counts.max() < 2:
        return labels
    out = labels.copy()
    others = np.flatnonzero(np.isin(labels, ids[counts >= 2]))  # shots of multi-shot shooters
    for lab in ids[counts == 1].tolist():
        i = int(np.flatnonzero(labels == lab)[0])
        if n_sensors[i] < min_sensors:
            out[i] = labels[others[np.argmin(np.abs(t[others] - t[i]))]]
    return out


def _on_track(
    labels: I64,
    tracks: list[_Track],
    t: F64,
    pos: F64,
    join_m: float,
    join_s: float,
    min_cycle_s: float,
) -> I64:
    """Static places (labels from ``len(tracks)`` on) given to a track (labels below)
    when every shot of the place lies within ``join_m`` metres horizontally of where the
    track puts the shooter at its time, between the track's first and last shots or
    within ``join_s`` seconds of them (its next round), and no closer in time to one of
    them than ``min_cycle_s`` (a second gun firing in the same instant is a second
    shooter).

    A moving shooter's round located from few sensors, some over diffracted paths, can
    land 10-25 m off its place (simulated suite: five moving shooters counted as two so),
    and its formal covariance does not cover that bias, so the track's chi-square gate
    leaves it out; a second shooter standing within metres of a moving one's path and
    firing between its rounds is the rarer case."""
    out = labels.copy()
    for lab in np.unique(labels[labels >= len(tracks)]).tolist():
        idx = np.flatnonzero(labels == lab)
        for ti, tr in enumerate(tracks):
            tm = t[tr.members]
            if t[idx].min() < tm.min() - join_s or t[idx].max() > tm.max() + join_s:
                continue
            if np.min(np.abs(t[idx][:, None] - tm[None, :])) < min_cycle_s:
                continue
            pred = tr.theta[:3] + (t[idx] - tr.t0)[:, None] * tr.theta[3:]
            if np.all(np.hypot(*(pos[idx, :2] - pred[:, :2]).T) <= join_m):
                out[idx] = ti
                break
    return out


def _cluster_static(
    t: F64,
    pos: F64,
    cov: F64,
    *,
    floor_m: float,
    same_place_chi2: float,
    distinct_place_chi2: float,
    min_cycle_s: float,
    floor_up_m: float | None = None,
) -> I64:
    """Greedy agglomerative clustering of shot positions into static shooters.

    Merges the pair of clusters with the smallest mean-difference statistic
    ``T = d^T (S_a + S_b)^-1 d`` (``S`` = covariance of the weighted mean plus
    ``diag(floor_m^2, floor_m^2, floor_up_m^2)``, ``floor_up_m`` defaulting to
    ``floor_m``) while ``T < same_place_chi2`` and no cannot-link pair (shots less
    than ``min_cycle_s`` apart whose pair statistic exceeds ``distinct_place_chi2``)
    would share a cluster. Returns labels 0..K-1 numbered by first shot in input order.
    """
    n = t.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    floor2 = _floor_matrix(floor_m, floor_m if floor_up_m is None else floor_up_m)
    W = _sym_inv(cov + 1e-6 * np.eye(3))  # information of each shot
    Wx = np.einsum("nij,nj->ni", W, pos)
    S = cov + floor2
    mu = pos.copy()
    T = _place_stat(mu, S, mu, S)
    close = np.abs(t[:, None] - t[None, :]) < min_cycle_s
    cl = close & np.greater(T, distinct_place_chi2)
    np.fill_diagonal(cl, False)
    active = np.ones(n, dtype=bool)
    labels = np.arange(n)
    T = T.copy()
    np.fill_diagonal(T, np.inf)
    while True:
        Tm = np.where(cl | ~active[:, None] | ~active[None, :], np.inf, T)
        k = int(np.argmin(Tm))
        a, b = divmod(k, n)
        if not Tm[a, b] < same_place_chi2:
            break
        a, b = min(a, b), max(a, b)
        W[a] += W[b]
        Wx[a] += Wx[b]
        active[b] = False
        labels[labels == b] = a
        cl[a] |= cl[b]
        cl[:, a] = cl[a]
        Sa = _sym_inv(W[a])
        mu[a] = Sa @ Wx[a]
        S[a] = Sa + floor2
        idx = np.flatnonzero(active)
        dd = mu[idx] - mu[a]
        Ta = np.einsum("ki,kij,kj->k", dd, _sym_inv(S[idx] + S[a]), dd)
        T[a, idx] = Ta
        T[idx, a] = Ta
        T[a, a] = np.inf
    _, first = np.unique(labels, return_index=True)
    remap = {int(labels[f]): r for r, f in enumerate(sorted(first))}
    return np.array([remap[int(x)] for x in labels], dtype=np.int64)


def _shares_place(
    members: I64, pos: F64, cov: F64, floor_m: float, floor_up_m: float, same_chi2: float
) -> bool:
    """Whether a shot among ``members`` (indices into ``pos``/``cov``) lies at the same
    place as a shot that is not a member: pair statistic ``d^T (S_a + S_b)^-1 d`` below
    ``same_chi2``, ``S`` the covariance plus the model-error floor (as
    :func:`_cluster_static` merges)."""
    off = np.setdiff1d(np.arange(pos.shape[0]), members)
    if off.size == 0:
        return False
    S = cov + _floor_matrix(floor_m, floor_up_m)
    stat = _place_stat(pos[members], S[members], pos[off], S[off])
    return bool(np.any(stat < same_chi2))


def _place_stat(pa: F64, Sa: F64, pb: F64, Sb: F64) -> F64:
    """Pair statistic of two sets of places (m) with covariances (m^2): ``T[i, j] =
    d^T (Sa_i + Sb_j)^-1 d``, ``d = pa_i - pb_j`` (chi-square, 3 dof, for one place)."""
    d = pa[:, None, :] - pb[None, :, :]
    out: F64 = np.einsum("abi,abij,abj->ab", d, _sym_inv(Sa[:, None] + Sb[None, :]), d)
    return out


def _static_chi2(pos: F64, Weff: F64, labels: I64) -> float:
    """Weighted residual sum of squares of shots about their cluster means."""
    total = 0.0
    for k in np.unique(labels):
        m = labels == k
        Wk = Weff[m]
        mu = np.linalg.solve(Wk.sum(axis=0), np.einsum("nij,nj->i", Wk, pos[m]))
        r = pos[m] - mu
        total += float(np.einsum("ni,nij,nj->", r, Wk, r))
    return total


def _static_bic(
    t: F64, pos: F64, cov: F64, Weff: F64, *, log_n: float, cluster_kw: dict[str, float]
) -> float:
    """BIC of the all-static model: chi-square about cluster means + 3 ln(3n) per cluster."""
    lab = _cluster_static(t, pos, cov, **cluster_kw)
    return _static_chi2(pos, Weff, lab) + 3 * (int(lab.max()) + 1) * log_n


def _fit_track(t: F64, pos: F64, Weff: F64) -> tuple[F64, F64, float, float]:
    """Weighted least squares of x(t) = x0 + v (t - t0), t0 = mean time.

    Returns ``theta`` (6,) = (x0, v), its covariance (6, 6), the chi-square, and t0.
    """
    t0 = float(t.mean())
    tau = t - t0
    N = np.zeros((6, 6))
    N[:3, :3] = Weff.sum(axis=0)
    N[:3, 3:] = N[3:, :3] = np.einsum("n,nij->ij", tau, Weff)
    N[3:, 3:] = np.einsum("n,nij->ij", tau * tau, Weff)
    Wx = np.einsum("nij,nj->ni", Weff, pos)
    b = np.concatenate([Wx.sum(axis=0), tau @ Wx])
    cov = np.asarray(np.linalg.pinv(N), dtype=np.float64)
    theta = cov @ b
    r = pos - theta[:3] - tau[:, None] * theta[3:]
    chi2 = float(np.einsum("ni,nij,nj->", r, Weff, r))
    return theta, cov, chi2, t0


def _track_chi2_per_shot(t: F64, pos: F64, Weff: F64, theta: F64, t0: float) -> F64:
    r = pos - theta[:3] - (t - t0)[:, None] * theta[3:]
    return np.asarray(np.einsum("ni,nij,nj->n", r, Weff, r), dtype=np.float64)


def _speed_heading(theta: F64, cov: F64, scale: float) -> tuple[float, float, float, float]:
    """Horizontal speed (m/s) and heading (deg clockwise from north) with 1-sigma errors."""
    vx, vy = float(theta[3]), float(theta[4])
    C = cov[3:5, 3:5] * scale
    s = math.hypot(vx, vy)
    heading = math.degrees(math.atan2(vx, vy)) % 360.0
    if s <= 0.0:
        return 0.0, float(np.sqrt(np.trace(C))), heading, 180.0
    js = np.array([vx / s, vy / s])
    jh = np.array([vy / (s * s), -vx / (s * s)])
    s_sig = float(np.sqrt(max(js @ C @ js, 0.0)))
    h_sig = math.degrees(float(np.sqrt(max(jh @ C @ jh, 0.0))))
    return s, s_sig, heading, min(h_sig, 180.0)


def _find_track(
    t: F64,
    pos: F64,
    cov: F64,
    Weff: F64,
    *,
    gate_chi2: float,
    min_track_shots: int,
    min_speed_mps: float,
    max_speed_mps: float,
    speed_sigma_factor: float,
    min_track_dt_s: float,
    max_hypothesis_shots: int,
    two_place_margin: float,
    max_track_candidates: int,
    log_n: float,
    cluster_kw: dict[str, float],
) -> _Track | None:
    """Best constant-velocity track among the shots, or None (see module docstring)."""
    n = t.shape[0]
    if n < min_track_shots:
        return None
    order = np.argsort(t, kind="stable")
    if n > max_hypothesis_shots:
        order = order[np.linspace(0, n - 1, max_hypothesis_shots).round().astype(int)]
    ii, jj = np.triu_indices(order.shape[0], 1)
    i, j = order[ii], order[jj]
    dt = t[j] - t[i]
    ok = dt >= min_track_dt_s
    i, j, dt = i[ok], j[ok], dt[ok]
    if i.size == 0:
        return None
    v = (pos[j] - pos[i]) / dt[:, None]
    hs = np.hypot(v[:, 0], v[:, 1])
    ok = (hs >= min_speed_mps) & (hs <= max_speed_mps)
    i, j, v = i[ok], j[ok], v[ok]
    if i.size == 0:
        return None
    cand_key: list[float] = []
    cand_mask: list[NDArray[np.bool_]] = []
    for c0 in range(0, i.size, 2048):
        sl = slice(c0, c0 + 2048)
        pred = pos[i[sl], None, :] + (t[None, :] - t[i[sl], None])[..., None] * v[sl, None, :]
        r = pos[None, :, :] - pred
        c2 = np.einsum("hni,nij,hnj->hn", r, Weff, r)
        inl = c2 < gate_chi2
        cnt = inl.sum(axis=1)
        key = cnt * 1e6 - np.where(inl, c2, 0.0).sum(axis=1)  # most inliers, then best fit
        top = np.argsort(-key, kind="stable")[:max_track_candidates]
        top = top[cnt[top] >= min_track_shots]
        cand_key.extend(key[top].tolist())
        cand_mask.extend(inl[h] for h in top)
    seen: set[bytes] = set()
    tried = 0
    for h in np.argsort(-np.asarray(cand_key), kind="stable"):
        m0 = cand_mask[int(h)]
        if m0.tobytes() in seen:
            continue
        seen.add(m0.tobytes())
        tried += 1
        if tried > max_track_candidates:
            break
        tr = _refine_track(
            t,
            pos,
            cov,
            Weff,
            m0,
            gate_chi2=gate_chi2,
            min_track_shots=min_track_shots,
            min_speed_mps=min_speed_mps,
            max_speed_mps=max_speed_mps,
            speed_sigma_factor=speed_sigma_factor,
            two_place_margin=two_place_margin,
            log_n=log_n,
            cluster_kw=cluster_kw,
        )
        if tr is not None:
            return tr
    return None


def _refine_track(
    t: F64,
    pos: F64,
    cov: F64,
    Weff: F64,
    mask: NDArray[np.bool_],
    *,
    gate_chi2: float,
    min_track_shots: int,
    min_speed_mps: float,
    max_speed_mps: float,
    speed_sigma_factor: float,
    two_place_margin: float,
    log_n: float,
    cluster_kw: dict[str, float],
) -> _Track | None:
    """Iterate weighted least squares and inlier gating from a seed set; accept or not."""
    theta = np.zeros(6)
    tcov = np.zeros((6, 6))
    chi2 = 0.0
    t0 = 0.0
    for _ in range(6):
        if mask.sum() < min_track_shots:
            return None
        theta, tcov, chi2, t0 = _fit_track(t[mask], pos[mask], Weff[mask])
        new = _track_chi2_per_shot(t, pos, Weff, theta, t0) < gate_chi2
        if np.array_equal(new, mask):
            break
        mask = new
    if mask.sum() < min_track_shots:
        return None
    members = np.flatnonzero(mask).astype(np.int64)
    dof = 3 * members.size - 6
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    s, s_sig, hd, h_sig = _speed_heading(theta, tcov, scale)
    if s < min_speed_mps or s > max_speed_mps or s < speed_sigma_factor * s_sig:
        return None
    # the track must beat the static explanation of its own shots by BIC; against one or
    # two static places (equal or fewer parameters) it must win by ``two_place_margin``
    lab = _cluster_static(t[members], pos[members], cov[members], **cluster_kw)
    n_places = int(lab.max()) + 1
    bic_static = _static_chi2(pos[members], Weff[members], lab) + 3 * n_places * log_n
    margin = two_place_margin if n_places <= 2 else 0.0
    if not chi2 + 6 * log_n + margin < bic_static:
        return None
    return _Track(members, theta, t0, s, s_sig, hd, h_sig, chi2)


def _launch_flags(
    t: F64, pos: F64, layer: I64, window_s: tuple[float, float], dist_m: float
) -> NDArray[np.bool_]:
    """True for non-aerial shots followed, ``window_s`` (min, max) seconds later, by an
    aerial source within ``dist_m`` metres horizontally: the launch of a firework shell
    (a negative min: preceded or followed, a ground source under a show)."""
    flags = np.zeros(t.shape[0], dtype=bool)
    air = np.flatnonzero(layer > 0)
    if air.size == 0:
        return flags
    air = air[np.argsort(t[air], kind="stable")]
    ta = t[air]
    for i in np.flatnonzero(layer <= 0):
        lo, hi = np.searchsorted(ta, [t[i] + window_s[0], t[i] + window_s[1]])
        if hi > lo:
            d = np.hypot(*(pos[air[lo:hi], :2] - pos[i, :2]).T)
            flags[i] = bool((d <= dist_m).any())
    return flags


def _radius_components(xy: F64, radius_m: float) -> I64:
    """Connected components of points linked when within ``radius_m`` metres."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = xy.shape[0]
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    graph = coo_matrix((np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(graph, directed=False)
    return np.asarray(lab, dtype=np.int64)


def _one_spot(pos: F64, cov: F64, radius_m: float) -> bool:
    """Whether shots come from one spot: their median horizontal distance to the median
    position is within ``radius_m`` metres or 3 times the median horizontal error."""
    xy = pos[:, :2]
    spread = float(np.median(np.hypot(*(xy - np.median(xy, axis=0)).T)))
    sig = float(np.median(np.sqrt(0.5 * (cov[:, 0, 0] + cov[:, 1, 1]))))
    return spread <= max(radius_m, 3.0 * sig)


def _median_height(h: F64) -> float:
    """Median of the known heights, m (-inf when none is known)."""
    if h.shape[0] == 1:
        return float(h[0]) if math.isfinite(h[0]) else -math.inf
    hk = h[np.isfinite(h)]
    return float(np.median(hk)) if hk.size else -math.inf


def _interval_stats(t: F64) -> tuple[float, float, float]:
    """Median interval (s), coefficient of variation, fraction of intervals < 45 ms."""
    dt = np.diff(np.sort(t))
    if dt.size == 0:
        return math.inf, 0.0, 0.0
    mean = float(dt.mean())
    cv = float(dt.std() / mean) if mean > 0 else math.inf
    return float(np.median(dt)), cv, float((dt < 0.045).mean())


def _well_heard(t: F64, n_sensors: I64, share: float = 0.5) -> F64:
    """The times ``t`` of the shots heard by at least ``share`` of the median number of
    sensors of the incident's shots (all of them when fewer than three would be left).

    The rounds of one weapon at one place reach about the same sensors; a shot heard by
    far fewer inside a burst heard by many is a few-sensor fit (four arrivals fit some
    source exactly) of reflections or of two rounds' mixed arrivals, whose place and
    origin time say nothing of the cadence (the simulated suite, seed 0: an 11-round
    automatic burst heard by 15-22 sensors a round, with two 5- and 6-sensor fits 10 ms
    after two rounds, was taken for a firecracker string)."""
    n = np.asarray(n_sensors, dtype=float)
    if t.shape[0] < 3 or n.shape != t.shape:
        return t
    keep = n >= share * float(np.median(n))
    return t[keep] if int(keep.sum()) >= 3 else t


def _cyclic_with_gaps(t: F64, tol: float = 0.2) -> bool:
    """Whether the intervals are whole multiples of one cycle (automatic fire with
    rounds the sensors missed): the cycle is the median of the intervals within 1.5
    times the shortest, and every interval must lie within ``tol`` cycles of a whole
    number of them (a firecracker string's random intervals do not)."""
    dt = np.diff(np.sort(t))
    if dt.size < 3 or float(dt.min()) <= 0:
        return False
    cycle = float(np.median(dt[dt <= 1.5 * float(dt.min())]))
    k = np.maximum(np.round(dt / cycle), 1.0)
    return bool(np.all(np.abs(dt / cycle - k) <= tol))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class _Verdict:
    classification: str
    confidence: float
    kind: str | None
    height_m: float | None


def _classify(
    t: F64,
    height: F64,
    score: F64,
    n_sensors: I64,
    *,
    one_spot: bool,
    aerial: bool,
    aerial_max_confidence: float,
    elevated_max_penalty: float,
    launch_fraction: float,
    prior_logit: float,
    elevated_height_m: float,
    aerial_height_m: float,
    firecracker_min_pops: int,
    firecracker_min_cv: float,
    gunfire_threshold: float,
    probable_threshold: float,
    reach_max_logit: float = 2.2,
    reach_from: float = 5.0,
    reach_full: float = 10.0,
    source_db: F64 | None = None,
    level_gun_db: float = 147.0,
    level_up_db: float = 3.0,
    level_up_logit: float = 3.0,
    level_low_db: float = 141.0,
    level_down_db: float = 4.0,
    level_down_logit: float = 0.6,
    level_single_db: float = 3.0,
    level_min_sensors: int = 5,
    rounds_logit: float = 0.5,
    off_ground: NDArray[np.bool_] | None = None,
) -> _Verdict:
    """Logistic evidence combination; see the module docstring for the terms."""
    n = t.shape[0]
    z = prior_logit
    sc = score[np.isfinite(score)]
    if sc.size:
        med = float(np.clip(np.median(sc), 0.02, 0.98))
        z += _logit(med) * (1.0 + 0.25 * math.log(sc.size))
    h_known = _median_height(height)
    h_med = h_known if math.isfinite(h_known) else None
    kind: str | None = None
    if aerial:
        kind = "aerial"
        z -= 8.0
    elif h_med is not None and h_med > elevated_height_m:
        # weak: rooftop shooters exist and low-source heights are the least reliable
        ramp = min(1.0, (h_med - elevated_height_m) / (aerial_height_m - elevated_height_m))
        z -= elevated_max_penalty * ramp
    # The cadence of the well-heard shots: a few-sensor fit of one round's leftovers or
    # of two rounds' mixed arrivals, a few milliseconds from a true round, would make an
    # automatic weapon's burst look as irregular as a firecracker string.
    tc = _well_heard(t, n_sensors)
    med_dt, cv, frac_fast = _interval_stats(tc)
    # Irregular intervals, not an automatic weapon's cycle with missed rounds.
    irregular = (cv > firecracker_min_cv or frac_fast > 0.2) and not _cyclic_with_gaps(tc)
    if not aerial and n >= firecracker_min_pops and med_dt < 0.1 and irregular and one_spot:
        kind = "firecracker"
        z -= 6.0
    elif not aerial and n >= 8 and med_dt >= 0.25 and cv < 0.04:
        kind = "cadence"
        z -= 2.0
    ground = not aerial and (h_med is None or h_med <= elevated_height_m)
    # A shot fitted from four arrivals: any four arrivals fit some point exactly, so
    # its place, and the spreading its level adds back over the distances to it, are
    # unchecked; unrelated impulses so fitted read 152-171 dB (the 24-hour city: 13 of
    # 37 false alerts were single ones) and a backfire's "rounds" so fitted up to 187.
    # Its level is not evidence; the incident's level comes from its other shots.
    checked = np.asarray(n_sensors) >= level_min_sensors
    lv = np.zeros(0)
    if source_db is not None:
        lv = source_db[np.isfinite(source_db) & checked]
    if ground and lv.size:
        # Loudness at the source, from calibrated sensors: a muzzle blast is 150-165 dB
        # peak at 1 m, a backfire 135-145, a firecracker 130-140 (Maher 2006). Only a
        # firearm's level counts much in favour; a low one counts little against, since
        # a gun among buildings reaches no sensor over an open path and reads low.
        # The lower median: a level at least half the shots reach. A few-sensor shot
        # fitted tens of metres off, away from the sensors that heard it, reads tens of
        # dB high (its spreading added back over too long a path: a backfire's second
        # "round", fitted from five sensors, read 173 dB), and with two shots the plain
        # median is their mean.
        lvl = float(np.sort(lv)[(lv.size - 1) // 2])
        # One impulse is one draw of its source's level: it must clear the threshold by
        # a confuser's spread to be as unlikely from one as two of three draws are. So
        # must an incident with one checked level: a backfire's first bang heard by
        # four sensors (its level unchecked) beside its second heard widely is one
        # draw, not two (the simulated day's one false alert of session 31).
        gun_db = level_gun_db + (level_single_db if lv.size == 1 else 0.0)
        z += min(max(lvl - gun_db, 0.0) / level_up_db, 1.0) * level_up_logit
        z -= min(max(level_low_db - lvl, 0.0) / level_down_db, 1.0) * level_down_logit
    elif ground:
        # Reach, when the level is unknown: a ground-level impulse heard by many sensors
        # of an array spaced a few hundred metres apart is very loud at the source (door
        # slams and backfires reach few sensors).
        # (shots fitted far off the ground from few sensors say nothing of a ground
        # source's reach: a fireworks show's first bursts so fitted read as many sensors)
        near = np.asarray(n_sensors) if off_ground is None else np.asarray(n_sensors)[~off_ground]
        if near.size:
            n_med = float(np.median(near))
            z += reach_max_logit * min(
                max((n_med - reach_from) / (reach_full - reach_from), 0.0), 1.0
            )
    if n == 1:  # an isolated impulse is weak evidence, more so when few sensors heard it
        z -= 0.3
        if int(n_sensors[0]) <= 3:
            z -= 0.7
    if not aerial and launch_fraction >= 0.5:
        # thumps each followed by a burst aloft; only a moderate penalty, since under a
        # dense show any ground impulse is followed by some burst, gunfire included
        kind = "launch"
        z -= 2.5
    if ground and kind is None and n >= 3 and lv.size:
        # With the level in place of reach: repeated fire that is no firecracker string,
        # cadence or launches (backfires and door slams come singly or in pairs).
        z += rounds_logit
    p = _sigmoid(z)
    if aerial:  # a hard rule: a source 30 m up is not a gun, whatever it sounded like
        p = min(p, aerial_max_confidence)
    if aerial or p < probable_threshold:
        cls = NON_GUNFIRE
    elif p >= gunfire_threshold:
        cls = GUNFIRE
    else:
        cls = PROBABLE_GUNFIRE
    if cls != NON_GUNFIRE:
        kind = None
    return _Verdict(cls, p, kind, h_med if kind == "aerial" else None)


# --------------------------------------------------------------------------- main API


def group_incidents(
    shots: ShotArrays,
    *,
    max_gap_s: float = 30.0,
    max_dist_m: float = 250.0,
    floor_m: float = 3.0,
    fit_floor_m: float = 2.0,
    floor_up_m: float = 20.0,
    min_cycle_s: float = 0.06,
    same_place_chi2: float = CHI2_3DOF_P999,
    distinct_place_chi2: float = CHI2_3DOF_P95,
    track_gate_chi2: float = CHI2_3DOF_P999,
    min_track_shots: int = 3,
    firm_track_shots: int = 4,
    min_track_dt_s: float = 0.2,
    min_speed_mps: float = 2.0,
    max_speed_mps: float = 35.0,
    speed_sigma_factor: float = 3.0,
    max_tracks: int = 2,
    two_place_margin: float = 3.0,
    max_track_candidates: int = 20,
    max_hypothesis_shots: int = 80,
    max_shooter_analysis_shots: int = 400,
    min_shooter_sensors: int = 6,
    large_incident_link_m: float = 30.0,
    track_join_m: float = 20.0,
    track_join_s: float = 1.0,
    launch_window_s: tuple[float, float] = (0.5, 8.0),
    launch_dist_m: float = 150.0,
    show_window_s: float = 10.0,
    show_dist_m: float = 1000.0,
    show_min_sensors: int = 12,
    aerial_height_m: float = 30.0,
    aerial_max_confidence: float = 0.02,
    below_ground_m: float = 10.0,
    elevated_height_m: float = 15.0,
    elevated_max_penalty: float = 0.35,
    firecracker_min_pops: int = 6,
    firecracker_min_cv: float = 0.15,
    spot_radius_m: float = 15.0,
    prior_logit: float = 0.0,
    gunfire_threshold: float = 0.8,
    probable_threshold: float = 0.4,
) -> list[IncidentGroup]:
    """Group located shots into incidents and describe each for the dispatcher.

    Parameters (units): ``max_gap_s`` s and ``max_dist_m`` m chain shots into one
    incident; ``floor_m`` m, a model-error floor added to location covariances
    (``fit_floor_m`` for the track fits), ``floor_up_m`` m its vertical counterpart
    (height is the weakest coordinate of a TDOA fix: a nearly flat array barely
    resolves it, and paths diffracted over roofs bias it by tens of metres, so two
    rounds from one spot can differ in fitted height far beyond their formal errors);
    ``min_cycle_s`` s, shots closer in time than a weapon cycles from significantly
    different places (pair chi-square above ``distinct_place_chi2``) are two weapons;
    ``same_place_chi2`` merges static clusters (3 dof); ``track_gate_chi2`` gates shots
    onto a track; a mobile shooter needs ``min_track_shots`` shots (fewer than
    ``firm_track_shots`` only when none shares its place with a shot off the track, by
    the ``same_place_chi2`` test of :func:`_shares_place`), pairs of shots at
    least ``min_track_dt_s`` s apart to seed it, a horizontal speed in
    ``min_speed_mps``..``max_speed_mps`` m/s and above ``speed_sigma_factor`` sigma, and
    must beat one or two static places by ``two_place_margin`` (chi-square units; the
    ``max_track_candidates`` best distinct seeds are tried); at most ``max_tracks``
    tracks per incident; incidents above ``max_shooter_analysis_shots`` shots skip the
    track search and take as shooters the places linked within ``large_incident_link_m``
    m; a place off a track whose every shot lies within ``track_join_m`` m of where the
    track puts the shooter at its time, inside the track's time span or within
    ``track_join_s`` s of it, and no closer in time to a track shot than
    ``min_cycle_s``, is the moving shooter
    (:func:`_on_track`); a shooter of a single shot heard by fewer than
    ``min_shooter_sensors`` sensors, beside a shooter of several, is counted with the
    nearest in time (the shot still
    counts as a round; see :func:`_corroborated`). Classification:
    ``aerial_height_m`` m above ground is fireworks (never a track; confidence at most
    ``aerial_max_confidence``), a chain with a shot more than ``below_ground_m`` m below
    ground is not split by height, sources above ``elevated_height_m``
    m lose up to ``elevated_max_penalty`` in log-odds (reached at the aerial height),
    ``firecracker_min_pops`` pops at a median interval under 0.1 s with
    a coefficient of variation above ``firecracker_min_cv`` (or 20 % of intervals under
    45 ms, faster than guns cycle) from one spot (median horizontal distance to the
    median position within ``spot_radius_m`` m, or 3 times the median horizontal
    error) make a firecracker string (when locations, and so origin times, scatter more,
    the intervals are not trusted); ground shots of which most
    are followed within ``launch_window_s`` s (min, max) by an aerial source within
    ``launch_dist_m`` m horizontally are firework launches; a ground incident each of
    whose shots lies within ``show_window_s`` s and ``show_dist_m`` m (horizontally) of
    an aerial source heard by ``show_min_sensors`` sensors or more (a burst carries far;
    a mixture of a burst's arrivals fitted aloft is heard by few) is at most probable
    gunfire (a reviewer decides): under a
    fireworks show, mixtures of the arrivals of its unlocated bursts and crackle fit
    sources in the street (the simulated suite: 140-153 dB "rounds" heard by 4-9
    sensors, 280-550 m from the bursts), while celebratory gunfire during a show is
    real; ``prior_logit`` is the
    log-odds of gunfire with no evidence, ``gunfire_threshold`` and
    ``probable_threshold`` cut the probability of gunfire into the three classes.

    Returns incidents ordered by first shot time.

    An incident described before from the same shots (every row of :class:`ShotArrays`
    the same, and the same launch and show flags and parameters: all that its
    description reads) is taken from a memo of the last ``DESCRIBED_MEMO_SIZE``
    (:data:`_DESCRIBED`): a streaming window (:mod:`shotwatch.streaming`) groups the same
    shots into the same incidents run after run, and only those that changed need
    describing again.
    """
    params = repr(sorted((k, v) for k, v in locals().items() if k != "shots")).encode()
    if not isinstance(shots, ShotArrays):
        raise InputError("group_incidents: expected ShotArrays")
    if not (max_gap_s > 0 and max_dist_m > 0 and floor_m >= 0 and min_cycle_s >= 0):
        raise InputError("group_incidents: max_gap_s, max_dist_m must be > 0, floor_m >= 0")
    if not 0.0 <= probable_threshold <= gunfire_threshold <= 1.0:
        raise InputError("group_incidents: need 0 <= probable_threshold <= gunfire_threshold <= 1")
    n = len(shots)
    if n == 0:
        return []
    t, pos, cov = shots.t, shots.pos, shots.cov
    groups, layer, sure = _incident_groups(
        shots,
        max_gap_s=max_gap_s,
        max_dist_m=max_dist_m,
        floor_m=floor_m,
        aerial_height_m=aerial_height_m,
        below_ground_m=below_ground_m,
    )
    heights = shots.height_agl
    sure_aloft = sure == 1  # aloft even 2 sigma lower, the model error floor included
    Weff_all = _sym_inv(cov + _floor_matrix(fit_floor_m, floor_up_m) + 1e-6 * np.eye(3))
    cluster_kw = {
        "floor_m": floor_m,
        "floor_up_m": floor_up_m,
        "same_place_chi2": same_place_chi2,
        "distinct_place_chi2": distinct_place_chi2,
        "min_cycle_s": min_cycle_s,
    }
    launch = _launch_flags(t, pos, layer, launch_window_s, launch_dist_m)
    # bursts aloft heard far (a mixture fitted aloft is heard by few): the shots near them
    loud_air = np.where(shots.n_sensors >= show_min_sensors, layer, np.minimum(layer, 0))
    show = _launch_flags(t, pos, loud_air, (-show_window_s, show_window_s), show_dist_m)
    out: list[IncidentGroup] = []
    for g in groups:
        key = _described_key(shots, g, sure, launch, show, params)
        known = _DESCRIBED.get(key)
        if known is not None:
            _DESCRIBED.move_to_end(key)
            out.append(replace(known, shot_index=g.astype(np.int64)))
            continue
        tg, pg, cg, Wg = t[g], pos[g], cov[g], Weff_all[g]
        k = g.shape[0]
        labels = np.full(k, -1, dtype=np.int64)
        tracks: list[_Track] = []
        # Fireworks only where the heights say so surely: aloft even 2 sigma lower, and
        # of four shots or more two so (one ground shot's fit can land aloft, and the
        # median of the known heights then rests on it alone). Known heights of 30 m
        # and more that are not so sure (a ground gun's free-height fits in blocked
        # paths: 30-32 m +- 4 m) leave the incident to the other evidence, reviewed.
        h_med = _median_height(heights[g])
        aloft = h_med >= aerial_height_m
        aerial = aloft and int(sure_aloft[g].sum()) >= (1 if k <= 3 else 2)
        maybe_aloft = aloft and not aerial
        if k <= max_shooter_analysis_shots and aerial:  # fireworks: sources, never a vehicle
            labels = _cluster_static(tg, pg, cg, **cluster_kw)
        elif k <= max_shooter_analysis_shots:
            log_n = math.log(3 * k)
            bic_rest: float | None = None  # computed once a track is on the table
            rest = np.arange(k)
            for _ in range(max_tracks if k >= min_track_shots else 0):
                tr = _find_track(
                    tg[rest],
                    pg[rest],
                    cg[rest],
                    Wg[rest],
                    gate_chi2=track_gate_chi2,
                    min_track_shots=min_track_shots,
                    min_speed_mps=min_speed_mps,
                    max_speed_mps=max_speed_mps,
                    speed_sigma_factor=speed_sigma_factor,
                    min_track_dt_s=min_track_dt_s,
                    max_hypothesis_shots=max_hypothesis_shots,
                    two_place_margin=two_place_margin,
                    max_track_candidates=max_track_candidates,
                    log_n=log_n,
                    cluster_kw=cluster_kw,
                )
                if tr is None:
                    break
                if tr.members.size < firm_track_shots and _shares_place(
                    rest[tr.members], pg, cg, floor_m, floor_up_m, same_place_chi2
                ):
                    break
                left = np.setdiff1d(rest, rest[tr.members])
                bic_left = (
                    _static_bic(
                        tg[left], pg[left], cg[left], Wg[left], log_n=log_n, cluster_kw=cluster_kw
                    )
                    if left.size
                    else 0.0
                )
                # BIC: static model of the rest vs (this track + static model of what is left)
                if bic_rest is None:
                    bic_rest = _static_bic(tg, pg, cg, Wg, log_n=log_n, cluster_kw=cluster_kw)
                if not tr.chi2 + 6 * log_n + bic_left < bic_rest:
                    break
                tracks.append(replace(tr, members=rest[tr.members]))
                rest, bic_rest = left, bic_left
                if rest.size < min_track_shots:
                    break
            for ti, tr in enumerate(tracks):
                labels[tr.members] = ti
            rest_mask = labels < 0
            if rest_mask.any():
                idx = np.flatnonzero(rest_mask)
                sl = _cluster_static(tg[idx], pg[idx], cg[idx], **cluster_kw)
                labels[idx] = sl + len(tracks)
                labels = _on_track(labels, tracks, tg, pg, track_join_m, track_join_s, min_cycle_s)
        else:  # very large incident: places linked within a radius keep memory near-linear
            labels = _radius_components(pg[:, :2], large_incident_link_m)
        if not aerial and k <= max_shooter_analysis_shots:
            labels = _corroborated(labels, shots.n_sensors[g], tg, min_shooter_sensors)
        # renumber shooters by first shot
        _, first = np.unique(labels, return_index=True)
        remap = {int(labels[f]): r for r, f in enumerate(sorted(first))}
        shooter = np.array([remap[int(x)] for x in labels], dtype=np.int64)
        n_shooters = len(remap)
        mobile = bool(tracks)
        main = max(tracks, key=lambda tr: tr.members.size) if tracks else None
        verdict = _classify(
            tg,
            heights[g],
            shots.score[g],
            shots.n_sensors[g],
            one_spot=_one_spot(pg, cg, spot_radius_m),
            aerial=aerial,
            aerial_max_confidence=aerial_max_confidence,
            elevated_max_penalty=elevated_max_penalty,
            launch_fraction=float(launch[g].mean()),
            prior_logit=prior_logit,
            elevated_height_m=elevated_height_m,
            aerial_height_m=aerial_height_m,
            firecracker_min_pops=firecracker_min_pops,
            firecracker_min_cv=firecracker_min_cv,
            gunfire_threshold=gunfire_threshold,
            probable_threshold=probable_threshold,
            source_db=None if shots.source_db is None else shots.source_db[g],
            off_ground=None if shots.off_ground is None else shots.off_ground[g],
        )
        speed = heading = s_sig = h_sig = None
        if main is not None:
            speed, heading = main.speed, main.heading
            s_sig, h_sig = main.speed_sigma, main.heading_sigma
        classification = verdict.classification
        # Three sensors fix a point with no redundancy to check it, and sometimes two:
        # never reported as certain gunfire (a reviewer decides), and said so.
        three = bool(np.all(shots.n_sensors[g] <= THREE_SENSORS))
        if three and classification == GUNFIRE:
            classification = PROBABLE_GUNFIRE
        under_show = not aerial and bool(np.all(show[g]))
        if (under_show or maybe_aloft) and classification == GUNFIRE:
            classification = PROBABLE_GUNFIRE
        summary = incident_summary(
            k,
            n_shooters,
            mobile,
            speed,
            heading,
            classification,
            kind=verdict.kind,
            height_m=verdict.height_m,
        )
        if under_show and classification != NON_GUNFIRE:
            summary += "; under a fireworks show: review"
        if maybe_aloft and classification != NON_GUNFIRE:
            summary += f"; possibly aloft (fitted {h_med:.0f} m up): review"
        if three:
            i_first = int(g[np.argmin(tg)])
            alt = None if shots.alt_pos is None else shots.alt_pos[i_first]
            summary += "; " + three_sensor_note(shots.pos[i_first], alt)
        out.append(
            IncidentGroup(
                shot_index=g.astype(np.int64),
                shooter=shooter,
                shooters=n_shooters,
                mobile=mobile,
                speed_mps=speed,
                heading_deg=heading,
                speed_sigma_mps=s_sig,
                heading_sigma_deg=h_sig,
                classification=classification,
                confidence=float(verdict.confidence),
                summary=summary,
                kind=verdict.kind,
            )
        )
        _DESCRIBED[key] = out[-1]
        if len(_DESCRIBED) > DESCRIBED_MEMO_SIZE:
            _DESCRIBED.popitem(last=False)  # the least recently used
    return out


DESCRIBED_MEMO_SIZE = 4096
"""Incidents whose descriptions :func:`group_incidents` keeps (a busy window holds a few
hundred)."""

_DESCRIBED: OrderedDict[bytes, IncidentGroup] = OrderedDict()


def _described_key(
    shots: ShotArrays,
    g: I64,
    sure: I64,
    launch: NDArray[np.bool_],
    show: NDArray[np.bool_],
    params: bytes,
) -> bytes:
    """Everything the description of the incident of shots ``g`` reads, as bytes: its
    rows of ``shots`` (optional arrays marked absent), its shots' sureness aloft and
    launch and show flags, and the parameters."""
    parts = [params, np.int64(g.size).tobytes()]
    for a in (shots.t, shots.pos, shots.cov, shots.height_agl, shots.score, shots.n_sensors,
              shots.height_sigma, shots.source_db, shots.alt_pos, shots.off_ground):  # fmt: skip
        parts.append(b"-" if a is None else np.ascontiguousarray(a[g]).tobytes())
    for a in (sure, launch, show):
        parts.append(np.ascontiguousarray(a[g]).tobytes())
    return hashlib.sha1(b"|".join(parts)).digest()


# --------------------------------------------------------------------------- synthetic suite

SYNTHETIC_KINDS = (
    "single",
    "multi",
    "auto",
    "two_shooters",
    "sequential_shooters",
    "mobile",
    "mobile_and_static",
    "fireworks",
    "firecracker",
    "confuser",
)
_GUNFIRE_KINDS = (
    "single",
    "multi",
    "auto",
    "two_shooters",
    "sequential_shooters",
    "mobile",
    "mobile_and_static",
)


@dataclass(frozen=True)
class SyntheticTruth:
    """Ground truth of one synthetic incident: its shots (indices), shooters, motion."""

    kind: str
    shot_index: I64
    shooter: I64
    shooters: int
    speed_mps: float | None
    heading_deg: float | None


def _noisy_shots(
    rng: np.random.Generator, t: F64, true_pos: F64, ground_z: float, score_ab: tuple[float, float]
) -> tuple[F64, F64, F64, F64, F64, I64]:
    """Add location noise (1-5 m horizontal, twice that vertical, a rotated ellipse) and a
    covariance misreported by a factor 0.7-1.4; draw gunshot scores from a Beta law
    (15 % missing) and sensor counts 4-12."""
    n = t.shape[0]
    sh: F64 = np.asarray(rng.uniform(1.0, 5.0, size=n), dtype=np.float64)
    ang: F64 = np.asarray(rng.uniform(0, np.pi, size=n), dtype=np.float64)
    ratio: F64 = np.asarray(rng.uniform(0.4, 1.0, size=n), dtype=np.float64)
    cov = np.zeros((n, 3, 3))
    for k in range(n):
        c, s = math.cos(ang[k]), math.sin(ang[k])
        R = np.array([[c, -s], [s, c]])
        cov[k, :2, :2] = R @ np.diag([sh[k] ** 2, (ratio[k] * sh[k]) ** 2]) @ R.T
        cov[k, 2, 2] = (2.0 * sh[k]) ** 2
    err = np.einsum("nij,nj->ni", np.linalg.cholesky(cov), rng.standard_normal((n, 3)))
    pos = true_pos + err
    misreport: F64 = np.asarray(rng.uniform(0.7, 1.4, size=n), dtype=np.float64)
    reported: F64 = cov * misreport[:, None, None]
    height: F64 = pos[:, 2] - ground_z
    score: F64 = np.asarray(rng.beta(score_ab[0], score_ab[1], size=n), dtype=np.float64)
    score[rng.random(size=n) < 0.15] = np.nan
    n_sensors: I64 = np.asarray(rng.integers(4, 13, size=n), dtype=np.int64)
    return t, pos, reported, height, score, n_sensors


def synthetic_incident(
    rng: np.random.Generator, kind: str, *, t0: float = 0.0, origin: F64 | None = None
) -> tuple[ShotArrays, SyntheticTruth]:
    """One simulated incident of ``kind`` (one of :data:`SYNTHETIC_KINDS`) starting at
    ``t0`` (epoch s) near ``origin`` (east, north, up m; ground level at its up value).

    single: one round; multi: 2-12 semi-automatic rounds 0.15-1.5 s apart; auto: a burst
    of 6-15 rounds at 600-900 rounds/min; two_shooters: two static shooters 20-80 m
    apart, 2-6 rounds each, interleaved; sequential_shooters: the same but one after the
    other, 1-5 rounds each; mobile: 4-10 rounds 0.4-2 s apart from a vehicle at 5-25 m/s
    on a straight line; mobile_and_static: a mobile shooter (4-8 rounds) and a static one
    30-100 m away returning 2-5 rounds; fireworks: 3-12 aerial bursts 40-200 m up, half
    the time with their ground launch thumps 2-5 s before each; firecracker: a string of
    10-60 pops 20-80 ms apart from one spot; confuser: 1-3 impulsive urban noises (door
    slams, backfires) 1-10 s apart with low gunshot scores heard by 3-6 sensors.
    """
    o = np.zeros(3) if origin is None else np.asarray(origin, dtype=np.float64)
    gz = float(o[2])
    ground = o + np.array([0.0, 0.0, 1.5])
    speed = heading = None
    if kind == "single":
        t = np.array([t0])
        p = ground[None, :]
        who = np.zeros(1, np.int64)
    elif kind == "multi":
        m = int(rng.integers(2, 13))
        t = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.15, 1.5, m - 1))])
        p = np.repeat(ground[None, :], m, axis=0)
        who = np.zeros(m, np.int64)
    elif kind == "auto":
        m = int(rng.integers(6, 16))
        period = 60.0 / rng.uniform(600, 900)
        dt = period * (1 + 0.03 * rng.standard_normal(m - 1))
        t = t0 + np.concatenate([[0.0], np.cumsum(dt)])
        p = np.repeat(ground[None, :], m, axis=0)
        who = np.zeros(m, np.int64)
    elif kind == "two_shooters":
        sep = rng.uniform(20, 80)
        a = rng.uniform(0, 2 * np.pi)
        other = ground + sep * np.array([math.cos(a), math.sin(a), 0.0])
        ma, mb = int(rng.integers(2, 7)), int(rng.integers(2, 7))
        ta = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.2, 1.5, ma - 1))])
        tb = (
            t0
            + rng.uniform(0.0, 1.0)
            + np.concatenate([[0.0], np.cumsum(rng.uniform(0.2, 1.5, mb - 1))])
        )
        t = np.concatenate([ta, tb])
        p = np.concatenate([np.repeat(ground[None], ma, 0), np.repeat(other[None], mb, 0)])
        who = np.concatenate([np.zeros(ma, np.int64), np.ones(mb, np.int64)])
    elif kind == "sequential_shooters":
        sep = rng.uniform(20, 80)
        a = rng.uniform(0, 2 * np.pi)
        other = ground + sep * np.array([math.cos(a), math.sin(a), 0.0])
        ma, mb = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        ta = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.15, 1.0, ma - 1))])
        tb = ta[-1] + rng.uniform(0.3, 3.0)
        tb = tb + np.concatenate([[0.0], np.cumsum(rng.uniform(0.15, 1.0, mb - 1))])
        t = np.concatenate([ta, tb])
        p = np.concatenate([np.repeat(ground[None], ma, 0), np.repeat(other[None], mb, 0)])
        who = np.concatenate([np.zeros(ma, np.int64), np.ones(mb, np.int64)])
    elif kind == "mobile_and_static":
        m = int(rng.integers(4, 9))
        speed = float(rng.uniform(5, 25))
        heading = float(rng.uniform(0, 360))
        hr = math.radians(heading)
        v = speed * np.array([math.sin(hr), math.cos(hr), 0.0])
        tau = np.concatenate([[0.0], np.cumsum(rng.uniform(0.4, 2.0, m - 1))])
        a = rng.uniform(0, 2 * np.pi)
        other = ground + rng.uniform(30, 100) * np.array([math.cos(a), math.sin(a), 0.0])
        mb = int(rng.integers(2, 6))
        tb = rng.uniform(0.0, tau[-1], mb)
        t = t0 + np.concatenate([tau, tb])
        p = np.concatenate([ground + tau[:, None] * v, np.repeat(other[None], mb, 0)])
        who = np.concatenate([np.zeros(m, np.int64), np.ones(mb, np.int64)])
    elif kind == "mobile":
        m = int(rng.integers(4, 11))
        speed = float(rng.uniform(5, 25))
        heading = float(rng.uniform(0, 360))
        hr = math.radians(heading)
        v = speed * np.array([math.sin(hr), math.cos(hr), 0.0])
        tau = np.concatenate([[0.0], np.cumsum(rng.uniform(0.4, 2.0, m - 1))])
        t = t0 + tau
        p = ground + tau[:, None] * v
        who = np.zeros(m, np.int64)
    elif kind == "fireworks":
        m = int(rng.integers(3, 13))
        t = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 5.0, m - 1))])
        p = o + np.column_stack(
            [rng.normal(0, 15, m), rng.normal(0, 15, m), rng.uniform(40, 200, m)]
        )
        if rng.random() < 0.5:  # the launch thumps were located too
            t = np.concatenate([t, t - rng.uniform(2.0, 5.0, m)])
            p = np.concatenate([p, np.repeat((o + np.array([0.0, 0.0, 0.3]))[None], m, 0)])
            m *= 2
        who = np.zeros(m, np.int64)
    elif kind == "firecracker":
        m = int(rng.integers(10, 61))
        t = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.02, 0.08, m - 1))])
        p = np.repeat((o + np.array([0.0, 0.0, 0.3]))[None], m, axis=0)
        who = np.zeros(m, np.int64)
    elif kind == "confuser":
        m = int(rng.integers(1, 4))
        t = t0 + np.concatenate([[0.0], np.cumsum(rng.uniform(1.0, 10.0, m - 1))])
        p = np.repeat((o + np.array([0.0, 0.0, 1.0]))[None], m, axis=0)
        who = np.zeros(m, np.int64)
    else:
        raise ValueError(f"unknown synthetic kind {kind!r}; expected one of {SYNTHETIC_KINDS}")
    ab = (9.0, 2.0) if kind in _GUNFIRE_KINDS else (2.0, 5.0) if kind == "confuser" else (4.0, 3.0)
    tt, pos, cov, h, sc, ns = _noisy_shots(rng, np.asarray(t, dtype=np.float64), p, gz, ab)
    if kind == "confuser":
        ns = np.asarray(rng.integers(3, 7, size=ns.shape[0]), dtype=np.int64)
    shots = ShotArrays(tt, pos, cov, h, sc, ns)
    truth = SyntheticTruth(
        kind, np.arange(tt.shape[0], dtype=np.int64), who, int(who.max()) + 1, speed, heading
    )
    return shots, truth


def concat_shots(parts: list[ShotArrays]) -> ShotArrays:
    """Concatenate several :class:`ShotArrays` (indices follow the order of ``parts``)."""
    return ShotArrays(
        np.concatenate([p.t for p in parts]),
        np.concatenate([p.pos for p in parts]).reshape(-1, 3),
        np.concatenate([p.cov for p in parts]).reshape(-1, 3, 3),
        np.concatenate([p.height_agl for p in parts]),
        np.concatenate([p.score for p in parts]),
        np.concatenate([p.n_sensors for p in parts]).astype(np.int64),
    )


def synthetic_suite(
    seed: int, n: int, *, kinds: tuple[str, ...] = SYNTHETIC_KINDS
) -> tuple[ShotArrays, list[SyntheticTruth]]:
    """``n`` seeded synthetic incidents (kinds drawn uniformly from ``kinds``), 60-600 s
    apart (gaps counted from the end of one to the start of the next), anywhere in a 4 km
    square, in one :class:`ShotArrays`."""
    rng = np.random.default_rng(seed)
    parts: list[ShotArrays] = []
    truths: list[SyntheticTruth] = []
    t0, base = 1.8e9, 0
    for _ in range(n):
        kind = kinds[int(rng.integers(len(kinds)))]
        origin = np.array([*rng.uniform(-2000, 2000, 2), rng.uniform(0, 50)])
        shots, tr = synthetic_incident(rng, kind, t0=t0, origin=origin)
        parts.append(shots)
        truths.append(replace(tr, shot_index=tr.shot_index + base))
        base += len(shots)
        t0 = float(shots.t.max()) + rng.uniform(60, 600) + 10.0
    return concat_shots(parts), truths


def evaluate_on_synthetic(seed: int, n: int, **kwargs: float) -> dict[str, float]:
    """Run :func:`group_incidents` (``kwargs`` passed on) on ``synthetic_suite(seed, n)``
    and score it against the truth.

    Returns percentages ``rounds_exact_pct`` (gunfire incidents whose shots form exactly
    one output incident), ``shooters_exact_pct``, ``mobile_detected_pct``,
    ``false_mobile_pct`` (static gunfire called mobile), ``speed_within_20_pct``,
    ``heading_within_15_pct``, ``gunfire_as_gunfire_pct``, ``gunfire_as_non_pct``,
    ``non_gunfire_as_probable_pct``; median and 90th-percentile relative speed error (%)
    and heading error (deg); counts ``fireworks_as_gunfire``, ``firecracker_as_gunfire``
    (must be 0), ``confuser_as_gunfire``, the numbers of incidents of each family, and
    ``brier_score``, the mean squared error of ``confidence`` as a probability of gunfire.
    A missed mobile shooter counts as a 100 % speed and 180 deg heading error.
    """
    shots, truths = synthetic_suite(seed, n)
    groups = group_incidents(shots, **kwargs)  # type: ignore[arg-type]
    owner = np.empty(len(shots), dtype=np.int64)
    for gi, g in enumerate(groups):
        owner[g.shot_index] = gi
    n_gun = rounds_ok = shooters_ok = gun_gun = gun_non = 0
    n_mob = mob_det = n_static = false_mob = 0
    fw_gun = fc_gun = n_fw = n_fc = n_cf = cf_gun = non_prob = n_non = 0
    sq_err: list[float] = []
    speed_err: list[float] = []
    head_err: list[float] = []
    for tr in truths:
        gids, counts = np.unique(owner[tr.shot_index], return_counts=True)
        g = groups[int(gids[np.argmax(counts)])]
        sq_err.append((g.confidence - float(tr.kind in _GUNFIRE_KINDS)) ** 2)
        if tr.kind in _GUNFIRE_KINDS:
            n_gun += 1
            rounds_ok += int(gids.size == 1 and g.rounds == tr.shot_index.size)
            shooters_ok += int(g.shooters == tr.shooters)
            gun_gun += int(g.classification == GUNFIRE)
            gun_non += int(g.classification == NON_GUNFIRE)
            if tr.kind in ("mobile", "mobile_and_static"):
                n_mob += 1
                mob_det += int(g.mobile)
                if g.mobile and g.speed_mps is not None and g.heading_deg is not None:
                    assert tr.speed_mps is not None and tr.heading_deg is not None
                    speed_err.append(abs(g.speed_mps - tr.speed_mps) / tr.speed_mps)
                    dh = (g.heading_deg - tr.heading_deg + 180.0) % 360.0 - 180.0
                    head_err.append(abs(dh))
                else:
                    speed_err.append(1.0)
                    head_err.append(180.0)
            else:
                n_static += 1
                false_mob += int(g.mobile)
        else:
            n_non += 1
            cls = [groups[int(i)].classification for i in gids]
            non_prob += int(PROBABLE_GUNFIRE in cls and GUNFIRE not in cls)
            n_gunfire_groups = sum(c == GUNFIRE for c in cls)
            if tr.kind == "fireworks":
                n_fw += 1
                fw_gun += n_gunfire_groups
            elif tr.kind == "firecracker":
                n_fc += 1
                fc_gun += n_gunfire_groups
            else:
                n_cf += 1
                cf_gun += n_gunfire_groups

    def pct(a: int, b: int) -> float:
        return 100.0 * a / b if b else float("nan")

    se = np.asarray(speed_err) if speed_err else np.full(1, np.nan)
    he = np.asarray(head_err) if head_err else np.full(1, np.nan)
    return {
        "incidents": float(n),
        "gunfire_incidents": float(n_gun),
        "mobile_incidents": float(n_mob),
        "fireworks_incidents": float(n_fw),
        "firecracker_incidents": float(n_fc),
        "confuser_incidents": float(n_cf),
        "rounds_exact_pct": pct(rounds_ok, n_gun),
        "shooters_exact_pct": pct(shooters_ok, n_gun),
        "mobile_detected_pct": pct(mob_det, n_mob),
        "false_mobile_pct": pct(false_mob, n_static),
        "speed_within_20_pct": pct(int((se <= 0.2).sum()), len(speed_err)),
        "heading_within_15_pct": pct(int((he <= 15.0).sum()), len(head_err)),
        "speed_err_median_pct": float(100 * np.median(se)),
        "speed_err_p90_pct": float(100 * np.percentile(se, 90)),
        "heading_err_median_deg": float(np.median(he)),
        "heading_err_p90_deg": float(np.percentile(he, 90)),
        "gunfire_as_gunfire_pct": pct(gun_gun, n_gun),
        "gunfire_as_non_pct": pct(gun_non, n_gun),
        "fireworks_as_gunfire": float(fw_gun),
        "firecracker_as_gunfire": float(fc_gun),
        "confuser_as_gunfire": float(cf_gun),
        "non_gunfire_as_probable_pct": pct(non_prob, n_non),
        "brier_score": float(np.mean(sq_err)) if sq_err else float("nan"),
    }
