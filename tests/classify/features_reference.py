"""The window's features as first written in plain numpy and scipy (before the compiled
kernels of :mod:`shotwatch.core.features`): the oracle its tests compare with, to the
bit. The one change: the kurtosis's fourth powers of |x|, as the package computes them
(numpy's power rounds a few negative-base results an ulp differently)."""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt, sosfilt_zi

from shotwatch.core.features import (
    _BAND_EDGES_HZ,
    _DB_FLOOR,
    _EPS,
    _FRAME,
    _HEAD,
    _MEL_FMAX,
    _MEL_FMIN,
    _N_FRAMES,
    _NFFT,
    _ONSET_FRAME,
    _POOL_BANDS,
    _POOL_BLOCKS,
    _SUB_FRAME,
    _SUB_N,
    _SUB_ON,
    _SUBBANDS_HZ,
    HIGHPASS_HZ,
    MEL_FRAMES,
    MEL_HOP,
    MEL_NFFT,
    N_MELS,
    N_PRE,
    TARGET_RATE,
    WINDOW_LEN,
)
from shotwatch.errors import InputError


@lru_cache(maxsize=1)
def _highpass_sos() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Second-order sections of the ``HIGHPASS_HZ`` high-pass and their unit-step state."""
    sos: NDArray[np.float64] = butter(2, HIGHPASS_HZ, btype="high", fs=TARGET_RATE, output="sos")
    zi: NDArray[np.float64] = sosfilt_zi(sos)
    return sos, zi


def highpass(window: NDArray[np.float64]) -> NDArray[np.float64]:
    """``window`` through the ``HIGHPASS_HZ`` high-pass at ``TARGET_RATE`` (causal: onsets
    stay put), started in the steady state of its first sample (no start-up transient)."""
    sos, zi = _highpass_sos()
    w = np.asarray(window, dtype=np.float64)
    y, _ = sosfilt(sos, w, zi=zi * w[0])
    out: NDArray[np.float64] = y
    return out


@lru_cache(maxsize=1)
def _subband_sos() -> tuple[NDArray[np.float64], ...]:
    return tuple(
        butter(4, [lo, hi], btype="band", fs=TARGET_RATE, output="sos") for lo, hi in _SUBBANDS_HZ
    )


def _subband_features(w: NDArray[np.float64]) -> list[float]:
    """Envelope shape in each of ``_SUBBANDS_HZ`` (see the module docstring)."""
    out: list[float] = []
    decay10: list[float] = []
    # frame t's jump is its level minus the mean of frames t-8..t-3, for t = on-3..on+10
    ts = np.arange(_SUB_ON - 3, _SUB_ON + 11)
    for sos in _subband_sos():
        b = sosfilt(sos, w)
        e = np.mean(b.reshape(_SUB_N, _SUB_FRAME) ** 2, axis=1)
        e = np.convolve(e, (0.25, 0.5, 0.25), mode="same") + 1e-20
        db = 10.0 * np.log10(e)
        post = db[_SUB_ON:]
        ipk = int(np.argmax(post[:100]))  # the band's peak within 100 ms of the onset
        rel = post[ipk:] - post[ipk]

        def decay(level: float, rel: NDArray[np.float64] = rel) -> float:
            # first crossing below ``level``, linearly interpolated between frames
            below = np.nonzero(rel < level)[0]
            if not below.size:
                return float(rel.size)
            k = int(below[0])
            return k - 1 + float((rel[k - 1] - level) / (rel[k - 1] - rel[k] + _EPS))

        d10 = decay(-10.0)
        decay10.append(d10)
        efrac = 10.0 * np.log10(float(e[_SUB_ON : _SUB_ON + 10].sum() / e[_SUB_ON:].sum()) + _EPS)
        cum = np.concatenate([[0.0], np.cumsum(db)])
        before = (cum[ts - 2] - cum[ts - 8]) / 6.0
        jump = float(np.clip(np.max(db[ts] - before), -10.0, 60.0))
        out += [float(ipk), d10, decay(-20.0), efrac, jump]
    return [*out, decay10[3] - decay10[0], decay10[2] - decay10[0]]


@lru_cache(maxsize=1)
def _mel_filterbank() -> NDArray[np.float64]:
    """Triangular mel filters (HTK mel scale, 2595 log10(1 + f/700)), shape (N_MELS, bins)."""
    freqs = np.fft.rfftfreq(MEL_NFFT, 1.0 / TARGET_RATE)

    def mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(2595.0 * np.log10(1.0 + f / 700.0), dtype=np.float64)

    m = np.linspace(mel(np.array(_MEL_FMIN)), mel(np.array(_MEL_FMAX)), N_MELS + 2)
    hz = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    fb = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        left, c, r = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - left) / max(c - left, _EPS)
        down = (r - freqs) / max(r - c, _EPS)
        fb[i] = np.clip(np.minimum(up, down), 0.0, None)
        if fb[i].sum() == 0:  # narrower than a bin: take the nearest bin
            fb[i, int(np.argmin(np.abs(freqs - c)))] = 1.0
    return fb


@lru_cache(maxsize=1)
def _mel_centres() -> NDArray[np.float64]:
    """Centre of gravity (Hz) of each mel filter."""
    fb = _mel_filterbank()
    c: NDArray[np.float64] = (fb * np.fft.rfftfreq(MEL_NFFT, 1.0 / TARGET_RATE)[None, :]).sum(
        axis=1
    ) / (fb.sum(axis=1) + _EPS)
    return c


def log_mel_patch(window: NDArray[np.float64]) -> NDArray[np.float32]:
    """Log-mel spectrogram of a ``WINDOW_LEN`` window at ``TARGET_RATE``.

    :returns: shape ``(N_MELS, MEL_FRAMES)`` = (32, 30), dB re the patch maximum, floored
        at -100 dB. Frames are 256 samples (21 ms, Hann) every 10 ms; frame 2 starts at the
        onset.
    """
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (WINDOW_LEN,):
        raise InputError(f"window must have {WINDOW_LEN} samples, got shape {w.shape}")
    idx = np.arange(MEL_NFFT)[None, :] + MEL_HOP * np.arange(MEL_FRAMES)[:, None]
    frames = w[idx] * _hann(MEL_NFFT)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    mel = _mel_filterbank() @ power.T  # (mels, frames)
    db = 10.0 * np.log10(mel + _EPS)
    db = np.maximum(db - db.max(), _DB_FLOOR)
    out: NDArray[np.float32] = db.astype(np.float32)
    return out


def _slope(x: NDArray[np.floating[Any]], y: NDArray[np.floating[Any]]) -> float:
    """Least-squares slope of y on x (closed form; polyfit is slow for tiny inputs)."""
    xc = x - x.mean()
    den = float(np.dot(xc, xc))
    return float(np.dot(xc, y - y.mean())) / den if den > 0 else 0.0


@lru_cache(maxsize=8)
def _hann(n: int) -> NDArray[np.float64]:
    h: NDArray[np.float64] = np.hanning(n)
    return h


@lru_cache(maxsize=1)
def _fft_bands() -> tuple[NDArray[np.float64], tuple[NDArray[np.bool_], ...]]:
    """Bin frequencies of the ``_NFFT``-point spectrum and the bins of each band."""
    f: NDArray[np.float64] = np.fft.rfftfreq(_NFFT, 1.0 / TARGET_RATE).astype(np.float64)
    sels = tuple(
        (f >= lo) & (f < hi) if hi < _BAND_EDGES_HZ[-1] else (f >= lo)
        for lo, hi in itertools.pairwise(_BAND_EDGES_HZ)
    )
    return f, sels


def _power(seg: NDArray[np.float64]) -> NDArray[np.float64]:
    """|FFT|^2 of a Hann-windowed segment, ``_NFFT`` points (zero-padded)."""
    p: NDArray[np.float64] = np.abs(np.fft.rfft(seg * _hann(seg.size), _NFFT)) ** 2
    return p


def _spectral(power: NDArray[np.float64]) -> list[float]:
    """Spectral shape descriptors + band energies of one segment, from its
    :func:`_power`."""
    spec = power + _EPS
    f, sels = _fft_bands()
    total = float(spec.sum())
    p = spec / total
    centroid = float((f * p).sum())
    bandwidth = float(np.sqrt(((f - centroid) ** 2 * p).sum()))
    cum = np.cumsum(p)
    roll85 = float(f[min(int(np.searchsorted(cum, 0.85)), f.size - 1)])
    roll95 = float(f[min(int(np.searchsorted(cum, 0.95)), f.size - 1)])
    flatness = float(np.exp(np.mean(np.log(spec))) / np.mean(spec))
    ldb = 10.0 * np.log10(spec)
    slope = _slope(f / 1000.0, ldb)  # dB per kHz
    bands = [10.0 * np.log10(float(spec[sel].sum()) / total + _EPS) for sel in sels]
    return [centroid, bandwidth, roll85, roll95, flatness, slope, *bands]


def _band_abs(power: NDArray[np.float64], n: int) -> list[float]:
    """Mean power per bin in each band, dB, from the :func:`_power` of an ``n``-sample
    segment: comparable across segments of different lengths."""
    spec = power / n + _EPS
    _, sels = _fft_bands()
    return [10.0 * np.log10(float(spec[sel].mean())) for sel in sels]


def _zcr(seg: NDArray[np.float64]) -> float:
    """Zero crossings per second."""
    s = np.signbit(seg)
    return float(np.count_nonzero(s[1:] != s[:-1])) * TARGET_RATE / max(seg.size - 1, 1)


def features_from_window(window: NDArray[np.float64]) -> NDArray[np.float32]:
    """Feature vector (``FEATURE_NAMES``) of a ``WINDOW_LEN`` window at ``TARGET_RATE``
    whose onset is at index ``N_PRE``. See the module docstring."""
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (WINDOW_LEN,):
        raise InputError(f"window must have {WINDOW_LEN} samples, got shape {w.shape}")
    w = w - float(np.mean(w))
    if float(np.max(np.abs(w))) <= 0.0:
        raise InputError("window is silent")
    w = highpass(w)
    peak = float(np.max(np.abs(w)))
    if peak <= 0.0:
        raise InputError("window is silent")
    w = w / peak
    post = w[N_PRE:]
    ms_per_frame = 1000.0 * _FRAME / TARGET_RATE

    # -- envelope ------------------------------------------------------------------
    ms = np.mean(w.reshape(_N_FRAMES, _FRAME) ** 2, axis=1)
    env = np.maximum(10.0 * np.log10(ms + _EPS) - 10.0 * np.log10(float(ms.max()) + _EPS), -100)
    ipk = _ONSET_FRAME + int(np.argmax(env[_ONSET_FRAME:]))
    peak_delay = (ipk - _ONSET_FRAME) * ms_per_frame

    def decay_to(level: float) -> float:
        below = np.nonzero(env[ipk:] < level)[0]
        return float(below[0] if below.size else _N_FRAMES - ipk) * ms_per_frame

    above20 = float(np.count_nonzero(env[_ONSET_FRAME:] > -20.0)) * ms_per_frame
    fit_end = min(ipk + 50, _N_FRAMES)  # 100 ms after the peak
    if fit_end - ipk >= 3:
        tt = np.arange(fit_end - ipk) * ms_per_frame / 1000.0
        decay_slope = _slope(tt, env[ipk:fit_end])
    else:
        decay_slope = 0.0
    pre_level = float(np.mean(env[: _ONSET_FRAME - 1])) if _ONSET_FRAME > 1 else 0.0

    # rise time on the 0.5 ms-smoothed magnitude, from the last 10 % crossing to 90 %
    mag = np.convolve(np.abs(w), np.ones(6) / 6.0, mode="same")
    lo_i = max(N_PRE - 24, 0)
    hi_i = min(N_PRE + int(0.1 * TARGET_RATE), WINDOW_LEN)
    seg_mag = mag[lo_i:hi_i]
    mpk = float(seg_mag.max()) + _EPS
    i90 = int(np.argmax(seg_mag >= 0.9 * mpk))
    below10 = np.nonzero(seg_mag[: i90 + 1] < 0.1 * mpk)[0]
    i10 = int(below10[-1]) if below10.size else 0
    rise = (i90 - i10) * 1000.0 / TARGET_RATE

    e_post = ms[_ONSET_FRAME:]
    e_tot = float(e_post.sum()) + _EPS
    f10 = _ONSET_FRAME + 5
    f50 = _ONSET_FRAME + 25
    efrac_10 = 10.0 * np.log10(float(ms[_ONSET_FRAME:f10].sum()) / e_tot + _EPS)
    efrac_50 = 10.0 * np.log10(float(ms[_ONSET_FRAME:f50].sum()) / e_tot + _EPS)
    efrac_tail = 10.0 * np.log10(float(ms[f50:].sum()) / e_tot + _EPS)

    # secondary peaks: local maxima above -12 dB, more than 20 ms after the main peak
    e = env[ipk + 10 :]
    if e.size >= 3:
        locmax = (e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:]) & (e[1:-1] > -12.0)
        n_sec = float(np.count_nonzero(locmax))
    else:
        n_sec = 0.0
    # periodicity: max normalised autocorrelation of the post-onset envelope, lags 20-150 ms
    ep = env[_ONSET_FRAME:] - float(np.mean(env[_ONSET_FRAME:]))
    den = float(np.dot(ep, ep))
    if den > _EPS:
        ac = np.correlate(ep, ep, mode="full")[ep.size - 1 :] / den
        periodicity = float(np.max(ac[10:75]))
    else:
        periodicity = 0.0

    # -- waveform ------------------------------------------------------------------
    rms = float(np.sqrt(np.mean(post**2))) + _EPS
    crest = 20.0 * np.log10(float(np.max(np.abs(post))) / rms + _EPS)
    head = post[:_HEAD]
    crest_head = 20.0 * np.log10(
        float(np.max(np.abs(head))) / (float(np.sqrt(np.mean(head**2))) + _EPS) + _EPS
    )
    var = float(np.var(post)) + _EPS
    kurt = float(np.mean(np.abs(post - post.mean()) ** 4)) / var**2 - 3.0
    log_kurt = float(np.sign(kurt) * np.log1p(abs(kurt)))
    zcr_head = _zcr(post[: round(0.05 * TARGET_RATE)])
    zcr_tail = _zcr(post[round(0.05 * TARGET_RATE) :])

    # -- spectra -------------------------------------------------------------------
    head_start = N_PRE - 24  # 2 ms before the onset
    pw_head = _power(w[head_start : head_start + _HEAD])
    pw_tail = _power(w[N_PRE + _HEAD :])
    spec_head = _spectral(pw_head)
    spec_tail = _spectral(pw_tail)

    # channel-independent contrasts (the microphone's response cancels): band levels of
    # the head re the 20 ms before the onset (clamped to -20..60 dB), and re the tail
    head_abs = np.array(_band_abs(pw_head, _HEAD))
    pre_abs = np.array(_band_abs(_power(w[:N_PRE]), N_PRE))
    tail_abs = np.array(_band_abs(pw_tail, WINDOW_LEN - N_PRE - _HEAD))
    onset_gain = np.clip(head_abs - pre_abs, -20.0, 60.0)
    head_tail = np.clip(head_abs - tail_abs, -40.0, 60.0)

    # -- log-mel -------------------------------------------------------------------
    patch = log_mel_patch(w).astype(np.float64)
    centres = _mel_centres()
    lin = 10.0 ** (patch / 10.0)
    cen_t = (centres[:, None] * lin).sum(axis=0) / (lin.sum(axis=0) + _EPS)  # per frame
    loud = patch.max(axis=0) > -40.0
    cen_std = float(np.std(cen_t[loud])) if np.count_nonzero(loud) > 1 else 0.0
    cen_drift = float(cen_t[loud][-1] - cen_t[loud][0]) if np.count_nonzero(loud) > 1 else 0.0
    pooled_b = patch.reshape(_POOL_BANDS, N_MELS // _POOL_BANDS, MEL_FRAMES).max(axis=1)
    pooled = [pooled_b[:, a:b].mean(axis=1) for a, b in _POOL_BLOCKS]

    vec = np.concatenate(
        [
            np.array(
                [
                    rise,
                    peak_delay,
                    decay_to(-10.0),
                    decay_to(-20.0),
                    decay_to(-30.0),
                    above20,
                    decay_slope,
                    pre_level,
                    efrac_10,
                    efrac_50,
                    efrac_tail,
                    n_sec,
                    periodicity,
                    crest,
                    crest_head,
                    log_kurt,
                    zcr_head,
                    zcr_tail,
                ]
            ),
            np.array(spec_head),
            np.array(spec_tail),
            np.array([cen_std, cen_drift]),
            onset_gain,
            head_tail,
            *pooled,
            np.array(_subband_features(w)),
        ]
    ).astype(np.float32)
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0)
