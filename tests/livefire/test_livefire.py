"""The real live-fire tests (../shared/data/livefire): the same code path as
``shotwatch locate``, scored against the surveyed firing position (survey accurate to
about 2.5 m). A sample of tests per firing position; the full run is
``shotwatch bench --livefire``."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.bench.livefire import default_livefire_dir, load_tests
from shotwatch.formats import load_input_dir
from shotwatch.geo import LocalFrame
from shotwatch.models import Classification
from shotwatch.pipeline import locate_input

pytestmark = pytest.mark.livefire

ROOT = default_livefire_dir()
TESTS = {t.test: t for t in load_tests(ROOT)} if (ROOT / "tests.csv").exists() else {}


def test_data_is_there() -> None:
    # CI runs beside ../shared: a missing data set must fail loudly, not skip.
    assert len(TESTS) == 72, f"live-fire data not found at {ROOT}"


@pytest.mark.parametrize("test_id", ["test_001", "test_004", "test_019", "test_040", "test_061"])
def test_pulses_view_one_gunfire_incident_with_every_round(test_id: str) -> None:
    tc = TESTS[test_id]
    incidents = locate_input(load_input_dir(tc.path / "pulses"))
    alerts = [i for i in incidents if i.classification != Classification.NON_GUNFIRE]
    assert len(alerts) == 1
    inc = alerts[0]
    assert inc.rounds == tc.rounds
    assert inc.classification == Classification.GUNFIRE
    frame = LocalFrame(tc.lat, tc.lon, tc.elevation_m)
    for shot in inc.shots:
        e = frame.to_enu(shot.lat, shot.lon, shot.elevation_m)
        assert float(np.hypot(e[0], e[1])) < 15.0


@pytest.mark.parametrize("test_id", ["test_004", "test_022"])
def test_audio_view_locates_the_shot(test_id: str) -> None:
    tc = TESTS[test_id]
    incidents = locate_input(load_input_dir(tc.path / "audio"), score=False)
    frame = LocalFrame(tc.lat, tc.lon, tc.elevation_m)
    errs = [
        float(np.hypot(*frame.to_enu(s.lat, s.lon, s.elevation_m)[:2]))
        for i in incidents
        for s in i.shots
    ]
    assert errs and min(errs) < 25.0
