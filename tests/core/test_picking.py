"""Onset picking on synthetic impulses in noise, any sample rate; the vectorised
STA/LTA against its slow reference."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.core.picking import _sta_lta_py, pick_onsets, sta_lta


def _impulse_train(sr: int, onsets_s: list[float], snr_db: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(3.0 * sr)
    noise_rms = 1e-3
    x = rng.normal(0, noise_rms, n)
    t = np.arange(int(0.01 * sr)) / sr
    # Friedlander-like blast: instant rise, decaying positive phase, negative tail
    pulse = (1 - t / 0.0015) * np.exp(-t / 0.0015)
    amp = noise_rms * 10 ** (snr_db / 20) * 3
    for o in onsets_s:
        i = int(np.floor(o * sr))
        frac = o * sr - i
        # place at a fractional sample by sampling the analytic pulse
        tt = (np.arange(pulse.size) - frac) / sr
        p = np.where(tt >= 0, (1 - tt / 0.0015) * np.exp(-np.maximum(tt, 0) / 0.0015), 0.0)
        x[i : i + p.size] += amp * p
    return x


@pytest.mark.parametrize("sr", [8000, 12000, 16000, 44100, 48000])
def test_picks_each_impulse_at_its_onset(sr: int) -> None:
    onsets = [0.8123, 1.5017, 2.3311]
    x = _impulse_train(sr, onsets, snr_db=30)
    picks = pick_onsets(x, sr)
    assert len(picks) == 3
    err = picks.times(sr) - np.array(onsets)
    assert np.max(np.abs(err)) < 1.5 / sr  # within 1.5 samples at any rate
    assert np.all(picks.snr_db > 20)
    assert np.all(picks.sigma > 0)


def test_median_error_at_16k_below_a_tenth_of_a_millisecond() -> None:
    sr = 16000
    errs = []
    for seed in range(20):
        onsets = [0.7 + 0.37 * seed % 1.0 + 0.6 * k + 1e-5 * seed for k in range(3)]
        x = _impulse_train(sr, onsets, snr_db=25, seed=seed)
        picks = pick_onsets(x, sr)
        for o in onsets:
            errs.append(np.min(np.abs(picks.times(sr) - o)))
    assert np.median(errs) < 1e-4


def test_silence_and_noise_give_no_picks() -> None:
    sr = 16000
    assert len(pick_onsets(np.zeros(sr * 2), sr)) == 0
    rng = np.random.default_rng(0)
    assert len(pick_onsets(rng.normal(0, 0.01, sr * 3), sr)) == 0


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="1-D"):
        pick_onsets(np.zeros((10, 2)), 16000)
    with pytest.raises(ValueError, match="NaN"):
        pick_onsets(np.array([0.0, np.nan] * 20000), 16000)
    assert len(pick_onsets(np.zeros(10), 16000)) == 0  # too short to pick: nothing


def test_sta_lta_matches_reference() -> None:
    rng = np.random.default_rng(2)
    cf = rng.random(600) ** 4
    assert sta_lta(cf, 5, 50) == pytest.approx(_sta_lta_py(cf, 5, 50), rel=1e-9, abs=1e-12)
