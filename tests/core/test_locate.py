"""Location: noise-free geometry, robustness to late arrivals, the Cramér–Rao bound,
invariances (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shotwatch.core.acoustics import travel_time, wind_vector
from shotwatch.core.locate import (
    CHI2_2DOF_95,
    absolute_radius,
    closed_form_2d,
    cramer_rao_bound,
    horizontal_rms,
    locate,
    three_sensor_roots,
)

C = 343.0


def _scene(seed: int, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.uniform(-500, 500, (n, 2)), rng.uniform(4, 25, n)])
    src = np.array([rng.uniform(-200, 200), rng.uniform(-200, 200), rng.uniform(0, 3)])
    return s, src


@pytest.mark.parametrize("seed", range(5))
def test_noise_free_located_to_a_centimetre(seed: int) -> None:
    s, src = _scene(seed)
    t = np.linalg.norm(s - src, axis=1) / C + 1.7e9
    fix = locate(s, t, C, z_sigma=None, sigma=1e-5)
    assert fix.ok
    assert np.linalg.norm(fix.pos - src) < 0.01
    assert fix.t0 == pytest.approx(1.7e9, abs=1e-6)


def test_noise_free_with_wind() -> None:
    s, src = _scene(11)
    s[::2, 2] += 40.0  # masts: height observable, so the test is about the wind model
    w = wind_vector(9.0, 200.0)
    t = travel_time(src, s, C, w) + 100.0
    fix = locate(s, t, C, wind=w, z_sigma=None, sigma=1e-5)
    assert np.linalg.norm(fix.pos - src) < 0.01
    # Ignoring the wind must cost accuracy: the model matters.
    bad = locate(s, t, C, z_sigma=None, sigma=1e-5)
    assert np.linalg.norm(bad.pos - src) > 0.5


def test_late_blocked_arrivals_are_rejected() -> None:
    s, src = _scene(2, n=9)
    rng = np.random.default_rng(0)
    t = np.linalg.norm(s - src, axis=1) / C + rng.normal(0, 1e-4, 9)
    t[[1, 4]] += [0.025, 0.009]  # diffracted around buildings: late only
    fix = locate(s, t, C, sigma=1e-4)
    assert not fix.inlier[1] and not fix.inlier[4]
    assert np.hypot(*(fix.pos[:2] - src[:2])) < 0.5


def test_fewer_than_four_arrivals_is_an_error() -> None:
    s, src = _scene(0, n=3)
    with pytest.raises(ValueError, match="at least 4"):
        locate(s, np.linalg.norm(s - src, axis=1) / C, C)


def test_closed_form_matches_truth_in_the_plane() -> None:
    rng = np.random.default_rng(5)
    s = np.column_stack([rng.uniform(-300, 300, (6, 2)), np.zeros(6)])
    src = np.array([40.0, -70.0, 0.0])
    t = np.linalg.norm(s - src, axis=1) / C + 3.0
    pos, t0 = closed_form_2d(s[None], t[None], C, 0.0)
    assert np.linalg.norm(pos[0] - src) < 1e-6
    assert t0[0] == pytest.approx(3.0, abs=1e-9)


def test_cramer_rao_bound_agrees_with_monte_carlo() -> None:
    s, src = _scene(7, n=8)
    sig = 2e-4
    rng = np.random.default_rng(1)
    t = np.linalg.norm(s - src, axis=1) / C
    errs = []
    for _ in range(400):
        f = locate(s, t + rng.normal(0, sig, 8), C, sigma=sig, x0=src, robust=False, z_sigma=15.0)
        errs.append(f.pos[:2] - src[:2])
    e = np.array(errs)
    mc = float(np.sqrt(np.mean(np.sum(e * e, axis=1))))
    crb = float(horizontal_rms(cramer_rao_bound(src, s, C, sig, z_sigma=15.0)))
    assert mc == pytest.approx(crb, rel=0.10)


@settings(max_examples=25, deadline=None)
@given(
    dx=st.floats(-2000, 2000),
    dy=st.floats(-2000, 2000),
    angle=st.floats(0, 2 * np.pi),
    seed=st.integers(0, 50),
)
def test_translation_and_rotation_invariance(dx: float, dy: float, angle: float, seed: int) -> None:
    s, src = _scene(seed)
    rng = np.random.default_rng(seed)
    t = np.linalg.norm(s - src, axis=1) / C + rng.normal(0, 1e-4, s.shape[0])
    base = locate(s, t, C, sigma=1e-4)
    ca, sa = np.cos(angle), np.sin(angle)
    rot = np.array([[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]])
    shift = np.array([dx, dy, 0.0])
    moved = locate(s @ rot.T + shift, t, C, sigma=1e-4)
    assert np.linalg.norm(moved.pos - (base.pos @ rot.T + shift)) < 1e-3


def test_kernel_median_matches_numpy() -> None:
    """The compiled fit's median of the finite values: bit for bit np.median's."""
    from shotwatch.core.locate import _k_median

    rng = np.random.default_rng(3)
    for _ in range(500):
        n = int(rng.integers(0, 25))
        a = rng.normal(size=n) * 10.0 ** float(rng.integers(-6, 2))
        a[rng.random(n) < rng.random()] = np.nan
        if rng.random() < 0.1:
            a[rng.random(n) < 0.1] = np.inf
        v = a[np.isfinite(a)]
        want = float(np.median(v)) if v.size else np.nan
        got = _k_median(a)
        assert got == want or (np.isnan(got) and np.isnan(want))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    sx=st.floats(-700, 700),
    sy=st.floats(-700, 700),
)
def test_three_sensor_roots_are_exact_and_include_the_source(
    seed: int, sx: float, sy: float
) -> None:
    """Every root reproduces the three arrival times to 1e-7 s, fires before them, and
    the true source is among the (at most two) roots."""
    rng = np.random.default_rng(seed)
    s = np.column_stack([rng.uniform(-500, 500, (3, 2)), rng.uniform(0, 10, 3)])
    d = s[1:, :2] - s[0, :2]
    if abs(d[0, 0] * d[1, 1] - d[0, 1] * d[1, 0]) < 1e3:  # nearly collinear
        return
    src = np.array([sx, sy, 2.0])
    t = 100.0 + np.linalg.norm(s - src, axis=1) / C
    pos, t0 = three_sensor_roots(s, t, C, 2.0)
    assert 1 <= pos.shape[0] <= 2
    for p, a in zip(pos, t0, strict=True):
        assert np.allclose(a + np.linalg.norm(s - p, axis=1) / C, t, atol=1e-7)
        assert a < t.min()
    assert np.min(np.linalg.norm(pos - src, axis=1)) < 1e-3


def test_three_sensor_roots_of_collinear_sensors_and_bad_shapes() -> None:
    s = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [200.0, 0.0, 0.0]])
    pos, t0 = three_sensor_roots(s, np.array([0.1, 0.2, 0.3]), C, 0.0)
    assert pos.shape == (0, 3) and t0.shape == (0,)
    with pytest.raises(ValueError, match="need sensors"):
        three_sensor_roots(s[:2], np.array([0.1, 0.2]), C, 0.0)


def test_absolute_radius_covers_errors_the_fit_cannot_see() -> None:
    """The reported 95 % radius adds to the fit's own covariance a per-arrival timing
    model error through the geometry and a common-mode horizontal error: with neither
    it is the fit's radius; the common-mode term alone makes it at least
    sqrt(chi2_2(0.95)) sigma; the timing-model term counts for more where the geometry
    is poor (four sensors on one side) than where it is good (twelve around)."""
    cov = np.diag([4.0, 1.0, 9.0, 1e-6])  # a fit's (east, north, up, T) covariance
    src = np.array([0.0, 0.0, 1.5])
    ring = np.array(
        [[300 * np.cos(a), 300 * np.sin(a), 10.0] for a in np.linspace(0, 2 * np.pi, 13)[:-1]]
    )
    side = np.array(
        [[300.0, -60.0, 10.0], [320.0, 0.0, 12.0], [300.0, 60.0, 8.0], [420.0, 5.0, 9.0]]
    )
    own = absolute_radius(cov, src, ring, C, model_sigma_s=0.0, common_sigma_m=0.0)
    assert own == pytest.approx(np.sqrt(CHI2_2DOF_95 * 4.0))
    floor = absolute_radius(np.zeros((4, 4)), src, ring, C, model_sigma_s=0.0, common_sigma_m=1.5)
    assert floor == pytest.approx(np.sqrt(CHI2_2DOF_95) * 1.5)
    both = absolute_radius(cov, src, ring, C, model_sigma_s=1e-3, common_sigma_m=1.5)
    assert both > np.hypot(own, floor) * 0.999
    zero = np.zeros((4, 4))
    good = absolute_radius(zero, src, ring, C, model_sigma_s=1e-3, common_sigma_m=0.0)
    poor = absolute_radius(zero, src, side, C, model_sigma_s=1e-3, common_sigma_m=0.0)
    assert poor > 3 * good
    crb = cramer_rao_bound(src, ring, C, 1e-3, z_sigma=15.0)[:2, :2]
    assert good == pytest.approx(np.sqrt(CHI2_2DOF_95 * np.linalg.eigvalsh(crb)[-1]))
