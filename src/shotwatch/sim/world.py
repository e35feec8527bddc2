"""The static world of a scenario: local frame, sensor sites and buildings.

Deterministic from the scenario alone (the layout and city seeds are part of the
scenario), so every simulation run of one scenario sees the same deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError
from shotwatch.geo import LocalFrame
from shotwatch.sim.propagation import BoxIndex, HeightRaster
from shotwatch.sim.scenario import Scenario

F64 = NDArray[np.float64]

# Fraction of the mount height used as a mast when a site falls on a roof.
_MAST_FRACTION = 1.0 / 3.0


@dataclass(frozen=True)
class World:
    """Frame, sensors (ids and ENU positions, metres) and buildings (m, 6) boxes."""

    frame: LocalFrame
    sensor_ids: list[str]
    sensor_pos: F64
    boxes: F64
    index: BoxIndex
    raster: HeightRaster


def source_points(scenario: Scenario) -> list[tuple[float, float]]:
    """Horizontal positions (east, north) that random buildings must keep clear."""
    pts: list[tuple[float, float]] = []
    for src in scenario.sources:
        if src.kind == "gunfire":
            for sh in src.shooters:
                pts.append((sh.east_m, sh.north_m))
                if sh.speed_mps > 0:
                    # keep the street clear along the path of a moving shooter
                    h = np.radians(sh.heading_deg)
                    span = sh.speed_mps * (sh.start_s + sh.rounds * max(sh.cadence_s[1], 0.1))
                    for d in np.arange(0.0, span + 5.0, 5.0):
                        pts.append((sh.east_m + d * np.sin(h), sh.north_m + d * np.cos(h)))
        elif src.kind == "backfire" and src.speed_mps > 0:
            h = np.radians(src.heading_deg)
            span = src.speed_mps * src.count * src.gap_s[1]
            for d in np.arange(0.0, span + 5.0, 5.0):
                pts.append((src.east_m + d * np.sin(h), src.north_m + d * np.cos(h)))
        else:
            pts.append((src.east_m, src.north_m))
    return pts


def _low_sources(scenario: Scenario) -> list[tuple[float, float, float]]:
    """Start positions (east, north, up) of the sources that are not aloft."""
    from shotwatch.sim.events import CONFUSERS

    out: list[tuple[float, float, float]] = []
    for src in scenario.sources:
        if src.kind == "gunfire":
            out.extend((sh.east_m, sh.north_m, sh.up_m) for sh in src.shooters)
        elif src.kind != "fireworks":
            up = CONFUSERS[src.kind].height_m if src.up_m is None else src.up_m
            out.append((src.east_m, src.north_m, up))
    return out


def random_city(scenario: Scenario, clear: list[tuple[float, float]]) -> F64:
    """City blocks on a regular street grid; each block is cut into 2x2 lots and each lot
    is built with probability ``density``. Buildings containing a point of ``clear``
    (within 3 m) are left out, so sources stand in the street or a yard."""
    b = scenario.buildings
    rng = np.random.default_rng(b.seed)
    w, h = scenario.area.size_m
    pitch, street = b.block_m, b.street_m
    if (w / pitch) * (h / pitch) > 1_000_000:
        raise InputError("buildings: more than a million city blocks; use a larger block_m")
    xs = np.arange(-w / 2, w / 2, pitch)
    ys = np.arange(-h / 2, h / 2, pitch)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    gx, gy = gx.ravel(), gy.ravel()
    lot = (pitch - street) / 2.0
    boxes = []
    for qx in (0, 1):
        for qy in (0, 1):
            x0 = gx + street / 2 + qx * lot
            y0 = gy + street / 2 + qy * lot
            built = rng.random(gx.size) < b.density
            # lots are not always filled to the edge: small setbacks
            inset = rng.uniform(0.0, 0.15 * lot, size=(gx.size, 4))
            height = rng.uniform(b.height_m[0], b.height_m[1], size=gx.size)
            bx = np.column_stack(
                [
                    x0 + inset[:, 0],
                    y0 + inset[:, 1],
                    np.zeros(gx.size),
                    x0 + lot - inset[:, 2],
                    y0 + lot - inset[:, 3],
                    height,
                ]
            )
            boxes.append(bx[built])
    allb = np.concatenate(boxes) if boxes else np.zeros((0, 6))
    if clear and len(allb):
        c = np.asarray(clear, dtype=float)
        keep = np.ones(len(allb), dtype=bool)
        for i in range(0, len(c), 2048):
            cc = c[i : i + 2048]
            inside = (
                (cc[:, None, 0] > allb[None, :, 0] - 3.0)
                & (cc[:, None, 0] < allb[None, :, 3] + 3.0)
                & (cc[:, None, 1] > allb[None, :, 1] - 3.0)
                & (cc[:, None, 1] < allb[None, :, 4] + 3.0)
            )
            keep &= ~inside.any(axis=0)
        allb = allb[keep]
    return np.asarray(allb, dtype=float)


def explicit_boxes(scenario: Scenario) -> F64:
    bl = scenario.buildings.boxes
    if not bl:
        return np.zeros((0, 6))
    return np.asarray(
        [[b.east_min, b.north_min, 0.0, b.east_max, b.north_max, b.height_m] for b in bl],
        dtype=float,
    )


def _roof_height(xy: F64, boxes: F64) -> F64:
    """Roof height under each horizontal point (0 where there is no building)."""
    if len(boxes) == 0 or len(xy) == 0:
        return np.zeros(len(xy))
    inside = (
        (xy[:, None, 0] >= boxes[None, :, 0])
        & (xy[:, None, 0] <= boxes[None, :, 3])
        & (xy[:, None, 1] >= boxes[None, :, 1])
        & (xy[:, None, 1] <= boxes[None, :, 4])
    )
    return np.asarray(np.where(inside, boxes[None, :, 5], 0.0).max(axis=1), dtype=float)


def sensor_sites(scenario: Scenario, boxes: F64) -> tuple[list[str], F64]:
    """Sensor ids and ENU positions. Sites on a building sit on its roof, on a mast."""
    lay = scenario.sensors
    rng = np.random.default_rng(lay.seed)
    w, h = scenario.area.size_m
    heights: F64
    if lay.layout == "explicit":
        ids = [s.id for s in lay.sites]
        xy = np.asarray([[s.east_m, s.north_m] for s in lay.sites], dtype=float)
        drawn = rng.uniform(lay.height_m[0], lay.height_m[1], size=len(ids))
        heights = np.asarray(
            [
                d if s.height_m is None else s.height_m
                for d, s in zip(drawn, lay.sites, strict=True)
            ],
            dtype=float,
        )
        explicit_h = np.asarray([s.height_m is not None for s in lay.sites])
    else:
        if lay.layout == "grid":
            if (w / lay.spacing_m) * (h / lay.spacing_m) > 100_000:
                raise InputError("sensors: the grid would hold more than 100000 sites")
            xs = np.arange(-w / 2 + lay.spacing_m / 2, w / 2, lay.spacing_m)
            ys = np.arange(-h / 2 + lay.spacing_m / 2, h / 2, lay.spacing_m)
            gx, gy = np.meshgrid(xs, ys, indexing="ij")
            xy = np.column_stack([gx.ravel(), gy.ravel()])
            xy = xy + rng.uniform(-lay.jitter_m, lay.jitter_m, size=xy.shape)
            if lay.count is not None and lay.count < len(xy):
                # keep the sites nearest the centre
                order = np.argsort(np.hypot(xy[:, 0], xy[:, 1]), kind="stable")
                xy = xy[np.sort(order[: lay.count])]
        else:
            n = int(lay.count or 1)
            xy = np.column_stack(
                [rng.uniform(-w / 2, w / 2, size=n), rng.uniform(-h / 2, h / 2, size=n)]
            )
        heights = rng.uniform(lay.height_m[0], lay.height_m[1], size=len(xy))
        explicit_h = np.zeros(len(xy), dtype=bool)
        width = max(3, len(str(len(xy))))
        ids = [f"{lay.id_prefix}{i + 1:0{width}d}" for i in range(len(xy))]
    if len(xy) == 0:
        raise InputError("sensors: the layout produces no sensor in the area")
    roof = _roof_height(xy, boxes)
    up = np.where(
        roof > 0,
        roof + np.where(explicit_h, heights, np.maximum(heights * _MAST_FRACTION, 1.5)),
        heights,
    )
    return ids, np.column_stack([xy, up]).astype(float)


def build_world(scenario: Scenario) -> World:
    """The frame, the sensors and the buildings of a scenario."""
    a = scenario.area
    frame = LocalFrame(a.lat, a.lon, a.elevation_m)
    mode = scenario.buildings.mode
    if mode == "random":
        boxes = random_city(scenario, source_points(scenario))
    elif mode == "explicit":
        boxes = explicit_boxes(scenario)
    else:
        boxes = np.zeros((0, 6))
    ids, pos = sensor_sites(scenario, boxes)
    if mode == "explicit" and len(boxes):
        pts = np.asarray(_low_sources(scenario), dtype=float).reshape(-1, 3)
        inside = (
            (pts[:, None, 0] > boxes[None, :, 0])
            & (pts[:, None, 0] < boxes[None, :, 3])
            & (pts[:, None, 1] > boxes[None, :, 1])
            & (pts[:, None, 1] < boxes[None, :, 4])
            & (pts[:, None, 2] < boxes[None, :, 5])
        )
        if inside.any():
            i, j = np.argwhere(inside)[0]
            raise InputError(
                f"buildings.boxes.{j}: a source position ({pts[i, 0]:.1f}, {pts[i, 1]:.1f}) "
                "lies inside this building"
            )
    return World(frame, ids, pos, boxes, BoxIndex(boxes), HeightRaster(boxes))
