"""Physics-derived checks of the simulator: arrival times, blocking, echoes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shotwatch.core.acoustics import speed_of_sound, travel_time, wind_vector
from shotwatch.sim import simulate
from shotwatch.timeutil import parse_utc

T0 = parse_utc("2026-07-04T21:00:00Z")


def _first(result, sensor_id):  # type: ignore[no-untyped-def]
    ev = result.truth["events"][0]
    arr = [a for a in ev["arrivals"] if a["sensor_id"] == sensor_id]
    return min(arr, key=lambda a: parse_utc(a["t_utc"])) if arr else None


def test_open_field_arrival_is_distance_over_c(make_scenario, shot):  # type: ignore[no-untyped-def]
    sites = [
        {"id": "A", "east_m": 300.0, "north_m": 0.0, "height_m": 6.0},
        {"id": "B", "east_m": -120.0, "north_m": 250.0, "height_m": 10.0},
    ]
    res = simulate(make_scenario(sites, [shot]), seed=1)
    c = float(speed_of_sound(20.0, 50.0))
    for s in sites:
        d = math.dist((0.0, 0.0, 1.5), (s["east_m"], s["north_m"], s["height_m"]))
        a = _first(res, s["id"])
        assert a is not None and a["path"] == "direct"
        assert a["true_travel_s"] == pytest.approx(d / c, abs=1e-7)
        assert parse_utc(a["t_utc"]) - (T0 + 1.0) == pytest.approx(d / c, abs=2e-6)
    # the pulses carry the same times, sorted, and nothing of the truth
    times = [p.t for p in res.pulses]
    assert times == sorted(times)
    assert all(p.gunshot_score is None and not p.features for p in res.pulses)


def test_wind_shifts_arrival_as_core_acoustics(make_scenario, shot):  # type: ignore[no-untyped-def]
    sites = [
        {"id": "E", "east_m": 400.0, "north_m": 0.0, "height_m": 5.0},
        {"id": "W", "east_m": -400.0, "north_m": 0.0, "height_m": 5.0},
    ]
    calm = simulate(make_scenario(sites, [shot]), seed=2)
    wx = {
        "temperature_c": 20.0,
        "relative_humidity": 50.0,
        "wind_speed_mps": 8.0,
        "wind_from_deg": 270.0,
    }
    windy = simulate(make_scenario(sites, [shot], weather=wx), seed=2)
    c = float(speed_of_sound(20.0, 50.0))
    w = wind_vector(8.0, 270.0)
    for s in sites:
        rcv = np.array([[s["east_m"], s["north_m"], s["height_m"]]])
        expect = float(travel_time(np.array([0.0, 0.0, 1.5]), rcv, c, w)[0])
        assert _first(windy, s["id"])["true_travel_s"] == pytest.approx(expect, abs=1e-7)
    # a west wind blows towards the east: downwind earlier, upwind later than calm air
    assert _first(windy, "E")["true_travel_s"] < _first(calm, "E")["true_travel_s"] - 1e-3
    assert _first(windy, "W")["true_travel_s"] > _first(calm, "W")["true_travel_s"] + 1e-3


def test_building_makes_first_arrival_later_and_weaker(make_scenario, shot):  # type: ignore[no-untyped-def]
    sites = [{"id": "S", "east_m": 200.0, "north_m": 0.0, "height_m": 5.0}]
    box = {
        "east_min": 90.0,
        "east_max": 110.0,
        "north_min": -150.0,
        "north_max": 150.0,
        "height_m": 20.0,
    }
    open_ = simulate(make_scenario(sites, [shot], echoes=False), seed=3)
    blocked = simulate(make_scenario(sites, [shot], boxes=[box], echoes=False), seed=3)
    a0, a1 = _first(open_, "S"), _first(blocked, "S")
    assert a0["path"] == "direct" and a1["path"] == "diffracted"
    c = float(speed_of_sound(20.0, 50.0))
    # rubber band over the roof: source -> near roof edge -> far roof edge -> sensor
    over = math.hypot(90.0, 20.0 - 1.5) + 20.0 + math.hypot(90.0, 20.0 - 5.0)
    assert a1["true_travel_s"] == pytest.approx(over / c, abs=1e-7)
    assert a1["true_travel_s"] > a0["true_travel_s"]
    p0 = next(p for p in open_.pulses if p.sensor_id == "S")
    p1 = next(p for p in blocked.pulses if p.sensor_id == "S")
    assert p0.snr_db is not None and p1.snr_db is not None
    assert p0.snr_db - p1.snr_db > 8.0  # screening loss (ISO 9613-2), not just spreading


def test_narrow_building_is_passed_around_the_side(make_scenario, shot):  # type: ignore[no-untyped-def]
    # a narrow, tall tower: going round its corner is shorter than going over it
    sites = [{"id": "S", "east_m": 200.0, "north_m": 0.0, "height_m": 5.0}]
    box = {
        "east_min": 95.0,
        "east_max": 105.0,
        "north_min": -4.0,
        "north_max": 6.0,
        "height_m": 80.0,
    }
    res = simulate(make_scenario(sites, [shot], boxes=[box], echoes=False), seed=4)
    a = _first(res, "S")
    c = float(speed_of_sound(20.0, 50.0))
    plan = math.hypot(95.0, 4.0) + 10.0 + math.hypot(95.0, 4.0)  # around the south side
    side = math.hypot(plan, 5.0 - 1.5)
    assert a["path"] == "diffracted"
    assert a["true_travel_s"] == pytest.approx(side / c, rel=1e-6)


def test_facade_echo_arrives_after_direct_by_the_image_source_delay(make_scenario, shot):  # type: ignore[no-untyped-def]
    # a wall 10 m behind the shooter (west), the sensor 150 m east: image source 20 m behind
    sites = [{"id": "S", "east_m": 150.0, "north_m": 0.0, "height_m": 5.0}]
    box = {
        "east_min": -40.0,
        "east_max": -10.0,
        "north_min": -30.0,
        "north_max": 30.0,
        "height_m": 15.0,
    }
    res = simulate(make_scenario(sites, [shot], boxes=[box]), seed=5)
    arr = sorted(res.truth["events"][0]["arrivals"], key=lambda a: a["t_utc"])
    assert arr[0]["path"] == "direct"
    echoes = [a for a in arr if a["path"] == "echo"]
    assert echoes, "expected a facade echo"
    c = float(speed_of_sound(20.0, 50.0))
    direct = math.dist((0, 0, 1.5), (150, 0, 5))
    image = math.dist((-20, 0, 1.5), (150, 0, 5))
    delay = parse_utc(echoes[0]["t_utc"]) - parse_utc(arr[0]["t_utc"])
    assert delay == pytest.approx((image - direct) / c, abs=2e-6)
    assert 0.005 < delay < 0.08


def test_far_sensor_does_not_hear_a_weak_source(make_scenario):  # type: ignore[no-untyped-def]
    sites = [
        {"id": "near", "east_m": 30.0, "north_m": 0.0, "height_m": 5.0},
        {"id": "far", "east_m": 1500.0, "north_m": 0.0, "height_m": 5.0},
    ]
    door = {"kind": "door_slam", "t_s": 1.0, "east_m": 0.0, "north_m": 0.0}
    res = simulate(make_scenario(sites, [door], background_db=60.0), seed=6)
    heard = {p.sensor_id for p in res.pulses}
    assert heard == {"near"}
    assert all(p.snr_db is not None and p.snr_db >= 10.0 for p in res.pulses)


def test_clock_and_pick_errors_are_in_the_reported_time(make_scenario, shot):  # type: ignore[no-untyped-def]
    sites = [
        {"id": f"S{i}", "east_m": 100.0 * i, "north_m": 50.0, "height_m": 8.0} for i in range(1, 6)
    ]
    sc = make_scenario(sites, [shot], exact=False)
    res = simulate(sc, seed=7)
    for a in res.truth["events"][0]["arrivals"]:
        expect = T0 + 1.0 + a["true_travel_s"] + a["clock_error_s"] + a["pick_error_s"]
        assert parse_utc(a["t_utc"]) == pytest.approx(expect, abs=2e-6)
    errs = [a["clock_error_s"] for a in res.truth["events"][0]["arrivals"]]
    assert any(e != 0.0 for e in errs)
    assert all(abs(e) < 6 * sc.timing.clock_sigma_s for e in errs)


def test_wall_behind_the_sensor_echoes_the_direct_sound(make_scenario, shot):  # type: ignore[no-untyped-def]
    # a wall 10 m behind the sensor (east of it), far from the source: a sensor-side echo
    sites = [{"id": "S", "east_m": 150.0, "north_m": 0.0, "height_m": 5.0}]
    box = {
        "east_min": 160.0,
        "east_max": 190.0,
        "north_min": -30.0,
        "north_max": 30.0,
        "height_m": 15.0,
    }
    res = simulate(make_scenario(sites, [shot], boxes=[box]), seed=8)
    arr = sorted(res.truth["events"][0]["arrivals"], key=lambda a: a["t_utc"])
    assert arr[0]["path"] == "direct"
    echoes = [a for a in arr if a["path"] == "echo"]
    assert len(echoes) == 1
    c = float(speed_of_sound(20.0, 50.0))
    direct = math.dist((0, 0, 1.5), (150, 0, 5))
    image = math.dist((320, 0, 1.5), (150, 0, 5))
    assert echoes[0]["true_travel_s"] == pytest.approx(image / c, abs=1e-7)
    assert echoes[0]["true_travel_s"] - arr[0]["true_travel_s"] == pytest.approx(
        (image - direct) / c, abs=1e-7
    )
