"""refine_batch against its earlier, plainer numpy implementation (kept here as the
reference): the compiled one solves each problem of a batch on its own, so each is
compared with the reference solving that problem alone, on random problems with and
without wind, masks, one to three problems at a time: the same inliers and verdict,
and the same numbers to rounding (summed in another order) where the fit is
determined (four or more inliers)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray

from shotwatch.core.acoustics import wind_vector
from shotwatch.core.locate import (
    _HUBER_K,
    _TUKEY_C,
    CHI2_2DOF_95,
    BatchFix,
    _tt_batch,
    refine_batch,
)

C = 343.0


def _robust_weights(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Asymmetric IRLS weights of normalised residuals ``u`` (late > 0)."""
    early = np.where(np.abs(u) <= _HUBER_K, 1.0, _HUBER_K / np.maximum(np.abs(u), 1e-300))
    late = np.where(u < _TUKEY_C, (1.0 - (u / _TUKEY_C) ** 2) ** 2, 0.0)
    return np.where(u <= 0, early, late)


def _solve_batch(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve m small systems; singular ones by least squares."""
    try:
        with np.errstate(invalid="raise", over="ignore", divide="ignore", under="ignore"):
            return np.asarray(np.linalg.solve(a, b[..., None])[..., 0], dtype=float)
    except (FloatingPointError, np.linalg.LinAlgError):
        out = np.zeros_like(b)
        for k in range(a.shape[0]):
            out[k] = np.linalg.lstsq(a[k], b[k], rcond=None)[0]
        return out


def _reference_refine_batch(
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

    def model(pp: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        d = s - pp[:, None, :3]
        tau, g = _tt_batch(d, c, w_vec)
        return pp[:, 3:4] + tau, g

    def cost(pp: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
        pred, _ = model(pp)
        r = np.where(msk, tt_safe - pred, 0.0)
        out = np.sum(w * r * r, axis=1)
        if zp is not None:
            out = out + prior_w * (pp[:, 2] - zp) ** 2
        return np.asarray(out, dtype=float)

    def lm_steps(
        pp: NDArray[np.float64], w: NDArray[np.float64], steps: int
    ) -> NDArray[np.float64]:
        lam = np.full(m, 1e-4)
        for _ in range(steps):
            pred, g = model(pp)
            r = np.where(msk, tt_safe - pred, 0.0)
            jac = np.empty((m, n, 4))
            jac[..., :3] = g  # d pred / d x  (g is the gradient of tau w.r.t. the source)
            jac[..., 3] = 1.0
            jtw = jac * w[..., None]
            h = np.einsum("mni,mnj->mij", jtw, jac)
            grad = np.einsum("mni,mn->mi", jtw, r)
            if zp is not None:
                h[:, 2, 2] += prior_w
                grad[:, 2] += prior_w * (zp - pp[:, 2])
            c0 = cost(pp, w)
            diag = np.maximum(np.einsum("mii->mi", h), 1e-12)
            for _ in range(8):
                ha = h + lam[:, None, None] * (np.eye(4) * diag[:, :, None])
                step = _solve_batch(ha, grad)
                pn = pp + step
                cn = cost(pn, w)
                better = np.isfinite(cn) & (cn <= c0 * (1 + 1e-12))
                pp = np.where(better[:, None], pn, pp)
                lam = np.where(better, np.maximum(lam / 10.0, 1e-9), lam * 10.0)
                if np.all(better):
                    break
        return pp

    # Origin time from the start position: the median of the implied origin times (a
    # closed-form or grid start can be off by tens of ms in time, not in place).
    tau0, _ = model(np.concatenate([p[:, :3], np.zeros((m, 1))], axis=1))
    implied = np.where(msk, tt_safe - tau0, np.nan)
    med = _reference_masked_median(implied)
    p[:, 3] = np.where(np.isfinite(med), med, p[:, 3])
    wts = msk.astype(float)
    if robust:
        # Graduated robust scale: generous first (the start may be tens of metres off),
        # then the data's own MAD scale, floored at the a-priori pick sigma.
        floor = np.maximum(np.median(sig, axis=1), 2e-4)
        for it in range(iterations):
            pred, _ = model(p)
            r = np.where(msk, tt_safe - pred, 0.0)
            if it == 0:
                scale = np.maximum(floor, 0.01)
            else:
                mad = 1.4826 * _reference_masked_median(
                    np.abs(np.where(msk & (wts > 0), r, np.nan))
                )
                mad = np.where(np.isfinite(mad), mad, scale)
                scale = np.maximum(np.minimum(mad, scale), floor)
            wts = np.where(msk, _robust_weights(r / scale[:, None]), 0.0)
            p = lm_steps(p, wts / (sig * sig), 2)
    else:
        p = lm_steps(p, wts / (sig * sig), iterations)
    inl = msk & (wts > 0.05) if robust else msk.copy()
    p = lm_steps(p, np.where(inl, 1.0 / (sig * sig), 0.0), 6)

    pred, g = model(p)
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


def _reference_masked_median(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row medians ignoring NaN; NaN for an all-NaN row (without a warning)."""
    if a.shape[0] == 1:  # the common single-problem case, without nanmedian's overhead
        v = a[0][np.isfinite(a[0])]
        return np.array([np.median(v) if v.size else np.nan])
    out = np.full(a.shape[0], np.nan)
    ok = np.any(np.isfinite(a), axis=1)
    if np.any(ok):
        out[ok] = np.nanmedian(a[ok], axis=1)
    return out


def _problems(seed: int, m: int) -> dict[str, NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 14))
    s = np.column_stack([rng.uniform(-600, 600, (n, 2)), rng.uniform(0, 30, n)])
    src = np.array([rng.uniform(-300, 300), rng.uniform(-300, 300), rng.uniform(0, 5)])
    t = np.linalg.norm(s - src, axis=1) / C + rng.normal(0, 1e-3, n)
    late = rng.random(n) < 0.2
    t[late] += rng.uniform(0.005, 0.05, late.sum())
    times = np.broadcast_to(t, (m, n)).copy()
    mask = np.ones((m, n), dtype=bool)
    if rng.random() < 0.3:
        mask[:, int(rng.integers(0, n))] = False
    if rng.random() < 0.2:
        times[:, int(rng.integers(0, n))] = np.nan
    x0 = src + rng.normal(0, rng.choice([5.0, 40.0, 150.0]), (m, 3))
    return {
        "sensors": np.broadcast_to(s, (m, n, 3)),
        "times": times,
        "mask": mask,
        "x0": x0,
        "t0": rng.normal(0, 0.02, m),
        "sigma": np.broadcast_to(rng.uniform(5e-4, 2e-3, n), (m, n)),
        "z_prior": np.full(m, float(np.mean(s[:, 2]))),
    }


@pytest.mark.parametrize("seed", range(120))
def test_refine_batch_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    m = 1 + seed % 3
    prob = _problems(seed, m)
    wind = None if seed % 2 else wind_vector(float(rng.uniform(0, 12)), float(rng.uniform(0, 360)))
    robust = seed % 5 != 4
    kw = {"wind": wind, "z_sigma": 15.0 if seed % 7 else None, "robust": robust}
    got = refine_batch(**prob, c=C, **kw)
    for j in range(m):
        want = _reference_refine_batch(**{k: v[j : j + 1] for k, v in prob.items()}, c=C, **kw)
        assert np.array_equal(got.inlier[j], want.inlier[0])
        assert got.ok[j] == want.ok[0]
        assert np.array_equal(np.isnan(got.residual[j]), np.isnan(want.residual[0]))
        if np.count_nonzero(want.inlier[0]) < 4:
            continue  # under-determined: any point of a curve fits
        assert np.allclose(got.pos[j], want.pos[0], atol=1e-3)
        assert abs(got.t0[j] - want.t0[0]) < 1e-8
        assert got.scale[j] == pytest.approx(want.scale[0], rel=1e-6)
        ok_r = np.isfinite(want.residual[0])
        assert np.allclose(got.residual[j][ok_r], want.residual[0][ok_r], atol=1e-7)
        if np.count_nonzero(want.inlier[0]) >= 5:
            big = float(np.abs(want.cov[0]).max())
            assert np.allclose(got.cov[j], want.cov[0], rtol=1e-5, atol=1e-7 * big)
            assert got.error_radius[j] == pytest.approx(want.error_radius[0], rel=1e-5)
