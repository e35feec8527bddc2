"""The real live-fire tests (../shared/data/livefire): the same code path as
``shotwatch locate``, scored against the surveyed firing position (survey accurate to
about 2.5 m). A sample of tests per firing position; the full run is
``shotwatch bench --livefire``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shotwatch.bench.livefire import default_livefire_dir, load_tests
from shotwatch.formats import load_input_dir
from shotwatch.geo import LocalFrame
from shotwatch.models import Classification, Incident
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


def test_a_saturated_near_shot_is_picked_at_its_onset() -> None:
    """FP2 test_019, sensor BNQ-0559: the first round saturates the recorder some 60 dB
    above a loud street; the band-pass rang ahead of it and tripped the trigger 6 ms
    early, and the onset was taken in the noise 14 ms before the shot (and the
    classifier's window with it: gunshot score 0.02). The sensor's own report (the
    vendor's pulse, millisecond resolution) marks the onset."""
    from shotwatch.formats import read_clips, read_pulses, read_sensors
    from shotwatch.pipeline import pulses_from_clips

    d = TESTS["test_019"].path
    sensor = "SCP-00-BNQ-0559"
    sensors = read_sensors(d / "audio" / "sensors.csv")
    clips = [c for c in read_clips(d / "audio" / "clips.csv", sensors) if c.sensor_id == sensor]
    picks = pulses_from_clips(clips)
    vendor = read_pulses(d / "pulses" / "pulses.jsonl", read_sensors(d / "pulses" / "sensors.csv"))
    first = min(p.t for p in vendor if p.sensor_id == sensor)
    near = min(picks, key=lambda p: abs(p.t - first))
    assert abs(near.t - first) < 1.5e-3
    assert near.gunshot_score is not None and near.gunshot_score > 0.5


def test_the_reported_radius_holds_most_surveyed_positions() -> None:
    """The reported 95 % radius (`pipeline.RADIUS_*`: the fit's own error, a 1 ms
    timing-model error and 1.5 m common to every sensor) against the survey, which is
    itself good to about 2.5 m: for FP1's nine 3-round tests from the pulses (errors
    2.3-3.0 m), the fit's own radius (median 1.7 m) held the survey point for none of
    the 27 shots; the reported one (median 4.1 m) holds it for all of them, a few
    metres wide still."""
    shots = []
    for tc in TESTS.values():
        if tc.fp != "FP1" or tc.rounds != 3:
            continue
        frame = LocalFrame(tc.lat, tc.lon, tc.elevation_m)
        for inc in locate_input(load_input_dir(tc.path / "pulses")):
            for s in inc.shots:
                e = frame.to_enu(s.lat, s.lon, s.elevation_m)
                shots.append((float(np.hypot(e[0], e[1])), s.error_radius_m))
    err, radius = np.array(shots).T
    assert err.size >= 24
    assert np.mean(err <= radius) >= 0.6
    assert float(np.median(radius)) < 8.0


def _one_alert_from_recordings(test_id: str) -> tuple[Any, Incident]:
    """The test and the one incident its recordings give that is not non-gunfire."""
    tc = TESTS[test_id]
    incidents = locate_input(load_input_dir(tc.path / "audio"))
    alerts = [i for i in incidents if i.classification != Classification.NON_GUNFIRE]
    assert len(alerts) == 1
    return tc, alerts[0]


@pytest.mark.parametrize("test_id", ["test_013", "test_020", "test_033"])
def test_every_round_of_a_group_from_the_recordings_is_at_its_place(test_id: str) -> None:
    """Three-round groups from the recordings. FP1 test_013: the third round reads
    10-21 dB lower SNR than the first at each of the four sensors (the noise before its
    onset holds the earlier rounds' reverberation) though it peaks as high: a round of
    the place by its peak level (``core/associate._level_drop``). FP2 test_020 and
    test_033: one round heard by four sensors fitted exactly 20 m off (a wrong pulse, or
    the other point four arrivals fit); the place the other rounds share explains it
    (``core/associate._shared_roots``)."""
    tc, inc = _one_alert_from_recordings(test_id)
    assert inc.rounds == 3
    frame = LocalFrame(tc.lat, tc.lon, tc.elevation_m)
    for shot in inc.shots:
        assert float(np.hypot(*frame.to_enu(shot.lat, shot.lon, shot.elevation_m)[:2])) < 15.0


@pytest.mark.parametrize("test_id", ["test_034", "test_035"])
def test_a_single_round_heard_weakly_at_one_far_sensor_is_gunfire(test_id: str) -> None:
    """FP2's single rounds from the recordings: five sensors, the farthest one's window
    a weak low-passed copy scoring 0.35; the shot's score is its pulses' median, not
    their mean (test_034: 0.96, not 0.77), and the incident is a gunfire alert."""
    _, inc = _one_alert_from_recordings(test_id)
    assert inc.rounds == 1 and inc.classification == Classification.GUNFIRE
