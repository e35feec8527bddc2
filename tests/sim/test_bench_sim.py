"""Speed of the pulses-only simulator on a big city (a benchmark, not a timed test:
``pytest tests/sim/test_bench_sim.py --benchmark-enable`` reports the figures)."""

from __future__ import annotations

from typing import Any

import pytest

from shotwatch.sim import city_scene, simulate


@pytest.mark.slow
def test_bench_city_pulses_only(benchmark: Any) -> None:
    sc = city_scene(7, n_sensors=1000, hours=0.25)
    res = benchmark.pedantic(simulate, args=(sc, 7), rounds=1, iterations=1)
    assert len(res.sensors) == 1000
    heard = {a["sensor_id"] for e in res.truth["events"] for a in e["arrivals"]}
    assert len(heard) > 500  # background impulses reach most of the city's sensors
    assert res.pulses == sorted(res.pulses, key=lambda p: (p.t, p.sensor_id))
