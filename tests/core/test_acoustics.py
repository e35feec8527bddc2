"""Speed of sound and wind: values computed by hand from the cited formulas."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.core.acoustics import (
    ALPHA_IMPULSE_DB_PER_M,
    GROUND_GAIN_DB,
    source_level_db,
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


def _received_dbfs(level_db: float, r: np.ndarray, full_scale: float) -> np.ndarray:
    """Open-path peaks by the forward model: spreading, absorption, ground gain."""
    return level_db - 20 * np.log10(r) - ALPHA_IMPULSE_DB_PER_M * r + GROUND_GAIN_DB - full_scale


def test_source_level_inverts_spreading_absorption_and_ground_gain() -> None:
    r = np.array([40.0, 180.0, 420.0, 900.0])
    fs = np.full(4, 150.0)
    est = source_level_db(_received_dbfs(156.0, r, 150.0), fs, r)
    assert est == pytest.approx(156.0, abs=1e-9)


def test_source_level_ignores_screened_sensors_and_one_loud_outlier() -> None:
    r = np.array([60.0, 200.0, 300.0, 350.0, 500.0])
    peak = _received_dbfs(150.0, r, 140.0)
    peak[3:] -= 15.0  # behind buildings
    peak[0] += 8.0  # merged with an echo
    est = source_level_db(peak, np.full(5, 140.0), r)
    assert est == pytest.approx(150.0, abs=1e-9)


def test_source_level_clipped_sensor_is_a_lower_bound_and_unknowns_are_skipped() -> None:
    r = np.array([5.0, 300.0, 400.0, 250.0])
    peak = _received_dbfs(158.0, r, 130.0)
    peak[0] = 0.0  # clipped at full scale
    peak[1:3] -= 25.0  # the others screened: read low
    fs = np.array([130.0, 130.0, 130.0, np.nan])  # the last one uncalibrated
    est = source_level_db(peak, fs, r)
    bound = 0.0 + 130.0 + 20 * np.log10(5.0) + ALPHA_IMPULSE_DB_PER_M * 5.0 - GROUND_GAIN_DB
    assert est == pytest.approx(bound)
    assert np.isnan(source_level_db(peak, np.full(4, np.nan), r))
    assert np.isnan(source_level_db(np.zeros(0), np.zeros(0), np.zeros(0)))


def test_source_level_credits_little_absorption_over_kilometres() -> None:
    """A low-frequency impulse (a backfire, 75-150 Hz, about 0.3 dB/km) heard over open
    paths at 60 m and 2.1-2.4 km: the estimate stays near its level, where crediting a
    muzzle blast's absorption at kilometres reads it 4 dB louder, as loud as a gun."""
    r = np.array([60.0, 2150.0, 2430.0, 550.0])
    peak = 151.0 - 20 * np.log10(r) - 0.0003 * r + GROUND_GAIN_DB - 130.0
    peak[3] -= 15.0  # behind buildings
    fs = np.full(4, 130.0)
    assert source_level_db(peak, fs, r) == pytest.approx(151.0, abs=1.5)
    full = source_level_db(peak, fs, r, max_absorption_db=np.inf)
    assert full > 155.0
