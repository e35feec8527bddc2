"""Audio mode: onsets at the truth samples, level falling with distance."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.sim import simulate
from shotwatch.sim.propagation import friedlander, friedlander_spectrum
from shotwatch.timeutil import parse_utc


def test_onset_at_truth_sample_and_level_falls_with_distance(make_scenario, shot):  # type: ignore[no-untyped-def]
    sites = [
        {"id": "near", "east_m": 80.0, "north_m": 10.0, "height_m": 6.0},
        {"id": "mid", "east_m": -150.0, "north_m": 200.0, "height_m": 9.0},
        {"id": "far", "east_m": 0.0, "north_m": -600.0, "height_m": 12.0},
    ]
    sc = make_scenario(sites, [shot], exact=False, background_db=30.0)
    sr = 16000
    res = simulate(sc, seed=11, audio=True, sample_rate=sr)
    assert set(res.clips) == {"near", "mid", "far"}
    peaks = {}
    for a in res.truth["events"][0]["arrivals"]:
        if a["path"] != "direct":
            continue
        clip = res.clips[a["sensor_id"]]
        assert clip.sample_rate == sr
        # the waveform holds the physical onset: truth time without the picker's error;
        # the synthesis is causal (minimum-phase path filters), so nothing precedes it
        expect = (parse_utc(a["t_utc"]) - a["pick_error_s"] - clip.start) * sr
        x = clip.samples
        seg = x[int(expect) - 200 : int(expect) + 400]
        peak = float(np.max(np.abs(seg)))
        onset = int(expect) - 200 + int(np.argmax(np.abs(seg) >= 0.02 * peak))
        assert abs(onset - expect) <= 1.0, (a["sensor_id"], onset, expect)
        n0 = int(np.floor(expect))
        assert np.max(np.abs(x[n0 - 100 : n0])) < 0.01 * peak  # causal: no pre-echo
        peaks[a["sensor_id"]] = peak
    assert set(peaks) == {"near", "mid", "far"}
    assert peaks["near"] > peaks["mid"] > peaks["far"]
    # spherical spreading dominates: ~20 log10 of the distance ratio (+- absorption etc.)
    ratio_db = 20 * np.log10(peaks["near"] / peaks["far"])
    assert 8.0 < ratio_db < 28.0  # +- muzzle directivity (random aim)


def test_friedlander_spectrum_matches_a_sampled_waveform() -> None:
    # slow reference: sample the time-domain wave finely and take its DFT
    sr, n, t_star, ps = 1_000_000, 1 << 16, 1e-3, 200.0
    t = np.arange(n) / sr
    x = friedlander(t, ps, t_star)
    ref = np.fft.rfft(x) / sr
    f = np.fft.rfftfreq(n, 1 / sr)
    fast = friedlander_spectrum(f, ps, t_star)
    sel = f < 5000
    # the discrete first sample adds half a sample of the jump: compare within that
    assert np.allclose(fast[sel], ref[sel], atol=ps / sr)


def test_audio_refuses_a_huge_scene(make_scenario, shot):  # type: ignore[no-untyped-def]
    from shotwatch.errors import InputError
    from shotwatch.sim.scenario import scenario_from_dict

    sc = make_scenario([{"id": "A", "east_m": 10.0, "north_m": 0.0}], [shot])
    big = scenario_from_dict({**sc.model_dump(), "duration_s": 400_000.0})
    with pytest.raises(InputError, match="small scenes"):
        simulate(big, seed=1, audio=True, sample_rate=48000)


def test_rifle_shock_wave_precedes_the_blast_downrange_only() -> None:
    from pathlib import Path

    from shotwatch.sim import load_scenario

    examples = Path(__file__).resolve().parents[2] / "src" / "shotwatch" / "sim" / "examples"
    sc = load_scenario(examples / "open_field.yaml")  # rifle aimed north-east (45 deg)
    sr = 16000
    res = simulate(sc, seed=1, audio=True, sample_rate=sr)
    before = {}
    for a in res.truth["events"][0]["arrivals"]:
        if a["path"] != "direct":
            continue
        clip = res.clips[a["sensor_id"]]
        n = int((parse_utc(a["t_utc"]) - a["pick_error_s"] - clip.start) * sr)
        blast = float(np.max(np.abs(clip.samples[n : n + 100])))
        before[a["sensor_id"]] = float(np.max(np.abs(clip.samples[n - 3000 : n - 5]))) / blast
    assert before["N2"] > 1.0  # downrange (north-east): the N-wave comes first, and louder
    assert before["N4"] < 0.05 and before["N1"] < 0.05  # behind / beside the shooter
