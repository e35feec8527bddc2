"""The compiled scoring of the association's fine search (``_k_fine_best``) against
the numpy formulation it replaced (kept here as the reference): the same sensor count,
loudness step and spread (to rounding), and the same grid point and origin time unless
two anchors tie to rounding (the two middle pulses of an even set have the same mean
offset in exact arithmetic; summed in another order either can come out smaller)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numpy.typing import NDArray

from shotwatch.core.acoustics import wind_vector
from shotwatch.core.associate import (
    _FINE_BLOCK_M,
    _count_distinct,
    _disc_grid,
    _k_blocks,
    _k_coarse,
    _k_coarse_bounded,
    _k_coarse_fine,
    _k_fine_best,
    _k_gathered,
    _k_insertion_sort,
    _k_runs,
    _k_set_score,
    _k_window_best,
    _median,
    _per_sensor,
    _tt,
)
from shotwatch.core.locate import _k_travel

C = 343.0


def _fine_best(
    fg: NDArray[np.float64],
    rcv: NDArray[np.float64],
    qt: NDArray[np.float64],
    qs: NDArray[np.int64],
    qsnr: NDArray[np.float64],
    wind: NDArray[np.float64],
    a_w: float,
    tol: float,
    floor: int = 0,
    block: float = _FINE_BLOCK_M,
) -> tuple[int, float, float, int, float]:
    """``_k_fine_best`` over the grid ``fg`` in blocks of ``block`` m."""
    members, start, centre, radius = _k_blocks(fg, block)
    return _k_fine_best(
        fg, rcv, qt, qs, qsnr, C, wind, a_w, tol, floor, members, start, centre, radius
    )  # fmt: skip


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
    got = _fine_best(fg, rcv, qt, qs, qsnr, w3, a_w, 0.01)
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
    k, _, spread, f, t0 = _fine_best(fg, sens, qt, qs, np.full(5, 20.0), np.zeros(3), 0.0, 0.002)
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
        k, loud, spread, fi, t0 = _fine_best(
            fg, rcv[col[qm]], ct[qm], cs[qm], csnr[qm], wind, a_w, fine_tol
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
    got = _fine_best(fg, rcv, qt, qs, qsnr, wind, a_w, 0.01)
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


@numba.njit
def _unbounded_fine_best(
    fg: NDArray[np.float64],
    rcv: NDArray[np.float64],
    qt: NDArray[np.float64],
    qs: NDArray[np.int64],
    qsnr: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64],
    a_w: float,
    tol: float,
) -> tuple[int, float, float, int, float]:
    """``_k_fine_best`` as it was before its branch and bound: every grid point searched
    (each from the previous one's order of the pulses)."""
    n_f, n_q = fg.shape[0], qt.shape[0]
    sid = np.empty(n_q, dtype=np.int64)  # sensor of each pulse, numbered 0.. (qs sorted)
    n_s = 0
    for q in range(n_q):
        if q > 0 and qs[q] != qs[q - 1]:
            n_s += 1
        sid[q] = n_s
    tau = np.empty((n_f, n_q))
    for f in range(n_f):
        tt = 0.0
        for q in range(n_q):
            if q == 0 or sid[q] != sid[q - 1]:
                tt = _k_travel(
                    rcv[q, 0] - fg[f, 0], rcv[q, 1] - fg[f, 1], rcv[q, 2] - fg[f, 2], c, wind, a_w
                )
            tau[f, q] = qt[q] - tt
    # The winner is the first (grid point, anchor), in that order, of the most sensors,
    # then the loudest, then the tightest set. Pass 1 counts the sensors of every set;
    # pass 2 scores only the sets of the most sensors, as the exhaustive scan would.
    # A set is a run of the pulses sorted by origin time (subtraction is monotonic in
    # floating point; which of equal times comes first changes no run's members): two
    # pointers find every anchor's run, and a count per sensor follows the run as it
    # slides. Runs and counts are kept by rank in the sorted order.
    per = np.zeros(n_s + 1, dtype=np.int64)
    k_of = np.empty((n_f, n_q), dtype=np.int64)
    perm = np.empty((n_f, n_q), dtype=np.int64)
    lo = np.empty((n_f, n_q), dtype=np.int64)
    hi = np.empty((n_f, n_q), dtype=np.int64)
    k_max = np.empty(n_f, dtype=np.int64)
    ts = np.empty(n_q)
    ss = np.empty(n_q, dtype=np.int64)
    for f in range(n_f):
        # neighbouring grid points order the pulses almost alike: insertion sort from
        # the previous order is then close to linear
        if f == 0:
            perm[0] = np.argsort(tau[0])
        else:
            perm[f] = perm[f - 1]
            _k_insertion_sort(perm[f], tau[f])
        for i in range(n_q):
            ts[i] = tau[f, perm[f, i]]
            ss[i] = sid[perm[f, i]]
        k_max[f] = _k_runs(ts, ss, tol, per, lo[f], hi[f], k_of[f])
    k_best = k_max.max() if n_f > 0 else 0
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


@pytest.mark.parametrize("seed", range(40))
def test_fine_best_bounded_equals_the_unbounded(seed: int) -> None:
    """The branch and bound over blocks of grid points changes no answer, whatever the
    blocks' size: with no floor, or one at most the most sensors, bit for bit the same
    tuple; above them, fewer sensors than the floor."""
    rng = np.random.default_rng(2000 + seed)
    n_sens = int(rng.integers(1, 16))
    per = rng.integers(1, 5, n_sens)
    sens = np.column_stack([rng.uniform(-500, 500, (n_sens, 2)), rng.uniform(0, 20, n_sens)])
    qs = np.repeat(np.arange(n_sens) * 3, per).astype(np.int64)
    rcv = np.repeat(sens, per, axis=0)
    if seed % 2:  # the search's disc of 5 m steps, or points anywhere
        fg = np.column_stack([_disc_grid(5.0, 45.0) + rng.uniform(-20, 20, 2), np.full(253, 1.5)])
    else:
        n_f = int(rng.integers(1, 60))
        fg = np.column_stack([rng.uniform(-50, 50, (n_f, 2)), np.full(n_f, 1.5)])
    wind = np.zeros(3) if seed % 4 < 2 else wind_vector(float(rng.uniform(0, 12)), 200.0)
    a_w = 0.0 if seed % 4 < 2 else C * C - float(wind @ wind)
    src = np.array([rng.uniform(-40, 40), rng.uniform(-40, 40), 1.5])
    qt = 7.0 + _tt(src, rcv, C, None if a_w == 0.0 else wind)
    qt += rng.normal(0.0, 0.004, qt.size) + rng.uniform(-0.1, 0.1, qt.size) * (
        rng.random(qt.size) < 0.5
    )
    if seed % 3 == 0:  # lattice times: ties
        qt = np.round(qt / 0.004) * 0.004
    qsnr = rng.integers(-3, 30, qt.size).astype(float)
    tol = 0.025
    want = _unbounded_fine_best(fg, rcv, qt, qs, qsnr, C, wind, a_w, tol)
    for block in (3.0, _FINE_BLOCK_M, 25.0, 1e4):
        for floor in (0, want[0] - 1, want[0], want[0] + 1):
            got = _fine_best(fg, rcv, qt, qs, qsnr, wind, a_w, tol, max(floor, 0), block)
            if floor <= want[0]:
                assert got == want
            else:
                assert got[0] < floor


@pytest.mark.parametrize("seed", range(30))
def test_coarse_bounded_scores_every_point_that_can_matter(seed: int) -> None:
    """``_k_coarse_bounded`` scores bit for bit as ``_k_coarse`` every point of the most
    sensors less one, when the most reach ``least``, and marks the others -1 (when they
    do not, none of its counts reaches ``least``)."""
    grid, rcv, col, ct, cs, csnr, wind, a_w = _coarse_inputs(seed)
    if seed % 3 == 0:  # the search's own disc
        grid = np.column_stack([_disc_grid(30.0, 700.0) + rcv[0, :2], np.full(1709, grid[0, 2])])
    tol = 1.5 * 30.0 / C
    args = (grid, rcv, rcv[0], col, ct, cs, csnr, ct[0], tol, C, wind, a_w)
    counts, strength = _k_coarse(*args)
    best = int(counts.max())
    for least in (1, 4, best, best + 1):
        got_c, got_s = _k_coarse_bounded(*args, least)
        if best < least:
            assert got_c.max() < least
            continue
        scored = got_c >= 0
        assert np.all(scored | (counts < best - 1))
        assert np.array_equal(got_c[scored], counts[scored])
        assert np.array_equal(got_s[scored], strength[scored])


def test_blocks_partition_the_points() -> None:
    rng = np.random.default_rng(5)
    pts = np.column_stack([rng.uniform(-100, 300, (500, 2)), rng.uniform(0, 3, 500)])
    members, start, centre, radius = _k_blocks(pts, 25.0)
    assert np.array_equal(np.sort(members), np.arange(500))
    for b in range(start.size - 1):
        m = members[start[b] : start[b + 1]]
        assert m.size > 0 and np.all(np.diff(m) > 0)
        cell = np.floor((pts[m, :2] - pts[:, :2].min(0)) / 25.0)
        assert np.all(cell == cell[0])
        assert np.linalg.norm(pts[m] - centre[b], axis=1).max() <= radius
    assert radius <= np.sqrt(2 * 25.0**2 + 3.0**2 / 4)


def _window_best_reference(
    ss: NDArray[np.int64], snr: NDArray[np.float64], lo: NDArray[np.int64],
    hi: NDArray[np.int64], need: int,
) -> int:  # fmt: skip
    """The numpy loop ``_k_window_best`` replaced in ``_template_match``."""
    best, best_key = -1, (0, 0.0)
    for k in np.flatnonzero(hi - lo >= need):
        n = np.unique(ss[lo[k] : hi[k]]).size
        key = (n, float(np.sum(snr[lo[k] : hi[k]])))
        if n >= need and key > best_key:
            best, best_key = int(k), key
    return best


@pytest.mark.parametrize("seed", range(40))
def test_template_window_kernel_matches_the_numpy_loop(seed: int) -> None:
    """The window of implied origin times with the most distinct sensors, then the
    loudest: the compiled count and the numpy one pick the same window (sums of a few
    SNRs in another order can differ in the last bit only between windows of different
    pulses, which the random levels here never tie)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    tau = np.sort(rng.uniform(0.0, 2.0, n))
    ss = rng.integers(0, 12, n).astype(np.int64)
    snr = rng.uniform(5.0, 40.0, n)
    tol = float(rng.uniform(0.005, 0.2))
    lo = np.searchsorted(tau, tau - tol, side="left")
    hi = np.searchsorted(tau, tau + tol, side="right")
    for need in (1, 3, 5):
        want = _window_best_reference(ss, snr, lo, hi, need)
        assert _k_window_best(ss, snr, lo, hi, need, 12) == want
