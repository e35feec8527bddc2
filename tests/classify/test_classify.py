"""The classifier API and the shipped model on real recordings of ../shared/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shotwatch.classifier.data import SEG_PRE, livefire_examples, read_audio, read_manifest
from shotwatch.core.classify import GunshotClassifier, strongest_onset
from shotwatch.core.features import TARGET_RATE


@pytest.fixture(scope="module")
def clf() -> GunshotClassifier:
    return GunshotClassifier.load_default()


def test_load_default_is_cached_and_carries_metadata(clf: GunshotClassifier) -> None:
    assert GunshotClassifier.load_default() is clf
    assert 0.0 < clf.threshold < 1.0
    for key in ("model_version", "data_manifest_sha256", "created_utc", "cv", "feature_names"):
        assert key in clf.meta
    assert len(clf.meta["data_manifest_sha256"]) == 64


def test_shipped_model_matches_the_training_settings(clf: GunshotClassifier) -> None:
    from shotwatch.classifier import train

    assert clf.meta["model_version"] == train.MODEL_VERSION
    params = clf.meta["params"]
    assert params["n_estimators"] == train.N_TREES == clf.model.n_trees
    for key in ("model", "min_samples_leaf", "max_features", "bootstrap", "random_state"):
        assert params[key] == train.PARAMS[key]


def test_scores_are_probabilities(clf: GunshotClassifier) -> None:
    rng = np.random.default_rng(3)
    x = 0.01 * rng.standard_normal(24000)
    x[8000:8100] += np.linspace(1, 0, 100)
    x[16000:20000] += 0.3 * np.sin(np.arange(4000) * 0.3)
    onsets = np.array([0, 8000, 16000, 23999])
    s = clf.score_many(x, 16000, onsets)
    assert s.shape == (4,)
    assert np.all((s >= 0) & (s <= 1))
    assert clf.score(x, 16000, 8000) == pytest.approx(float(s[1]), abs=1e-9)
    assert clf.score_many(x, 16000, np.zeros(0, dtype=np.int64)).shape == (0,)


@pytest.mark.livefire
def test_score_is_rate_independent(clf: GunshotClassifier, data_dir: Path) -> None:
    from scipy.signal import resample_poly

    f = sorted((data_dir / "audio" / "gunshot").glob("kaggle_*Desert*.wav"))[0]
    x, sr = read_audio(f)
    on = strongest_onset(x, sr)
    ref = clf.score(x, sr, on)
    for rate in (12000, 16000, 44100):
        y = resample_poly(x, rate, sr)
        assert clf.score(y, rate, round(on * rate / sr)) == pytest.approx(ref, abs=0.1)


def _score_files(clf: GunshotClassifier, files: list[Path]) -> np.ndarray:
    out = []
    for f in files:
        x, sr = read_audio(f)
        out.append(clf.score(x, sr, strongest_onset(x, sr)))
    return np.array(out)


@pytest.mark.livefire
def test_real_gunshots_score_above_threshold(clf: GunshotClassifier, data_dir: Path) -> None:
    files = sorted((data_dir / "audio" / "gunshot").glob("kaggle_*_1.wav"))[:8]
    assert len(files) >= 4
    s = _score_files(clf, files)
    assert float(np.mean(s)) > clf.threshold
    assert float(np.mean(s >= clf.threshold)) >= 0.75


@pytest.mark.livefire
def test_field_gunfire_scores_above_threshold(clf: GunshotClassifier, data_dir: Path) -> None:
    tests = [data_dir / "livefire" / "FP2" / "test_019", data_dir / "livefire" / "FP4" / "test_060"]
    ex = list(livefire_examples(data_dir, tests=tests))
    shots = [e for e in ex if e.label == 1]
    assert len(shots) >= 6
    s = np.array([clf.score(e.segment.astype(float), TARGET_RATE, SEG_PRE) for e in shots])
    assert float(np.mean(s)) > clf.threshold
    assert float(np.mean(s >= clf.threshold)) >= 0.75


@pytest.mark.livefire
def test_rain_and_door_knocks_score_below_threshold(clf: GunshotClassifier, data_dir: Path) -> None:
    rows = read_manifest(data_dir / "audio" / "manifest.csv")
    files = [
        data_dir / "audio" / r["path"]
        for r in rows
        if "esc50_category=rain" in r["notes"] or "esc50_category=door_wood_knock" in r["notes"]
    ]
    assert len(files) >= 6
    s = _score_files(clf, files)
    assert float(np.mean(s)) < clf.threshold
    assert float(np.mean(s >= clf.threshold)) <= 0.25
