"""Association: interleaved shots, echoes, local impulses; each pulse used once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shotwatch.core.associate import LocatedShot, associate

if TYPE_CHECKING:
    from shotwatch.core.associate import AssociationConfig

C = 343.0


def _array(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(-2, 3) * 300.0, np.arange(-2, 3) * 300.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()]) + rng.normal(0, 30, (25, 2))
    return np.column_stack([xy, rng.uniform(5, 15, 25)])


def _arrivals(spos: np.ndarray, src: np.ndarray, t0: float, max_r: float = 700.0):
    d = np.linalg.norm(spos - src, axis=1)
    heard = np.flatnonzero(d < max_r)
    return heard, t0 + d[heard] / C, 40 - 20 * np.log10(d[heard] / 100)


def test_two_shooters_interleaved_with_echoes_and_noise() -> None:
    spos = _array()
    rng = np.random.default_rng(1)
    a, b = np.array([-60.0, 40.0, 1.5]), np.array([-30.0, 40.0, 1.5])  # 30 m apart
    sens, times, snr = [], [], []
    truth = []
    for k in range(4):
        for src, t0 in ((a, 1.0 + 0.5 * k), (b, 1.04 + 0.5 * k)):
            h, t, s = _arrivals(spos, src, t0)
            sens += h.tolist()
            times += (t + rng.normal(0, 2e-4, t.size)).tolist()
            snr += s.tolist()
            # one facade echo per sensor, 10-60 ms later and 6 dB weaker
            sens += h.tolist()
            times += (t + rng.uniform(0.01, 0.06, t.size)).tolist()
            snr += (s - 6).tolist()
            truth.append((src, t0))
    # unrelated local impulses at single sensors
    for _ in range(30):
        sens.append(int(rng.integers(0, 25)))
        times.append(float(rng.uniform(0, 4)))
        snr.append(12.0)
    shots = associate(spos, np.array(sens), np.array(times), C, pulse_snr=np.array(snr))
    assert len(shots) == len(truth)
    used = np.concatenate([s.pulses for s in shots])
    assert used.size == np.unique(used).size  # each pulse in at most one shot
    for shot in shots:
        src, t0 = min(truth, key=lambda tr: abs(tr[1] - shot.t0))
        assert abs(shot.t0 - t0) < 0.002
        assert np.hypot(*(shot.pos[:2] - src[:2])) < 2.0


def test_noise_alone_gives_no_shot() -> None:
    # 200 unrelated impulses in 200 s on 25 sensors: 0.04 per sensor-second, about seven
    # times the local-impulse rate of a busy city (~20 per sensor-hour).
    spos = _array(3)
    rng = np.random.default_rng(4)
    n = 200
    shots = associate(
        spos, rng.integers(0, 25, n), rng.uniform(0, 200, n), C, pulse_snr=rng.uniform(3, 15, n)
    )
    assert shots == []


def test_wind_keeps_every_sensor_in_the_shot() -> None:
    """In an 8 m/s wind an arrival 1 km away is shifted by up to ~70 ms from the still-air
    prediction, far beyond the association's tolerances: the association must predict
    with the wind, so that every sensor that heard the shot is in its fit."""
    from shotwatch.core.acoustics import travel_time, wind_vector

    spos = _array(5)
    wind = wind_vector(8.0, 250.0)
    src = np.array([40.0, -70.0, 1.5])
    rng = np.random.default_rng(7)
    t = 2.0 + travel_time(src, spos, C, wind) + rng.normal(0, 1e-4, spos.shape[0])
    shots = associate(
        spos, np.arange(spos.shape[0]), t, C, pulse_snr=np.full(t.size, 30.0), wind=wind
    )
    assert len(shots) == 1
    assert len(shots[0].pulses) == spos.shape[0]
    assert np.linalg.norm(shots[0].pos[:2] - src[:2]) < 0.5


def test_count_distinct_matches_definition() -> None:
    """Distinct sensors hit per row: the same as OR-ing each sensor's columns."""
    from shotwatch.core.associate import _count_distinct

    rng = np.random.default_rng(5)
    for _ in range(300):
        rows, cols = int(rng.integers(0, 20)), int(rng.integers(0, 25))
        sensors = np.sort(rng.integers(0, int(rng.integers(1, 30)), cols))
        hits = rng.random((rows, cols)) < rng.random()
        want = [len({int(s) for s, h in zip(sensors, row, strict=True) if h}) for row in hits]
        got = _count_distinct(hits, sensors)
        assert got.dtype == np.int64
        assert got.tolist() == want


def test_per_sensor_max_matches_reduceat() -> None:
    """Per-sensor maxima: bit for bit np.maximum.reduceat, row sums included."""
    from shotwatch.core.associate import _per_sensor

    rng = np.random.default_rng(6)
    for _ in range(300):
        rows, cols = int(rng.integers(0, 20)), int(rng.integers(1, 25))
        sensors = np.sort(rng.integers(0, int(rng.integers(1, 30)), cols))
        vals = np.where(rng.random((rows, cols)) < 0.5, rng.normal(10, 10, (rows, cols)), 0.0)
        starts = np.flatnonzero(np.concatenate(([True], sensors[1:] != sensors[:-1])))
        want = np.maximum.reduceat(vals, starts, axis=1)
        got = _per_sensor(vals, sensors, np.maximum)
        assert got.tobytes() == want.tobytes()
        assert got.sum(1).tobytes() == want.sum(1).tobytes()


def test_weaker_later_rounds_of_a_burst_are_located() -> None:
    """Rounds 90 ms apart from one spot, heard by five sensors, the later ones 8 dB weaker
    than the first: at each sensor they trail a much louder pulse (as a reverberant coda
    would), yet they are rounds from the place of an accepted shot, not reflections."""
    spos = _array()
    rng = np.random.default_rng(2)
    src = np.array([20.0, -50.0, 1.5])
    sens: list[int] = []
    times: list[float] = []
    snr: list[float] = []
    t0s = 1.0 + 0.09 * np.arange(5)
    for k, t0 in enumerate(t0s):
        h, t, s = _arrivals(spos, src, float(t0), 365.0)
        assert h.size == 5
        sens += h.tolist()
        times += (t + rng.normal(0, 2e-4, t.size)).tolist()
        snr += (s - (0.0 if k == 0 else 8.0) + rng.normal(0, 1, t.size)).tolist()
    shots = associate(spos, np.array(sens), np.array(times), C, pulse_snr=np.array(snr))
    assert len(shots) >= 3  # the first round alone before rounds at a known place counted
    for shot in shots:
        assert np.min(np.abs(t0s - shot.t0)) < 0.002
        assert np.hypot(*(shot.pos[:2] - src[:2])) < 2.0


def test_another_round_needs_place_cycle_reach_and_redundancy() -> None:
    from shotwatch.core.associate import _another_round

    # Pulses 0-11: the first shot's (one per sensor), 12-23 a later round's, same pattern.
    rng = np.random.default_rng(0)
    t_first = rng.uniform(0.5, 1.5, 12)
    ob = _obs(_array()[:12], np.tile(np.arange(12), 2), np.concatenate([t_first, t_first + 0.2]))

    def shot(x: float, t0: float, n: int, scale: float = 5e-4) -> LocatedShot:
        return _shot(12 + np.arange(n), np.array([x, 0.0, 1.5]), t0, scale)

    first = [_shot(np.arange(10), np.array([0.0, 0.0, 1.5]), 1.0)]
    assert _another_round(shot(5.0, 1.2, 6), first, ob)
    assert not _another_round(shot(5.0, 1.02, 6), first, ob)  # faster than any weapon
    assert not _another_round(shot(80.0, 1.2, 6), first, ob)  # elsewhere
    assert not _another_round(shot(5.0, 1.2, 5), [_shot(np.arange(12), first[0].pos, 1.0)], ob)
    assert not _another_round(shot(5.0, 12.0, 6), first, ob)  # another burst
    assert not _another_round(shot(5.0, 1.2, 8, 4e-3), first, ob)  # a mixture of echoes


def test_four_arrival_round_needs_the_first_shots_pattern() -> None:
    """Four arrivals fit some source exactly, so a four-sensor round at a known place
    counts as another round (its pulses may trail the louder first round's) only when
    its arrivals repeat that round's pattern at every sensor: a mixture of two rounds'
    pulses, off by the time between them at one sensor, does not."""
    from shotwatch.core.associate import _another_round, _same_pattern

    rng = np.random.default_rng(1)
    t_first = rng.uniform(0.5, 1.5, 4)
    later = t_first + 0.38 + rng.normal(0, 3e-4, 4)
    mixed = later.copy()
    mixed[2] += 0.38  # the third round's pulse at one sensor
    pt = np.concatenate([t_first, later, mixed])
    ob = _obs(_array()[:4], np.tile(np.arange(4), 3), pt)
    first = [_shot(np.arange(4), np.array([0.0, 0.0, 1.5]), 1.0)]
    round2 = _shot(4 + np.arange(4), np.array([4.0, 0.0, 1.5]), 1.38)
    mixture = _shot(8 + np.arange(4), np.array([9.0, 0.0, 1.5]), 1.38)
    assert _same_pattern(round2, first[0], ob) and _another_round(round2, first, ob)
    assert not _same_pattern(mixture, first[0], ob)
    assert not _another_round(mixture, first, ob)
    elsewhere = _shot(np.arange(4), np.array([0.0, 0.0, 1.5]), 1.0)
    other_sensors = _obs(_array()[:8], np.concatenate([np.arange(4), 4 + np.arange(8)]), pt)
    assert not _another_round(round2, [elsewhere], other_sensors)  # no pulse at its sensors


def _obs(spos: np.ndarray, psens: np.ndarray, pt: np.ndarray):  # type: ignore[no-untyped-def]
    from shotwatch.core.associate import AssociationConfig, _Obs

    n = pt.size
    return _Obs(spos, psens, pt, np.full(n, 5e-4), np.full(n, 30.0), C, None, AssociationConfig())


def _moving_rounds(places: list[np.ndarray], interval: float, seed: int):  # type: ignore[no-untyped-def]
    """A round from each of ``places`` every ``interval`` s from t = 1 s, heard by the
    eight sensors nearest the middle place (0.1 ms timing noise): (observations,
    pulse times), pulses in round order."""
    spos = _array()
    near = np.argsort(np.linalg.norm(spos - places[len(places) // 2], axis=1))[:8]
    rng = np.random.default_rng(seed)
    sens, times = [], []
    for k, src in enumerate(places):
        sens += near.tolist()
        times += (1.0 + interval * k + np.linalg.norm(spos[near] - src, axis=1) / C).tolist()
    pt = np.array(times) + rng.normal(0, 1e-4, len(times))
    return _obs(spos, np.array(sens, dtype=np.int64), pt), pt


def _shot(pulses: np.ndarray, pos: np.ndarray, t0: float, scale: float = 5e-4) -> LocatedShot:
    """A located shot built by hand (unit covariance, zero residuals)."""
    return LocatedShot(
        pulses=pulses, pos=pos, t0=t0, cov=np.eye(4), error_radius=1.0, scale=scale,
        residual=np.zeros(pulses.size),
    )  # fmt: skip


def test_round_at_a_known_place_keeps_a_late_blocked_arrival_out() -> None:
    """Another round from an established place, one of whose arrivals came around a
    building 15 ms late: the fit drops that arrival, and since it is late (a blocked path
    is never early) the round stands (it used to be refused for keeping a pulse out)."""
    from shotwatch.core.associate import _refit_at

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    heard = np.flatnonzero(np.linalg.norm(spos - src, axis=1) < 500.0)
    assert heard.size >= 7
    tt = np.linalg.norm(spos[heard] - src, axis=1) / C
    anchor = _shot(np.arange(heard.size), src, 1.0)
    rng = np.random.default_rng(3)
    t = 1.3 + tt + rng.normal(0, 1e-4, heard.size)
    t[2] += 0.015
    ob = _obs(spos, heard.astype(np.int64), t)
    shot = _refit_at(anchor, ob, np.zeros(t.size, dtype=bool), 0.5, 2.0)
    assert shot is not None
    assert 2 not in shot.pulses.tolist()
    assert shot.pulses.size == heard.size - 1
    assert abs(shot.t0 - 1.3) < 1e-3
    assert np.hypot(*(shot.pos[:2] - src[:2])) < 1.0


def test_a_round_at_a_known_place_is_held_to_its_height_not_fitted_aloft() -> None:
    """Five free pulses 0.4 s after a shot at an established place, timed as from a
    point 60 m above it (a mixture of echoes can be): a free fit drops one and fits the
    other four exactly there, a "round" 60 m above the shooter. A round re-fitted at an
    established place is held to its height instead (``held_z_sigma_m``; below it too:
    see the burst behind buildings)."""
    from shotwatch.core.associate import AssociationConfig, _Obs, _refit_at

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))
    anchor = _shot(np.arange(6), src, 1.0)
    mixture = src + np.array([4.0, -3.0, 60.0])
    rng = np.random.default_rng(1)
    t_round = 1.4 + np.linalg.norm(spos[near[:5]] - mixture, axis=1) / C
    pt = np.concatenate(
        [1.0 + np.linalg.norm(spos[near[:6]] - src, axis=1) / C, t_round + rng.normal(0, 1e-4, 5)]
    )
    ps = np.concatenate([near[:6], near[:5]]).astype(np.int64)
    assigned = np.zeros(pt.size, dtype=bool)
    assigned[:6] = True  # the anchor's own pulses
    got = {}
    for held in (AssociationConfig().held_z_sigma_m, 1e9):
        cfg = AssociationConfig(held_z_sigma_m=held)
        ob = _Obs(spos, ps, pt, np.full(pt.size, 5e-4), np.full(pt.size, 30.0), C, None, cfg)
        got[held] = _refit_at(anchor, ob, assigned.copy(), 0.1, 2.0)
    free = got[1e9]
    assert free is not None and abs(free.pos[2] - src[2]) > 50.0  # what the rule prevents
    held_shot = got[AssociationConfig().held_z_sigma_m]
    assert held_shot is not None
    assert abs(held_shot.pos[2] - src[2]) < 5.0
    assert np.hypot(*(held_shot.pos[:2] - src[:2])) < 10.0


def test_late_only_and_too_close() -> None:
    from shotwatch.core.associate import AssociationConfig, _late_only, _too_close

    spos = _array()
    src = np.array([0.0, 0.0, 1.5])
    t = 1.0 + np.linalg.norm(spos - src, axis=1) / C
    late, early = t.copy(), t.copy()
    late[[3, 4, 5]] += 0.02
    early[3] -= 0.02
    idx = np.arange(spos.shape[0], dtype=np.int64)

    def shot(pulses: np.ndarray, t0: float = 1.0, x: float = 0.0) -> LocatedShot:
        return _shot(pulses, src + np.array([x, 0.0, 0.0]), t0)

    fit = shot(np.setdiff1d(idx, [3, 4, 5]))
    assert _late_only(fit, idx, _obs(spos, idx, late))
    assert not _late_only(shot(np.setdiff1d(idx, [3])), idx, _obs(spos, idx, early))
    assert not _late_only(fit, idx[:8], _obs(spos, idx, late))  # three of eight out: too many
    assert _late_only(shot(idx), idx, _obs(spos, idx, t))
    cfg = AssociationConfig()
    assert _too_close(shot(idx, 1.02, 5.0), [shot(idx)], cfg)
    assert not _too_close(shot(idx, 1.1, 5.0), [shot(idx)], cfg)  # the next round
    assert not _too_close(shot(idx, 1.02, 60.0), [shot(idx)], cfg)  # elsewhere


def test_a_burst_heard_by_hundreds_of_sensors_is_searched_from_the_nearest() -> None:
    """An aerial burst heard by 400 sensors: each search uses the pulses of the
    ``max_seed_sensors`` sensors nearest its seed, and the burst is still one shot where
    it burst."""
    from shotwatch.core.associate import AssociationConfig

    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.arange(-10, 10) * 150.0, np.arange(-10, 10) * 150.0)
    spos = np.column_stack([gx.ravel(), gy.ravel(), rng.uniform(5, 15, gx.size)])
    src = np.array([80.0, -40.0, 120.0])
    d = np.linalg.norm(spos - src, axis=1)
    t = 2.0 + d / C + rng.normal(0, 2e-4, d.size)
    snr = 50 - 20 * np.log10(d / 100)
    shots = associate(spos, np.arange(d.size), t, C, pulse_snr=snr)
    assert len(shots) == 1
    assert np.linalg.norm(shots[0].pos[:2] - src[:2]) < 2.0
    assert len(shots[0].pulses) <= AssociationConfig().max_seed_sensors


def test_a_few_sensor_shot_elsewhere_stands_unless_its_pulses_fit_the_anchor() -> None:
    """A well-heard shot (12 sensors) and, half a second later and 150 m away, a shot
    heard by its six nearest sensors (a second or moving shooter). Re-associating the
    six pulses at the well-heard shot's place finds nothing, so the shot stands (it used
    to be dissolved as "outweighed"); with only four arrivals (which fit some source
    whatever they are), or at the well-heard shot's own origin time (the image source of
    a reflection), it is still dissolved."""
    from shotwatch.core.associate import _resolve_ambiguous

    spos = _array()
    a, b = np.array([0.0, 0.0, 1.5]), np.array([150.0, 0.0, 1.5])
    near_a = np.argsort(np.linalg.norm(spos - a, axis=1))[:12]

    def run(n_b: int, t_b: float) -> list[float]:
        near_b = np.argsort(np.linalg.norm(spos - b, axis=1))[:n_b]
        psens = np.concatenate([near_a, near_b]).astype(np.int64)
        pt = np.concatenate(
            [1.0 + np.linalg.norm(spos[near_a] - a, axis=1) / C,
             t_b + np.linalg.norm(spos[near_b] - b, axis=1) / C]
        )  # fmt: skip
        ob = _obs(spos, psens, pt)

        shots = [_shot(np.arange(12), a, 1.0), _shot(12 + np.arange(n_b), b, t_b)]
        assigned = np.ones(pt.size, dtype=bool)
        _resolve_ambiguous(shots, ob, assigned)
        assert bool(np.all(assigned[np.concatenate([s.pulses for s in shots])]))
        return sorted(s.t0 for s in shots)

    assert run(6, 1.5) == [1.0, 1.5]
    assert run(4, 1.5) == [1.0]
    assert run(6, 1.01) == [1.0]


def test_a_four_sensor_shot_stands_when_the_anchor_finds_as_many_rounds() -> None:
    """A mixture (pulses of a round at the well-heard shot's place, located 300 m off)
    and a shot heard by four sensors 150 m away are dissolved; re-association at the
    well-heard shot's place finds two rounds (the mixture's and a free one), as many as
    were dissolved, yet none of the four-sensor shot's pulses: it stands."""
    from shotwatch.core.associate import _resolve_ambiguous

    spos = _array()
    a, b = np.array([0.0, 0.0, 1.5]), np.array([150.0, 0.0, 1.5])
    near_a = np.argsort(np.linalg.norm(spos - a, axis=1))[:12]
    near_b = np.argsort(np.linalg.norm(spos - b, axis=1))[:4]
    groups = [(near_a, a, 1.0), (near_a[:5], a, 1.3), (near_a[5:10], a, 1.45), (near_b, b, 1.7)]
    psens = np.concatenate([g[0] for g in groups]).astype(np.int64)
    pt = np.concatenate([t + np.linalg.norm(spos[s] - x, axis=1) / C for s, x, t in groups])
    ob = _obs(spos, psens, pt)

    shots = [
        _shot(np.arange(12), a, 1.0),
        _shot(12 + np.arange(5), np.array([0.0, 300.0, 1.5]), 1.2),  # the mixture
        _shot(22 + np.arange(4), b, 1.7),
    ]
    assigned = np.ones(pt.size, dtype=bool)
    assigned[17:22] = False  # the round at 1.45 s: free pulses
    _resolve_ambiguous(shots, ob, assigned)
    t0s = sorted(round(s.t0, 2) for s in shots)
    assert t0s == [1.0, 1.3, 1.45, 1.7]


def test_a_round_heard_by_few_but_as_loud_stands_at_a_known_place() -> None:
    """A second round from an established place heard by only five of the thirteen
    sensors that heard the first (at the others its pulse was lost), but as loud where
    it was heard: another round. The same five pulses 25 dB weaker than the first
    round's are what a coincidence of its coda would look like: refused."""
    from shotwatch.core.associate import AssociationConfig, _as_loud, _more_rounds, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - src, axis=1))
    first, h2 = order[:13], order[:5]
    rng = np.random.default_rng(4)
    t1 = 1.0 + np.linalg.norm(spos[first] - src, axis=1) / C + rng.normal(0, 1e-4, 13)
    t2 = 1.4 + np.linalg.norm(spos[h2] - src, axis=1) / C + rng.normal(0, 1e-4, 5)
    psens = np.concatenate([first, h2]).astype(np.int64)
    pt = np.concatenate([t1, t2])
    idx = np.arange(18, dtype=np.int64)
    for drop, found in ((2.0, True), (25.0, False)):
        snr = np.concatenate([np.full(13, 35.0), np.full(5, 35.0 - drop)])
        ob = _Obs(spos, psens, pt, np.full(18, 5e-4), snr, C, None, AssociationConfig())
        anchor = _shot(idx[:13], src, 1.0)
        assigned = np.zeros(18, dtype=bool)
        assigned[:13] = True
        shots = [anchor]
        _more_rounds(shots, ob, assigned)
        assert (len(shots) == 2) is found
        if found:
            assert abs(shots[1].t0 - 1.4) < 1e-3
            assert _as_loud(shots[1], anchor, ob)
            # a fit much looser than the anchor's is a mixture, however loud
            loose = _shot(shots[1].pulses, src, 1.4, scale=anchor.scale + 2e-3)
            assert not _as_loud(loose, anchor, ob)
            # four of thirteen: fewer than a third, however loud
            assert not _as_loud(_shot(shots[1].pulses[:4], src, 1.4), anchor, ob)


def test_a_second_gun_trailing_a_loud_one_is_no_echo_ghost() -> None:
    """A second gun 40 m from a loud one fires 0.7 s later, heard by seven sensors all
    of which heard the first louder: its pulses trail louder ones as a reverberant tail
    would, but no image source emits 0.7 s after its shot. The same set 0.12 s after the
    shot (within what their 40 m allow an image source) is still a ghost."""
    from shotwatch.core.associate import AssociationConfig, _is_echo_ghost, _Obs

    spos = _array()
    a_src, b_src = np.array([0.0, 0.0, 1.5]), np.array([40.0, 0.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - a_src, axis=1))
    ha, hb = order[:12], order[:7]
    ta = 1.0 + np.linalg.norm(spos[ha] - a_src, axis=1) / C
    psens = np.concatenate([ha, hb]).astype(np.int64)
    for t0_b, ghost in ((1.7, False), (1.12, True)):
        tb = t0_b + np.linalg.norm(spos[hb] - b_src, axis=1) / C
        pt = np.concatenate([ta, tb])
        snr = np.concatenate([np.full(12, 35.0), np.full(7, 25.0)])
        ob = _Obs(spos, psens, pt, np.full(19, 5e-4), snr, C, None, AssociationConfig())
        first = _shot(np.arange(12, dtype=np.int64), a_src, 1.0)
        second = _shot(np.arange(12, 19, dtype=np.int64), b_src, t0_b)
        assert _is_echo_ghost(second, [first], ob) is ghost


def _two_guns_four_heard(lag_b2: float, third: float | None = None):  # type: ignore[no-untyped-def]
    """A loud gun fires at t = 1.0 and 1.9 s, heard by twelve sensors; a second gun 40 m
    away fires 0.7 s after the first round and ``lag_b2`` after the second, heard by
    four of the loud gun's sensors, 12 dB weaker there (and, with ``third``, once more
    at that time, heard by three of them: pulses 32-34): observations and the four
    shots (a1, a2, b1, b2)."""
    from shotwatch.core.associate import AssociationConfig, _Obs

    spos = _array()
    a_src, b_src = np.array([0.0, 0.0, 1.5]), np.array([40.0, 0.0, 1.5])
    ha = np.argsort(np.linalg.norm(spos - a_src, axis=1))[:12]
    hb = ha[[0, 2, 5, 9]]
    ts, ss, snr = [], [], []
    for t0, src, heard, level in (
        (1.0, a_src, ha, 35.0), (1.9, a_src, ha, 35.0),
        (1.7, b_src, hb, 23.0), (1.9 + lag_b2, b_src, hb, 23.0),
        *(() if third is None else ((third, b_src, hb[:3], 23.0),)),
    ):  # fmt: skip
        ts += (t0 + np.linalg.norm(spos[heard] - src, axis=1) / C).tolist()
        ss += heard.tolist()
        snr += [level] * heard.size
    pt = np.array(ts)
    ob = _Obs(spos, np.array(ss, dtype=np.int64), pt, np.full(pt.size, 5e-4), np.array(snr), C,
              None, AssociationConfig())  # fmt: skip
    a1 = _shot(np.arange(12, dtype=np.int64), a_src, 1.0)
    a2 = _shot(np.arange(12, 24, dtype=np.int64), a_src, 1.9)
    b1 = _shot(np.arange(24, 28, dtype=np.int64), b_src, 1.7)
    b2 = _shot(np.arange(28, 32, dtype=np.int64), b_src, 1.9 + lag_b2)
    return ob, [a1, a2, b1, b2]


def test_a_second_gun_heard_by_four_in_a_loud_ones_tail_stands_when_it_fires_again() -> None:
    """A second gun heard by four sensors only, 12 dB under a loud gun's rounds and in
    their tails at every one of them: one such round alone is an echo ghost (four
    arrivals fit some point whatever they are), but two rounds repeating one arrival
    pattern 0.48 s apart, at no cadence of the loud gun, are a place fired from twice:
    neither is a ghost, and the loud gun's place, dissolving the few-sensor shots of its
    burst, does not dissolve them. The same two sets trailing each of the loud gun's
    rounds by the same 0.7 s (its tails, repeating with its cycle) stay ghosts and are
    dissolved."""
    from shotwatch.core.associate import _is_echo_ghost, _resolve_ambiguous

    for lag_b2, real in ((0.48, True), (0.7, False)):
        ob, (a1, a2, b1, b2) = _two_guns_four_heard(lag_b2)
        assert _is_echo_ghost(b1, [a1, a2], ob)  # alone: a ghost
        assert _is_echo_ghost(b1, [a1, a2, b2], ob) is not real
        assert _is_echo_ghost(b2, [a1, a2, b1], ob) is not real
        shots = [a1, a2, b1, b2]
        assigned = np.ones(ob.pt.size, dtype=bool)
        _resolve_ambiguous(shots, ob, assigned)
        kept = [s for s in shots if len(s.pulses) == 4]
        assert len(kept) == (2 if real else 0)
        assert bool(np.all(assigned[24:])) is real


def test_a_round_heard_by_three_in_a_loud_guns_coda_stands_at_a_place_fired_from_twice() -> None:
    """The second gun's third round, heard by three of its four sensors 0.3 s after the
    loud gun's first round, inside that round's coda at each of them (12 dB weaker):
    three pulses in a louder impulse's coda are refused as a round (a chance match of
    coda pulses), but at a place fired from twice whose own rounds are that much weaker
    than the loud gun at those sensors, trailing it is no evidence against them: the
    round stands there. Where the place fired once (its repeat at the loud gun's
    cadence: its tails) the coda rule holds."""
    from shotwatch.core.associate import _template_rounds

    for lag_b2, found in ((0.48, True), (0.7, False)):
        ob, shots = _two_guns_four_heard(lag_b2, third=1.3)
        assigned = np.zeros(ob.pt.size, dtype=bool)
        assigned[:32] = True
        _template_rounds(shots, ob, assigned)
        three = [s for s in shots if len(s.pulses) == 3]
        assert len(three) == int(found)
        assert bool(np.all(assigned[32:])) is found
        if found:
            assert abs(three[0].t0 - 1.3) < 0.005
            assert np.hypot(*(three[0].pos[:2] - np.array([40.0, 0.0]))) < 1.0


def test_a_moving_shooter_is_followed_from_round_to_round() -> None:
    """A shooter walking east fires every 0.5 s, 6 m on each time. From the place of the
    first round (the only shot the search found) the pulses of a round 12 m or more
    away no longer agree on one origin time; from the rounds between they do."""
    from shotwatch.core.associate import _more_rounds

    places = [np.array([x, -40.0, 1.5]) for x in np.arange(6) * 6.0]
    ob, pt = _moving_rounds(places, 0.5, 5)
    first = _shot(np.arange(8, dtype=np.int64), places[0], 1.0)
    assigned = np.zeros(pt.size, dtype=bool)
    assigned[:8] = True
    shots = [first]
    _more_rounds(shots, ob, assigned)
    assert [round(s.t0, 2) for s in shots] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    for s, src in zip(shots, places, strict=True):
        assert np.hypot(*(s.pos[:2] - src[:2])) < 1.0


def test_a_five_sensor_round_anchors_the_next_at_its_place() -> None:
    """A quiet gun heard by only five sensors fires twice, 0.4 s apart. Five arrivals
    over-determine a source (four unknowns), so the first round's place is established,
    and from there the second round's five pulses agree on one origin time: it is found
    (anchors used to need six sensors, and such a shooter's later rounds were lost).
    Four arrivals fit some source whatever they are, so a four-sensor shot anchors
    nothing."""
    from shotwatch.core.associate import _more_rounds

    spos = _array()
    src = np.array([30.0, -60.0, 1.5])
    rng = np.random.default_rng(6)
    for n, found in ((5, True), (4, False)):
        near = np.argsort(np.linalg.norm(spos - src, axis=1))[:n]
        tt = np.linalg.norm(spos[near] - src, axis=1) / C
        pt = np.concatenate([1.0 + tt, 1.4 + tt]) + rng.normal(0, 1e-4, 2 * n)
        ob = _obs(spos, np.concatenate([near, near]).astype(np.int64), pt)
        assigned = np.zeros(2 * n, dtype=bool)
        assigned[:n] = True
        shots = [_shot(np.arange(n, dtype=np.int64), src, 1.0)]
        _more_rounds(shots, ob, assigned)
        assert (len(shots) == 2) is found
        if found:
            assert abs(shots[1].t0 - 1.4) < 1e-3
            assert np.hypot(*(shots[1].pos[:2] - src[:2])) < 1.0


def test_a_shot_made_of_echoes_anchors_no_rounds() -> None:
    """A five-sensor shot each of whose pulses trails, by 60 ms at its sensor, a pulse
    10 dB louder (the coda of a loud round: its echoes fit some point near the shooter)
    anchors no further rounds at its place; the same shot without the louder pulses
    before it does (:func:`test_a_five_sensor_round_anchors_the_next_at_its_place`)."""
    from shotwatch.core.associate import AssociationConfig, _more_rounds, _Obs

    spos = _array()
    src = np.array([30.0, -60.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:5]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C
    rng = np.random.default_rng(6)
    pt = np.concatenate([0.94 + tt, 1.0 + tt, 1.4 + tt]) + rng.normal(0, 1e-4, 15)
    psens = np.concatenate([near, near, near]).astype(np.int64)
    for loud_before, found in ((40.0, False), (30.0, True)):
        snr = np.concatenate([np.full(5, loud_before), np.full(10, 30.0)])
        ob = _Obs(spos, psens, pt, np.full(15, 5e-4), snr, C, None, AssociationConfig())
        assigned = np.zeros(15, dtype=bool)
        assigned[:10] = True  # the louder pulses (another shot's) and the anchor's
        shots = [_shot(np.arange(5, 10, dtype=np.int64), src, 1.0)]
        _more_rounds(shots, ob, assigned)
        assert any(abs(s.t0 - 1.4) < 1e-3 for s in shots) is found


def test_a_four_sensor_round_at_a_place_repeats_its_pattern_or_is_as_loud() -> None:
    """Four arrivals fit some point exactly, so four free pulses (a loud round's echoes)
    whose point falls within ``same_place_m`` of an established place (here 8 m off)
    would pass for another round there. Such a round stands only when it repeats the
    place's own arrival pattern (the same spot again) or is about as loud as the place's
    shot (the same gun, a few metres on); 15 dB weaker and 8 m off it is refused."""
    from shotwatch.core.associate import AssociationConfig, _more_rounds, _Obs

    spos = _array()
    src = np.array([30.0, -60.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))
    rng = np.random.default_rng(4)
    t_anchor = 1.0 + np.linalg.norm(spos[near[:6]] - src, axis=1) / C
    for offset, snr, found in (
        (np.array([8.0, 0.0, 0.0]), 15.0, False),
        (np.array([8.0, 0.0, 0.0]), 30.0, True),
        (np.zeros(3), 15.0, True),
    ):
        t_round = 1.4 + np.linalg.norm(spos[near[:4]] - (src + offset), axis=1) / C
        pt = np.concatenate([t_anchor, t_round + rng.normal(0, 1e-4, 4)])
        psnr = np.concatenate([np.full(6, 30.0), np.full(4, snr)])
        psens = np.concatenate([near[:6], near[:4]]).astype(np.int64)
        ob = _Obs(spos, psens, pt, np.full(10, 5e-4), psnr, C, None, AssociationConfig())
        assigned = np.zeros(10, dtype=bool)
        assigned[:6] = True
        shots = [_shot(np.arange(6, dtype=np.int64), src, 1.0)]
        _more_rounds(shots, ob, assigned)
        assert (len(shots) == 2) is found, (offset, snr)


def test_dissolving_a_shot_frees_the_pulses_it_explained() -> None:
    """A four-sensor shot away from a well-heard one is dissolved; the late arrivals it
    had claimed at other sensors (``echoes``) are free again, as its own pulses are,
    so a later search can use them."""
    from shotwatch.core.associate import _resolve_ambiguous

    spos = _array()
    a, b = np.array([0.0, 0.0, 1.5]), np.array([150.0, 0.0, 1.5])
    near_a = np.argsort(np.linalg.norm(spos - a, axis=1))[:12]
    near_b = np.argsort(np.linalg.norm(spos - b, axis=1))[:6]
    psens = np.concatenate([near_a, near_b]).astype(np.int64)
    pt = np.concatenate(
        [1.0 + np.linalg.norm(spos[near_a] - a, axis=1) / C,
         1.5 + np.linalg.norm(spos[near_b] - b, axis=1) / C]
    )  # fmt: skip
    ob = _obs(spos, psens, pt)
    weak = _shot(12 + np.arange(4), b, 1.5)
    weak.echoes.extend([16, 17])  # its claimed late arrivals at two more sensors
    shots = [_shot(np.arange(12), a, 1.0), weak]
    assigned = np.ones(pt.size, dtype=bool)
    assert _resolve_ambiguous(shots, ob, assigned) == 1
    assert [s.t0 for s in shots] == [1.0]
    assert not np.any(assigned[12:])
    assert np.all(assigned[:12])


def test_a_fast_moving_shooter_is_found_where_its_track_leads() -> None:
    """A shooter driven east at 15 m/s fires every 0.8 s, 12 m on each time. The search
    found the first two rounds; from their places the later rounds' pulses agree on no
    origin time (12 m and more away), but the track through the two predicts where
    each is."""
    from shotwatch.core.associate import _more_rounds

    places = [np.array([-30.0 + 12.0 * k, -40.0, 1.5]) for k in range(5)]
    ob, pt = _moving_rounds(places, 0.8, 7)
    shots = [
        _shot(np.arange(8, dtype=np.int64), places[0], 1.0),
        _shot(np.arange(8, 16, dtype=np.int64), places[1], 1.8),
    ]
    assigned = np.zeros(pt.size, dtype=bool)
    assigned[:16] = True
    _more_rounds(shots, ob, assigned)
    assert [round(s.t0, 2) for s in shots] == [1.0, 1.8, 2.6, 3.4, 4.2]
    for s, src in zip(shots, places, strict=True):
        assert np.hypot(*(s.pos[:2] - src[:2])) < 1.0


def test_a_shot_whose_nearest_sensors_are_silent_needs_a_second_round_there() -> None:
    """A gun inside a block: its two nearest sensors are screened off and hear nothing;
    six further out hear it, the farthest over a path around a building, 15 ms late,
    which the robust fit leaves out. Among the five sensors nearest the located source
    only three heard it: a set like that could be a chance coincidence of unrelated
    pulses (whose apparent source lies anywhere, with silent sensors around it), so a
    single one is refused; the same gun firing again 0.6 s later from the same place is
    no coincidence, and both rounds stand."""
    spos = _array()
    src = np.array([40.0, 60.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - src, axis=1))
    heard, silent = order[2:8], order[:2]  # silent sensors are online: each reports
    rng = np.random.default_rng(8)  # a knock of its own, seconds later
    tt = np.linalg.norm(spos[heard] - src, axis=1) / C
    tt[-1] += 0.015
    for rounds in (1, 2):
        psens = np.concatenate([np.tile(heard, rounds), silent]).astype(np.int64)
        pt = np.concatenate([1.0 + 0.6 * k + tt for k in range(rounds)] + [[9.0, 9.5]])
        pt = pt + rng.normal(0, 1e-4, pt.size)
        shots = associate(spos, psens, pt, C, pulse_snr=np.full(pt.size, 30.0))
        assert len(shots) == (0 if rounds == 1 else 2)
        for k, s in enumerate(shots):
            assert abs(s.t0 - (1.0 + 0.6 * k)) < 2e-3
            assert np.hypot(*(s.pos[:2] - src[:2])) < 3.0


def test_a_well_heard_shot_stands_when_a_block_screens_the_next_nearest_sensors() -> None:
    """A round heard by eight sensors: the four nearest, and four further out past a
    block whose own four sensors (next in distance, online: each reports a knock of its
    own seconds later) hear nothing. Only 4 of its 8 nearest sensors heard it, under
    ``min_near_ratio``, but every one of the four nearest did: the sector behind the
    block is screened off, and the shot stands. With one of the four nearest silent
    instead, or when the rule asks for more nearest sensors than heard it, it does not."""
    from shotwatch.core.associate import AssociationConfig

    spos = _array()
    src = np.array([40.0, 60.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - src, axis=1))
    rng = np.random.default_rng(9)
    cases = (
        (order[np.r_[0:4, 8:12]], order[4:8], AssociationConfig(), 1),
        (order[np.r_[1:4, 8:13]], order[np.r_[0, 4:8]], AssociationConfig(), 0),
        (order[np.r_[0:4, 8:12]], order[4:8], AssociationConfig(shadow_near_sensors=5), 0),
    )
    for heard, silent, cfg, want in cases:
        tt = np.linalg.norm(spos[heard] - src, axis=1) / C
        psens = np.concatenate([heard, silent]).astype(np.int64)
        pt = np.concatenate([1.0 + tt, 9.0 + 0.2 * np.arange(silent.size)])
        pt = pt + rng.normal(0, 1e-4, pt.size)
        shots = associate(spos, psens, pt, C, pulse_snr=np.full(pt.size, 30.0), config=cfg)
        assert len(shots) == want
        for s in shots:
            assert len(s.pulses) == heard.size
            assert abs(s.t0 - 1.0) < 2e-3
            assert np.hypot(*(s.pos[:2] - src[:2])) < 3.0


def test_an_earlier_shot_made_of_a_later_ones_late_arrivals_is_dropped() -> None:
    """A round heard by six sensors, and a "shot" 12 m from it and 50 ms earlier built of
    its late arrivals (10-20 ms after the direct sound at five of the same sensors, as
    diffracted paths and facade echoes come): a round fired earlier from there would
    reach every sensor earlier, so it is dropped and its pulses freed. A real earlier
    round (its pulses before the later one's) stays."""
    from shotwatch.core.associate import _drop_shadows

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:6]
    t_b = 1.0 + np.linalg.norm(spos[near] - src, axis=1) / C
    for lag, dropped in ((np.linspace(0.010, 0.020, 5), True), (np.full(5, -0.05), False)):
        pt = np.concatenate([t_b, t_b[:5] + lag])
        ob = _obs(spos, np.concatenate([near, near[:5]]).astype(np.int64), pt)
        b = _shot(np.arange(6, dtype=np.int64), src, 1.0)
        a = _shot(np.arange(6, 11, dtype=np.int64), src + np.array([12.0, 0.0, 60.0]), 0.95)
        shots = [a, b]
        assigned = np.ones(pt.size, dtype=bool)
        _drop_shadows(shots, ob, assigned)
        assert (len(shots) == 1 and shots[0] is b) is dropped
        assert bool(np.any(assigned[6:])) is not dropped


def test_of_two_shots_at_one_place_faster_than_a_weapon_cycles_one_stands() -> None:
    """Two fixes 15 m apart and 46 ms apart (an automatic weapon cycles in 60-100 ms, the
    fastest in 50): one round, located twice; the better heard stands. 70 ms apart
    they are two rounds."""
    from shotwatch.core.associate import _drop_shadows

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:8]
    for gap, both in ((0.046, False), (0.07, True)):
        pt = np.concatenate(
            [1.0 + np.linalg.norm(spos[near] - src, axis=1) / C,
             1.0 + gap + np.linalg.norm(spos[near[:5]] - src, axis=1) / C - 0.001]
        )  # fmt: skip
        ob = _obs(spos, np.concatenate([near, near[:5]]).astype(np.int64), pt)
        good = _shot(np.arange(8, dtype=np.int64), src, 1.0)
        dup = _shot(np.arange(8, 13, dtype=np.int64), src + np.array([15.0, 0.0, 0.0]), 1.0 + gap)
        shots = [dup, good]
        assigned = np.ones(pt.size, dtype=bool)
        _drop_shadows(shots, ob, assigned)
        assert len(shots) == (2 if both else 1)
        assert shots[-1] is good


def _burst_behind_buildings(seed: int, n_rounds: int = 9, cycle: float = 0.085):
    """An automatic burst from one spot heard by the 12 sensors nearest to it, every path
    delayed by its own 0-8 ms (diffracted over roofs: the same delay every round), each
    round after the first masked at a random third of them by the previous one's coda,
    and each arrival followed by two facade echoes 5-60 ms later (their delays, too, the
    same every round) 10-16 dB weaker. Returns sensors, times, SNRs, source, origin times."""
    spos = _array()
    rng = np.random.default_rng(seed)
    src = np.array([35.0, 10.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:12]
    d = np.linalg.norm(spos[near] - src, axis=1)
    detour = rng.uniform(0.0, 0.008, near.size)
    echo = rng.uniform(0.005, 0.06, (2, near.size))
    sens: list[int] = []
    times: list[float] = []
    snr: list[float] = []
    t0s = 1.0 + np.concatenate([[0.0], np.cumsum(cycle * (1 + rng.normal(0, 0.02, n_rounds - 1)))])
    for k, t0 in enumerate(t0s):
        heard = np.ones(near.size, dtype=bool)
        if k:
            heard[rng.choice(near.size, 4, replace=False)] = False
        t = t0 + d / C + detour + rng.normal(0, 1e-4, near.size)
        s = 40 - 20 * np.log10(d / 100) + rng.normal(0, 1, near.size)
        for e in range(2):
            sens += near[heard].tolist()
            times += (t + echo[e])[heard].tolist()
            snr += (s - rng.uniform(10, 16, near.size))[heard].tolist()
        sens += near[heard].tolist()
        times += t[heard].tolist()
        snr += s[heard].tolist()
    return spos, np.array(sens), np.array(times), np.array(snr), src, t0s


def test_rounds_of_a_burst_claim_their_pulses_by_the_places_arrival_pattern() -> None:
    """Every path of the burst is diffracted (0-8 ms late): against model travel times the
    rounds heard by eight of the twelve sensors fit as loosely as mixtures of rounds and
    echoes do, and mixtures took their pulses (before the template step only the first
    round was found). Against the arrival pattern of the well-heard first round every
    round matches to a fraction of a millisecond, so each is found, at the first round's
    place, with the pulses of its own sensors. (Mixtures of the echoes elsewhere, tens of
    metres off, are not this step's business and are not counted here; one of them may
    even precede the burst, so the first round is taken as the most widely heard shot.)"""
    spos, sens, times, snr, src, t0s = _burst_behind_buildings(11)
    shots = associate(spos, sens, times, C, pulse_snr=snr)
    used = np.concatenate([s.pulses for s in shots])
    assert used.size == np.unique(used).size
    # Mixtures re-fitted at a mixture's place sank 50-110 m below the ground before
    # such rounds were held to the place's height.
    assert min(float(s.pos[2]) for s in shots) > float(spos[:, 2].min()) - 30.0
    first = max(shots, key=lambda s: (len(s.pulses), -s.t0))
    assert np.hypot(*(first.pos[:2] - src[:2])) < 5.0 and abs(first.t0 - t0s[0]) < 0.01
    here = sorted(
        (s for s in shots if np.hypot(*(s.pos[:2] - first.pos[:2])) < 3.0), key=lambda s: s.t0
    )
    assert len(here) == t0s.size
    for shot, t0 in zip(here, t0s, strict=True):
        assert abs((shot.t0 - first.t0) - (t0 - t0s[0])) < 0.001
        assert len(shot.pulses) >= 7


def test_weaker_rounds_of_a_fast_burst_are_not_taken_for_the_coda_of_the_rounds_before() -> None:
    """An automatic burst (a round every 75 ms) over paths 0-8 ms late, each arrival
    followed by two facade echoes; its third and fifth rounds 8 dB weaker at every
    sensor (the shooter turned away): each of their arrivals trails the rounds before by
    75-150 ms and 8 dB, as a coda trails its impulse. Their arrivals repeat the place's
    pattern and the louder pulses they trail are the place's own rounds, so they are
    rounds at the place (refused as coda before: 4 of 6 rounds found)."""
    spos = _array()
    rng = np.random.default_rng(1)
    src = np.array([35.0, 10.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:12]
    d = np.linalg.norm(spos[near] - src, axis=1)
    detour = rng.uniform(0.0, 0.008, near.size)
    echo = rng.uniform(0.005, 0.06, (2, near.size))
    t0s = 1.0 + 0.075 * np.arange(6)
    sens: list[int] = []
    times: list[float] = []
    snr: list[float] = []
    for k, t0 in enumerate(t0s):
        t = t0 + d / C + detour + rng.normal(0, 1e-4, near.size)
        weak = 8.0 if k in (2, 4) else 0.0
        s = 40 - 20 * np.log10(d / 100) + rng.normal(0, 1, near.size) - weak
        for e in range(2):
            sens += near.tolist()
            times += (t + echo[e]).tolist()
            snr += (s - rng.uniform(10, 16, near.size)).tolist()
        sens += near.tolist()
        times += t.tolist()
        snr += s.tolist()
    shots = associate(spos, np.array(sens), np.array(times), C, pulse_snr=np.array(snr))
    here = sorted(float(s.t0) for s in shots if np.hypot(*(s.pos[:2] - src[:2])) < 10.0)
    assert len(here) == t0s.size
    assert np.allclose(np.array(here) - here[0], t0s - t0s[0], atol=0.002)


def test_a_rounds_own_fix_counts_only_where_it_agrees_with_the_places_pattern() -> None:
    """A round of an automatic burst matched at its place's arrival pattern keeps its
    own fix only when that fix explains its arrivals as the place's fix explains the
    place's, sensor by sensor (each path's detour cancels between the two). A fix of a
    mixture of the round's pulses with another round's (suite seed 4: seven sensors,
    its origin time 36 ms early) leaves a common offset of tens of milliseconds and is
    not taken; the round's true fix, or one a metre off, is."""
    from shotwatch.core.associate import _agrees

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:12]
    detour = np.random.default_rng(5).uniform(0.0, 0.03, near.size)  # blocked paths
    tt = np.linalg.norm(spos[near] - src, axis=1) / C + detour
    psens = np.concatenate([near, near]).astype(np.int64)
    ob = _obs(spos, psens, np.concatenate([1.0 + tt, 1.08 + tt]))
    anchor = _shot(np.arange(12, dtype=np.int64), src, 1.0)
    members, a_idx = np.arange(12, 24, dtype=np.int64), np.arange(12, dtype=np.int64)
    assert _agrees(_shot(members, src, 1.08), members, a_idx, anchor, ob)
    assert _agrees(
        _shot(members, src + np.array([1.0, 0.0, 0.0]), 1.08), members, a_idx, anchor, ob
    )
    assert not _agrees(_shot(members, src, 1.044), members, a_idx, anchor, ob)


def test_a_round_is_located_relative_to_the_anchor() -> None:
    """Master-event location: a round fired 0.8 m east of an established shot, both over
    paths 0-8 ms late, is placed 0.8 m east of the anchor's fix, whatever the delays."""
    from shotwatch.core.associate import _claim_round

    spos = _array()
    rng = np.random.default_rng(5)
    src = np.array([-40.0, 25.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:10]
    detour = rng.uniform(0.0, 0.008, near.size)
    moved = src + np.array([0.8, 0.0, 0.0])
    t_a = 1.0 + np.linalg.norm(spos[near] - src, axis=1) / C + detour
    t_b = 1.3 + np.linalg.norm(spos[near] - moved, axis=1) / C + detour
    t_b += rng.normal(0, 2e-5, near.size)
    psens = np.concatenate([near, near]).astype(np.int64)
    ob = _obs(spos, psens, np.concatenate([t_a, t_b]))
    fix = src + np.array([3.0, -2.0, 20.0])  # the anchor's own (biased) fix
    anchor = _shot(np.arange(near.size), fix, 1.0 - 0.004)
    shots = [anchor]
    assigned = np.zeros(2 * near.size, dtype=bool)
    assigned[anchor.pulses] = True
    members = np.arange(near.size, 2 * near.size)
    claimed = _claim_round(members, 1.296, anchor, shots, ob, assigned, 5, set())
    assert claimed is not None
    got, move, independent = claimed
    assert any(got is s for s in shots) and not independent
    assert np.allclose(move, [0.8, 0.0, 0.0], atol=0.1)
    assert np.allclose(got.pos - fix, [0.8, 0.0, 0.0], atol=0.1)
    assert abs((got.t0 - anchor.t0) - 0.3) < 2e-4
    assert np.all(assigned[members])


def test_closest_pulse_per_sensor() -> None:
    from shotwatch.core.associate import _closest_per_sensor

    sens = np.array([3, 1, 3, 1, 2])
    r = np.array([0.004, -0.002, -0.001, 0.003, 0.02])
    assert sorted(_closest_per_sensor(sens, r, 0.01).tolist()) == [1, 2]
    assert _closest_per_sensor(sens, r, np.full(5, 0.0015)).tolist() == [2]
    assert _closest_per_sensor(sens, r, 1e-4).size == 0  # none within: empty, no error


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), cycle=st.floats(0.07, 0.4))
@example(seed=274, cycle=0.304)
@example(seed=2009, cycle=0.3828125)
def test_template_rounds_keep_each_pulse_in_one_shot(seed: int, cycle: float) -> None:
    """Whatever the paths' delays, the masking and the cadence, claiming pulses by the
    template leaves no pulse in two shots and no shot with fewer than ``min_sensors``.
    (On such bursts some rounds are still missed, and rounds of the coda's echo sets
    still appear at the place: see the README's known limits.) A round heard by three
    sensors sits at a place, which the rounds located relative to it share to within
    their moves (centimetres: seed 274's three-sensor round lay 2.7 cm from the
    ten-sensor round's fix, and an exact comparison failed): a shot heard by
    ``template_few_anchor_sensors`` (four) or more establishes a place for such rounds
    (seed 2009's three-sensor round shares the place of a four-sensor round, 0.6 m from
    the six- and twelve-sensor rounds' fixes)."""
    spos, sens, times, snr, _src, _t0s = _burst_behind_buildings(seed, n_rounds=5, cycle=cycle)
    shots = associate(spos, sens, times, C, pulse_snr=snr)
    used = np.concatenate([s.pulses for s in shots])
    assert used.size == np.unique(used).size
    places = [s.pos for s in shots if len(s.pulses) >= 4]
    for s in shots:  # a round heard by three sensors stands only at an established place
        assert len(s.pulses) >= 4 or (
            len(s.pulses) == 3 and any(float(np.linalg.norm(s.pos - p)) < 0.5 for p in places)
        )


def _few_heard_burst(  # type: ignore[no-untyped-def]
    loud_first: bool, heard: int = 10, config: object = None
):
    """Two rounds from one spot heard by the ``heard`` nearest sensors over paths 0-8 ms
    late, then three rounds heard by three sensors only: the three nearest (loudest)
    when ``loud_first``, else the three farthest while the loud ones stay silent.
    Returns the observations, the anchor (the first round, located), assigned pulses
    and the times of the three-sensor rounds."""
    from shotwatch.core.associate import AssociationConfig, _Obs

    spos = _array()
    rng = np.random.default_rng(8)
    src = np.array([-20.0, 60.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:heard]
    d = np.linalg.norm(spos[near] - src, axis=1)
    detour = rng.uniform(0.0, 0.008, near.size)
    level = 40 - 20 * np.log10(d / 100)
    few = np.arange(3) if loud_first else np.arange(heard - 3, heard)
    t_few = [1.35, 1.7, 2.05]
    sens, times, snr = [], [], []
    everyone = np.arange(heard)
    for t0, idx in [(1.0, everyone), (1.0 + 0.35 * 0.5, everyone)] + [(t, few) for t in t_few]:
        sens += near[idx].tolist()
        times += (t0 + d[idx] / C + detour[idx] + rng.normal(0, 1e-4, idx.size)).tolist()
        snr += (level[idx] + rng.normal(0, 1, idx.size)).tolist()
    pt = np.array(times)
    n = pt.size
    ob = _Obs(spos, np.array(sens, dtype=np.int64), pt, np.full(n, 5e-4), np.array(snr), C,
              None, config or AssociationConfig())  # fmt: skip
    anchor = _shot(np.arange(heard, dtype=np.int64), src + np.array([2.0, -1.0, 0.0]), 1.004)
    assigned = np.zeros(n, dtype=bool)
    assigned[:heard] = True
    return ob, anchor, assigned, t_few


def test_rounds_heard_by_three_sensors_stand_at_a_known_place() -> None:
    """Three rounds of a burst heard only by the three sensors nearest the gun (at the
    others they fell under the detection level) match the place's arrival pattern there:
    each is put at the place, with its three pulses. (The second round, heard by all
    ten, is matched as before.)"""
    from shotwatch.core.associate import _template_rounds

    ob, anchor, assigned, t_few = _few_heard_burst(loud_first=True)
    shots = [anchor]
    _template_rounds(shots, ob, assigned)
    three = sorted((s for s in shots if len(s.pulses) == 3), key=lambda s: s.t0)
    assert [round(s.t0 - anchor.t0, 2) for s in three] == [round(t - 1.0, 2) for t in t_few]
    assert all(np.allclose(s.pos, shots[0].pos) for s in three)
    assert len(shots) == 5 and np.all(assigned)


def test_rounds_heard_by_three_sensors_stand_where_four_heard_the_first() -> None:
    """The same burst heard by the four sensors nearest the gun, its later rounds by the
    three loudest of them only: a place heard by four sensors is known well enough to put
    the three-sensor rounds there (``template_few_anchor_sensors``; the second round,
    heard by all four, matches the pattern too). With places established by six sensors
    only, as before, none of them is found."""
    from shotwatch.core.associate import AssociationConfig, _template_rounds

    ob, anchor, assigned, t_few = _few_heard_burst(loud_first=True, heard=4)
    shots = [anchor]
    _template_rounds(shots, ob, assigned)
    later = sorted((s for s in shots if s is not anchor), key=lambda s: s.t0)
    assert [round(s.t0 - anchor.t0, 2) for s in later] == [0.18] + [
        round(t - 1.0, 2) for t in t_few
    ]
    assert [len(s.pulses) for s in later] == [4, 3, 3, 3]
    assert all(np.allclose(s.pos, anchor.pos) for s in later) and np.all(assigned)

    ob, anchor, assigned, _ = _few_heard_burst(
        loud_first=True, heard=4, config=AssociationConfig(template_few_anchor_sensors=6)
    )
    shots = [anchor]
    _template_rounds(shots, ob, assigned)
    assert shots == [anchor] and not np.any(assigned[4:])


def test_three_pulses_where_the_place_is_heard_worst_are_no_round() -> None:
    """The same three-sensor rounds at the three sensors that heard the place worst,
    while the sensors that heard it 10-20 dB louder stayed silent: no round is heard
    only where it is faintest, so none is put at the place (the same timing test passes)."""
    from shotwatch.core.associate import _template_rounds

    ob, anchor, assigned, _t_few = _few_heard_burst(loud_first=False)
    shots = [anchor]
    _template_rounds(shots, ob, assigned)
    assert len(shots) == 2  # the anchor and the round heard by all ten
    assert not np.any(assigned[20:])


def test_a_source_heard_by_its_three_nearest_sensors_only() -> None:
    """Heard by the three sensors nearest to it and no other: located (within a metre;
    the second point its arrivals fit, if any, is the alternative). Heard also by the
    fourth nearest: not a three-sensor shot (a matter for the association). The three
    pulses moved to three sensors that are not the nearest to any point they fit: none."""
    from shotwatch.core.associate import three_sensor_shots

    spos = _array()
    src = np.array([40.0, -35.0, 10.0])
    order = np.argsort(np.hypot(*(spos[:, :2] - src[:2]).T))
    t = 2.0 + np.linalg.norm(spos[order] - src, axis=1) / C
    near = order[:3]
    got = three_sensor_shots(spos, near, t[:3], C, pulse_snr=np.full(3, 25.0))
    assert len(got) == 1
    shot = got[0]
    assert sorted(shot.pulses.tolist()) == [0, 1, 2]
    fixes = [shot.pos] + ([] if shot.alternative is None else [shot.alternative])
    assert min(np.hypot(*(f[:2] - src[:2])) for f in fixes) < 1.0
    four = three_sensor_shots(spos, order[:4], t[:4], C, pulse_snr=np.full(4, 25.0))
    assert four == []
    # the same times at the 1st, 3rd and 7th nearest sensors: fit somewhere, but not
    # where those three are the nearest
    odd = order[[0, 2, 6]]
    assert three_sensor_shots(spos, odd, t[:3], C, pulse_snr=np.full(3, 25.0)) == []


def test_a_well_heard_round_taken_over_by_an_earlier_place_stays_a_place() -> None:
    """Shot A (sensors 0-6, tightest) and shot B (sensors 2-9, looser) are two rounds from
    one spot; a third round R is heard by sensors 5-9 only. A's pattern finds B (five
    sensors in common) and takes it over, keeping B's own fix; R matches A's pattern at
    two sensors only, but B's at all five, so the place must live on in B's successor
    for R to be found (before, B's sensors were lost as a template once A took B over)."""
    from shotwatch.core.associate import _template_rounds

    spos = _array()
    rng = np.random.default_rng(12)
    src = np.array([10.0, 20.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:10]
    travel = np.linalg.norm(spos[near] - src, axis=1) / C + rng.uniform(0, 0.008, 10)
    rounds = [(1.0, np.arange(0, 7)), (1.3, np.arange(2, 10)), (1.6, np.arange(5, 10))]
    sens, times = [], []
    for t0, idx in rounds:
        sens += near[idx].tolist()
        times += (t0 + travel[idx] + rng.normal(0, 1e-4, idx.size)).tolist()
    ob = _obs(spos, np.array(sens, dtype=np.int64), np.array(times))
    a = _shot(np.arange(0, 7, dtype=np.int64), src, 1.0, scale=4e-4)
    b = _shot(np.arange(7, 15, dtype=np.int64), src + np.array([1.0, 0.5, 0.0]), 1.3, scale=9e-4)
    shots = [a, b]
    assigned = np.zeros(len(times), dtype=bool)
    assigned[:15] = True
    _template_rounds(shots, ob, assigned)
    t0s = sorted(round(s.t0, 2) for s in shots)
    assert t0s == [1.0, 1.3, 1.6]
    assert np.all(assigned)


def _burst_over_a_crackle(config: object = None):  # type: ignore[no-untyped-def]
    """A burst 45 m up (sensors 5-15 m), heard by 121 sensors 300 m apart, 30 % of them
    over blocked paths (0-10 ms late); at the sensor 45 m from below it another impulse
    arrives where a source in the street below the burst would put its arrival, 38 ms
    before the burst's own."""
    from shotwatch.core.associate import AssociationConfig

    rng = np.random.default_rng(1)
    gx, gy = np.meshgrid(np.arange(-5, 6) * 300.0, np.arange(-5, 6) * 300.0)
    spos = np.column_stack([gx.ravel(), gy.ravel(), rng.uniform(5, 15, gx.size)])
    src = np.array([40.0, 20.0, 45.0])
    d = np.linalg.norm(spos - src, axis=1)
    t = 2.0 + d / C + rng.normal(0, 1e-4, d.size)
    blocked = (rng.random(d.size) < 0.3) & (d > 100)
    t = t + blocked * rng.uniform(0.0, 0.01, d.size)
    snr = 50 - 20 * np.log10(d / 100)
    near = int(np.argmin(np.linalg.norm(spos[:, :2] - src[:2], axis=1)))
    low = np.array([src[0], src[1], spos[near, 2]])
    d_low = np.linalg.norm(spos - low, axis=1)
    t_crackle = 2.0 + (np.median(d - d_low) + d_low[near]) / C
    assert -0.045 < t_crackle - t[near] < -0.03
    sens = np.r_[np.arange(d.size), near]
    shots = associate(
        spos,
        sens,
        np.r_[t, t_crackle],
        C,
        pulse_snr=np.r_[snr, snr[near] - 3],
        config=config if isinstance(config, AssociationConfig) else None,
    )
    return shots, d.size  # the crackle is pulse d.size


def test_a_burst_aloft_is_not_pulled_down_by_an_early_pulse_below_it() -> None:
    from shotwatch.core.associate import AssociationConfig

    shots, crackle = _burst_over_a_crackle()
    assert len(shots) == 1
    assert abs(float(shots[0].pos[2]) - 45.0) < 2.0
    assert crackle not in shots[0].pulses
    # without the second look from above, the early pulse holds the fit in the street
    shots, crackle = _burst_over_a_crackle(AssociationConfig(aloft_cost_ratio=0.0))
    assert float(shots[0].pos[2]) < 25.0
    assert crackle in shots[0].pulses


def _place_and_far_pulses(config: object = None):  # type: ignore[no-untyped-def]
    """A shot heard by the sensors within 450 m of it, and 0.4 s later eight pulses at
    sensors 2.5-4 km away timed as if from its place (a fireworks show's arrivals
    there agree on some origin time at any place by chance)."""
    from shotwatch.core.associate import AssociationConfig

    rng = np.random.default_rng(2)
    gx, gy = np.meshgrid(np.arange(-15, 16) * 300.0, np.arange(-15, 16) * 300.0)
    spos = np.column_stack([gx.ravel(), gy.ravel(), rng.uniform(5, 15, gx.size)])
    src = np.array([40.0, 20.0, 1.5])
    d = np.linalg.norm(spos - src, axis=1)
    near = np.flatnonzero(d < 450.0)
    far = rng.choice(np.flatnonzero((d > 2500.0) & (d < 4000.0)), 8, replace=False)
    t = np.r_[2.0 + d[near] / C, 2.4 + d[far] / C] + rng.normal(0, 1e-4, near.size + 8)
    snr = np.r_[50 - 20 * np.log10(d[near] / 100), np.full(8, 25.0)]
    shots = associate(
        spos,
        np.r_[near, far],
        t,
        C,
        pulse_snr=snr,
        config=config if isinstance(config, AssociationConfig) else None,
    )
    return shots, len(near)


def test_no_round_from_a_place_is_made_of_pulses_beyond_a_guns_range() -> None:
    from shotwatch.core.associate import AssociationConfig

    shots, n_near = _place_and_far_pulses()
    assert len(shots) == 1
    assert len(shots[0].pulses) >= n_near - 1
    # with the range as wide as the array, the far pulses make a second "round"
    shots, _ = _place_and_far_pulses(AssociationConfig(max_range_m=10_000.0))
    assert len(shots) == 2


def test_a_few_sensor_fit_of_facade_echoes_is_dropped_but_not_a_bursts_next_round() -> None:
    """Five pulses, each 5 dB weaker than a round's arrival at its sensor and trailing
    it by its own 6-124 ms (a facade near each sensor), fit some "shot": it is dropped
    and its pulses freed. The same sensors hearing the next round of an automatic burst
    (70 ms on) keep it: it trails the last round by one firing interval at every
    sensor, and still when the round between was missed at three of them (there it
    trails the round before last by two intervals, at the other two the last by one)."""
    from shotwatch.core.associate import AssociationConfig, _drop_echo_fits, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:8]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C

    def kept(rounds: list[tuple[np.ndarray, float]], cand_t: np.ndarray) -> bool:
        """``rounds``: (indices into ``near`` that heard it, origin time) of located
        rounds at ``src`` (30 dB); the candidate's pulses (25 dB) at ``near[:5]`` at times
        ``cand_t``. Whether the candidate stands."""
        sens: list[int] = []
        times: list[float] = []
        shots = []
        for members, t0 in rounds:
            ids = np.arange(len(times), len(times) + members.size, dtype=np.int64)
            sens += near[members].tolist()
            times += (t0 + tt[members]).tolist()
            shots.append(_shot(ids, src, t0))
        cand = np.arange(len(times), len(times) + 5, dtype=np.int64)
        sens += near[:5].tolist()
        times += cand_t.tolist()
        snr = np.where(np.arange(len(times)) < cand[0], 30.0, 25.0)
        ob = _Obs(spos, np.array(sens, dtype=np.int64), np.array(times),
                  np.full(len(times), 5e-4), snr, C, None, AssociationConfig())  # fmt: skip
        echo = _shot(cand, src + np.array([40.0, 30.0, 0.0]), float(cand_t.min()))
        shots.append(echo)
        assigned = np.ones(len(times), dtype=bool)
        _drop_echo_fits(shots, ob, assigned)
        stands = any(o is echo for o in shots)
        assert bool(np.all(assigned[cand])) is stands  # freed when dropped
        return stands

    every = np.arange(8)
    facade = np.array([0.040, 0.055, 0.063, 0.071, 0.090])
    assert not kept([(every, 1.0)], 1.0 + tt[:5] + facade)
    # two walls 1 m from their sensors: echoes 6 and 7.4 ms late agree by chance, but no
    # weapon fires again from one place that fast (suite seed 5, mobile scene 5)
    assert not kept([(every, 1.0)], 1.0 + tt[:5] + np.array([0.124, 0.018, 0.0074, 0.006, 0.09]))
    assert kept([(every, 1.0)], 1.07 + tt[:5])
    missed = [(every, 1.0), (np.array([0, 1, 5, 6, 7]), 1.07)]
    assert kept(missed, 1.14 + tt[:5])
    assert not kept(missed, np.where(np.arange(5) < 2, 1.07, 1.0) + tt[:5] + facade)  # echoes
    # two echoes happen to trail the round by one delay, the other three do not: a round
    # fired again would trail it by one delay at all five
    assert not kept([(every, 1.0)], 1.0 + tt[:5] + np.array([0.15, 0.1505, 0.04, 0.063, 0.09]))


def test_a_shooters_next_round_between_the_other_shooters_louder_rounds_stands() -> None:
    """Two shooters 25 m apart trading shots. Shooter B's second round (25 dB at five
    sensors) trails shooter A's louder round (35 dB) at each sensor by its own delay
    (their places differ), as a fit of echoes would; but it trails B's own first round
    by one interval at all five sensors, so it stands (a fit of A's echoes at the same
    sensors, delays 20-90 ms, is still dropped)."""
    from shotwatch.core.associate import AssociationConfig, _drop_echo_fits, _Obs

    spos = _array()
    src_b = np.array([20.0, -50.0, 1.5])
    src_a = np.array([-5.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src_b, axis=1))[:5]
    tt_b = np.linalg.norm(spos[near] - src_b, axis=1) / C
    tt_a = np.linalg.norm(spos[near] - src_a, axis=1) / C

    def stands(cand_t: np.ndarray) -> bool:
        times = np.concatenate([1.0 + tt_b, 1.4 + tt_a, cand_t])
        sens = np.tile(near, 3).astype(np.int64)
        snr = np.repeat([30.0, 35.0, 25.0], 5)
        ob = _Obs(spos, sens, times, np.full(15, 5e-4), snr, C, None, AssociationConfig())
        ids = np.arange(15, dtype=np.int64)
        cand = _shot(ids[10:], src_b, float(cand_t.min()))
        shots = [_shot(ids[:5], src_b, 1.0), _shot(ids[5:10], src_a, 1.4), cand]
        assigned = np.ones(15, dtype=bool)
        _drop_echo_fits(shots, ob, assigned)
        return any(o is cand for o in shots)

    lead = (1.5 + tt_b) - (1.4 + tt_a)  # A's round leads at every sensor, by varying delays
    assert float(lead.min()) > 0.005 and float(lead.max()) < 0.2 and float(np.ptp(lead)) > 0.01
    assert stands(1.5 + tt_b)
    assert not stands(1.4 + tt_a + np.array([0.02, 0.035, 0.05, 0.07, 0.09]))


def _candidate_stands(
    step: Callable[..., None],
    spos: np.ndarray,
    located: tuple[np.ndarray, np.ndarray, np.ndarray],
    cand: tuple[np.ndarray, np.ndarray, float, np.ndarray],
    cfg: AssociationConfig | None = None,
) -> bool:
    """A located round (its sensors, arrival times and place; 35 dB, origin 1.0) and a
    candidate (sensors, times, SNR, place): whether the candidate stands after ``step``
    (a dropping step of the association); its pulses are freed when it does not."""
    from shotwatch.core.associate import AssociationConfig, _Obs

    r_sens, r_t, src = located
    c_sens, c_t, c_snr, at = cand
    n_r, n = r_sens.size, r_sens.size + c_sens.size
    ob = _Obs(
        spos, np.concatenate([r_sens, c_sens]).astype(np.int64), np.concatenate([r_t, c_t]),
        np.full(n, 5e-4), np.concatenate([np.full(n_r, 35.0), np.full(c_sens.size, c_snr)]),
        C, None, cfg or AssociationConfig(),
    )  # fmt: skip
    ids = np.arange(n, dtype=np.int64)
    shot = _shot(ids[n_r:], at, float(c_t.min()))
    shots = [_shot(ids[:n_r], src, 1.0), shot]
    assigned = np.ones(n, dtype=bool)
    step(shots, ob, assigned)
    kept = any(o is shot for o in shots)
    assert bool(np.all(assigned[n_r:])) is kept  # freed when dropped
    return kept


def test_a_fit_of_echoes_off_farther_walls_is_dropped_not_a_moving_shooters_next_round() -> None:
    """Reflections off walls 35-60 m beyond the sensors trail the direct sound by
    0.2-0.35 s, each by its own delay, and much weaker: five such pulses (12 dB under
    the round at their sensors) fit some "shot" (a mobile scene of suite seed 0 counted
    one round too many so); it is dropped. A moving shooter's next round 0.27 s on, at
    the same sensors, trails the last round by delays that also differ from sensor to
    sensor (the shooter moved 7 m), but it is about as loud (2 dB under): it stands."""
    from shotwatch.core.associate import AssociationConfig, _drop_echo_fits

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:8]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C

    def stands(
        cand_t: np.ndarray, cand_snr: float, at: np.ndarray, cfg: AssociationConfig | None = None
    ) -> bool:
        return _candidate_stands(
            _drop_echo_fits, spos, (near, 1.0 + tt, src), (near[:5], cand_t, cand_snr, at), cfg
        )

    far_walls = np.array([0.22, 0.25, 0.27, 0.30, 0.33])
    assert not stands(1.0 + tt[:5] + far_walls, 23.0, src + np.array([60.0, 40.0, 0.0]))
    moved = src + np.array([7.0, 0.0, 0.0])
    tt_moved = np.linalg.norm(spos[near[:5]] - moved, axis=1) / C
    lag = 1.27 + tt_moved - (1.0 + tt[:5])
    assert float(lag.min()) > 0.2 and float(np.ptp(lag)) > 0.01
    assert stands(1.27 + tt_moved, 33.0, moved)
    # it is the level that tells them apart
    assert not stands(1.27 + tt_moved, 33.0, moved, AssociationConfig(echo_fit_far_drop_db=1.0))


def test_a_fit_of_a_rounds_louder_second_paths_is_dropped_not_an_automatic_round() -> None:
    """A round whose first arrivals came around buildings: at five of its sensors a
    reflection 4.7-63 ms later is louder (40 dB against the round's 35). Those five fit a
    "shot" 9 m off (suite seed 7, a moving shooter counted one round too many so); no
    pulse of it trails a louder one, but each trails a pulse within 0.15 s by its own
    delay: it is dropped. An automatic weapon's next round, as loud, 70 ms on at every
    sensor, stands; so does the fit when the rule's window is closed."""
    from shotwatch.core.associate import AssociationConfig, _drop_echo_fits

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:8]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C

    def stands(cand_t: np.ndarray, at: np.ndarray, cfg: AssociationConfig | None = None) -> bool:
        return _candidate_stands(
            _drop_echo_fits, spos, (near, 1.0 + tt, src), (near[:5], cand_t, 40.0, at), cfg
        )

    # one of them a wall a metre from its sensor: 4.7 ms late (more than duplicate_s)
    second = 1.0 + tt[:5] + np.array([0.025, 0.039, 0.042, 0.0047, 0.063])
    off = src + np.array([0.0, 9.0, 0.0])
    assert not stands(second, off)
    assert stands(second, off, AssociationConfig(echo_fit_any_window_s=0.0))
    assert stands(1.07 + tt[:5], src)


def test_a_six_sensor_fit_of_second_paths_is_dropped_not_a_six_sensor_round() -> None:
    """Six second paths of a round, 7-46 ms after its first arrivals there (suite seed 7:
    such a six-sensor fit 100 m from a burst's place was one round too many): dropped
    now that six-sensor shots are looked at (``echo_fit_max_sensors``), standing when
    they are not. The next round of a semi-automatic, 0.3 s on at all six, stands."""
    from shotwatch.core.associate import AssociationConfig, _drop_echo_fits

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:9]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C

    def stands(cand_t: np.ndarray, at: np.ndarray, cfg: AssociationConfig | None = None) -> bool:
        return _candidate_stands(
            _drop_echo_fits, spos, (near, 1.0 + tt, src), (near[:6], cand_t, 30.0, at), cfg
        )

    second = 1.0 + tt[:6] + np.array([0.007, 0.019, 0.046, 0.022, 0.035, 0.012])
    off = src + np.array([60.0, 80.0, 0.0])
    assert not stands(second, off)
    assert stands(second, off, AssociationConfig(echo_fit_max_sensors=5))
    assert stands(1.3 + tt[:6], src)


def test_a_few_sensor_fit_of_a_rounds_leftovers_is_dropped_not_another_shooters_round() -> None:
    """A round heard by eight sensors leaves pulses its fit did not take: later, weaker
    arrivals at two of its sensors (a second path, a reflection) and the round's
    arrivals at two sensors it did not take, 20-30 ms late there (blocked paths). The
    four fit some point exactly; that "shot" is the round's leftovers and is dropped,
    its pulses freed. A second shooter's round 40 m off, 0.2 s later, weaker at the same
    two sensors, is heard at the other two sensors off the first round's predictions:
    it stands; so does the next round of a burst at the first round's place (a cycle
    after it everywhere)."""
    from shotwatch.core.associate import _drop_second_fixes

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - src, axis=1))
    took, other = order[:8], order[8:10]
    tt = np.linalg.norm(spos[took] - src, axis=1) / C
    tt_other = np.linalg.norm(spos[other] - src, axis=1) / C

    def stands(cand_t: np.ndarray, at: np.ndarray) -> bool:
        """The candidate's pulses (25 dB) at ``took[:2]`` and ``other`` at ``cand_t``."""
        cand_sens = np.concatenate([took[:2], other])
        return _candidate_stands(
            _drop_second_fixes, spos, (took, 1.0 + tt, src), (cand_sens, cand_t, 25.0, at)
        )

    leftovers = np.concatenate([1.0 + tt[:2] + [0.004, 0.15], 1.0 + tt_other + [0.02, 0.03]])
    assert not stands(leftovers, src + np.array([70.0, 90.0, -30.0]))
    second = src + np.array([40.0, 0.0, 0.0])
    tt2 = np.linalg.norm(spos[np.concatenate([took[:2], other])] - second, axis=1) / C
    assert stands(1.2 + tt2, second)
    assert stands(np.concatenate([1.08 + tt[:2], 1.08 + tt_other]), src)


def test_a_few_sensor_fit_of_two_rounds_leftovers_is_dropped() -> None:
    """Two rounds of a burst 0.3 s apart, each heard by eight sensors, each leave later,
    weaker arrivals (reflections) at two or three of their sensors; four or six of those
    fit some point exactly. No one round explains them all (some trail each round), so
    such a fit was a round of its own (suite seed 1, an exchange counted one round more;
    seed 0, an automatic burst two more); the two rounds together explain it, and it is
    dropped, its pulses freed. A second shooter's round 0.15 s after the first, heard at
    the same four sensors, trails the first round alone at each of them (whether that is
    a fit of its reflections is for ``_drop_echo_fits`` to judge): it stands here."""
    from shotwatch.core.associate import AssociationConfig, _drop_second_fixes, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    took = np.argsort(np.linalg.norm(spos - src, axis=1))[:8]
    tt = np.linalg.norm(spos[took] - src, axis=1) / C

    def stands(cand_sens: np.ndarray, cand_t: np.ndarray, at: np.ndarray) -> bool:
        k = cand_sens.size
        sens = np.concatenate([took, took, cand_sens]).astype(np.int64)
        t = np.concatenate([1.0 + tt, 1.3 + tt, cand_t])
        snr = np.concatenate([np.full(16, 35.0), np.full(k, 25.0)])
        ob = _Obs(spos, sens, t, np.full(16 + k, 5e-4), snr, C, None, AssociationConfig())
        ids = np.arange(16 + k, dtype=np.int64)
        cand = _shot(ids[16:], at, float(cand_t.min()))
        shots = [_shot(ids[:8], src, 1.0), _shot(ids[8:16], src, 1.3), cand]
        assigned = np.ones(16 + k, dtype=bool)
        _drop_second_fixes(shots, ob, assigned)
        kept = any(o is cand for o in shots)
        assert bool(np.all(assigned[16:])) is kept
        return kept

    off = src + np.array([60.0, -40.0, -20.0])
    four = np.concatenate([1.0 + tt[:2] + [0.12, 0.21], 1.3 + tt[2:4] + [0.09, 0.17]])
    assert not stands(took[:4], four, off)
    six = np.concatenate([1.0 + tt[:3] + [0.12, 0.21, 0.15], 1.3 + tt[3:6] + [0.09, 0.17, 0.1]])
    assert not stands(took[:6], six, off)
    other = src + np.array([45.0, 30.0, 0.0])
    tt_o = np.linalg.norm(spos[took[:4]] - other, axis=1) / C
    assert stands(took[:4], 1.15 + tt_o, other)


def test_a_fit_of_a_bursts_late_diffracted_arrivals_is_dropped() -> None:
    """Four rounds of an automatic burst (75 ms cycle) heard by the sixteen nearest
    sensors; each round's fit left out the arrivals at two or three sensors that came
    15 ms late around a building. Those ten late arrivals of four rounds fit some point
    (suite seed 6: 32 m off, 20 dB weaker, between two rounds, so that the burst's
    cadence read as a firecracker string's): they are dropped, their pulses freed. A
    second shooter's round heard by ten of the sensors, each arrival after a louder
    round's there, stands: no round predicted it where it missed the sensor."""
    from shotwatch.core.associate import AssociationConfig, _drop_second_fixes, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:16]
    left_out = [near[0:3], near[3:6], near[6:8], near[8:10]]

    def stands(cand_sens: np.ndarray, cand_t: np.ndarray, at: np.ndarray) -> bool:
        sens: list[int] = []
        times: list[float] = []
        rounds: list[tuple[np.ndarray, float]] = []
        for k, out in enumerate(left_out):
            took = np.setdiff1d(near, out)
            t0 = 1.0 + 0.075 * k
            rounds.append((np.arange(len(sens), len(sens) + took.size), t0))
            sens += took.tolist()
            times += (t0 + np.linalg.norm(spos[took] - src, axis=1) / C).tolist()
        n_r, k = len(sens), cand_sens.size
        psens = np.array(sens + cand_sens.tolist(), dtype=np.int64)
        pt = np.array(times + cand_t.tolist())
        snr = np.concatenate([np.full(n_r, 35.0), np.full(k, 15.0)])
        ob = _Obs(spos, psens, pt, np.full(n_r + k, 5e-4), snr, C, None, AssociationConfig())
        cand = _shot(np.arange(n_r, n_r + k, dtype=np.int64), at, float(cand_t.min()) - 0.1)
        shots = [_shot(ids.astype(np.int64), src, t0) for ids, t0 in rounds] + [cand]
        assigned = np.ones(n_r + k, dtype=bool)
        _drop_second_fixes(shots, ob, assigned)
        kept = any(o is cand for o in shots)
        assert bool(np.all(assigned[n_r:])) is kept
        return kept

    late = np.concatenate(left_out)
    late_t = np.concatenate(
        [1.0 + 0.075 * k + np.linalg.norm(spos[out] - src, axis=1) / C + 0.015
         for k, out in enumerate(left_out)]
    )  # fmt: skip
    assert not stands(late, late_t, src + np.array([32.0, 2.0, -8.0]))
    other = src + np.array([45.0, 30.0, 0.0])
    heard = near[2:]
    assert stands(heard, 1.3 + np.linalg.norm(spos[heard] - other, axis=1) / C, other)


def test_an_exact_fit_of_a_bursts_mixed_arrivals_away_from_its_place_is_dropped() -> None:
    """A round heard by eight sensors and, 0.1 s later, a "shot" fitted exactly from
    four arrivals 60 m off: at two of the round's sensors they trail its louder pulses
    (its coda), at two others they are the only pulses. Four arrivals fit some point
    exactly, so nothing in the fit tells a mixture of the burst's arrivals from a second
    shooter; inside the round's coda, away from its place, with a pulse trailing a
    louder one, it is dropped and its pulses freed. It stands when it comes 0.25 s after
    the round, when a fifth sensor heard it (a residual to judge it
    by), when it is louder than the round at the sensors both were heard by (no
    pulse trailing a louder one), or at the round's own place (the burst's next
    round: other rules judge that)."""
    from shotwatch.core.associate import AssociationConfig, _drop_stray_fits, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    order = np.argsort(np.linalg.norm(spos - src, axis=1))
    took = order[:8]
    tt = np.linalg.norm(spos[took] - src, axis=1) / C
    off = src + np.array([60.0, 0.0, 0.0])

    # the two of the round's sensors about as far from both places
    shared = np.argsort(np.abs(np.linalg.norm(spos[took] - off, axis=1) - tt * C))[:2]

    def stands(k: int, dt: float, snr: float, at: np.ndarray) -> bool:
        sens = np.concatenate([took[shared], order[8 : 8 + k - 2]])
        t = 1.0 + dt + np.linalg.norm(spos[sens] - at, axis=1) / C
        lag = t[:2] - (1.0 + tt[shared])
        assert bool(np.all((lag > 0.005) & (lag < 0.35)))  # they trail the round's pulses
        n = 8 + k
        ob = _Obs(
            spos, np.concatenate([took, sens]).astype(np.int64), np.concatenate([1.0 + tt, t]),
            np.full(n, 5e-4), np.concatenate([np.full(8, 35.0), np.full(k, snr)]), C, None,
            AssociationConfig(),
        )  # fmt: skip
        ids = np.arange(n, dtype=np.int64)
        cand = _shot(ids[8:], at, 1.0 + dt)
        shots = [_shot(ids[:8], src, 1.0), cand]
        assigned = np.ones(n, dtype=bool)
        _drop_stray_fits(shots, ob, assigned)
        kept = any(o is cand for o in shots)
        assert bool(np.all(assigned[8:])) is kept  # freed when dropped
        return kept

    assert not stands(4, 0.1, 25.0, off)
    assert stands(4, 0.25, 25.0, off)
    assert stands(5, 0.1, 25.0, off)
    assert stands(4, 0.1, 40.0, off)
    assert stands(4, 0.1, 25.0, src + np.array([10.0, 0.0, 0.0]))


def test_loose_four_sensor_fits_are_dropped() -> None:
    """Four arrivals fit a free source exactly: a four-sensor shot whose fit scale is
    ``loose_fit_s`` or more was held to a place its arrivals do not agree with, and is
    dropped with its claimed late arrivals freed. A tighter four-sensor fit, and a
    five-sensor fit however loose (its residual is evidence the other rules weigh),
    stand."""
    from shotwatch.core.associate import _drop_loose_fits

    spos = _array()
    n = 16
    ob = _obs(spos, np.arange(n, dtype=np.int64) % 25, 1.0 + 0.01 * np.arange(n))
    ids = np.arange(n, dtype=np.int64)
    loose = _shot(ids[0:4], np.zeros(3), 1.0, scale=4.5e-3)
    loose.echoes.append(15)
    tight = _shot(ids[4:8], np.zeros(3), 2.0, scale=3.5e-3)
    five = _shot(ids[8:13], np.zeros(3), 3.0, scale=6e-3)
    shots = [loose, tight, five]
    assigned = np.zeros(n, dtype=bool)
    assigned[:13] = True
    assigned[15] = True
    _drop_loose_fits(shots, ob, assigned)
    assert [id(o) for o in shots] == [id(tight), id(five)]
    assert not assigned[:4].any() and not assigned[15]
    assert assigned[4:13].all()


def test_rounds_at_places_finds_a_bursts_next_round_from_its_new_pulses_only() -> None:
    """Two rounds located, and a third round's reports arriving (with the second
    round's late facade echoes): the third round is found at the shooter's place from
    the new pulses alone; the echoes, agreeing on no origin time there, add nothing;
    and the places are not returned again."""
    from shotwatch.core.associate import rounds_at_places

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    rng = np.random.default_rng(5)
    sens, times, snr = [], [], []
    for t0 in (1.0, 1.4, 1.8):
        h, t, s = _arrivals(spos, src, t0, max_r=600.0)
        sens += h.tolist()
        times += (t + rng.normal(0, 1e-4, t.size)).tolist()
        snr += s.tolist()
    h2, t2, s2 = _arrivals(spos, src, 1.4, max_r=600.0)
    sens += h2.tolist()  # the second round's echoes, 20-60 ms late, 8 dB weaker
    times += (t2 + rng.uniform(0.02, 0.06, t2.size)).tolist()
    snr += (s2 - 8.0).tolist()
    ps, pt, psnr = np.array(sens), np.array(times), np.array(snr)
    n_round = h2.size
    first_two = np.arange(2 * n_round)
    places = associate(spos, ps[first_two], pt[first_two], C, pulse_snr=psnr[first_two])
    assert len(places) == 2
    free = np.zeros(pt.size, dtype=bool)
    free[2 * n_round :] = True  # the third round and the echoes
    new = rounds_at_places(spos, ps, pt, C, places, free, pulse_snr=psnr)
    assert len(new) == 1
    assert abs(new[0].t0 - 1.8) < 1e-3
    assert np.hypot(*(new[0].pos[:2] - src[:2])) < 3.0
    assert set(new[0].pulses.tolist()) == set(range(2 * n_round, 3 * n_round))
    free[2 * n_round : 3 * n_round] = False  # the echoes alone
    assert rounds_at_places(spos, ps, pt, C, places, free, pulse_snr=psnr) == []
    with pytest.raises(ValueError, match="free"):
        rounds_at_places(spos, ps, pt, C, places, free[:-1], pulse_snr=psnr)


def test_a_few_sensor_shot_that_took_reflections_is_refitted_from_first_arrivals() -> None:
    """Four sensors heard a shot; at two of them a wall's reflection 124 ms after the
    direct sound is 8 dB louder than it (the direct path shadowed), and the shot took
    those (four arrivals fit some point whichever pulses are taken: the live fire's
    test_061, 52 m off). The direct arrivals are earlier and free: the shot is re-fitted
    from them, at the gun, the reflections freed. An earlier pulse 25 dB weaker than the
    one taken is no direct sound of the same shot (some other impulse): kept as it was."""
    from shotwatch.core.associate import AssociationConfig, _first_arrivals, _Obs

    spos = _array()
    src = np.array([20.0, -50.0, 8.0])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:4]
    tt = np.linalg.norm(spos[near] - src, axis=1) / C
    direct = 1.0 + tt

    def refit(drop_db: float) -> tuple[LocatedShot, np.ndarray]:
        sens = np.concatenate([near, near[:2]]).astype(np.int64)
        t = np.concatenate([direct[:2] + 0.124, direct[2:], direct[:2]])
        snr = np.array([30.0, 30.0, 30.0, 30.0, 30.0 - drop_db, 30.0 - drop_db])
        ob = _Obs(spos, sens, t, np.full(6, 5e-4), snr, C, None, AssociationConfig())
        took = _shot(np.arange(4, dtype=np.int64), src + np.array([50.0, 0.0, 0.0]), 1.1)
        shots = [took]
        assigned = np.zeros(6, dtype=bool)
        assigned[:4] = True
        _first_arrivals(shots, ob, assigned)
        assert len(shots) == 1
        return shots[0], assigned

    shot, assigned = refit(8.0)
    assert sorted(shot.pulses.tolist()) == [2, 3, 4, 5]
    assert np.hypot(*(shot.pos[:2] - src[:2])) < 1.0
    assert abs(shot.t0 - 1.0) < 1e-3
    assert assigned.tolist() == [False, False, True, True, True, True]
    shot, assigned = refit(25.0)
    assert sorted(shot.pulses.tolist()) == [0, 1, 2, 3]
    assert assigned.tolist() == [True, True, True, True, False, False]


def test_a_reverberant_bursts_rounds_are_not_judged_by_tight_shots_seconds_later() -> None:
    # Rounds among buildings fit loosely (diffracted paths: ms of timing scatter);
    # two clean shots 8 s later, heard by the same sensors, fit to 0.1 ms. The burst's
    # rounds are judged by the fits of their own time, not by those shots.
    spos = _array()
    rng = np.random.default_rng(7)
    a, b = np.array([0.0, 0.0, 1.5]), np.array([250.0, 100.0, 1.5])
    sens: list[int] = []
    times: list[float] = []
    snr: list[float] = []
    for t0, src, jitter in [(1.0 + 0.6 * k, a, 6e-3) for k in range(3)] + [
        (9.0 + 0.5 * k, b, 1e-4) for k in range(5)
    ]:
        h, t, s = _arrivals(spos, src, t0)
        sens += h.tolist()
        times += (t + rng.normal(0, jitter, t.size)).tolist()
        snr += s.tolist()
    args = (spos, np.array(sens), np.array(times), C)
    near_a = [s for s in associate(*args, pulse_snr=np.array(snr)) if s.t0 < 5.0]
    assert len(near_a) == 3
    assert all(np.linalg.norm(s.pos[:2] - a[:2]) < 30.0 for s in near_a)


def _split_round(second_t: float):  # type: ignore[no-untyped-def]
    """A round heard by ten sensors, its arrivals split between two shots: ``a`` of six
    (first arrivals at four sensors, paths 6 and 12 ms later at two more; fitted 45 m
    up) and ``b`` of five, the sound's arrivals ``second_t`` s after the round's at the
    other four of the ten and at one of ``a``'s later-path sensors (fitted 22 m off).
    Returns (observations, a, b, the gun's place)."""
    spos = _array()
    src = np.array([40.0, -30.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:10]
    t = 1.0 + np.linalg.norm(spos[near] - src, axis=1) / C
    t += np.random.default_rng(3).normal(0, 1e-4, t.size)
    a_sens = near[:6]
    a_t = t[:6] + np.array([0.0, 0.0, 0.0, 0.0, 0.006, 0.012])
    b_sens = np.concatenate([near[6:], near[5:6]])
    b_t = np.concatenate([t[6:], t[5:6]]) + second_t
    psens = np.concatenate([a_sens, b_sens]).astype(np.int64)
    ob = _obs(spos, psens, np.concatenate([a_t, b_t]))
    a = _shot(np.arange(6, dtype=np.int64), src + np.array([0.0, 0.0, 45.0]), 0.99, 2e-3)
    b = _shot(np.arange(6, 11, dtype=np.int64), src + np.array([22.0, 0.0, 0.0]),
              1.06 + second_t, 1.5e-3)  # fmt: skip
    return ob, a, b, src


def test_a_round_fitted_twice_from_parts_of_its_arrivals_is_merged() -> None:
    """The two parts of one round (suite seed 7: a second shooter's round heard by ten
    sensors, fitted from six 45 m up and from five 22 m off) merge into one shot of its
    first arrivals, at the gun; the later path at a sensor both heard is freed. Two rounds
    of an automatic weapon 70 ms apart, at the same sensors, stay two."""
    from shotwatch.core.associate import _merge_split

    ob, a, b, src = _split_round(0.0)
    shots = [a, b]
    assigned = np.ones(11, dtype=bool)
    _merge_split(shots, ob, assigned)
    # nine first arrivals (the 6 ms path is the only pulse at its sensor: the robust fit
    # leaves it out and keeps it as the shot's late arrival), at the gun
    assert len(shots) == 1 and sorted(shots[0].pulses) == [0, 1, 2, 3, 6, 7, 8, 9, 10]
    assert shots[0].echoes == [4]
    assert float(np.linalg.norm(shots[0].pos[:2] - src[:2])) < 1.0
    assert not assigned[5] and np.all(np.delete(assigned, 5))

    ob, a, b, _ = _split_round(0.07)
    shots = [a, b]
    _merge_split(shots, ob, np.ones(11, dtype=bool))
    assert len(shots) == 2


def _moving_few_heard(shift_s: float = 0.0):  # type: ignore[no-untyped-def]
    """A shooter driven east at 12 m/s fires every 0.6 s from t = 1 s: rounds 0 and 2
    heard by the six sensors nearest the track's middle over paths 0-8 ms late (the
    same detour at a sensor every round), rounds 1 and 3 by the three loudest of them
    only (``shift_s`` added to one of their three pulses). Returns the observations,
    the two well-heard rounds (located), assigned pulses and the rounds' true places."""
    from shotwatch.core.associate import AssociationConfig, _Obs

    spos = _array()
    rng = np.random.default_rng(11)
    places = [np.array([-40.0 + 7.2 * k, 50.0, 1.5]) for k in range(4)]
    near = np.argsort(np.linalg.norm(spos - places[1], axis=1))[:6]
    detour = rng.uniform(0.0, 0.008, near.size)
    sens, times, snr = [], [], []
    for k, src in enumerate(places):
        idx = np.arange(6) if k % 2 == 0 else np.arange(3)
        d = np.linalg.norm(spos[near[idx]] - src, axis=1)
        t = 1.0 + 0.6 * k + d / C + detour[idx] + rng.normal(0, 1e-4, idx.size)
        if k % 2:
            t[1] += shift_s
        sens += near[idx].tolist()
        times += t.tolist()
        snr += (40 - 20 * np.log10(d / 100) + rng.normal(0, 1, idx.size)).tolist()
    pt = np.array(times)
    n = pt.size
    ob = _Obs(spos, np.array(sens, dtype=np.int64), pt, np.full(n, 5e-4), np.array(snr), C,
              None, AssociationConfig())  # fmt: skip
    a = _shot(np.arange(6, dtype=np.int64), places[0] + np.array([1.0, 0.5, 0.0]), 1.004)
    b = _shot(np.arange(9, 15, dtype=np.int64), places[2] + np.array([-0.5, 1.0, 0.0]), 2.205)
    assigned = np.zeros(n, dtype=bool)
    assigned[a.pulses] = assigned[b.pulses] = True
    return ob, [a, b], assigned, places


def test_a_moving_shooters_rounds_heard_by_three_sensors_stand_on_its_track() -> None:
    """Rounds 1 and 3 of a moving shooter, heard by three sensors only, fired 7 m from
    the rounds around them: the places' own arrival patterns do not match them (the move
    shifts each sensor's travel time by up to 20 ms), but the patterns moved along the
    track through rounds 0 and 2 do, and each round is put on the track where it was
    fired. With one of the three pulses 10 ms off, no round is put there."""
    from shotwatch.core.associate import _template_rounds, _track_few_rounds

    ob, shots, assigned, places = _moving_few_heard()
    _template_rounds(shots, ob, assigned)
    assert len(shots) == 2  # fixed places: no match

    _track_few_rounds(shots, ob, assigned)
    assert [len(s.pulses) for s in shots] == [6, 3, 6, 3]
    assert np.allclose([s.t0 for s in shots], [1.0, 1.6, 2.2, 2.8], atol=0.01)
    for s, src in zip(shots, places, strict=True):
        assert np.hypot(*(s.pos[:2] - src[:2])) < 2.0
    assert np.all(assigned)

    ob, shots, assigned, _ = _moving_few_heard(shift_s=0.01)
    _track_few_rounds(shots, ob, assigned)
    assert len(shots) == 2 and not np.any(assigned[6:9]) and not np.any(assigned[15:])


def test_a_mixture_off_the_track_does_not_break_it() -> None:
    """The same moving shooter, with a four-sensor shot between its two well-heard
    rounds located 70 m off (a mixture of other pulses: no shooter moves there and back
    in 0.6 s): the track runs from round 0 to round 2 past it, and rounds 1 and 3 are
    found on it as before."""
    from shotwatch.core.associate import _Obs, _track_few_rounds

    ob, shots, assigned, places = _moving_few_heard()
    far = np.argsort(np.linalg.norm(ob.spos - places[1], axis=1))[10:14]
    pt = np.concatenate([ob.pt, 1.9 + np.linspace(0.2, 0.5, 4)])
    ob = _Obs(ob.spos, np.concatenate([ob.psens, far]), pt, np.full(pt.size, 5e-4),
              np.concatenate([ob.psnr, np.full(4, 20.0)]), C, None, ob.cfg)  # fmt: skip
    mixture = _shot(np.arange(18, 22, dtype=np.int64), places[1] + np.array([0.0, 70.0, 0.0]), 1.9)
    shots = [shots[0], mixture, shots[1]]
    assigned = np.concatenate([assigned, np.ones(4, dtype=bool)])
    _track_few_rounds(shots, ob, assigned)
    found = sorted(s.t0 for s in shots if len(s.pulses) == 3)
    assert np.allclose(found, [1.6, 2.8], atol=0.01)


def _mixed_burst(trailing_gun: bool):  # type: ignore[no-untyped-def]
    """A gun heard by six sensors, three each side of it, fires four rounds at an
    irregular cadence; the search kept three mixtures, each of one round's arrivals on
    the east side and the next round's on the west, and found the first round whole
    only as a candidate it did not keep. With ``trailing_gun``, four shots of a gun
    elsewhere come 0.12 s before each round (whose image source the rounds would be).
    Returns (observations, shots, the candidate, assigned, round times)."""
    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:6]
    east = near[spos[near, 0] >= np.median(spos[near, 0])]
    west = near[spos[near, 0] < np.median(spos[near, 0])]
    side = np.concatenate([east, west])
    times = [1.0, 1.31, 1.83, 2.67]
    rng = np.random.default_rng(8)
    tt = np.linalg.norm(spos[side] - src, axis=1) / C
    sens = np.tile(side, len(times)).astype(np.int64)
    pt = np.concatenate([t + tt for t in times]) + rng.normal(0, 1e-4, 24)
    if trailing_gun:
        other = np.argsort(np.linalg.norm(spos - np.array([-500.0, 500.0, 1.5]), axis=1))[:5]
        sens = np.concatenate([sens, np.tile(other, 4)]).astype(np.int64)
        pt = np.concatenate([pt, *[np.full(5, t - 0.12 + 0.5) for t in times]])
    ob = _obs(spos, sens, pt)
    rnd = [np.arange(6 * k, 6 * k + 6, dtype=np.int64) for k in range(4)]
    mixtures = [
        _shot(np.concatenate([rnd[k][:3], rnd[k + 1][3:]]), src + np.array([35.0, 0, 0]), times[k])
        for k in range(3)
    ]
    shots = list(mixtures)
    if trailing_gun:
        shots += [
            _shot(np.arange(24 + 5 * k, 29 + 5 * k, dtype=np.int64), np.array([-500.0, 500, 1.5]),
                  t - 0.12)
            for k, t in enumerate(times)
        ]  # fmt: skip
    assigned = np.zeros(pt.size, dtype=bool)
    for s in shots:
        assigned[s.pulses] = True
    return ob, shots, _shot(rnd[0], src, 1.0), assigned, times


def test_a_place_whose_pattern_repeats_takes_its_rounds_back_from_mixtures() -> None:
    """Three exact mixtures of a gun's rounds (one round's arrivals at one side, the
    next round's at the other: a point further along the line between the sides fits
    them) hold the rounds' pulses; the first round, found whole by the search but not
    kept, repeats its arrival pattern at every other round, while no mixture's pattern
    repeats (the cadence is irregular). The place takes its rounds back: four rounds of
    six sensors each at the gun, the mixtures gone."""
    from shotwatch.core.associate import _repeat_places

    ob, shots, candidate, assigned, times = _mixed_burst(trailing_gun=False)
    _repeat_places(shots, [candidate], ob, assigned)
    assert [round(s.t0, 3) for s in shots] == times
    for k, s in enumerate(shots):
        assert sorted(s.pulses.tolist()) == list(range(6 * k, 6 * k + 6))
        assert np.hypot(*(s.pos[:2] - np.array([20.0, -50.0]))) < 1.0
    assert bool(np.all(assigned))


def test_a_repeating_pattern_that_trails_a_guns_rounds_takes_nothing_back() -> None:
    """The same, but each round comes 0.12 s after a round of another gun: an image
    source of that gun's rounds (a wall) repeats its pattern with every round just so,
    after one delay. It takes nothing from the shots."""
    from shotwatch.core.associate import _repeat_places

    ob, shots, candidate, assigned, _ = _mixed_burst(trailing_gun=True)
    before = sorted(s.pulses.tolist() for s in shots)
    _repeat_places(shots, [candidate], ob, assigned)
    assert sorted(s.pulses.tolist() for s in shots) == before


def test_a_shot_heard_on_time_by_three_and_late_by_two_stands_as_a_three_sensor_shot() -> None:
    """A single shot heard by five sensors, three of them on time and two over detours
    12 and 20 ms late: five arrivals fit no one point, and the association found
    nothing. Three arrivals fix the source at the array's height exactly, and the two
    others then arrive late there, as blocked paths do: the shot stands, held by the
    three (reported as heard by three), the late pulses claimed. Heard late by one
    sensor only, nothing confirms the three: no shot."""
    spos = _array()
    src = np.array([-100.0, 150.0, 1.5])
    d = np.linalg.norm(spos - src, axis=1)
    near = np.argsort(d)[:5]
    for late, found in (([0.012, 0.02], True), ([0.015], False)):
        idx = near[: 3 + len(late)].astype(np.int64)
        t = 1.0 + d[idx] / C
        t[3:] += np.array(late)
        shots = associate(spos, idx, t, C, pulse_snr=np.full(idx.size, 30.0))
        assert len(shots) == int(found)
        if found:
            (shot,) = shots
            assert sorted(shot.pulses.tolist()) == [0, 1, 2]
            assert sorted(shot.echoes) == [3, 4]
            assert np.hypot(*(shot.pos[:2] - src[:2])) < 1.0
            assert abs(shot.t0 - 1.0) < 1e-3


def test_mixtures_off_a_moving_shooters_track_give_its_rounds_back() -> None:
    """A simulated shooter running north at 15 m/s (suite seed 7, moving shooter scene 0):
    two rounds 0.43 s apart, heard on time by five and four sensors, were taken for two
    mixtures of both, four arrivals each, 67 and 220 m off the track (`_track_mixtures`).
    Every round heard by four sensors or more is now found within 15 m and 50 ms of where
    and when it was fired, and no shot lies 50 m off the track."""
    from shotwatch.geo import LocalFrame
    from shotwatch.pipeline import locate_pulses
    from shotwatch.sim import simulate
    from shotwatch.sim.scenes import urban_scene
    from shotwatch.timeutil import parse_utc

    res = simulate(urban_scene(700_000, "mobile"), seed=700_000)
    shots = [s for inc in locate_pulses(res.sensors, res.pulses, res.weather) for s in inc.shots]
    events = [e for e in res.truth["events"] if e["kind"] == "gunfire"]
    fr = LocalFrame(events[0]["lat"], events[0]["lon"], events[0]["elevation_m"])
    truth = [
        (parse_utc(e["t_utc"]), fr.to_enu(e["lat"], e["lon"], e["elevation_m"])[:2]) for e in events
    ]
    heard = [len({a["sensor_id"] for a in e["arrivals"]}) for e in events]
    found = [(s.t, fr.to_enu(s.lat, s.lon, s.elevation_m)[:2]) for s in shots]
    for (te, pe), n in zip(truth, heard, strict=True):
        if n >= 4:
            assert any(abs(t - te) < 0.05 and np.hypot(*(p - pe)) < 15 for t, p in found), te
    for t, p in found:  # near the track at its time (the shooter's place then)
        k = int(np.argmin([abs(t - te) for te, _ in truth]))
        assert np.hypot(*(p - truth[k][1])) < 50, (t, p)


def test_a_round_in_the_last_ones_reverberation_is_as_loud_by_its_peak() -> None:
    """The real live fire's test_013 from the recordings: the third round of a group,
    heard by the same four sensors as the first, reads 10-21 dB lower SNR at each (the
    noise before its onset holds the earlier rounds' reverberation) though its peak is
    as high (clipped like the first's). It matches the place's pattern at all four and
    stands there. Without peak levels, or with its peaks as far down as its SNRs (what
    a coincidence of coda pulses would show), it is refused as too weak."""
    from shotwatch.core.associate import AssociationConfig, _Obs, _template_rounds

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:4]
    travel = np.linalg.norm(spos[near] - src, axis=1) / C
    pt = np.concatenate([1.0 + travel, 2.13 + travel])
    psens = np.concatenate([near, near]).astype(np.int64)
    snr = np.array([37.6, 38.8, 39.8, 40.0, 16.3, 24.6, 31.1, 27.0])
    clipped = np.full(8, -0.2)
    as_far_down = clipped - np.concatenate([np.zeros(4), snr[:4] - snr[4:]])
    for peak, found in ((clipped, True), (None, False), (as_far_down, False)):
        ppeak = np.full(8, np.nan) if peak is None else peak
        ob = _Obs(spos, psens, pt, np.full(8, 5e-4), snr, C, None, AssociationConfig(), ppeak)
        anchor = _shot(np.arange(4, dtype=np.int64), src, 1.0)
        assigned = np.zeros(8, dtype=bool)
        assigned[:4] = True
        shots = [anchor]
        _template_rounds(shots, ob, assigned)
        assert (len(shots) == 2) is found
        if found:
            assert abs(shots[1].t0 - 2.13) < 1e-3 and sorted(shots[1].pulses) == [4, 5, 6, 7]


def test_peak_levels_must_match_the_pulses() -> None:
    spos = _array()[:4]
    with pytest.raises(ValueError, match="pulse_peak"):
        associate(spos, np.arange(4), np.full(4, 1.0), C, pulse_peak=np.zeros(3))


def test_a_four_arrival_round_on_another_root_is_put_at_its_place() -> None:
    """The real live fire's FP2 test_033 from the recordings: three rounds heard by the
    same four sensors; the second took at one sensor an impulse 132 ms before its own
    arrival, and four arrivals fit some point exactly (here 20 m off). The place, fitted
    twice from one pattern, explains the second round from its other three pulses and
    the free one that came on time: it is put there, the early impulse freed. A round
    whose arrivals match the place at only two sensors stays where it was fitted."""
    from shotwatch.core.associate import _shared_roots

    spos = _array()
    src = np.array([20.0, -50.0, 1.5])
    near = np.argsort(np.linalg.norm(spos - src, axis=1))[:4]
    travel = np.linalg.norm(spos[near] - src, axis=1) / C
    rounds = [1.0, 1.66, 2.54]
    pt = np.concatenate([t + travel for t in rounds] + [[1.66 + travel[3] - 0.132]])
    psens = np.concatenate([near, near, near, near[3:]]).astype(np.int64)
    ob = _obs(spos, psens, pt)
    first, third = _shot(np.arange(4), src, 1.0), _shot(np.arange(8, 12), src, 2.54)
    off = src + np.array([20.0, 3.0, 0.0])
    second = _shot(np.array([4, 5, 6, 12]), off, 1.6)
    shots = [first, second, third]
    assigned = np.zeros(13, dtype=bool)
    for s in shots:
        assigned[s.pulses] = True
    _shared_roots(shots, ob, assigned)
    moved = shots[1]
    assert np.allclose(moved.pos, src) and abs(moved.t0 - 1.66) < 1e-6
    assert sorted(moved.pulses.tolist()) == [4, 5, 6, 7]
    assert not assigned[12] and assigned[7]
    # two of four sensors agreeing with the place is no round of it
    pt2 = pt.copy()
    pt2[[5, 6]] += 0.02
    shots = [first, _shot(np.array([4, 5, 6, 12]), off, 1.6), third]
    assigned = np.zeros(13, dtype=bool)
    for s in shots:
        assigned[s.pulses] = True
    _shared_roots(shots, _obs(spos, psens, pt2), assigned)
    assert np.allclose(shots[1].pos, off)
