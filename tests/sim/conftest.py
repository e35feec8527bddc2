"""Helpers for the simulator tests: small scenarios built in Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shotwatch.sim.scenario import Scenario, scenario_from_dict


def _make_scenario(
    sites: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    *,
    boxes: list[dict[str, float]] | None = None,
    weather: dict[str, float] | None = None,
    exact: bool = True,
    echoes: bool = True,
    background_db: float = 40.0,
) -> Scenario:
    """An explicit scenario; ``exact`` turns off clock, picking and level scatter."""
    doc: dict[str, Any] = {
        "area": {"lat": 40.0, "lon": -80.0, "elevation_m": 200.0, "size_m": [2000, 2000]},
        "sensors": {"layout": "explicit", "sites": sites},
        "buildings": {"mode": "explicit", "boxes": boxes} if boxes else {"mode": "none"},
        "weather": weather or {"temperature_c": 20.0, "relative_humidity": 50.0},
        "noise": {"background_db_spl": background_db, "sensor_sigma_db": 0.0},
        "echoes": {"enabled": echoes},
        "sources": sources,
    }
    if exact:
        doc["noise"]["fluctuation_db"] = 0.0
        doc["timing"] = {"clock_sigma_s": 0.0, "pick_sigma_s": 0.0}
    return scenario_from_dict(doc)


@pytest.fixture(name="make_scenario")
def make_scenario_fixture() -> Callable[..., Scenario]:
    """The factory of explicit test scenarios (see ``_make_scenario``)."""
    return _make_scenario


@pytest.fixture
def shot() -> dict[str, Any]:
    return {"kind": "gunfire", "t_s": 1.0, "east_m": 0.0, "north_m": 0.0, "up_m": 1.5}
