"""Training: deterministic on a tiny subset; grouping rules; threshold rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shotwatch.classifier import train
from shotwatch.classifier.data import (
    SEG_LEN,
    Example,
    manifest_examples,
    manifest_group,
    read_manifest,
)


def _tiny(data_dir: Path) -> list[Example]:
    """Windows of every 15th manifest row (both classes), read from the shared data."""
    rows = read_manifest(data_dir / "audio" / "manifest.csv")[::15]
    return list(manifest_examples(data_dir, rows=rows))


def _train_once(examples: list[Example]) -> bytes:
    rng = np.random.default_rng([train.SEED, 7])
    pool = train.noise_pool_of(examples)
    x, idx = train.featurize(examples, 1, rng, pool)
    y = np.array([examples[i].label for i in idx], dtype=np.int64)
    return train.fit(x, y, n_trees=15).to_bytes()


@pytest.mark.livefire
def test_training_is_deterministic_on_a_tiny_subset(data_dir: Path) -> None:
    ex = _tiny(data_dir)
    assert len({e.label for e in ex}) == 2
    assert all(e.segment.shape == (SEG_LEN,) for e in ex)
    a = _train_once(ex)
    b = _train_once(ex)
    assert a == b


def test_groups_follow_the_split_rules() -> None:
    row = {"source_repo": "gabemagee/gunshot_detection", "notes": "sr=22050", "path": "x.wav"}
    assert manifest_group(row) == ("gabemagee", "gabemagee")
    row = {"source_repo": "heyadrsh/x", "notes": "weapon=AK-47; sr=44100", "path": "y.wav"}
    assert manifest_group(row) == ("kaggle:AK-47", "kaggle")
    row = {"source_repo": "esc", "notes": "esc50_category=rain; fold=4; src_file=160999; take=A"}
    assert manifest_group(row) == ("freesound:160999", "esc50")
    row = {
        "source_repo": "t",
        "notes": "esc50_category=fireworks; source_recording=freesound:160999",
    }
    assert manifest_group(row)[0] == "freesound:160999"  # same session as its ESC-50 takes
    row = {"source_repo": "karx", "notes": "source_recording=karx:karx_fw2.ogg"}
    assert manifest_group(row)[0] == "karx"


@pytest.mark.livefire
def test_folds_never_split_a_group(data_dir: Path) -> None:
    ex = _tiny(data_dir)
    folds = train.folds(ex, n_splits=3)
    seen: dict[str, int] = {}
    for k, test in enumerate(folds):
        for i in test:
            assert seen.setdefault(ex[int(i)].group, k) == k
    assert sorted(int(i) for f in folds for i in f) == list(range(len(ex)))


def test_folds_spread_the_gunshot_sources() -> None:
    """Each fold holds out one big gunshot session, and small ones fill the folds
    with the fewest gunshots (not all into one fold)."""

    def ex(group: str, label: int) -> Example:
        return Example(np.zeros(4, np.float32), label, "c", group, "s", "o")

    examples = []
    for k in range(3):  # a firing position: its shots and its own background
        examples += [ex(f"big{k}", 1) for _ in range(100)] + [ex(f"big{k}", 0) for _ in range(80)]
    examples += [ex(f"web{k}", 1) for k in range(6) for _ in range(20)]
    examples += [ex(f"neg{k}", 0) for k in range(30) for _ in range(5 + k % 7)]
    folds = train.folds(examples, n_splits=3)
    for test in folds:
        groups = {examples[int(i)].group for i in test}
        assert sum(g.startswith("big") for g in groups) == 1
        assert sum(g.startswith("web") for g in groups) == 2
        assert int(sum(examples[int(i)].label for i in test)) == 140
    assert sorted(int(i) for f in folds for i in f) == list(range(len(examples)))
    assert [f.tolist() for f in train.folds(examples, n_splits=3)] == [f.tolist() for f in folds]


def test_threshold_keeps_the_false_positive_rate() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(1000, dtype=np.int64), np.ones(200, dtype=np.int64)]
    p = np.r_[rng.uniform(0, 0.8, 1000), rng.uniform(0.5, 1, 200)]
    for max_fpr in (0.0, 0.01, 0.03, 0.2):
        t = train.choose_threshold(y, p, max_fpr)
        fpr = float(np.mean(p[y == 0] >= t))
        assert fpr <= max_fpr
        # and it is the lowest such threshold: one notch lower breaks the limit
        lower = np.sort(p[y == 0])[::-1][int(np.floor(max_fpr * 1000))]
        assert float(np.mean(p[y == 0] >= lower)) > max_fpr


def _blast(rate: int, onset_s: float, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 2 * rate
    x = 0.002 * rng.standard_normal(n)
    t = np.arange(n) / rate - onset_s
    on = t >= 0
    x[on] += level * (1 - t[on] / 0.004) * np.exp(-t[on] / 0.004)
    x[on] += 0.1 * level * rng.standard_normal(int(on.sum())) * np.exp(-t[on] / 0.08)
    return x


def test_windows_sit_on_the_runtime_pick_and_impulseless_gunshot_clips_give_none(
    tmp_path: Path,
) -> None:
    import soundfile as sf

    from shotwatch.classifier.data import SEG_PRE
    from shotwatch.core.features import TARGET_RATE, resample_to_target
    from shotwatch.core.picking import pick_onsets

    audio = tmp_path / "audio"
    audio.mkdir()
    rate = 22050
    clips = {
        "shot.wav": ("gunshot", _blast(rate, 0.8, 0.7, 1)),
        "noise_only.wav": ("gunshot", 0.05 * np.random.default_rng(2).standard_normal(2 * rate)),
        "knocks.wav": ("door", _blast(rate, 0.6, 0.5, 3) + _blast(rate, 1.4, 0.4, 4)),
        "hum.wav": ("engine", 0.05 * np.random.default_rng(5).standard_normal(2 * rate)),
    }
    lines = ["path,label,source_repo,source_path,license,notes"]
    for name, (label, x) in clips.items():
        sf.write(audio / name, x, rate, subtype="PCM_16")
        lines.append(f"{name},{label},test/repo,{name},none,")
    (audio / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ex = list(manifest_examples(tmp_path))
    by_file: dict[str, list[Example]] = {}
    for e in ex:
        by_file.setdefault(e.origin.split("@")[0], []).append(e)
    # no clear impulse in a "gunshot" clip: doubtful label, no window; steady noise: none
    assert "audio/noise_only.wav" not in by_file
    assert "audio/hum.wav" not in by_file
    assert len(by_file["audio/shot.wav"]) == 1
    assert len(by_file["audio/knocks.wav"]) == 2
    # the gunshot window's onset is the runtime picker's onset on that clip
    x, _ = sf.read(audio / "shot.wav")
    pick = float(pick_onsets(x, rate).onset[0]) * TARGET_RATE / rate
    seg = by_file["audio/shot.wav"][0].segment
    x12 = resample_to_target(x - np.mean(x), rate)  # training removes the clip's DC
    o = round(pick)
    np.testing.assert_allclose(
        seg[SEG_PRE - 100 : SEG_PRE + 100], x12[o - 100 : o + 100], atol=1e-6
    )
