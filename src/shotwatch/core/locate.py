"""3-D location of a sound source from its arrival times at several sensors (TDOA).

Model: the arrival time at sensor *i* is ``t_i = T + tau(x, s_i) + e_i``, with origin time
``T``, source position ``x`` (east, north, up metres), ``tau`` the travel time through a
uniform wind (:func:`shotwatch.core.acoustics.travel_time_and_gradient`) and ``e_i`` the
picking/clock noise of standard deviation ``sigma_i``. Blocked (diffracted) paths and
echoes only ever make an arrival *late*, never early.

Method:

* Closed-form start: the spherical-interpolation linearisation of Smith & Abel (IEEE
  ASSP 35, 1987) with the origin time as unknown. Squaring ``|x - s_i| = c (t_i - T)``
  and subtracting the equation of a reference sensor removes ``|x|^2`` and ``T^2``,
  leaving a system linear in ``(x, y, T)`` (the height is held at a prior value: sensors
  of a city array are nearly coplanar, so it is the weakest coordinate). Vectorised over
  many subsets, it seeds RANSAC (Fischler & Bolles 1981) when no start is given.
* Refinement: Levenberg–Marquardt on the arrival times with the analytic Jacobian
  (``d t_i / d x = grad tau``, ``d t_i / d T = 1``), iteratively re-weighted (IRLS) with an
  *asymmetric* robust loss: Huber on early residuals (only noise can make an arrival
  early) and Tukey's biweight on late ones, so late blocked-path arrivals lose their
  weight entirely. The residual scale is re-estimated from the data (MAD), floored at
  the a-priori pick sigma. A weak Gaussian prior on the height keeps 4-sensor fits in the
  plane of the array without biasing well-constrained ones.
* Uncertainty: the covariance ``(J^T W J + P)^{-1}`` scaled by the reduced chi-square
  when it exceeds one; the 95 % horizontal error radius is
  ``sqrt(chi2_2(0.95) * lambda_max)`` of the horizontal 2x2 block (conservative).
* The Cramér–Rao bound for unbiased estimators of ``(x, y, z, T)`` under Gaussian timing
  noise is ``(J^T Sigma^-1 J)^-1`` (Kay, *Fundamentals of Statistical Signal Processing:
  Estimation Theory*, 1993, ch. 3).

Everything is batched: ``m`` problems with up to ``n`` sensors each (padded, with a
boolean mask) are solved at once, which is what makes thousands of fixes per second on
one core possible. :func:`locate` is the one-problem convenience wrapper.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from shotwatch.core.acoustics import travel_time_and_gradient

CHI2_2DOF_95 = 5.991464547107979
_HUBER_K = 2.0
_TUKEY_C = 4.0


@dataclass(frozen=True)
class BatchFix:
    """Solutions of ``m`` location problems.

    ``pos`` (m, 3) metres; ``t0`` (m,) origin time in the same time base as the input;
    ``cov`` (m, 4, 4) covariance of (east, north, up, T) in m^2 / s^2; ``residual`` (m, n)
    arrival-time residuals, s (observed - predicted; NaN where masked); ``inlier`` (m, n)
    arrivals that kept weight; ``scale`` (m,) robust residual scale, s; ``error_radius``
    (m,) 95 % horizontal radius, m; ``ok`` (m,) converged with >= 4 inliers.
    """

    pos: NDArray[np.float64]
    t0: NDArray[np.float64]
    cov: NDArray[np.float64]
    residual: NDArray[np.float64]
    inlier: NDArray[np.bool_]
    scale: NDArray[np.float64]
    error_radius: NDArray[np.float64]
    ok: NDArray[np.bool_]


@dataclass(frozen=True)
class Fix:
    """One located source (see :class:`BatchFix` for the fields)."""

    pos: NDArray[np.float64]
    t0: float
    cov: NDArray[np.float64]
    residual: NDArray[np.float64]
    inlier: NDArray[np.bool_]
    scale: float
    error_radius: float
    ok: bool

    @property
    def n_inliers(self) -> int:
        return int(np.count_nonzero(self.inlier))


def closed_form_2d(
    sensors: NDArray[np.float64],
    times: NDArray[np.float64],
    c: float,
    z: float | NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spherical-interpolation start for a batch of subsets, height fixed at ``z``.

    ``sensors`` (m, k, 3), ``times`` (m, k) with k >= 4. Returns positions (m, 3) and
    origin times (m,); degenerate subsets give NaN. Sensor 0 of each subset is the
    reference. Solved by least squares on the (k-1) x 3 linear system
    ``2 (s_i - s_0).x_h - 2 c^2 (t_i - t_0) T = |s_i|^2 - |s_0|^2 - c^2 (t_i^2 - t_0^2)
    - 2 (s_iz - s_0z) z``.
    """
    s = np.asarray(sensors, dtype=float)
    t = np.asarray(times, dtype=float)
    m = s.shape[0]
    zz = np.broadcast_to(np.asarray(z, dtype=float), (m,))
    tref = t[:, :1]
    tr = t - tref  # small numbers
    s0 = s[:, :1, :]
    ds = s[:, 1:, :] - s0
    a = np.empty((m, s.shape[1] - 1, 3))
    a[..., 0] = 2 * ds[..., 0]
    a[..., 1] = 2 * ds[..., 1]
    # Third unknown: c*T in metres, so that the columns are of one scale.
    a[..., 2] = -2 * c * (tr[:, 1:] - tr[:, :1])
    b = (
        np.sum(s[:, 1:, :] ** 2, axis=-1)
        - np.sum(s0**2, axis=-1)
        - c * c * (tr[:, 1:] ** 2 - tr[:, :1] ** 2)
        - 2 * ds[..., 2] * zz[:, None]
    )
    ata = np.einsum("mki,mkj->mij", a, a)
    atb = np.einsum("mki,mk->mi", a, b)
    pos = np.full((m, 3), np.nan)
    t0 = np.full(m, np.nan)
    # the 2-norm condition number (np.linalg.cond's, without its per-call checks)
    sv = np.linalg.svd(ata, compute_uv=False)
    with np.errstate(all="ignore"):
        good = sv[:, 0] / sv[:, -1] < 1e10
    if np.any(good):
        sol = np.linalg.solve(ata[good], atb[good][..., None])[..., 0]
        pos[good, 0] = sol[:, 0]
        pos[good, 1] = sol[:, 1]
        pos[good, 2] = zz[good]
        t0[good] = sol[:, 2] / c + tref[good, 0]
    return pos, t0


def three_sensor_roots(
    sensors: NDArray[np.float64],
    times: NDArray[np.float64],
    c: float,
    z: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every source at height ``z`` whose sound reaches three ``sensors`` (3, 3) at
    ``times`` (3,) exactly, through still air at speed ``c``: positions (k, 3) and
    origin times (k,), k = 0, 1 or 2, origin before every arrival.

    Three arrivals and a known height leave three unknowns (east, north, origin time)
    for three equations, so there is no redundancy: the two time differences define two
    hyperbolae that cross in up to two points (Schau & Robinson, IEEE ASSP 35(8), 1987;
    the "ambiguity of three-sensor TDOA fixes"). Subtracting the first sensor's
    range equation ``|x - s_i|^2 = c^2 (t_i - T)^2`` from the others leaves two
    equations linear in ``(x, y, T)``, so ``(x, y) = u + v T``; the first range
    equation then is a quadratic in ``T``. Collinear sensors give no solution (empty).
    """
    s = np.asarray(sensors, dtype=float)
    t = np.asarray(times, dtype=float)
    if s.shape != (3, 3) or t.shape != (3,):
        raise ValueError(f"need sensors (3, 3) and times (3,), got {s.shape} and {t.shape}")
    tr = t - t[0]  # small numbers; T below is relative to t[0]
    s0 = s[0]
    d = s[1:] - s0  # relative to sensor 0, so that the numbers stay small
    a = 2.0 * d[:, :2]
    if abs(float(np.linalg.det(a))) < 1e-6 * float(np.sum(a * a)):
        return np.zeros((0, 3)), np.zeros(0)
    # 2 d_i.x_h - 2 c^2 tr_i T = |d_i|^2 - c^2 tr_i^2 - 2 d_iz (z - s0z), x_h rel. to s0
    b = np.sum(d * d, axis=1) - c * c * tr[1:] ** 2 - 2.0 * d[:, 2] * (z - s0[2])
    ainv = np.linalg.inv(a)
    u = ainv @ b
    v = ainv @ (2.0 * c * c * tr[1:])
    dz = z - s0[2]
    # |u + v T|^2 + dz^2 = c^2 T^2  (range to sensor 0, whose arrival is at 0)
    qa = float(v @ v) - c * c
    qb = 2.0 * float(u @ v)
    qc = float(u @ u) + dz * dz
    if abs(qa) < 1e-12:
        roots = np.array([-qc / qb]) if abs(qb) > 1e-12 else np.zeros(0)
    else:
        disc = qb * qb - 4.0 * qa * qc
        if disc < 0:
            return np.zeros((0, 3)), np.zeros(0)
        sq = float(np.sqrt(disc))
        roots = np.array([(-qb - sq) / (2.0 * qa), (-qb + sq) / (2.0 * qa)])
    roots = roots[roots < min(0.0, float(tr.min()))]  # fired before the first arrival
    pos = np.empty((roots.size, 3))
    pos[:, :2] = s0[:2] + u + np.outer(roots, v)
    pos[:, 2] = z
    return pos, roots + t[0]


def kernel_wind(c: float, wind: ArrayLike | None) -> tuple[NDArray[np.float64], float]:
    """The wind as the compiled kernels take it: the vector (3,) (zeros for none) and
    ``a_w = c^2 - |wind|^2`` (0 for still air, the kernels' switch to ``|d| / c``).
    Raises ``ValueError`` for a wind at or above the speed of sound."""
    w = np.zeros(3) if wind is None else np.asarray(wind, dtype=float).reshape(3)
    if not np.any(w):
        return w, 0.0
    a_w = c * c - float(w @ w)
    if a_w <= 0:
        raise ValueError("wind speed must be below the speed of sound")
    return w, a_w


def refine_batch(
    sensors: NDArray[np.float64],
    times: NDArray[np.float64],
    mask: NDArray[np.bool_],
    x0: NDArray[np.float64],
    t0: NDArray[np.float64],
    c: float,
    *,
    wind: ArrayLike | None = None,
    sigma: NDArray[np.float64] | float = 1e-3,
    z_prior: NDArray[np.float64] | float | None = None,
    z_sigma: float | None = 15.0,
    robust: bool = True,
    iterations: int = 8,
) -> BatchFix:
    """Robust Levenberg–Marquardt refinement of ``m`` problems, each on its own.

    ``sensors`` (m, n, 3) or (n, 3) metres, ``times`` (m, n) seconds (any common time base:
    subtract a reference first for precision), ``mask`` (m, n) usable arrivals, starts
    ``x0`` (m, 3) and ``t0`` (m,), sound speed ``c`` m/s, ``sigma`` a-priori pick sigma
    (scalar or (m, n)), s. ``z_prior`` (m,) height prior (None: no prior).

    The origin time starts at the median of the origin times the arrivals imply from
    ``x0``; with ``robust``, ``iterations`` rounds of two damped steps re-weight the
    arrivals (asymmetric loss, graduated scale, see the module's docstring), then six
    steps refit the inliers with their a-priori weights.
    """
    t = np.asarray(times, dtype=float)
    m, n = t.shape
    s = np.asarray(sensors, dtype=float)
    if s.ndim == 2:
        s = np.broadcast_to(s, (m, n, 3))
    msk = np.asarray(mask, dtype=bool) & np.isfinite(t)
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (m, n))
    w_vec, a_w = kernel_wind(c, wind)
    p = np.empty((m, 4))
    p[:, :3] = x0
    p[:, 3] = t0
    tt_safe = np.where(msk, t, 0.0)
    use_prior = z_prior is not None and z_sigma is not None
    prior_w = 1.0 / (z_sigma * z_sigma) if use_prior and z_sigma is not None else 0.0
    zp = np.zeros(m)
    if use_prior:
        zp[:] = np.broadcast_to(np.asarray(z_prior, dtype=float), (m,))
    pred = np.empty((m, n))
    g = np.empty((m, n, 3))
    wts = np.empty((m, n))
    scale = np.empty(m)
    cov = np.empty((m, 4, 4))
    radius = np.empty(m)
    # writable C arrays always, broadcast views or not: one compiled signature
    s_c = np.require(s, requirements=("C", "W"))
    sig_c = np.require(sig, requirements=("C", "W"))
    _k_refine(
        s_c, tt_safe, msk, sig_c, p, float(c), w_vec, a_w, zp, prior_w, bool(robust),
        int(iterations), pred, g, wts, scale, cov, radius,
    )  # fmt: skip

    r = np.where(msk, tt_safe - pred, np.nan)
    inl = msk & (wts > 0.05) if robust else msk.copy()
    ok = (np.count_nonzero(inl, axis=1) >= 4) & np.all(np.isfinite(p), axis=1)
    return BatchFix(p[:, :3], p[:, 3], cov, r, inl, scale, radius, ok)


def _tt_batch(
    d: NDArray[np.float64], c: float, wind: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Travel times and gradients w.r.t. the source for offsets d = receiver - source."""
    if wind is None or not np.any(wind):
        dist = np.sqrt(np.einsum("...i,...i->...", d, d))
        g = -d / (c * np.maximum(dist, 1e-9)[..., None])
        return dist / c, g
    zero = np.zeros(3)
    tau, g = travel_time_and_gradient(zero, d, c, wind)
    return tau, g


def locate(
    sensors: ArrayLike,
    times: ArrayLike,
    c: float,
    *,
    wind: ArrayLike | None = None,
    sigma: ArrayLike = 1e-3,
    x0: ArrayLike | None = None,
    z_prior: float | None = None,
    z_sigma: float | None = 15.0,
    robust: bool = True,
    ransac_tolerance: float = 0.01,
    max_subsets: int = 2000,
    seed: int = 0,
) -> Fix:
    """Locate one source from arrival ``times`` (n,) s at ``sensors`` (n, 3) m, n >= 4.

    Without ``x0`` the start comes from RANSAC over 4-sensor subsets (all of them when
    there are few, else ``max_subsets`` random ones, seeded): each subset's closed-form
    solution is scored by how many arrivals it predicts within ``ransac_tolerance`` s
    (late arrivals are then re-weighted away by the robust refinement).
    ``z_prior`` defaults to the mean sensor height. Raises ``ValueError`` on bad input.
    """
    s = np.asarray(sensors, dtype=float)
    t = np.asarray(times, dtype=float)
    if s.ndim != 2 or s.shape[1] != 3:
        raise ValueError(f"sensors must have shape (n, 3), got {s.shape}")
    if t.shape != (s.shape[0],):
        raise ValueError(f"times must have shape ({s.shape[0]},), got {t.shape}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(t))):
        raise ValueError("sensors and times must be finite")
    n = s.shape[0]
    if n < 4:
        raise ValueError(f"need at least 4 arrivals to locate, got {n}")
    if not c > 0:
        raise ValueError(f"speed of sound must be positive, got {c}")
    zpr = float(np.mean(s[:, 2])) if z_prior is None else float(z_prior)
    tref = float(np.min(t))
    tr = t - tref
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (n,))
    if x0 is None:
        start, tstart = _ransac_start(s, tr, c, zpr, ransac_tolerance, max_subsets, seed)
    else:
        start = np.asarray(x0, dtype=float)
        tstart = float(np.min(tr - np.linalg.norm(s - start, axis=1) / c))
    fix = refine_batch(
        s[None],
        tr[None],
        np.ones((1, n), dtype=bool),
        start[None],
        np.array([tstart]),
        c,
        wind=wind,
        sigma=sig[None],
        z_prior=zpr,
        z_sigma=z_sigma,
        robust=robust,
    )
    return Fix(
        fix.pos[0],
        float(fix.t0[0]) + tref,
        fix.cov[0],
        fix.residual[0],
        fix.inlier[0],
        float(fix.scale[0]),
        float(fix.error_radius[0]),
        bool(fix.ok[0]),
    )


def _ransac_start(
    s: NDArray[np.float64],
    tr: NDArray[np.float64],
    c: float,
    z: float,
    tol: float,
    max_subsets: int,
    seed: int,
) -> tuple[NDArray[np.float64], float]:
    n = s.shape[0]
    combos_all = None
    from math import comb

    if comb(n, 4) <= max_subsets:
        combos_all = np.array(list(itertools.combinations(range(n), 4)))
    else:
        rng = np.random.default_rng(seed)
        combos_all = np.array([rng.choice(n, 4, replace=False) for _ in range(max_subsets)])
    # Several start heights: near a plane of sensors the height is weakly observable and
    # the descent from the wrong side of that plane is slow; the subsets decide.
    k = combos_all.shape[0]
    heights = z + np.array([0.0, -10.0, 10.0, -25.0])
    combos_all = np.tile(combos_all, (heights.size, 1))
    pos, t0 = closed_form_2d(s[combos_all], tr[combos_all], c, np.repeat(heights, k))
    good = np.all(np.isfinite(pos), axis=1)
    if not np.any(good):
        centre = s.mean(axis=0)
        centre[2] = z
        return centre, float(np.min(tr - np.linalg.norm(s - centre, axis=1) / c))
    pos, t0 = pos[good], t0[good]
    tau = np.linalg.norm(s[None] - pos[:, None, :], axis=-1) / c
    # Origin time re-estimated from each start (the median implied origin time).
    t0 = np.median(tr[None] - tau, axis=1)
    r = tr[None] - t0[:, None] - tau
    hits = (r > -tol) & (r < 2 * tol)
    rms = np.sqrt(np.sum(np.where(hits, r, 0.0) ** 2, axis=1) / np.maximum(hits.sum(axis=1), 1))
    score = hits.sum(axis=1) - np.minimum(rms / tol, 0.999)
    j = int(np.argmax(score))
    return pos[j], float(t0[j])


def cramer_rao_bound(
    source: ArrayLike,
    sensors: ArrayLike,
    c: float,
    sigma: ArrayLike,
    *,
    wind: ArrayLike | None = None,
    z_sigma: float | None = None,
) -> NDArray[np.float64]:
    """Cramér–Rao bound: covariance (4, 4) of (east, north, up, T) for an unbiased
    estimator from arrival times with independent Gaussian noise ``sigma`` (s, scalar or
    (n,)). ``z_sigma`` adds the same Gaussian height prior the locator uses (the
    Bayesian bound; None = no prior)."""
    s = np.asarray(sensors, dtype=float)
    x = np.asarray(source, dtype=float)
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (s.shape[0],))
    _, g = _tt_batch(s - x, c, None if wind is None else np.asarray(wind, dtype=float))
    jac = np.concatenate([g, np.ones((s.shape[0], 1))], axis=1)
    fim = (jac / (sig * sig)[:, None]).T @ jac
    if z_sigma is not None:
        fim[2, 2] += 1.0 / (z_sigma * z_sigma)
    return np.asarray(np.linalg.pinv(fim), dtype=float)


def absolute_radius(
    cov: NDArray[np.float64],
    source: ArrayLike,
    sensors: ArrayLike,
    c: float,
    *,
    wind: ArrayLike | None = None,
    model_sigma_s: float,
    common_sigma_m: float,
    z_sigma: float | None = 15.0,
) -> float:
    """95 % horizontal radius, m, of a located source's absolute position error: the
    fit's covariance ``cov`` (its own arrivals' timing noise, (>= 2, >= 2), horizontal
    block used) plus the two errors the fit cannot see, added as independent Gaussian
    terms. A timing-model error of ``model_sigma_s`` per arrival (unmodelled
    propagation: turbulence, a path grazing a roof edge, the clock) through the
    geometry of the ``sensors`` (n, 3) that located it, i.e. its Cramér–Rao covariance
    (:func:`cramer_rao_bound`, height prior ``z_sigma``); with few sensors a fit
    absorbs such errors in its residuals and its own scale cannot show them. And a
    common-mode horizontal error of ``common_sigma_m`` per axis, the same for every
    sensor: sensor positions self-reported by GPS, the speed of sound from a weather
    reading. The radius is ``sqrt(chi2_2(0.95) * lambda_max)`` of the sum's horizontal
    block, as the fit's own."""
    h = np.asarray(cov, dtype=float)[:2, :2].copy()
    if model_sigma_s > 0:
        h += cramer_rao_bound(source, sensors, c, model_sigma_s, wind=wind, z_sigma=z_sigma)[:2, :2]
    h += common_sigma_m * common_sigma_m * np.eye(2)
    lam = float(np.linalg.eigvalsh(0.5 * (h + h.T))[-1])
    return math.sqrt(CHI2_2DOF_95 * max(lam, 0.0))


def horizontal_rms(cov: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMS horizontal error, m, of covariance(s) (..., 4, 4) or (..., 3, 3)."""
    return np.asarray(np.sqrt(cov[..., 0, 0] + cov[..., 1, 1]), dtype=float)


# --- The refinement kernel, compiled (numba): one problem at a time, in plain loops. ---
# The same arithmetic in numpy spends nearly all its time in per-call overhead on arrays
# of a dozen sensors (the association fits a few thousand candidates per group).


@numba.njit(cache=True)
def _k_travel(
    d0: float, d1: float, d2: float, c: float, wind: NDArray[np.float64], a_w: float
) -> float:
    """Travel time over the offset (d0, d1, d2) = receiver - source, m: ``|d| / c`` in
    still air (``a_w`` 0), else the exact time through the uniform ``wind`` with
    ``a_w = c^2 - |wind|^2`` (:func:`shotwatch.core.acoustics.travel_time`)."""
    dd = d0 * d0 + d1 * d1 + d2 * d2
    if a_w == 0.0:
        return math.sqrt(dd) / c
    dw = float(d0 * wind[0] + d1 * wind[1] + d2 * wind[2])
    return (-dw + math.sqrt(dw * dw + a_w * dd)) / a_w


@numba.njit(cache=True)
def _k_arrivals(
    s: NDArray[np.float64],
    pp: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    pred: NDArray[np.float64],
    g: NDArray[np.float64],
) -> None:
    """Predicted arrivals ``pred`` (n,) and travel-time gradients w.r.t. the source
    ``g`` (n, 3) at parameters ``pp`` (x, y, z, T); still air when ``a_w`` is 0, else
    a uniform wind (:func:`shotwatch.core.acoustics.travel_time_and_gradient`)."""
    for i in range(s.shape[0]):
        d0 = s[i, 0] - pp[0]
        d1 = s[i, 1] - pp[1]
        d2 = s[i, 2] - pp[2]
        if a_w == 0.0:
            dist = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            pred[i] = pp[3] + dist / c
            q = c * max(dist, 1e-9)
            g[i, 0] = -d0 / q
            g[i, 1] = -d1 / q
            g[i, 2] = -d2 / q
        else:
            tau = _k_travel(d0, d1, d2, c, wind, a_w)
            pred[i] = pp[3] + tau
            e0 = d0 - wind[0] * tau
            e1 = d1 - wind[1] * tau
            e2 = d2 - wind[2] * tau
            den = e0 * wind[0] + e1 * wind[1] + e2 * wind[2] + c * c * tau
            if den > 0:
                g[i, 0] = -e0 / den
                g[i, 1] = -e1 / den
                g[i, 2] = -e2 / den
            else:
                g[i, 0] = 0.0
                g[i, 1] = 0.0
                g[i, 2] = 0.0


@numba.njit(cache=True)
def _k_cost(
    t: NDArray[np.float64],
    msk: NDArray[np.bool_],
    pred: NDArray[np.float64],
    w: NDArray[np.float64],
    pz: float,
    zp: float,
    prior_w: float,
) -> float:
    """Weighted squared residuals plus the height prior (``prior_w`` 0: none)."""
    out = 0.0
    for i in range(t.shape[0]):
        if msk[i]:
            r = t[i] - pred[i]
            out += w[i] * r * r
    if prior_w > 0.0:
        out += prior_w * (pz - zp) * (pz - zp)
    return out


@numba.njit(cache=True)
def _k_solve4(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve the 4x4 system by Gaussian elimination with partial pivoting; an exactly
    singular one by least squares."""
    m = a.copy()
    x = b.copy()
    for col in range(4):
        piv = col
        for row in range(col + 1, 4):
            if abs(m[row, col]) > abs(m[piv, col]):
                piv = row
        if m[piv, col] == 0.0:
            return np.linalg.lstsq(a, b)[0].astype(np.float64)
        if piv != col:
            for j in range(4):
                m[col, j], m[piv, j] = m[piv, j], m[col, j]
            x[col], x[piv] = x[piv], x[col]
        for row in range(col + 1, 4):
            f = m[row, col] / m[col, col]
            for j in range(col, 4):
                m[row, j] -= f * m[col, j]
            x[row] -= f * x[col]
    for col in range(3, -1, -1):
        acc = x[col]
        for j in range(col + 1, 4):
            acc -= m[col, j] * x[j]
        x[col] = acc / m[col, col]
    return x


@numba.njit(cache=True)
def _k_lm_steps(
    s: NDArray[np.float64],
    t: NDArray[np.float64],
    msk: NDArray[np.bool_],
    w: NDArray[np.float64],
    pp: NDArray[np.float64],
    pred: NDArray[np.float64],
    g: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    zp: float,
    prior_w: float,
    steps: int,
) -> None:
    """``steps`` Levenberg–Marquardt steps on the weighted arrival-time residuals, in
    place on ``pp`` (4,) and the model at it (``pred``, ``g``). Each step tries up to
    eight dampings (``lambda`` x10 per refused trial, /10 after an accepted one)."""
    n = t.shape[0]
    lam = 1e-4
    c_cur = _k_cost(t, msk, pred, w, pp[2], zp, prior_w)
    h = np.empty((4, 4))
    grad = np.empty(4)
    ha = np.empty((4, 4))
    pn = np.empty(4)
    pred_n = np.empty(n)
    g_n = np.empty((n, 3))
    jac = np.empty(4)
    for _ in range(steps):
        h[:] = 0.0
        grad[:] = 0.0
        for i in range(n):
            if w[i] == 0.0:
                continue
            r = t[i] - pred[i] if msk[i] else 0.0
            jac[0] = g[i, 0]
            jac[1] = g[i, 1]
            jac[2] = g[i, 2]
            jac[3] = 1.0
            for a in range(4):
                wa = w[i] * jac[a]
                grad[a] += wa * r
                for b in range(4):
                    h[a, b] += wa * jac[b]
        if prior_w > 0.0:
            h[2, 2] += prior_w
            grad[2] += prior_w * (zp - pp[2])
        c0 = c_cur * (1 + 1e-12)
        for _trial in range(8):
            for a in range(4):
                for b in range(4):
                    ha[a, b] = h[a, b]
                ha[a, a] += lam * max(h[a, a], 1e-12)
            step = _k_solve4(ha, grad)
            for a in range(4):
                pn[a] = pp[a] + step[a]
            _k_arrivals(s, pn, c, wind, a_w, pred_n, g_n)
            cn = _k_cost(t, msk, pred_n, w, pn[2], zp, prior_w)
            if math.isfinite(cn) and cn <= c0:
                lam = max(lam / 10.0, 1e-9)
                pp[:] = pn
                pred[:] = pred_n
                g[:] = g_n
                c_cur = cn
                break
            lam = lam * 10.0


@numba.njit(cache=True)
def _k_median(v: NDArray[np.float64]) -> float:
    """Median of the finite values of ``v``; NaN when there are none."""
    f = v[np.isfinite(v)]
    k = f.size
    if k == 0:
        return np.nan
    f = np.sort(f)
    return float((f[(k - 1) // 2] + f[k // 2]) / 2.0)


@numba.njit(cache=True)
def _k_refine(
    s: NDArray[np.float64],
    t: NDArray[np.float64],
    msk: NDArray[np.bool_],
    sig: NDArray[np.float64],
    p: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    zp: NDArray[np.float64],
    prior_w: float,
    robust: bool,
    iterations: int,
    pred: NDArray[np.float64],
    g: NDArray[np.float64],
    wts: NDArray[np.float64],
    scale: NDArray[np.float64],
    cov: NDArray[np.float64],
    radius: NDArray[np.float64],
) -> None:
    """The robust refinement of :func:`refine_batch`, problem by problem, in place on
    ``p`` (m, 4); fills the model at the result (``pred`` (m, n), ``g`` (m, n, 3)), the
    final robust weights ``wts`` (m, n), scales ``scale`` (m,), covariances ``cov``
    (m, 4, 4) and 95 % horizontal error radii ``radius`` (m,)."""
    m, n = t.shape
    w = np.empty(n)
    r = np.empty(n)
    u = np.empty(n)
    for k in range(m):
        sk, tk, mk, pk = s[k], t[k], msk[k], p[k]
        # Origin time from the start position: the median of the implied origin times
        # (a closed-form or grid start can be off by tens of ms in time, not in place).
        t_start = pk[3]
        pk[3] = 0.0
        _k_arrivals(sk, pk, c, wind, a_w, pred[k], g[k])
        for i in range(n):
            u[i] = tk[i] - pred[k, i] if mk[i] else np.nan
        med = _k_median(u)
        pk[3] = med if math.isfinite(med) else t_start
        for i in range(n):
            pred[k, i] += pk[3]
            wts[k, i] = 1.0 if mk[i] else 0.0
        sc = 1e-3
        if robust:
            # Graduated robust scale: generous first (the start may be tens of metres
            # off), then the data's own MAD scale, floored at the a-priori pick sigma.
            floor = max(np.median(sig[k]), 2e-4)
            for it in range(iterations):
                for i in range(n):
                    r[i] = tk[i] - pred[k, i] if mk[i] else 0.0
                if it == 0:
                    sc = max(floor, 0.01)
                else:
                    for i in range(n):
                        u[i] = abs(r[i]) if mk[i] and wts[k, i] > 0 else np.nan
                    mad = 1.4826 * _k_median(u)
                    if not math.isfinite(mad):
                        mad = sc
                    sc = max(min(mad, sc), floor)
                for i in range(n):
                    if not mk[i]:
                        wts[k, i] = 0.0
                        w[i] = 0.0
                        continue
                    x = r[i] / sc
                    if x <= 0:
                        ax = abs(x)
                        wts[k, i] = 1.0 if ax <= _HUBER_K else _HUBER_K / max(ax, 1e-300)
                    elif x < _TUKEY_C:
                        q = 1.0 - (x / _TUKEY_C) ** 2
                        wts[k, i] = q * q
                    else:
                        wts[k, i] = 0.0
                    w[i] = wts[k, i] / (sig[k, i] * sig[k, i])
                _k_lm_steps(sk, tk, mk, w, pk, pred[k], g[k], c, wind, a_w, zp[k], prior_w, 2)
        else:
            for i in range(n):
                w[i] = wts[k, i] / (sig[k, i] * sig[k, i])
            _k_lm_steps(sk, tk, mk, w, pk, pred[k], g[k], c, wind, a_w, zp[k], prior_w, iterations)
        for i in range(n):
            inl = mk[i] and (wts[k, i] > 0.05 if robust else True)
            w[i] = 1.0 / (sig[k, i] * sig[k, i]) if inl else 0.0
        _k_lm_steps(sk, tk, mk, w, pk, pred[k], g[k], c, wind, a_w, zp[k], prior_w, 6)
        scale[k] = sc
        # Covariance (J^T W J + P)^-1 of the inliers at the result, scaled by the reduced
        # chi-square when above one; radius from the horizontal block's larger eigenvalue.
        h = np.zeros((4, 4))
        chi2 = 0.0
        n_in = 0
        for i in range(n):
            if w[i] == 0.0:
                continue
            n_in += 1
            jac = (g[k, i, 0], g[k, i, 1], g[k, i, 2], 1.0)
            for a in range(4):
                for b in range(4):
                    h[a, b] += jac[a] * w[i] * jac[b]
            res = (tk[i] - pred[k, i]) / sig[k, i]
            if math.isfinite(res):
                chi2 += res * res
        if prior_w > 0.0:
            h[2, 2] += prior_w
        tr = max(h[0, 0] + h[1, 1] + h[2, 2] + h[3, 3], 1e-300)
        for a in range(4):
            h[a, a] += 1e-12 * tr
        ck = np.linalg.pinv(h)
        chi2 /= max(n_in - 4 + (1 if prior_w > 0.0 else 0), 1)
        ck *= max(chi2, 1.0)
        cov[k] = ck
        half = 0.5 * (ck[0, 0] - ck[1, 1])
        lam_max = 0.5 * (ck[0, 0] + ck[1, 1]) + math.sqrt(half * half + ck[0, 1] * ck[1, 0])
        radius[k] = math.sqrt(CHI2_2DOF_95 * max(lam_max, 0.0))
