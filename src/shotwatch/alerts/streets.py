"""Street layer and reverse geocoding: nearest address or intersection of a point.

The department loads its streets as GeoJSON: ``LineString`` / ``MultiLineString``
features with a ``name`` property and optional address ranges ``addr_from`` /
``addr_to`` (the house numbers at the first and last vertex), plus optional ``Point``
features with an ``address`` property (address points). A demo layer ships with the
package (``shotwatch/data/demo_streets.geojson``).

Geometry is done on a local east-north plane (metres, :class:`shotwatch.geo.LocalFrame`)
around the layer's centre, which is exact enough over a city (< 0.1 % scale error
within 20 km).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from shotwatch.errors import InputError
from shotwatch.geo import LocalFrame

INTERSECTION_RADIUS_M = 35.0
ADDRESS_POINT_RADIUS_M = 25.0


@dataclass(frozen=True)
class Segment:
    name: str
    a: tuple[float, float]
    b: tuple[float, float]
    num_a: float | None
    num_b: float | None


@dataclass(frozen=True)
class Place:
    """The answer of :meth:`StreetLayer.describe`."""

    text: str
    """What the dispatcher reads, e.g. ``"914 K St (9th St / 10th St)"`` or ``"9th St & K St"``."""
    street: str
    cross_street: str
    distance_m: float
    """Distance from the point to the named place, metres."""
    kind: str
    """``intersection`` | ``address`` | ``street`` | ``none``."""


def demo_layer_path() -> Path:
    return Path(str(resources.files("shotwatch") / "data" / "demo_streets.geojson"))


def _lines(geom: dict[str, Any]) -> list[list[list[float]]]:
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if kind == "LineString" and isinstance(coords, list):
        return [coords]
    if kind == "MultiLineString" and isinstance(coords, list):
        return list(coords)
    return []


class StreetLayer:
    """Streets, intersections and address points of one city."""

    def __init__(self, geojson: dict[str, Any], source: str = "street layer") -> None:
        feats = geojson.get("features") if isinstance(geojson, dict) else None
        if not isinstance(feats, list):
            raise InputError("not a GeoJSON FeatureCollection", source)
        lines: list[tuple[str, list[tuple[float, float]], float | None, float | None]] = []
        points: list[tuple[str, float, float]] = []
        for i, f in enumerate(feats):
            try:
                geom = f.get("geometry") or {}
                props = f.get("properties") or {}
                if geom.get("type") == "Point":
                    addr = props.get("address")
                    if isinstance(addr, str) and addr:
                        lon, lat = (float(v) for v in geom["coordinates"][:2])
                        points.append((addr, lat, lon))
                    continue
                name = props.get("name")
                if not isinstance(name, str) or not name:
                    continue
                na, nb = props.get("addr_from"), props.get("addr_to")
                for line in _lines(geom):
                    pts = [(float(c[1]), float(c[0])) for c in line]
                    if len(pts) >= 2:
                        lines.append(
                            (
                                name,
                                pts,
                                float(na) if isinstance(na, int | float) else None,
                                float(nb) if isinstance(nb, int | float) else None,
                            )
                        )
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                raise InputError(f"feature {i}: malformed geometry", source) from None
        if not lines and not points:
            raise InputError("no named streets or address points", source)
        all_lat = [p[0] for _, pts, _, _ in lines for p in pts] + [p[1] for p in points]
        all_lon = [p[1] for _, pts, _, _ in lines for p in pts] + [p[2] for p in points]
        self.frame = LocalFrame(float(np.mean(all_lat)), float(np.mean(all_lon)), 0.0)
        self.bounds = (min(all_lat), min(all_lon), max(all_lat), max(all_lon))
        self.segments: list[Segment] = []
        for name, pts, na, nb in lines:
            enu = self._enu([p[0] for p in pts], [p[1] for p in pts])
            cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(enu, axis=0).T))])
            total = float(cum[-1]) or 1.0
            for k in range(len(pts) - 1):
                a = (float(enu[k, 0]), float(enu[k, 1]))
                b = (float(enu[k + 1, 0]), float(enu[k + 1, 1]))
                if na is not None and nb is not None:
                    n1 = na + (nb - na) * float(cum[k]) / total
                    n2 = na + (nb - na) * float(cum[k + 1]) / total
                    self.segments.append(Segment(name, a, b, n1, n2))
                else:
                    self.segments.append(Segment(name, a, b, None, None))
        self.address_points = [(addr, *self._xy(lat, lon)) for addr, lat, lon in points]
        self.intersections = self._find_intersections()
        self.geojson = geojson

    @classmethod
    def load(cls, path: Path | None = None) -> StreetLayer:
        """Load a layer file (None: the demo layer shipped with the package)."""
        p = path or demo_layer_path()
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", str(p)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"not valid JSON: {e}", str(p)) from None
        return cls(data, str(p))

    def _enu(self, lat: list[float], lon: list[float]) -> np.ndarray[Any, Any]:
        e = self.frame.to_enu(np.asarray(lat), np.asarray(lon), np.zeros(len(lat)))
        return np.asarray(e[:, :2], dtype=float)

    def _xy(self, lat: float, lon: float) -> tuple[float, float]:
        e = self.frame.to_enu(lat, lon, 0.0)
        return float(e[0]), float(e[1])

    def _find_intersections(self) -> list[tuple[str, str, float, float]]:
        """Crossings of differently named streets, bucketed on a 200 m grid."""
        cell = 200.0
        buckets: dict[tuple[int, int], list[int]] = {}
        for i, s in enumerate(self.segments):
            x0, x1 = sorted((s.a[0], s.b[0]))
            y0, y1 = sorted((s.a[1], s.b[1]))
            for gx in range(math.floor(x0 / cell), math.floor(x1 / cell) + 1):
                for gy in range(math.floor(y0 / cell), math.floor(y1 / cell) + 1):
                    buckets.setdefault((gx, gy), []).append(i)
        found: dict[tuple[str, str, int, int], tuple[str, str, float, float]] = {}
        for idx in buckets.values():
            for ii, i in enumerate(idx):
                si = self.segments[i]
                for j in idx[ii + 1 :]:
                    sj = self.segments[j]
                    if si.name == sj.name:
                        continue
                    p = _crossing(si.a, si.b, sj.a, sj.b)
                    if p is None:
                        continue
                    n1, n2 = sorted((si.name, sj.name), key=_street_sort_key)
                    key = (n1, n2, round(p[0] / 5), round(p[1] / 5))
                    found[key] = (n1, n2, p[0], p[1])
        return list(found.values())

    def describe(self, lat: float, lon: float) -> Place:
        """Nearest intersection (within 35 m), else address point, else interpolated address."""
        x, y = self._xy(lat, lon)
        best_int: tuple[float, str, str] | None = None
        for n1, n2, ix, iy in self.intersections:
            d = math.hypot(ix - x, iy - y)
            if best_int is None or d < best_int[0]:
                best_int = (d, n1, n2)
        if best_int is not None and best_int[0] <= INTERSECTION_RADIUS_M:
            d, n1, n2 = best_int
            return Place(f"{n1} & {n2}", n1, n2, round(d, 1), "intersection")
        best_pt: tuple[float, str] | None = None
        for addr, px, py in self.address_points:
            d = math.hypot(px - x, py - y)
            if best_pt is None or d < best_pt[0]:
                best_pt = (d, addr)
        if best_pt is not None and best_pt[0] <= ADDRESS_POINT_RADIUS_M:
            return Place(best_pt[1], best_pt[1], "", round(best_pt[0], 1), "address")
        best_seg: tuple[float, Segment, float] | None = None
        for s in self.segments:
            d, f = _point_segment(x, y, s.a, s.b)
            if best_seg is None or d < best_seg[0]:
                best_seg = (d, s, f)
        if best_seg is None:
            return Place(f"{lat:.5f}, {lon:.5f}", "", "", 0.0, "none")
        d, s, f = best_seg
        px, py = s.a[0] + f * (s.b[0] - s.a[0]), s.a[1] + f * (s.b[1] - s.a[1])
        cross = self._cross_streets(s.name, px, py)
        between = f" ({' / '.join(cross)})" if cross else ""
        if s.num_a is not None and s.num_b is not None:
            num = round(s.num_a + f * (s.num_b - s.num_a))
            text = f"{num} {s.name}{between}"
            return Place(text, s.name, cross[0] if cross else "", round(d, 1), "address")
        return Place(f"{s.name}{between}", s.name, cross[0] if cross else "", round(d, 1), "street")

    def _cross_streets(self, name: str, x: float, y: float) -> list[str]:
        """Names of the two nearest streets that cross ``name`` near (x, y)."""
        cands = sorted(
            (math.hypot(ix - x, iy - y), n2 if n1 == name else n1)
            for n1, n2, ix, iy in self.intersections
            if name in (n1, n2)
        )
        out: list[str] = []
        for _, other in cands:
            if other not in out:
                out.append(other)
            if len(out) == 2:
                break
        return out


def _street_sort_key(name: str) -> tuple[int, str]:
    head = name.split(maxsplit=1)[0]
    digits = "".join(c for c in head if c.isdigit())
    return (0, f"{int(digits):05d}") if digits else (1, name)


def _crossing(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> tuple[float, float] | None:
    """Intersection point of segments ab and cd (endpoints included, 1 m tolerance)."""
    rx, ry = b[0] - a[0], b[1] - a[1]
    sx, sy = d[0] - c[0], d[1] - c[1]
    den = rx * sy - ry * sx
    if abs(den) < 1e-9:
        return None
    qx, qy = c[0] - a[0], c[1] - a[1]
    t = (qx * sy - qy * sx) / den
    u = (qx * ry - qy * rx) / den
    ta = 1.0 / max(math.hypot(rx, ry), 1e-9)
    tc = 1.0 / max(math.hypot(sx, sy), 1e-9)
    if -ta <= t <= 1 + ta and -tc <= u <= 1 + tc:
        return a[0] + t * rx, a[1] + t * ry
    return None


def _point_segment(
    x: float, y: float, a: tuple[float, float], b: tuple[float, float]
) -> tuple[float, float]:
    """Distance from (x, y) to segment ab and the fraction along it of the foot point."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    L2 = dx * dx + dy * dy
    f = 0.0 if L2 == 0 else max(0.0, min(1.0, ((x - a[0]) * dx + (y - a[1]) * dy) / L2))
    return math.hypot(a[0] + f * dx - x, a[1] + f * dy - y), f
