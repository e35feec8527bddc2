"""geo: the great-circle distance used for matching and duplicate calls."""

from __future__ import annotations

import numpy as np

from shotwatch.geo import LocalFrame, distance_m


def test_distance_m_agrees_with_the_local_frame() -> None:
    """The one great-circle distance (geo.distance_m) against the exact ENU transform:
    the mean sphere is within 0.5 % of the ellipsoid."""
    frame = LocalFrame(40.44, -79.99, 250.0)
    for e, n in ((300.0, 0.0), (0.0, -1200.0), (2500.0, 1800.0)):
        lat, lon, _ = frame.to_geodetic(np.array([e, n, 0.0]))
        d = distance_m(40.44, -79.99, float(lat), float(lon))
        assert abs(d - float(np.hypot(e, n))) < 0.005 * np.hypot(e, n)
