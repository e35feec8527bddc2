"""WGS84 geodetic coordinates <-> a local east-north-up (ENU) tangent plane, in metres.

Exact transforms through Earth-centred Earth-fixed coordinates (WGS84 ellipsoid,
a = 6378137 m, f = 1/298.257223563); the inverse uses Bowring's closed form with two
fixed-point refinements, exact to well under a millimetre for points near the surface.
Reference: B. Hofmann-Wellenhof et al., *GNSS*, Springer 2008, §10.2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)
_B = _A * (1.0 - _F)
_EP2 = (_A**2 - _B**2) / _B**2
EARTH_R = 6371008.8
"""Mean Earth radius, m (IUGG)."""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance on the mean sphere, metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_R * math.asin(min(1.0, math.sqrt(a)))


def geodetic_to_ecef(lat: ArrayLike, lon: ArrayLike, h: ArrayLike) -> NDArray[np.float64]:
    """Degrees, degrees, metres -> ECEF metres, shape (..., 3)."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    hh = np.asarray(h, dtype=float)
    n = _A / np.sqrt(1.0 - _E2 * np.sin(la) ** 2)
    x = (n + hh) * np.cos(la) * np.cos(lo)
    y = (n + hh) * np.cos(la) * np.sin(lo)
    z = (n * (1.0 - _E2) + hh) * np.sin(la)
    return np.stack([x, y, z], axis=-1)


def ecef_to_geodetic(xyz: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """ECEF metres (..., 3) -> (lat deg, lon deg, h m)."""
    p = np.asarray(xyz, dtype=float)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    lon = np.arctan2(y, x)
    r = np.hypot(x, y)
    theta = np.arctan2(z * _A, r * _B)
    lat = np.arctan2(z + _EP2 * _B * np.sin(theta) ** 3, r - _E2 * _A * np.cos(theta) ** 3)
    for _ in range(2):
        n = _A / np.sqrt(1.0 - _E2 * np.sin(lat) ** 2)
        h = r / np.cos(lat) - n
        lat = np.arctan2(z, r * (1.0 - _E2 * n / (n + h)))
    n = _A / np.sqrt(1.0 - _E2 * np.sin(lat) ** 2)
    h = r / np.cos(lat) - n
    return np.degrees(lat), np.degrees(lon), h


@dataclass(frozen=True)
class LocalFrame:
    """A local ENU frame with its origin at (lat0, lon0, h0)."""

    lat0: float
    lon0: float
    h0: float = 0.0

    def _rot(self) -> NDArray[np.float64]:
        la, lo = np.radians(self.lat0), np.radians(self.lon0)
        sl, cl, so, co = np.sin(la), np.cos(la), np.sin(lo), np.cos(lo)
        return np.array(
            [[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]], dtype=float
        )

    def to_enu(self, lat: ArrayLike, lon: ArrayLike, h: ArrayLike) -> NDArray[np.float64]:
        """Geodetic -> ENU metres, shape (..., 3)."""
        d = geodetic_to_ecef(lat, lon, h) - geodetic_to_ecef(self.lat0, self.lon0, self.h0)
        out: NDArray[np.float64] = d @ self._rot().T
        return out

    def to_geodetic(self, enu: ArrayLike) -> tuple[NDArray[np.float64], ...]:
        """ENU metres (..., 3) -> (lat deg, lon deg, h m)."""
        e = np.asarray(enu, dtype=float)
        xyz = e @ self._rot() + geodetic_to_ecef(self.lat0, self.lon0, self.h0)
        return ecef_to_geodetic(xyz)

    @classmethod
    def around(cls, lat: ArrayLike, lon: ArrayLike, h: ArrayLike) -> LocalFrame:
        """A frame centred on the mean of the given points."""
        return cls(
            float(np.mean(np.asarray(lat, dtype=float))),
            float(np.mean(np.asarray(lon, dtype=float))),
            float(np.mean(np.asarray(h, dtype=float))),
        )
