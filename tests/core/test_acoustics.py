"""Speed of sound and wind: values computed by hand from the cited formulas."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.core.acoustics import (
    speed_of_sound,
    travel_time,
    travel_time_and_gradient,
    wind_vector,
)


def test_speed_of_sound_dry_air_matches_ideal_gas() -> None:
    # Dry air: c = 331.29 sqrt(T / 273.15); at 20 degC that is 343.2 m/s.
    assert speed_of_sound(20.0, 0.0) == pytest.approx(331.29 * np.sqrt(293.15 / 273.15), rel=1e-9)
    assert speed_of_sound(0.0, 0.0) == pytest.approx(331.29, rel=1e-9)


def test_humidity_raises_speed_slightly() -> None:
    dry, wet = speed_of_sound(30.0, 0.0), speed_of_sound(30.0, 100.0)
    # Cramer (1993): about +0.6 % at 30 degC saturated; must be within 0.3..1.0 %
    assert 1.003 < wet / dry < 1.010


@pytest.mark.parametrize("t", [-80.0, 75.0, float("nan")])
def test_temperature_out_of_range(t: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        speed_of_sound(t)


def test_wind_from_north_blows_south() -> None:
    w = wind_vector(10.0, 0.0)
    assert w == pytest.approx([0.0, -10.0, 0.0], abs=1e-12)


def test_downwind_arrival_is_earlier_by_hand() -> None:
    c, d = 340.0, 1000.0
    src = np.zeros(3)
    rx = np.array([[d, 0.0, 0.0], [-d, 0.0, 0.0]])
    w = wind_vector(10.0, 270.0)  # from the west: blows east
    t = travel_time(src, rx, c, w)
    # Along the wind: d / (c + 10); against: d / (c - 10) (exact for a collinear path).
    assert t[0] == pytest.approx(d / (c + 10.0), rel=1e-12)
    assert t[1] == pytest.approx(d / (c - 10.0), rel=1e-12)


def test_crosswind_time_by_hand() -> None:
    c, d, v = 340.0, 500.0, 15.0
    t = travel_time(np.zeros(3), np.array([[0.0, d, 0.0]]), c, wind_vector(v, 270.0))
    # Crosswind: the ray must head upwind; |d - w t| = c t gives t = d / sqrt(c^2 - v^2).
    assert t[0] == pytest.approx(d / np.sqrt(c * c - v * v), rel=1e-12)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    rx = rng.uniform(-400, 400, (6, 3))
    src = np.array([10.0, -20.0, 3.0])
    w = wind_vector(7.0, 130.0)
    _, g = travel_time_and_gradient(src, rx, 343.0, w)
    h = 1e-3
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (travel_time(src + e, rx, 343.0, w) - travel_time(src - e, rx, 343.0, w)) / (2 * h)
        assert g[:, k] == pytest.approx(fd, rel=1e-6, abs=1e-12)
