"""Honest augmentation of 12 kHz training segments (onset at ``SEG_PRE``).

Each effect mimics what happens between a sound and a city sensor, and is applied to
gunshots and non-gunshots alike (so "augmented" never means "gunshot"):

* distance low-pass: air absorption and ground effect strip the highs with distance
  (ISO 9613-1); a 2nd-order Butterworth low-pass at 0.8-5 kHz (causal: onsets stay put);
* reverberation: a synthetic exponentially decaying noise tail (Schroeder's statistical
  room/street model), RT60 0.2-1.5 s, direct-to-reverberant ratio -6..+10 dB;
* added urban noise: a random stretch of a *training-fold* background recording (ESC-50
  rain/wind/traffic..., gabemagee "others", live-fire sensor background) at 0-30 dB SNR
  over the first 50 ms of the event;
* level: peak set to -30..+12 dBFS, then hard clipping at full scale (sensor saturation,
  as in the live-fire recordings).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, fftconvolve, sosfilt

from shotwatch.classifier.data import SEG_PRE
from shotwatch.core.features import TARGET_RATE

_EPS = 1e-12


def augment(
    segment: NDArray[np.float32],
    rng: np.random.Generator,
    noise_pool: list[NDArray[np.float32]],
) -> NDArray[np.float32]:
    """One random augmented copy of ``segment`` (same length, onset unchanged)."""
    y = np.asarray(segment, dtype=np.float64).copy()
    n = y.size
    if rng.random() < 0.5:
        fc = float(rng.uniform(800.0, 5000.0))
        sos = butter(2, fc, btype="low", fs=TARGET_RATE, output="sos")
        y = sosfilt(sos, y)
    if rng.random() < 0.5:
        rt60 = float(rng.uniform(0.2, 1.5))
        m = int(min(rt60, 0.8) * TARGET_RATE)
        t = np.arange(m) / TARGET_RATE
        tail = rng.standard_normal(m) * np.exp(-6.9078 * t / rt60)
        tail[: TARGET_RATE // 500] = 0.0  # first reflections arrive after ~2 ms
        drr_db = float(rng.uniform(-6.0, 10.0))
        tail *= np.sqrt(10 ** (-drr_db / 10) / (float(np.sum(tail**2)) + _EPS))
        h = tail
        h[0] = 1.0
        y = fftconvolve(y, h)[:n]
    if noise_pool and rng.random() < 0.7:
        src = np.asarray(noise_pool[int(rng.integers(len(noise_pool)))], dtype=np.float64)
        nz = np.roll(src, int(rng.integers(src.size)))[:n]
        if rng.random() < 0.5:
            nz = nz[::-1]
        ev = float(np.mean(y[SEG_PRE : SEG_PRE + TARGET_RATE // 20] ** 2))
        pn = float(np.mean(nz**2))
        if pn > _EPS and ev > _EPS:
            snr_db = float(rng.uniform(0.0, 30.0))
            y = y + nz * np.sqrt(ev / pn * 10 ** (-snr_db / 10))
    peak = float(np.max(np.abs(y)))
    if peak > _EPS:
        y *= 10 ** (float(rng.uniform(-30.0, 12.0)) / 20) / peak
    return np.clip(y, -1.0, 1.0).astype(np.float32)
