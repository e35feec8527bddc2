"""Benchmark: inference per clip (target <= 2 ms on one core). Run with
``pytest tests/classify/test_bench_classify.py --benchmark-enable``."""

from __future__ import annotations

from typing import Any

import numpy as np

from shotwatch.core.classify import GunshotClassifier


def _clip(rate: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = 0.01 * rng.standard_normal(rate)
    x[rate // 2 : rate // 2 + 200] += np.exp(-np.arange(200) / 40.0)
    return x


def test_bench_score_one_clip_12k(benchmark: Any) -> None:
    clf = GunshotClassifier.load_default()
    x = _clip(12000)
    s = benchmark(clf.score, x, 12000, 6000)
    assert 0.0 <= s <= 1.0


def test_bench_score_one_clip_44k(benchmark: Any) -> None:
    clf = GunshotClassifier.load_default()
    x = _clip(44100)
    s = benchmark(clf.score, x, 44100, 22050)
    assert 0.0 <= s <= 1.0


def test_bench_score_many_100_pulses_16k(benchmark: Any) -> None:
    clf = GunshotClassifier.load_default()
    x = np.tile(_clip(16000), 10)
    onsets = np.arange(100, dtype=np.int64) * 1600 + 800
    s = benchmark(clf.score_many, x, 16000, onsets)
    assert s.shape == (100,)
