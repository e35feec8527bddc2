"""Features: finite, fixed length, rate-independent; the onset finder; bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from shotwatch.classifier.data import read_audio
from shotwatch.core.classify import find_onsets, strongest_onset
from shotwatch.core.features import (
    FEATURE_NAMES,
    MEL_FRAMES,
    N_MELS,
    N_PRE,
    WINDOW_LEN,
    extract_features,
    log_mel_patch,
    window_at_target,
)
from shotwatch.errors import InputError


def _impulse(rate: int, onset_s: float = 0.5, dur_s: float = 1.5, seed: int = 0) -> np.ndarray:
    """Noise floor plus a Friedlander-like blast (fast rise, exponential decay)."""
    rng = np.random.default_rng(seed)
    n = int(dur_s * rate)
    x = 0.001 * rng.standard_normal(n)
    t = np.arange(n) / rate - onset_s
    on = t >= 0
    x[on] += (1 - t[on] / 0.004) * np.exp(-t[on] / 0.004) * 0.8
    x[on] += 0.05 * rng.standard_normal(int(on.sum())) * np.exp(-t[on] / 0.08)
    return x


@pytest.mark.parametrize("rate", [8000, 12000, 16000, 22050, 44100, 48000, 96000])
def test_features_finite_and_fixed_length(rate: int) -> None:
    x = _impulse(rate)
    f = extract_features(x, rate, int(0.5 * rate))
    assert f.dtype == np.float32
    assert f.shape == (len(FEATURE_NAMES),)
    assert np.all(np.isfinite(f))


def test_features_at_the_edges_of_the_signal() -> None:
    x = _impulse(16000, onset_s=0.001, dur_s=0.1)
    for onset in (0, x.size // 2, x.size - 1):
        assert np.all(np.isfinite(extract_features(x, 16000, onset)))


def test_window_is_aligned_on_the_onset_at_any_rate() -> None:
    for rate in (12000, 16000, 44100, 48000):
        w = window_at_target(_impulse(rate), rate, int(0.5 * rate))
        assert w.shape == (WINDOW_LEN,)
        # the blast starts at sample 240 (20 ms at 12 kHz), within 1 sample
        first = int(np.argmax(np.abs(w) > 0.2))
        assert abs(first - 240) <= 1


def test_log_mel_patch_shape_and_range() -> None:
    p = log_mel_patch(window_at_target(_impulse(12000), 12000, 6000))
    assert p.shape == (N_MELS, MEL_FRAMES)
    assert float(p.max()) == 0.0
    assert float(p.min()) >= -100.0


def _gunshot_file(data_dir: Path) -> Path:
    return next(iter(sorted((data_dir / "audio" / "gunshot").glob("kaggle_*M16*.wav"))))


@pytest.mark.livefire
def test_same_real_clip_at_12k_16k_44k_gives_close_features(data_dir: Path) -> None:
    x, sr = read_audio(_gunshot_file(data_dir))
    onset = int(find_onsets(x, sr)[0])  # mid-clip (the clip's first pick is at its start)
    ref = extract_features(x, sr, onset)
    scale = np.abs(ref) + 1.0
    for rate in (12000, 16000, 44100):
        y = resample_poly(x, rate, sr)
        f = extract_features(y, rate, round(onset * rate / sr))
        rel = np.abs(f - ref) / scale
        assert np.median(rel) < 0.01, rate
        assert np.quantile(rel, 0.95) < 0.1, rate
        assert rel.max() < 0.5, (rate, FEATURE_NAMES[int(np.argmax(rel))])


def test_features_do_not_depend_on_level() -> None:
    x = _impulse(16000)
    a = extract_features(x, 16000, 8000)
    b = extract_features(0.01 * x, 16000, 8000)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    ("samples", "rate", "onset"),
    [
        (np.zeros((10, 2)), 16000, 0),
        (np.array([0.5]), 16000, 0),
        (np.array([0.0, np.nan, 1.0]), 16000, 0),
        (np.ones(100), 16000, 100),
        (np.ones(100), 16000, -1),
        (np.ones(100), 10, 5),
        (np.zeros(1000), 16000, 500),
    ],
)
def test_bad_input_is_an_input_error(samples: np.ndarray, rate: int, onset: int) -> None:
    with pytest.raises(InputError):
        extract_features(samples, rate, onset)


@pytest.mark.parametrize("rate", [12000, 44100])
def test_find_onsets_finds_the_blast_within_a_millisecond(rate: int) -> None:
    x = _impulse(rate, onset_s=0.7)
    on = find_onsets(x, rate)
    assert on.shape == (1,)
    assert abs(int(on[0]) - int(0.7 * rate)) <= rate // 1000


def test_find_onsets_several_strongest_first() -> None:
    rate = 16000
    x = _impulse(rate, onset_s=0.3, dur_s=2.0) + 0.5 * _impulse(
        rate, onset_s=1.2, dur_s=2.0, seed=1
    )
    on = find_onsets(x, rate, max_onsets=3, min_separation_s=0.3)
    assert len(on) >= 2
    assert abs(int(on[0]) - int(0.3 * rate)) <= rate // 1000
    assert abs(int(on[1]) - int(1.2 * rate)) <= rate // 1000


def test_silent_signal_has_no_onset() -> None:
    assert find_onsets(np.zeros(1000), 16000).size == 0
    with pytest.raises(InputError):
        strongest_onset(np.zeros(1000), 16000)


def test_dc_offset_and_slow_drift_do_not_change_the_features() -> None:
    """Regression (issue 4): a DC offset or a sub-audio swing (an overloaded microphone,
    seen in the gabemagee clips) must not move the features; the 200 Hz high-pass
    removes them."""
    rate = 12000
    x = _impulse(rate)
    ref = extract_features(x, rate, 6000)
    t = np.arange(x.size) / rate
    for drift in (0.3 * np.ones(x.size), 0.5 * np.sin(2 * np.pi * 3.0 * t)):
        f = extract_features(x + drift, rate, 6000)
        scale = np.abs(ref) + 1.0
        assert np.median(np.abs(f - ref) / scale) < 0.02


def test_high_pass_keeps_the_onset_and_removes_dc() -> None:
    from shotwatch.core.features import HIGHPASS_HZ, highpass

    w = window_at_target(_impulse(12000), 12000, 6000) + 0.5
    y = highpass(w)
    assert y.shape == w.shape
    assert abs(float(np.mean(y[:200]))) < 1e-3  # the offset is gone from the first sample
    assert abs(int(np.argmax(np.abs(y) > 0.2)) - 240) <= 2  # causal: the onset stays put
    sine = np.sin(2 * np.pi * 20.0 * np.arange(WINDOW_LEN) / 12000)
    assert float(np.std(highpass(sine)[1200:])) < 0.02 * float(np.std(sine))
    assert HIGHPASS_HZ == 200.0


def test_sub_band_onset_jump_tells_a_blast_from_a_slow_swell() -> None:
    rate = 12000
    blast = _impulse(rate)
    rng = np.random.default_rng(5)
    n = blast.size
    t = np.arange(n) / rate - 0.5
    swell = 0.001 * rng.standard_normal(n)
    on = t >= 0
    swell[on] += rng.standard_normal(int(on.sum())) * np.minimum(t[on] / 0.08, 1.0) * 0.5
    names = list(FEATURE_NAMES)
    fb = extract_features(blast, rate, 6000)
    fs = extract_features(swell, rate, 6000)
    for band in ("600_1500", "1500_3000"):
        j = names.index(f"sub_{band}_onset_jump_db")
        assert fb[j] > fs[j] + 10.0, band
        r = names.index(f"sub_{band}_rise_ms")
        assert fb[r] < fs[r]


@pytest.mark.parametrize("rate", [12000, 22050, 48000])
def test_clip_picks_give_the_runtime_onset_even_at_the_start_of_a_clip(rate: int) -> None:
    from shotwatch.core.classify import clip_picks
    from shotwatch.core.picking import pick_onsets

    # with 0.5 s of audio before the blast: the runtime picker's own onset
    x = _impulse(rate, onset_s=0.7)
    runtime = pick_onsets(x, rate)
    assert len(runtime) == 1
    picks = clip_picks(x, rate)
    assert len(picks) == 1
    assert abs(picks[0].onset - float(runtime.onset[0])) <= 1.0
    assert picks[0].snr_db > 20.0
    assert strongest_onset(x, rate) == picks[0].onset
    # a clip that starts on the blast: the picker alone finds nothing, clip_picks does
    x = _impulse(rate, onset_s=0.002)
    assert len(pick_onsets(x, rate)) == 0
    picks = clip_picks(x, rate)
    assert len(picks) == 1
    assert 0 <= picks[0].onset <= 0.002 * rate + 1  # its first sample, rounded
    assert clip_picks(x, rate) == picks  # deterministic


def test_clip_picks_skip_blips_far_under_the_clip_peak() -> None:
    from shotwatch.core.classify import clip_picks

    rate = 16000
    loud = _impulse(rate, onset_s=0.3, dur_s=2.0)
    blip = 0.02 * _impulse(rate, onset_s=1.5, dur_s=2.0, seed=1)
    picks = clip_picks(loud + blip, rate, max_picks=3)
    assert len(picks) == 1
    assert 0.28 * rate <= picks[0].onset <= 0.301 * rate
    both = clip_picks(loud + blip, rate, max_picks=3, max_below_peak_db=60.0)
    assert len(both) == 2
    assert 1.48 * rate <= max(p.onset for p in both) <= 1.501 * rate


def test_clip_picks_of_steady_noise_are_empty() -> None:
    from shotwatch.core.classify import clip_picks

    x = 0.1 * np.random.default_rng(3).standard_normal(32000)
    assert clip_picks(x, 16000) == []
    assert 0 <= strongest_onset(x, 16000) < x.size  # falls back to the energy onset


def _window_reference(x: np.ndarray, rate: int, onset: int) -> np.ndarray:
    """The window as ``scipy.signal.resample_poly`` makes it (the compiled resampler
    computes only the kept samples, with the same arithmetic)."""
    from fractions import Fraction

    from shotwatch.core.features import N_PRE, POST_S, PRE_S, _lowpass

    ratio = Fraction(12000, rate)
    up, down = ratio.numerator, ratio.denominator
    margin = 10 * max(up, down) // up + 4
    pre = int(np.ceil(PRE_S * rate)) + margin
    post = int(np.ceil(POST_S * rate)) + margin
    seg = np.zeros(pre + post)
    a, b = max(onset - pre, 0), min(onset + post, x.size)
    seg[a - onset + pre : b - onset + pre] = x[a:b]
    y = seg if ratio == 1 else resample_poly(seg, up, down, window=_lowpass(up, down))
    s = round(pre * up / down) - N_PRE
    out = np.zeros(WINDOW_LEN)
    part = y[max(s, 0) : s + WINDOW_LEN]
    out[max(-s, 0) : max(-s, 0) + part.size] = part
    return out


@pytest.mark.parametrize("rate", [8000, 12000, 16000, 22050, 44100, 48000, 96000])
def test_window_is_resample_polys_to_the_bit(rate: int) -> None:
    rng = np.random.default_rng(rate)
    x = rng.standard_normal(rate)
    for onset in (0, 17, rate // 2, rate - 1):
        np.testing.assert_array_equal(
            window_at_target(x, rate, onset), _window_reference(x, rate, onset)
        )


def test_filters_are_sosfilts_to_the_bit() -> None:
    from scipy.signal import butter, sosfilt, sosfilt_zi

    from shotwatch.core.features import HIGHPASS_HZ, _sosfilt, _sosfilt4, _subband_sos, highpass

    w = np.random.default_rng(3).standard_normal(WINDOW_LEN) + 0.3
    sos = butter(2, HIGHPASS_HZ, btype="high", fs=12000, output="sos")
    ref, _ = sosfilt(sos, w, zi=sosfilt_zi(sos) * w[0])
    np.testing.assert_array_equal(highpass(w), ref)
    bands, zi = _subband_sos()
    got = _sosfilt(bands, w, zi)
    np.testing.assert_array_equal(_sosfilt4(bands, w, zi), got)
    for k in range(bands.shape[0]):
        np.testing.assert_array_equal(got[k], sosfilt(bands[k], w))


def test_compiled_sums_are_numpys_to_the_bit() -> None:
    from shotwatch.core.features import _frame_power, _pairwise_sum

    rng = np.random.default_rng(7)
    for n in [*range(1, 300), 513, 2832, 3600, 3840, 10007]:
        a = rng.standard_normal(n + 9) * 10.0 ** rng.uniform(-6, 6, n + 9)
        assert _pairwise_sum(a, 5, n) == a[5 : 5 + n].sum(), n
    w = rng.standard_normal(WINDOW_LEN)
    for frame in (12, 24):
        np.testing.assert_array_equal(
            _frame_power(w, frame), np.mean(w.reshape(-1, frame) ** 2, axis=1)
        )


def _windows() -> list[np.ndarray]:
    """Windows of blasts with noise, pure noise, a tone burst and a near-silent click."""
    rng = np.random.default_rng(11)
    out = []
    for seed in range(4):
        w = window_at_target(_impulse(16000, seed=seed), 16000, 8000)
        out.append(w + 0.01 * rng.standard_normal(w.size))
    out.append(rng.standard_normal(WINDOW_LEN))
    t = np.arange(WINDOW_LEN) / 12000.0
    out.append(np.sin(2 * np.pi * 900.0 * t) * (t > 0.02) * np.exp(-(t - 0.02) / 0.05) + 0.3)
    click = 1e-9 * rng.standard_normal(WINDOW_LEN)
    click[N_PRE] += 1e-6
    out.append(click)
    return out


def test_features_are_the_plain_numpy_features_to_the_bit() -> None:
    from shotwatch.core.features import features_from_window

    from . import features_reference as ref

    for w in _windows():
        np.testing.assert_array_equal(features_from_window(w), ref.features_from_window(w))


def test_compiled_subband_and_spectral_features_are_numpys_to_the_bit() -> None:
    from shotwatch.core.features import _band_abs, _power, _prepare, _spectral, _subband_features

    from . import features_reference as ref

    sos, zi = ref._highpass_sos()
    for window in _windows():
        w = _prepare(window, sos[None], zi[None])
        assert _subband_features(w) == ref._subband_features(w)
        segs = (w[216:984], w[1008:], w[:N_PRE])
        pw = np.stack([_power(s) for s in segs])
        got = _spectral(pw[:2])
        for k in range(2):
            assert got[k].tolist() == ref._spectral(pw[k])
        lens = np.array([s.size for s in segs], dtype=np.float64)
        got = _band_abs(pw, lens)
        for k in range(3):
            assert got[k].tolist() == ref._band_abs(pw[k], segs[k].size)


def test_features_of_many_onsets_are_those_of_each() -> None:
    from shotwatch.core.features import extract_features_many

    x = _impulse(22050, dur_s=2.0)
    onsets = np.array([0, 100, 11025, 44099])
    got = extract_features_many(x, 22050, onsets)
    want = np.stack([extract_features(x, 22050, int(o)) for o in onsets])
    np.testing.assert_array_equal(got, want)
    with pytest.raises(InputError):
        extract_features_many(x, 22050, np.array([5, x.size]))
