"""Synthetic audio for the sensor tests."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

T0 = 1_783_199_585.0  # 2026-07-04T21:13:05Z, the GPS time of sample 0


def impulse_train(
    sample_rate: int,
    *,
    seconds: float = 6.0,
    first_s: float = 1.0,
    spacing_s: float = 0.7,
    noise: float = 0.003,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Decaying 1.5 kHz bursts (onset at a random sub-sample time) in white noise.

    Returns (samples, true onset times in seconds from sample 0).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    x = rng.normal(0.0, noise, n)
    onsets = np.arange(first_s, seconds - 1.0, spacing_s) + rng.uniform(
        0.0, 1.0 / sample_rate, size=len(np.arange(first_s, seconds - 1.0, spacing_s))
    )
    t = np.arange(n) / sample_rate
    for t0 in onsets:
        dt = t - t0
        m = (dt >= 0.0) & (dt < 0.1)
        x[m] += 0.5 * np.exp(-dt[m] / 0.003) * np.cos(2.0 * np.pi * 1500.0 * dt[m])
    return x, onsets


def split_at(x: NDArray[np.float64], cuts: list[int]) -> list[NDArray[np.float64]]:
    """Split ``x`` at the given sample indices."""
    edges = [0, *sorted(c for c in cuts if 0 < c < x.shape[0]), x.shape[0]]
    return [x[a:b] for a, b in itertools.pairwise(edges) if b > a]
