"""Physical simulator of a city deployment of acoustic gunshot sensors.

Stable API (the bench and the demo use it)::

    from shotwatch.sim import load_scenario, simulate, write_outputs, urban_scene, city_scene
    result = simulate(load_scenario("downtown.yaml"), seed=1, audio=False)
    write_outputs(result, "out/")

Command line: ``shotwatch simulate SCENARIO -o DIR [--seed N] [--audio] [--sample-rate HZ]``
where SCENARIO is a YAML/JSON file (schema in :mod:`shotwatch.sim.scenario`), a bundled
example (``downtown_multi``, ``confusers``, ``open_field``), ``urban:KIND`` or
``city:N_SENSORS:HOURS``.

Names are imported lazily so that ``shotwatch --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shotwatch.sim.engine import SimResult, simulate
    from shotwatch.sim.output import write_outputs
    from shotwatch.sim.scenario import Scenario, load_scenario, scenario_from_dict
    from shotwatch.sim.scenes import city_scene, urban_scene

_EXPORTS = {
    "Scenario": "shotwatch.sim.scenario",
    "load_scenario": "shotwatch.sim.scenario",
    "scenario_from_dict": "shotwatch.sim.scenario",
    "SimResult": "shotwatch.sim.engine",
    "simulate": "shotwatch.sim.engine",
    "write_outputs": "shotwatch.sim.output",
    "urban_scene": "shotwatch.sim.scenes",
    "city_scene": "shotwatch.sim.scenes",
}

__all__ = [
    "Scenario",
    "SimResult",
    "city_scene",
    "load_scenario",
    "scenario_from_dict",
    "simulate",
    "urban_scene",
    "write_outputs",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'shotwatch.sim' has no attribute {name!r}")
