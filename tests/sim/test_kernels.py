"""Fast kernels against slow, obviously right references; ISO 9613 values."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.sim import propagation as prop


def _random_city(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(-500, 500, size=(n, 2))
    wh = rng.uniform(5, 60, size=(n, 2))
    h = rng.uniform(3, 40, size=n)
    return np.column_stack([xy, np.zeros(n), xy + wh, h])


def test_box_index_hits_equal_dense_slab_test() -> None:
    rng = np.random.default_rng(0)
    boxes = _random_city(rng, 300)
    p0 = np.column_stack([rng.uniform(-600, 600, size=(400, 2)), rng.uniform(0, 30, 400)])
    p1 = np.column_stack([rng.uniform(-600, 600, size=(400, 2)), rng.uniform(0, 30, 400)])
    dense = prop.segment_box_hits(p0, p1, boxes)
    idx = prop.BoxIndex(boxes, cell_m=40.0)
    s, b = idx.hits(p0, p1)
    fast = np.zeros_like(dense)
    fast[s, b] = True
    assert dense.sum() > 50
    assert np.array_equal(fast, dense)
    # the raster only ever claims blocks that the exact test confirms
    raster = prop.HeightRaster(boxes, cell_m=5.0)
    for i in range(0, 400, 40):
        sure = raster.surely_blocked(p0[i], p1)
        exact = prop.segment_box_hits(np.broadcast_to(p0[i], p1.shape), p1, boxes).any(axis=1)
        assert not np.any(sure & ~exact)


def _outside(boxes: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The points (n, 3) that are not inside any footprint (sensors are never indoors)."""
    inside = (
        (pts[:, None, 0] >= boxes[None, :, 0])
        & (pts[:, None, 0] <= boxes[None, :, 3])
        & (pts[:, None, 1] >= boxes[None, :, 1])
        & (pts[:, None, 1] <= boxes[None, :, 4])
    ).any(axis=1)
    return pts[~inside]


def test_batched_over_roof_paths_equal_single() -> None:
    rng = np.random.default_rng(1)
    boxes = _random_city(rng, 200)
    src = np.array([3.0, -7.0, 1.5])
    boxes = boxes[
        ~((boxes[:, 0] < 3) & (boxes[:, 3] > 3) & (boxes[:, 1] < -7) & (boxes[:, 4] > -7))
    ]
    rcv = np.column_stack([rng.uniform(-600, 600, size=(80, 2)), rng.uniform(3, 25, 80)])
    rcv = _outside(boxes, rcv)
    idx = prop.BoxIndex(boxes)
    seg, box = idx.candidates(np.broadcast_to(src, rcv.shape), rcv)
    batch = prop.over_roof_paths(src, rcv, boxes, seg, box)
    for i in range(len(rcv)):
        verts, ne, span, _ = prop.over_roof_path(src, rcv[i], boxes)
        assert batch[i][1] == ne
        assert batch[i][2] == pytest.approx(span)
        assert np.allclose(batch[i][0], verts)
        # the rubber band never passes through a building and is never shorter than the chord
        assert prop.path_length(verts) >= np.linalg.norm(rcv[i] - src) - 1e-9
        inner = prop.segment_box_hits(verts[:-1], verts[1:], boxes * [1, 1, 1, 1, 1, 1 - 1e-9])
        assert not inner.any()


def test_detour_lower_bound_is_a_lower_bound() -> None:
    rng = np.random.default_rng(2)
    boxes = _random_city(rng, 150)
    src = np.array([0.0, 0.0, 1.5])
    boxes = boxes[~((boxes[:, 0] < 0) & (boxes[:, 3] > 0) & (boxes[:, 1] < 0) & (boxes[:, 4] > 0))]
    rcv = np.column_stack([rng.uniform(-600, 600, size=(200, 2)), rng.uniform(3, 25, 200)])
    rcv = _outside(boxes, rcv)
    hits = prop.segment_box_hits(np.broadcast_to(src, rcv.shape), rcv, boxes)
    for i in np.flatnonzero(hits.any(axis=1))[:40]:
        d0 = float(np.linalg.norm(rcv[i] - src))
        over = prop.path_length(prop.over_roof_path(src, rcv[i], boxes)[0]) - d0
        sides = [prop.path_length(p) - d0 for p in prop.around_paths(src, rcv[i], boxes[hits[i]])]
        best = min([over, *sides])
        lb = prop.detour_lower_bound(
            np.broadcast_to(src, (hits[i].sum(), 3)),
            np.broadcast_to(rcv[i], (hits[i].sum(), 3)),
            boxes[hits[i]],
        ).max()
        assert lb <= best + 1e-6


def test_iso9613_1_absorption_table_values() -> None:
    # ISO 9613-1 Table 1: 20 degC, 70 % RH, 101.325 kPa (dB/km)
    f = np.array([500.0, 1000.0, 2000.0, 4000.0])
    expect = np.array([2.80, 4.98, 9.02, 22.9])
    got = prop.air_absorption_db_per_m(f, 20.0, 70.0) * 1000.0
    assert np.allclose(got, expect, rtol=0.03)


def test_barrier_attenuation_limits() -> None:
    lam = 343.0 / 1000.0
    assert prop.barrier_attenuation_db(0.0, lam, 0.0) == pytest.approx(10 * np.log10(3.0))
    assert prop.barrier_attenuation_db(50.0, lam, 0.0) == pytest.approx(20.0)
    assert prop.barrier_attenuation_db(50.0, lam, 30.0) == pytest.approx(25.0)
    small = prop.barrier_attenuation_db(0.5, lam, 0.0)
    assert 10 * np.log10(3.0) < small < 20.0


def test_nwave_geometry_reaches_downrange_sensor_before_the_blast() -> None:
    from shotwatch.sim.audio import nwave_geometry

    src = np.array([0.0, 0.0, 1.5])
    rcv = np.array([[20.0, 300.0, 5.0], [0.0, -200.0, 5.0]])  # downrange (north), behind
    t, b, ok, _ = nwave_geometry(src, 0.0, rcv, c=343.0, speed=850.0, max_range=600.0)
    assert ok[0] and not ok[1]
    assert b[0] == pytest.approx(np.hypot(20.0, 3.5))
    assert t[0] < np.linalg.norm(rcv[0] - src) / 343.0


def test_row_wise_wall_reflections_equal_per_source() -> None:
    rng = np.random.default_rng(3)
    boxes = _random_city(rng, 40)
    src = np.array([10.0, -20.0, 1.5])
    rcv = np.column_stack([rng.uniform(-600, 600, size=(50, 2)), rng.uniform(3, 25, 50)])
    ri, bi, p, _ = prop.wall_reflections(src, rcv, boxes)
    rr, bb = np.meshgrid(np.arange(len(rcv)), np.arange(len(boxes)), indexing="ij")
    rows, p2, _ = prop.wall_reflections_rows(
        np.broadcast_to(src, (rr.size, 3)), rcv[rr.ravel()], boxes[bb.ravel()]
    )
    a = sorted(zip(ri.tolist(), bi.tolist(), np.round(p, 6).tolist(), strict=True))
    b = sorted(
        zip(
            rr.ravel()[rows].tolist(),
            bb.ravel()[rows].tolist(),
            np.round(p2, 6).tolist(),
            strict=True,
        )
    )
    assert len(a) > 20
    assert a == b
