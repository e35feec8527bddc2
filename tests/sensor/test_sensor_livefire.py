"""The agent on real city-sensor recordings (Pittsburgh live-fire test, ShotSpotter release).

Each clip's pulses are compared with the pulses ShotSpotter's own sensor reported for the
same audio (``t_utc`` at millisecond resolution): a benchmark of the whole edge chain on
the sound a city sensor really hears, and a guard against artefacts of real recordings
(the clips start with a second of exact zeros).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shotwatch.formats import read_clips, read_pulses
from shotwatch.sensor import SensorAgent, decode_clip
from shotwatch.settings import default_shared_data

TESTS = ["FP1/test_001", "FP1/test_004", "FP2/test_025", "FP3/test_040", "FP4/test_061"]
MATCH_S = 0.005


@pytest.fixture(scope="module")
def livefire() -> Path:
    d = default_shared_data() / "livefire"
    assert (d / "tests.csv").is_file(), f"live-fire data missing at {d}"
    return d


@pytest.mark.livefire
@pytest.mark.slow
def test_agent_finds_the_pulses_a_city_sensor_reported(livefire: Path) -> None:
    n_ref = n_matched = n_ours = 0
    offsets: list[float] = []
    for name in TESTS:
        test = livefire / name
        reported = read_pulses(test / "pulses" / "pulses.jsonl")
        for clip in read_clips(test / "audio" / "clips.csv"):
            sr = clip.sample_rate
            nz = np.flatnonzero(clip.samples)
            audio_from = clip.start + nz[0] / sr
            # compare where both could pick: after the long-term-average warm-up
            lo, hi = audio_from + 0.6, clip.start + (nz[-1] + 1) / sr - 0.06
            ref = np.array(
                sorted(p.t for p in reported if p.sensor_id == clip.sensor_id and lo <= p.t < hi)
            )
            agent = SensorAgent(
                clip.sensor_id, sample_rate=sr, start_utc=clip.start, classifier=None
            )
            pulses = []
            for i in range(0, len(clip.samples), sr // 10):
                pulses += agent.process(clip.samples[i : i + sr // 10])
            pulses += agent.finish()
            t = np.array([p.t for p in pulses])
            assert np.all(t >= audio_from - 1e-3), f"{name} {clip.sensor_id}: pulse on a dropout"
            ours = t[(t >= lo) & (t < hi)]
            n_ref += len(ref)
            n_ours += len(ours)
            for r in ref:
                if len(ours) and np.min(np.abs(ours - r)) < MATCH_S:
                    n_matched += 1
                    offsets.append(float(ours[np.argmin(np.abs(ours - r))] - r))
            if pulses:
                samples, clip_sr, start = decode_clip(pulses[0].clip)
                assert np.any(samples), "a clip of real sound, not of the dropout"
                assert clip_sr == sr and abs(start + pulses[0].clip["onset_s"] - pulses[0].t) < 1e-6
    rate = n_matched / n_ref
    off = np.array(offsets)
    within_1ms = 100 * np.mean(np.abs(off) < 1e-3)
    print(
        f"\nlive-fire {len(TESTS)} tests: {n_matched}/{n_ref} ({100 * rate:.1f} %) of the "
        f"sensors' own pulses matched within {MATCH_S * 1e3:.0f} ms; {n_ours} pulses of ours; "
        f"offset median {np.median(off) * 1e3:+.2f} ms, |offset| < 1 ms {within_1ms:.0f} %"
    )
    assert rate >= 0.6, "the agent misses most of what a city sensor reports"
