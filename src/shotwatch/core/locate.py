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

import numpy as np
from numpy.linalg import _umath_linalg
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
    with np.errstate(all="ignore"):
        good = np.linalg.cond(ata) < 1e10
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


def _robust_weights(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Asymmetric IRLS weights of normalised residuals ``u`` (late > 0)."""
    early = np.where(np.abs(u) <= _HUBER_K, 1.0, _HUBER_K / np.maximum(np.abs(u), 1e-300))
    late = np.where(u < _TUKEY_C, (1.0 - (u / _TUKEY_C) ** 2) ** 2, 0.0)
    return np.where(u <= 0, early, late)


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
    """Robust Levenberg–Marquardt refinement of ``m`` problems at once.

    ``sensors`` (m, n, 3) or (n, 3) metres, ``times`` (m, n) seconds (any common time base:
    subtract a reference first for precision), ``mask`` (m, n) usable arrivals, starts
    ``x0`` (m, 3) and ``t0`` (m,), sound speed ``c`` m/s, ``sigma`` a-priori pick sigma
    (scalar or (m, n)), s. ``z_prior`` (m,) height prior (None: no prior).
    """
    t = np.asarray(times, dtype=float)
    m, n = t.shape
    s = np.asarray(sensors, dtype=float)
    if s.ndim == 2:
        s = np.broadcast_to(s, (m, n, 3))
    msk = np.asarray(mask, dtype=bool) & np.isfinite(t)
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (m, n))
    w_vec = None if wind is None else np.asarray(wind, dtype=float)
    p = np.concatenate([np.asarray(x0, dtype=float), np.asarray(t0, dtype=float)[:, None]], axis=1)
    tt_safe = np.where(msk, t, 0.0)
    zp = None if z_prior is None else np.broadcast_to(np.asarray(z_prior, dtype=float), (m,))
    prior_w = 0.0 if z_sigma is None else 1.0 / (z_sigma * z_sigma)
    if z_sigma is None:
        zp = None
    scale = np.full(m, 1e-3)

    # The model (the arithmetic of _tt_batch, split): predicted arrivals first, their
    # gradients only for parameters that are kept (most trial steps are not).
    calm = w_vec is None or not np.any(w_vec)
    a_w = 0.0
    if w_vec is not None and not calm:
        a_w = c * c - float(w_vec @ w_vec)
        if a_w <= 0:
            raise ValueError("wind speed must be below the speed of sound")
    Aux = tuple[NDArray[np.float64], NDArray[np.float64]]  # offsets, travel times

    def arrivals(pp: NDArray[np.float64]) -> tuple[NDArray[np.float64], Aux]:
        """Predicted arrival times and what :func:`gradient` needs (offsets, times)."""
        d = s - pp[:, None, :3]
        if w_vec is None or calm:
            dist = np.sqrt(np.einsum("...i,...i->...", d, d))
            return pp[:, 3:4] + dist / c, (d, dist)
        dw = d @ w_vec
        dd = np.einsum("...i,...i->...", d, d)
        tau = (-dw + np.sqrt(dw * dw + a_w * dd)) / a_w
        return pp[:, 3:4] + tau, (d, tau)

    def gradient(aux: Aux) -> NDArray[np.float64]:
        """Gradients of the travel times w.r.t. the source (see _tt_batch)."""
        d, v = aux
        if w_vec is None or calm:
            return np.asarray(-d / (c * np.maximum(v, 1e-9)[..., None]), dtype=float)
        dwt = d - w_vec * v[..., None]
        den = dwt @ w_vec + c * c * v
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(-dwt / np.where(den > 0, den, np.inf)[..., None], dtype=float)

    def cost(
        pp: NDArray[np.float64], pred: NDArray[np.float64], w: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Weighted squared residuals (+ height prior) of ``pred`` = model(pp)."""
        r = tt_safe - pred if all_usable else np.where(msk, tt_safe - pred, 0.0)
        out = np.add.reduce(w * r * r, axis=1)
        if zp is not None:
            out = out + prior_w * (pp[:, 2] - zp) ** 2
        return np.asarray(out, dtype=float)

    eye4 = np.eye(4)
    all_usable = bool(msk.all())  # then np.where(msk, x, 0.0) is x itself

    # The model at the current parameters travels with them (``pred``, ``g``): an
    # accepted trial step has already evaluated it, so it is never recomputed.
    def lm_steps(
        pp: NDArray[np.float64],
        pred: NDArray[np.float64],
        g: NDArray[np.float64],
        w: NDArray[np.float64],
        steps: int,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        lam = np.full(m, 1e-4)
        # The cost at the current parameters: computed once, then carried from the trial
        # step that was accepted (the same arithmetic on the same numbers).
        r = tt_safe - pred if all_usable else np.where(msk, tt_safe - pred, 0.0)
        c_cur = cost(pp, pred, w)
        jac = np.empty((m, n, 4))
        jac[..., 3] = 1.0
        zp1 = float(zp[0]) if zp is not None and m == 1 else 0.0
        for k in range(steps):
            if k:
                r = tt_safe - pred if all_usable else np.where(msk, tt_safe - pred, 0.0)
            jac[..., :3] = g  # d pred / d x  (g is the gradient of tau w.r.t. the source)
            jtw = jac * w[..., None]
            h = np.einsum("mni,mnj->mij", jtw, jac)
            grad = np.einsum("mni,mn->mi", jtw, r)
            if zp is not None:
                h[:, 2, 2] += prior_w
                grad[:, 2] += prior_w * (zp - pp[:, 2])
            c0_tol = c_cur * (1 + 1e-12)
            diag = np.maximum(np.einsum("mii->mi", h), 1e-12)
            damp = eye4 * diag[:, :, None]
            if m == 1:  # one problem: the damping bookkeeping on Python floats
                lam1, c0_1 = float(lam[0]), float(c0_tol[0])
                for _ in range(8):
                    pn = pp + _solve_batch(h + lam1 * damp, grad)
                    pred_n, aux_n = arrivals(pn)
                    rn = tt_safe - pred_n if all_usable else np.where(msk, tt_safe - pred_n, 0.0)
                    cn1 = float(np.add.reduce(w * rn * rn, axis=1)[0])
                    if zp is not None:  # the prior of cost(), on floats
                        dz = float(pn[0, 2]) - zp1
                        cn1 = cn1 + prior_w * (dz * dz)
                    if math.isfinite(cn1) and cn1 <= c0_1:
                        lam1 = max(lam1 / 10.0, 1e-9)
                        pp, pred, g = pn, pred_n, gradient(aux_n)
                        c_cur = np.full(1, cn1)
                        break
                    lam1 = lam1 * 10.0
                lam = np.full(1, lam1)
                continue
            for _ in range(8):
                ha = h + lam[:, None, None] * damp
                step = _solve_batch(ha, grad)
                pn = pp + step
                pred_n, aux_n = arrivals(pn)
                cn = cost(pn, pred_n, w)
                better = np.isfinite(cn) & (cn <= c0_tol)
                lam = np.where(better, np.maximum(lam / 10.0, 1e-9), lam * 10.0)
                if better.all():
                    pp, pred, g = pn, pred_n, gradient(aux_n)
                    c_cur = cn
                    break
                if better.any():
                    pp = np.where(better[:, None], pn, pp)
                    pred = np.where(better[:, None], pred_n, pred)
                    g = np.where(better[:, None, None], gradient(aux_n), g)
                    c_cur = np.where(better, cn, c_cur)
        return pp, pred, g

    # Origin time from the start position: the median of the implied origin times (a
    # closed-form or grid start can be off by tens of ms in time, not in place).
    tau0, aux0 = arrivals(np.concatenate([p[:, :3], np.zeros((m, 1))], axis=1))
    g_cur = gradient(aux0)
    implied = np.where(msk, tt_safe - tau0, np.nan)
    med = _masked_median(implied)
    p[:, 3] = np.where(np.isfinite(med), med, p[:, 3])
    pred_cur = p[:, 3:4] + tau0
    wts = msk.astype(float)
    if robust:
        # Graduated robust scale: generous first (the start may be tens of metres off),
        # then the data's own MAD scale, floored at the a-priori pick sigma.
        floor = np.maximum(np.median(sig, axis=1), 2e-4)
        for it in range(iterations):
            r = np.where(msk, tt_safe - pred_cur, 0.0)
            if it == 0:
                scale = np.maximum(floor, 0.01)
            else:
                mad = 1.4826 * _masked_median(np.abs(np.where(msk & (wts > 0), r, np.nan)))
                mad = np.where(np.isfinite(mad), mad, scale)
                scale = np.maximum(np.minimum(mad, scale), floor)
            wts = np.where(msk, _robust_weights(r / scale[:, None]), 0.0)
            p, pred_cur, g_cur = lm_steps(p, pred_cur, g_cur, wts / (sig * sig), 2)
    else:
        p, pred_cur, g_cur = lm_steps(p, pred_cur, g_cur, wts / (sig * sig), iterations)
    inl = msk & (wts > 0.05) if robust else msk.copy()
    p, pred, g = lm_steps(p, pred_cur, g_cur, np.where(inl, 1.0 / (sig * sig), 0.0), 6)

    r = np.where(msk, tt_safe - pred, np.nan)
    w = np.where(inl, 1.0 / (sig * sig), 0.0)
    jac = np.empty((m, n, 4))
    jac[..., :3] = g
    jac[..., 3] = 1.0
    h = np.einsum("mni,mnj->mij", jac * w[..., None], jac)
    if zp is not None:
        h[:, 2, 2] += prior_w
    h += np.eye(4) * 1e-12 * np.maximum(np.einsum("mii->m", h), 1e-300)[:, None, None]
    cov = np.linalg.pinv(h)
    k = np.count_nonzero(inl, axis=1)
    dof = np.maximum(k - 4 + (0 if zp is None else 1), 1)
    chi2 = np.nansum(np.where(inl, (r / sig) ** 2, 0.0), axis=1) / dof
    cov = cov * np.maximum(chi2, 1.0)[:, None, None]
    lam_max = np.linalg.eigvalsh(cov[:, :2, :2])[:, -1]
    radius = np.sqrt(CHI2_2DOF_95 * np.maximum(lam_max, 0.0))
    ok = (k >= 4) & np.all(np.isfinite(p), axis=1)
    return BatchFix(p[:, :3], p[:, 3], cov, r, inl, scale, radius, ok)


def _masked_median(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row medians ignoring NaN; NaN for an all-NaN row (without a warning).

    A single row ignores infinities too; a row without finite values gives NaN. Sorted
    rows, the mean of the two middle values: the same numbers as ``np.median`` /
    ``np.nanmedian`` without their per-call overhead."""
    if a.shape[0] == 1:
        a = np.where(np.isfinite(a), a, np.nan)
    srt = np.sort(a, axis=1)  # NaN last
    k = a.shape[1] - np.count_nonzero(np.isnan(a), axis=1)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.minimum(k // 2, max(a.shape[1] - 1, 0))
    if a.shape[1] == 0:
        return np.full(a.shape[0], np.nan)
    rows = np.arange(a.shape[0])
    out = (srt[rows, lo] + srt[rows, hi]) / 2.0
    return np.asarray(np.where(np.any(np.isfinite(a), axis=1), out, np.nan), dtype=float)


def _solve_batch(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve m small systems; singular ones fall back to least squares.

    The LAPACK solver behind ``np.linalg.solve`` called directly (the same numbers,
    without its per-call checks: this runs tens of thousands of times per association);
    it flags a singular system as an invalid operation, raised here as it is there."""
    try:
        with np.errstate(invalid="raise", over="ignore", divide="ignore", under="ignore"):
            x = _umath_linalg.solve(a, b[..., None], signature="dd->d")
        return np.asarray(x[..., 0], dtype=float)
    except FloatingPointError:
        out = np.zeros_like(b)
        for k in range(a.shape[0]):
            out[k] = np.linalg.lstsq(a[k], b[k], rcond=None)[0]
        return out


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


def horizontal_rms(cov: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMS horizontal error, m, of covariance(s) (..., 4, 4) or (..., 3, 3)."""
    return np.asarray(np.sqrt(cov[..., 0, 0] + cov[..., 1, 1]), dtype=float)
