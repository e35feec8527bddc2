"""Seeded scene generators: every kind runs, the truth describes the incident, and a
dense-urban handgun shot is heard by a handful of sensors, several of them behind
buildings (the regime deployed systems work in)."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.sim import city_scene, simulate, urban_scene
from shotwatch.sim.scenes import KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_urban_scene_kinds(kind: str) -> None:
    sc = urban_scene(3, kind)
    assert sc == urban_scene(3, kind)  # seeded
    res = simulate(sc, seed=3)
    inc = res.truth["incidents"]
    assert len(inc) == 1
    expect_kind = (
        "gunfire" if kind in ("single", "multi_round", "two_shooters", "mobile", "open") else kind
    )
    assert inc[0]["kind"] == expect_kind
    assert inc[0]["rounds"] == len(res.truth["events"]) >= 1
    if kind == "two_shooters":
        assert inc[0]["shooters"] == 2
        assert {e["shooter"] for e in res.truth["events"]} == {0, 1}
    if kind == "mobile":
        assert inc[0]["mobile"] and 3.0 <= inc[0]["speed_mps"] <= 25.0
        assert inc[0]["heading_deg"] in (0.0, 90.0, 180.0, 270.0)
        east = [e["east_m"] for e in res.truth["events"]]
        north = [e["north_m"] for e in res.truth["events"]]
        assert max(np.ptp(east), np.ptp(north)) > 1.0  # the shooter moved
    if kind == "open":
        assert len(res.buildings) == 0
        # every first arrival is direct; later ones can only be ground reflections
        first: dict[str, str] = {}
        for a in sorted(res.truth["events"][0]["arrivals"], key=lambda a: a["t_utc"]):
            first.setdefault(a["sensor_id"], a["path"])
        assert set(first.values()) == {"direct"} and len(first) >= 8
        paths = {a["path"] for e in res.truth["events"] for a in e["arrivals"]}
        assert "diffracted" not in paths
    if kind == "fireworks":
        assert all(e["up_m"] >= 1.0 for e in res.truth["events"])
        assert max(e["up_m"] for e in res.truth["events"]) >= 30.0


def test_dense_urban_handgun_is_heard_by_a_handful_of_sensors() -> None:
    heard, behind = [], []
    for seed in range(8):
        sc = urban_scene(seed, "single")
        sc = sc.model_copy(
            update={
                "sources": [
                    sc.sources[0].model_copy(
                        update={
                            "shooters": [
                                sc.sources[0].shooters[0].model_copy(update={"weapon": "handgun"})  # type: ignore[union-attr]
                            ]
                        }
                    )
                ]
            }
        )
        res = simulate(sc, seed=seed)
        first: dict[str, str] = {}
        for a in sorted(res.truth["events"][0]["arrivals"], key=lambda a: a["t_utc"]):
            first.setdefault(a["sensor_id"], a["path"])
        heard.append(len(first))
        behind.append(sum(p == "diffracted" for p in first.values()))
    assert 4 <= float(np.median(heard)) <= 12
    assert float(np.median(behind)) >= 2


def test_city_scene_small_and_consistent() -> None:
    sc = city_scene(5, n_sensors=60, hours=0.1)
    res = simulate(sc, seed=5)
    assert len(res.sensors) == 60
    kinds = {i["kind"] for i in res.truth["incidents"]}
    assert kinds & {"door_slam", "backfire", "firecrackers"}
    pulses = {(p.sensor_id, p.to_json()["t_utc"]) for p in res.pulses}
    arrivals = {(a["sensor_id"], a["t_utc"]) for e in res.truth["events"] for a in e["arrivals"]}
    assert arrivals <= pulses
    # spurious noise picks are pulses without any event behind them
    assert len(pulses) >= len(arrivals)
    assert all(res.start <= p.t <= res.end + 10.0 for p in res.pulses)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scene kind"):
        urban_scene(1, "meteor")
