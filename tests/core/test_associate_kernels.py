"""The compiled scoring of the association's fine search (``_k_fine_best``) against
the numpy formulation it replaced (kept here as the reference): the same sensor count,
loudness step and spread (to rounding), and the same grid point and origin time unless
two anchors tie to rounding (the two middle pulses of an even set have the same mean
offset in exact arithmetic; summed in another order either can come out smaller)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from shotwatch.core.acoustics import wind_vector
from shotwatch.core.associate import (
    _count_distinct,
    _disc_grid,
    _k_coarse,
    _k_coarse_fine,
    _k_fine_best,
    _k_gathered,
    _k_set_score,
    _median,
    _per_sensor,
    _tt,
)
from shotwatch.core.locate import _k_travel

C = 343.0


def _reference(
    tau: NDArray[np.float64], qs: NDArray[np.int64], qsnr: NDArray[np.float64], tol: float
) -> tuple[int, float, float, int, int]:
    d = np.abs(tau[:, None, :] - tau[:, :, None])
    hits = d < tol
    f_, a_, q_ = hits.shape
    cnt = _count_distinct(hits.reshape(f_ * a_, q_), qs).reshape(f_, a_)
    k = int(cnt.max())
    sel = np.argwhere(cnt == k)
    hs = hits[sel[:, 0], sel[:, 1]]
    spread = np.sum(np.where(hs, d[sel[:, 0], sel[:, 1]], 0.0), axis=1) / np.maximum(
        hs.sum(axis=1), 1
    )
    strength = _per_sensor(np.where(hs, qsnr[None, :], 0.0), qs, np.maximum).sum(1)
    loud = np.round(strength / (3.0 * k))
    j = int(np.lexsort((spread, -loud))[0])
    fi, ai = sel[j]
    return k, float(loud[j]), float(spread[j]), int(fi), int(ai)


@pytest.mark.parametrize("seed", range(60))
def test_fine_best_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_f, n_sens = int(rng.integers(1, 60)), int(rng.integers(1, 12))
    per = rng.integers(1, 4, n_sens)  # pulses per sensor (echoes, other shots)
    sens = np.column_stack([rng.uniform(-600, 600, (n_sens, 2)), rng.uniform(0, 20, n_sens)])
    qs = np.repeat(np.arange(n_sens) * 3 + 1, per).astype(np.int64)
    rcv = np.repeat(sens, per, axis=0)
    n_q = qs.size
    src = np.array([rng.uniform(-50, 50), rng.uniform(-50, 50), 1.5])
    fg = np.column_stack([rng.uniform(-60, 60, (n_f, 2)), np.full(n_f, 1.5)])
    wind = None if seed % 2 else wind_vector(float(rng.uniform(0, 10)), float(rng.uniform(0, 360)))
    a_w = 0.0 if wind is None else C * C - float(wind @ wind)
    # Arrivals: the source's at most pulses (with picking noise), the rest scattered.
    qt = _tt(src, rcv, C, wind) + rng.normal(0.0, 0.003, n_q)
    qt += rng.uniform(-0.2, 0.2, n_q) * (rng.random(n_q) < 0.4)
    # SNRs in whole dB with some shared values, so that loudness steps tie.
    qsnr = rng.integers(-2, 40, n_q).astype(float)
    w3 = np.zeros(3) if wind is None else wind
    got = _k_fine_best(fg, rcv, qt, qs, qsnr, C, w3, a_w, 0.01)
    tau = qt[None, :] - _tt(fg, rcv, C, wind)
    want = _reference(tau, qs, qsnr, 0.01)
    assert got[0] == want[0] and got[1] == want[1]
    assert got[2] == pytest.approx(want[2], rel=1e-9, abs=1e-15)
    if got[3] == want[3] and got[4] == pytest.approx(tau[want[3], want[4]], abs=1e-12):
        return
    # A tie: the reference scores the kernel's pick the same.
    f = got[3]
    a = int(np.argmin(np.abs(tau[f] - got[4])))
    d = np.abs(tau[f] - tau[f, a])
    hit = d < 0.01
    assert _count_distinct(hit[None], qs)[0] == want[0]
    assert float(np.sum(d[hit]) / hit.sum()) == pytest.approx(want[2], rel=1e-9)


def test_fine_best_finds_the_source_among_grid_points() -> None:
    sens = np.array([[300.0, 0, 5], [0, 300, 5], [-300, 0, 5], [0, -300, 5], [200, 200, 5]])
    src = np.array([10.0, -5.0, 1.5])
    qt = _tt(src, sens, C, None) + 0.5
    qs = np.arange(5, dtype=np.int64)
    fg = np.array([[40.0, 40.0, 1.5], [10.0, -5.0, 1.5], [-30.0, 0.0, 1.5]])
    k, _, spread, f, t0 = _k_fine_best(
        fg, sens, qt, qs, np.full(5, 20.0), C, np.zeros(3), 0.0, 0.002
    )
    assert (k, f) == (5, 1)
    assert spread < 1e-9 and t0 == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("seed", range(30))
def test_coarse_matches_reference(seed: int) -> None:
    """``_k_coarse`` and ``_k_gathered`` against the numpy formulation they replaced."""
    rng = np.random.default_rng(500 + seed)
    n_g, n_local = int(rng.integers(1, 80)), int(rng.integers(1, 10))
    per = rng.integers(1, 4, n_local)
    local = np.sort(rng.choice(50, n_local, replace=False))
    cs = np.repeat(local, per).astype(np.int64)
    col = np.repeat(np.arange(n_local), per).astype(np.int64)
    rcv = np.column_stack([rng.uniform(-500, 500, (n_local, 2)), rng.uniform(0, 20, n_local)])
    seed_pos = rcv[0]
    grid = np.column_stack([rng.uniform(-700, 700, (n_g, 2)), np.full(n_g, 5.0)])
    wind = None if seed % 2 else wind_vector(float(rng.uniform(0, 10)), float(rng.uniform(0, 360)))
    a_w = 0.0 if wind is None else C * C - float(wind @ wind)
    w3 = np.zeros(3) if wind is None else wind
    t_seed = 10.0
    tt_s = _tt(grid, rcv, C, wind)
    tt_seed = _tt(grid, seed_pos[None], C, wind)[:, 0]
    ct = t_seed - tt_seed[0] + tt_s[0, col] + rng.normal(0, 0.05, cs.size)
    csnr = rng.integers(-2, 40, cs.size).astype(float)
    counts, strength = _k_coarse(grid, rcv, seed_pos, col, ct, cs, csnr, t_seed, 0.1, C, w3, a_w)
    r = ct[None, :] - (t_seed - tt_seed)[:, None] - tt_s[:, col]
    hit = np.abs(r) < 0.1
    assert np.array_equal(counts, _count_distinct(hit, cs))
    want = _per_sensor(np.where(hit, csnr[None, :], 0.0), cs, np.maximum).sum(1)
    assert np.allclose(strength, want, rtol=1e-12, atol=1e-12)
    g0 = int(np.argmax(counts))
    got = _k_gathered(grid[g0], rcv, seed_pos, col, ct, t_seed, 0.1, C, w3, a_w)
    assert np.array_equal(got, hit[g0])


def _coarse_inputs(
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64],
           NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], float]:  # fmt: skip
    """A seed's search inputs as :func:`_search` builds them: a disc grid around the
    seed's sensor, pulses sorted by sensor (several per sensor, some of a shot, some
    not, on a lattice every fifth seed so that points tie), wind every other seed."""
    rng = np.random.default_rng(700 + seed)
    n_local = int(rng.integers(1, 40))
    per = rng.integers(1, 5, n_local)
    local = np.sort(rng.choice(1000, n_local, replace=False))
    cs = np.repeat(local, per).astype(np.int64)
    col = np.searchsorted(local, cs)
    rcv = np.column_stack([rng.uniform(-1000, 1000, (n_local, 2)), rng.uniform(0, 30, n_local)])
    z = float(np.median(rcv[:, 2]))
    grid = np.column_stack([_disc_grid(30.0, 300.0) + rcv[0, :2], np.full(317, z)])
    src = np.r_[rcv[0, :2] + rng.uniform(-200, 200, 2), 1.5]
    noise = rng.choice([0.0005, 0.05, 0.5], cs.size)
    ct = 5.0 + np.linalg.norm(rcv[col] - src, axis=1) / C + rng.normal(0, 1, cs.size) * noise
    if seed % 5 == 0:
        ct = np.round(ct, 2)
    csnr = rng.choice([0.0, 3.0, 12.5, 40.0, -2.0], cs.size)
    wind = np.zeros(3) if seed % 2 else wind_vector(float(rng.uniform(0, 10)), 70.0)
    return grid, rcv, col, ct, cs, csnr, wind, 0.0 if seed % 2 else C * C - float(wind @ wind)


@pytest.mark.parametrize("seed", range(30))
def test_coarse_sweep_equals_the_per_point_gathering(seed: int) -> None:
    """``_k_coarse`` sweeps the grid per pulse; it must give bit for bit the counts and
    loudness of gathering at each point in turn (``_k_gathered``, ``_k_set_score``)."""
    grid, rcv, col, ct, cs, csnr, wind, a_w = _coarse_inputs(seed)
    tol = 1.5 * 30.0 / C
    counts, strength = _k_coarse(grid, rcv, rcv[0], col, ct, cs, csnr, ct[0], tol, C, wind, a_w)
    for g in range(grid.shape[0]):
        hit = _k_gathered(grid[g], rcv, rcv[0], col, ct, ct[0], tol, C, wind, a_w)
        k, loud = _k_set_score(hit, cs, csnr)
        assert counts[g] == k
        assert strength[g] == loud


@pytest.mark.parametrize("seed", range(30))
def test_coarse_fine_equals_the_loop_it_replaced(seed: int) -> None:
    """``_k_coarse_fine`` against the search's former Python loop over the best coarse
    points (lexsort, pruning by count, the fine score compared as a tuple)."""
    grid, rcv, col, ct, cs, csnr, wind, a_w = _coarse_inputs(seed)
    tol, fine_tol = 1.5 * 30.0 / C, 0.025
    fine = _disc_grid(5.0, 45.0)
    got = _k_coarse_fine(
        grid, rcv, rcv[0], col, ct, cs, csnr, ct[0], tol, C, wind, a_w, fine, fine_tol, 6, 1
    )
    counts, strength = _k_coarse(grid, rcv, rcv[0], col, ct, cs, csnr, ct[0], tol, C, wind, a_w)
    best = int(counts.max())
    top = np.flatnonzero(counts >= best - 1)
    top = top[np.lexsort((-strength[top], -counts[top]))][:6]
    best_score: tuple[int, float, float] | None = None
    want: tuple[NDArray[np.float64], float] | None = None
    for gi in top:
        if best_score is not None and counts[gi] < best_score[0]:
            continue
        qm = _k_gathered(grid[gi], rcv, rcv[0], col, ct, ct[0], tol, C, wind, a_w)
        fg = np.column_stack([fine + grid[gi, :2], np.full(fine.shape[0], grid[gi, 2])])
        k, loud, spread, fi, t0 = _k_fine_best(
            fg, rcv[col[qm]], ct[qm], cs[qm], csnr[qm], C, wind, a_w, fine_tol
        )
        sc = (int(k), -float(loud), float(spread))
        if best_score is None or (-sc[0], sc[1], sc[2]) < (-best_score[0], *best_score[1:]):
            best_score, want = sc, (fg[fi], float(t0))
    assert best_score is not None and want is not None
    assert got[0] and got[1] == best_score[0]
    assert np.array_equal(got[2], want[0]) and got[3] == want[1]


def test_warm_up_readies_every_kernel() -> None:
    """The service calls warm_up at start: afterwards every compiled kernel of the fit
    and the search has a compiled version (none is left for the first real shot). In a
    fresh interpreter: in this one other tests have compiled them already. (The coarse
    and fine kernels are compiled into ``_k_coarse_fine``, which calls them.)"""
    import subprocess
    import sys

    code = (
        "from shotwatch.core import associate, locate, partition\n"
        "ks = [associate._k_coarse_fine,\n"
        "      locate._k_refine, partition._k_components, partition._k_finish]\n"
        "assert not any(k.signatures for k in ks)\n"
        "associate.warm_up()\n"
        "print([k.__name__ for k in ks if not k.signatures])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_warm_up_leaves_nothing_to_compile_for_real_reports() -> None:
    """After warm_up, locating real-shaped reports compiles nothing more: a kernel called
    with arrays of another layout (a broadcast, read-only view; a three-sensor group's
    exact fit) would be compiled again for them, seconds of CPU on the first such shot
    and in any benchmark timing it. In a fresh interpreter, on a simulated street scene
    (its pulses, and three sensors' reports of one of its shots)."""
    import subprocess
    import sys

    code = (
        "import numba\n"
        "from shotwatch.core import associate, features, locate, partition\n"
        "from shotwatch.pipeline import locate_pulses\n"
        "from shotwatch.sim import simulate\n"
        "from shotwatch.sim.scenes import urban_scene\n"
        "def sigs():\n"
        "    return {m.__name__ + '.' + k: len(v.signatures)\n"
        "            for m in (associate, locate, partition, features)\n"
        "            for k, v in vars(m).items()\n"
        "            if isinstance(v, numba.core.registry.CPUDispatcher)}\n"
        "res = simulate(urban_scene(3, 'multi_round'), seed=3)\n"
        "associate.warm_up()\n"
        "before = sigs()\n"
        "locate_pulses(res.sensors, res.pulses, res.weather)\n"
        "first = {p.sensor_id: p for p in sorted(res.pulses, key=lambda p: p.t)}\n"
        "three = sorted(first.values(), key=lambda p: p.t)[:3]\n"
        "locate_pulses(res.sensors, three, res.weather)\n"
        "after = sigs()\n"
        "print(sorted(k for k in after if after[k] > before.get(k, 0)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _exhaustive(
    fg: NDArray[np.float64],
    rcv: NDArray[np.float64],
    qt: NDArray[np.float64],
    qs: NDArray[np.int64],
    qsnr: NDArray[np.float64],
    wind: NDArray[np.float64],
    a_w: float,
    tol: float,
) -> tuple[int, float, float, int, float]:
    """The scan ``_k_fine_best`` replaced: every grid point, every anchor, every pulse
    (O(F Q^2)); the kernel must give exactly its answer, ties included."""
    n_f, n_q = fg.shape[0], qt.shape[0]
    tau = np.array(
        [[qt[q] - _k_travel(*(rcv[q] - fg[f]), C, wind, a_w) for q in range(n_q)]
         for f in range(n_f)]
    )  # fmt: skip
    best = (-1, -np.inf, np.inf, 0, 0)
    for f in range(n_f):
        for a in range(n_q):
            d = np.abs(tau[f] - tau[f, a])
            hits = d < tol
            total = 0.0
            for q in np.flatnonzero(hits):
                total += float(d[q])
            k, strength = _k_set_score(hits, qs, qsnr)
            if k < best[0]:
                continue
            spread = total / max(int(hits.sum()), 1)
            loud = float(np.rint(strength / (3.0 * k)))
            if k > best[0] or loud > best[1] or (loud == best[1] and spread < best[2]):
                best = (k, loud, spread, f, a)
    return best[0], best[1], best[2], best[3], float(tau[best[3], best[4]])


@pytest.mark.parametrize("seed", range(40))
def test_fine_best_equals_the_exhaustive_scan(seed: int) -> None:
    """Exactly the same (sensors, loudness, spread, grid point, origin time), with times
    on a coarse lattice so that many sets tie, several pulses per sensor and SNRs that
    may be zero or negative."""
    rng = np.random.default_rng(1000 + seed)
    n_f, n_sens = int(rng.integers(1, 40)), int(rng.integers(1, 10))
    per = rng.integers(1, 5, n_sens)
    sens = np.column_stack([rng.uniform(-400, 400, (n_sens, 2)), rng.uniform(0, 20, n_sens)])
    qs = np.repeat(np.arange(n_sens) * 2, per).astype(np.int64)
    rcv = np.repeat(sens, per, axis=0)
    fg = np.column_stack([rng.uniform(-40, 40, (n_f, 2)), np.full(n_f, 1.5)])
    wind = np.zeros(3) if seed % 2 else wind_vector(float(rng.uniform(0, 8)), 30.0)
    a_w = 0.0 if seed % 2 else C * C - float(wind @ wind)
    src = np.array([rng.uniform(-30, 30), rng.uniform(-30, 30), 1.5])
    qt = _tt(src, rcv, C, None if seed % 2 else wind) + rng.uniform(-0.05, 0.05, rcv.shape[0])
    if seed % 3 == 0:  # lattice times: exact ties between anchors and between sets
        qt = np.round(qt / 0.004) * 0.004
        fg[:] = fg[0]
    qsnr = rng.integers(-3, 30, rcv.shape[0]).astype(float)
    if seed % 4 == 1:  # a sensor's pulses outside the set count 0, above any negative
        qsnr = rng.integers(-30, -1, rcv.shape[0]).astype(float)
    got = _k_fine_best(fg, rcv, qt, qs, qsnr, C, wind, a_w, 0.01)
    want = _exhaustive(fg, rcv, qt, qs, qsnr, wind, a_w, 0.01)
    assert got == want


@pytest.mark.parametrize("seed", range(20))
def test_median_is_numpys_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for n in range(1, 40):
        v = rng.normal(0, 10.0 ** rng.integers(-4, 4), n)
        if seed % 3 == 0:
            v = np.round(v)  # ties
        got, want = _median(v), float(np.median(v))
        assert got == want and np.signbit(got) == np.signbit(want)
    assert np.isnan(_median(np.array([1.0, np.nan, 2.0])))
