"""Partition of the pulse stream into independent space-time groups."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.core.partition import PartitionConfig, partition_pulses, partition_reference

C = 343.0


def _grid(n_side: int = 12, spacing: float = 300.0) -> np.ndarray:
    g = np.arange(n_side) * spacing
    gx, gy = np.meshgrid(g, g)
    return np.column_stack([gx.ravel(), gy.ravel(), np.full(n_side * n_side, 8.0)])


def _shot(spos: np.ndarray, src: np.ndarray, t0: float, r: float = 700.0):
    d = np.linalg.norm(spos - src, axis=1)
    heard = np.flatnonzero(d < r)
    return heard, t0 + d[heard] / C


def _groups_as_sets(groups: list[np.ndarray]) -> list[frozenset[int]]:
    return [frozenset(int(i) for i in g) for g in groups]


def test_two_far_apart_simultaneous_shots_are_two_groups_with_their_echoes() -> None:
    spos = _grid(n_side=16)  # 4.5 km square
    # 5.5 km apart: no sensor hearing one is within 1.5 km of one hearing the other
    a, b = np.array([300.0, 300.0, 1.5]), np.array([4200.0, 4200.0, 1.5])
    sa, ta = _shot(spos, a, 10.0, r=500.0)
    sb, tb = _shot(spos, b, 10.0, r=500.0)
    # late echoes of shot a at its sensors (0.2-1.2 s later) and a blocked path 0.12 s late
    rng = np.random.default_rng(0)
    echo_s = sa[:3]
    echo_t = ta[:3] + rng.uniform(0.2, 1.2, 3)
    sens = np.r_[sa, sb, echo_s]
    t = np.r_[ta, tb, echo_t]
    t[0] += 0.12
    # out of order: shuffled
    perm = rng.permutation(t.size)
    part = partition_pulses(spos, sens[perm], t[perm], C)
    assert len(part.groups) == 2
    back = np.argsort(perm)  # original index -> position in the shuffled arrays
    ga = frozenset(int(back[i]) for i in range(sa.size))
    ga |= frozenset(int(back[sa.size + sb.size + k]) for k in range(3))
    gb = frozenset(int(back[sa.size + k]) for k in range(sb.size))
    assert set(_groups_as_sets(part.groups)) == {ga, gb}
    assert part.dropped_pulses == 0
    # labels agree with the groups
    for j, g in enumerate(part.groups):
        assert np.all(part.label[g] == j)


def test_fewer_than_four_sensors_is_dropped_but_counted() -> None:
    spos = _grid()
    src = np.array([1500.0, 1500.0, 1.5])
    d = np.linalg.norm(spos - src, axis=1)
    near = np.argsort(d)[:3]
    t = 5.0 + d[near] / C
    # three sensors, two pulses each (an echo): six pulses, three sensors -> dropped
    part = partition_pulses(spos, np.r_[near, near], np.r_[t, t + 0.05], C)
    assert part.groups == []
    assert part.dropped_pulses == 6 and part.dropped_components == 1
    assert np.all(part.label == -1)
    # one more sensor hearing it: kept
    four = np.argsort(d)[:4]
    part = partition_pulses(spos, four, 5.0 + d[four] / C, C)
    assert len(part.groups) == 1 and part.dropped_pulses == 0


def test_pulses_too_far_apart_in_time_for_the_distance_are_not_linked() -> None:
    spos = _grid()
    s = np.array([0, 1, 2, 3])  # 300 m apart along a row: 0.87 s of travel between ends
    part = partition_pulses(spos, s, np.array([0.0, 0.3, 0.6, 0.9]), C)
    assert len(part.groups) == 1  # each step 0.3 s <= 300 m / c + 0.2 s
    part = partition_pulses(spos, s, np.array([0.0, 1.2, 2.4, 3.6]), C)
    assert part.groups == [] and part.components == 4


def test_rounds_of_one_burst_are_one_group_even_seconds_apart() -> None:
    spos = _grid()
    src = np.array([1500.0, 1500.0, 1.5])
    s1, t1 = _shot(spos, src, 0.0)
    s2, t2 = _shot(spos, src, 6.0)  # the second round 6 s later: linked by the burst rule
    part = partition_pulses(spos, np.r_[s1, s2], np.r_[t1, t2], C)
    assert part.components == 2 and len(part.groups) == 1
    cfg = PartitionConfig(burst_s=2.0)
    part = partition_pulses(spos, np.r_[s1, s2], np.r_[t1, t2], C, config=cfg)
    assert len(part.groups) == 2


def test_sources_of_one_time_heard_by_different_sensors_are_not_one_burst() -> None:
    """Components within the burst window and near enough to be one burst are merged
    only when a sensor heard both: a backfire and a gun 1.3 km apart, 6 s apart, heard
    by disjoint sensors, stay two groups (one group of both made the association of a
    busy city lose a six-round burst); a second round at the same place is merged."""
    spos = _grid(n_side=16)
    a, b = np.array([1500.0, 1500.0, 1.5]), np.array([2800.0, 1500.0, 1.5])
    sa, ta = _shot(spos, a, 0.0, r=400.0)
    sb, tb = _shot(spos, b, 6.0, r=400.0)
    assert not set(sa.tolist()) & set(sb.tolist())
    for part in (
        partition_pulses(spos, np.r_[sa, sb], np.r_[ta, tb], C),
        partition_reference(spos, np.r_[sa, sb], np.r_[ta, tb], C),
    ):
        assert part.components == 2 and len(part.groups) == 2
    sa2, ta2 = _shot(spos, a, 6.0, r=400.0)
    part = partition_pulses(spos, np.r_[sa, sa2], np.r_[ta, ta2], C)
    assert part.components == 2 and len(part.groups) == 1


def test_wind_widens_the_bound() -> None:
    spos = _grid()
    s = np.array([0, 4, 8, 56])  # a path of 1.2 km legs
    dt = 1200.0 / C + 0.2 + 0.1  # just past the calm bound
    t = np.arange(4) * dt
    assert partition_pulses(spos, s, t, C).groups == []
    assert len(partition_pulses(spos, s, t, C, wind_speed=15.0).groups) == 1


def test_fast_sweep_matches_the_definition_on_a_busy_random_stream() -> None:
    rng = np.random.default_rng(3)
    spos = _grid(n_side=20)
    n = 400  # about the city's background rate per km^2
    sens = rng.integers(0, spos.shape[0], n)
    t = np.sort(rng.uniform(0, 600.0, n))
    # sprinkle real events so that some groups are kept
    for _ in range(6):
        src = np.r_[rng.uniform(0, 5700, 2), 1.5]
        s, tt = _shot(spos, src, rng.uniform(0, 590))
        sens, t = np.r_[sens, s], np.r_[t, tt]
    perm = rng.permutation(t.size)
    sens, t = sens[perm], t[perm]
    fast = partition_pulses(spos, sens, t, C)
    slow = partition_reference(spos, sens, t, C)
    assert fast.components == slow.components
    assert fast.dropped_pulses == slow.dropped_pulses
    assert len(fast.groups) >= 2
    assert _groups_as_sets(fast.groups) == _groups_as_sets(slow.groups)
    # the compiled drop-and-merge numbers the groups exactly as the numpy one
    assert np.array_equal(fast.label, slow.label)
    assert fast.dropped_components == slow.dropped_components
    assert all(np.array_equal(a, b) for a, b in zip(fast.groups, slow.groups, strict=True))


def test_bad_input() -> None:
    spos = _grid()
    with pytest.raises(ValueError):
        partition_pulses(spos, np.array([0, 1]), np.array([0.0]), C)
    with pytest.raises(ValueError):
        partition_pulses(spos, np.array([0, 10_000]), np.array([0.0, 1.0]), C)
    with pytest.raises(ValueError):
        partition_pulses(spos, np.array([0]), np.array([np.nan]), C)
    empty = partition_pulses(spos, np.zeros(0, dtype=np.int64), np.zeros(0), C)
    assert empty.groups == [] and empty.components == 0
