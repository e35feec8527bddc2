"""``shotwatch classify``: score audio files, and evaluate against a ``manifest.csv``.

One JSON line per file on stdout: ``{"path", "gunshot_score", "label", "onset_s"}``. The
onset is where the runtime picker puts the clip's highest-SNR pulse
(:func:`shotwatch.core.classify.strongest_onset`), as in training.
A bad file (not audio, empty, silent, a single sample) gives one ``error: PATH: ...`` line
on stderr and the run goes on; the caller exits 2 at the end if any failed.

For a directory holding ``manifest.csv`` (``path,label,...``; paths relative to it) the
files are the manifest's rows, and an evaluation follows: accuracy, precision, recall,
ROC AUC and a confusion matrix per label (``gunshot`` is the positive class; every other
label is "other").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from shotwatch.classifier.data import read_audio, read_manifest
from shotwatch.core.classify import GunshotClassifier, embed_clip, strongest_onset
from shotwatch.errors import InputError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")


@dataclass(frozen=True)
class Item:
    """One file to score, with its manifest label if known."""

    path: Path
    shown: str  # the path as printed
    label: str | None = None


def expand(paths: Iterable[Path]) -> tuple[list[Item], list[list[Item]]]:
    """Files to score, and the groups of items that come with a manifest (to evaluate)."""
    items: list[Item] = []
    evaluated: list[list[Item]] = []
    for p in paths:
        if p.is_dir():
            manifest = p / "manifest.csv"
            if manifest.is_file():
                group = [
                    Item(p / row["path"], str(p / row["path"]), row["label"])
                    for row in read_manifest(manifest)
                ]
                evaluated.append(group)
            else:
                group = [
                    Item(f, str(f))
                    for f in sorted(p.rglob("*"))
                    if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES
                ]
            items += group
        else:
            items.append(Item(p, str(p)))
    return items, evaluated


def score_file(clf: GunshotClassifier, path: Path) -> tuple[float, float]:
    """(gunshot_score, onset seconds) of the strongest impulse of an audio file."""
    x, sr = read_audio(path)
    if x.size < 2:
        raise InputError(f"only {x.size} sample(s): too short to classify", str(path))
    if not np.all(np.isfinite(x)):
        raise InputError("samples contain NaN or infinity", str(path))
    try:
        onset = strongest_onset(x, sr)
        y, off = embed_clip(x, sr)  # the clip as a sensor hears it, as in training
        return clf.score(y, sr, onset + off), onset / sr
    except InputError as e:
        raise InputError(str(e), str(path)) from None


def classify_paths(
    clf: GunshotClassifier,
    paths: Iterable[Path],
    out: TextIO,
    err: TextIO,
    tick: Callable[[], None] | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Print one JSON line per file; return (number of failed files, evaluations)."""
    items, evaluated = expand(paths)
    scores: dict[str, float] = {}
    failed = 0
    for it in items:
        try:
            score, onset_s = score_file(clf, it.path)
        except InputError as e:
            msg = str(e) if it.shown in str(e) else f"{it.shown}: {e}"
            err.write(f"error: {msg}\n")
            err.flush()
            failed += 1
        else:
            scores[it.shown] = score
            rec = {
                "path": it.shown,
                "gunshot_score": round(score, 6),
                "label": "gunshot" if score >= clf.threshold else "other",
                "onset_s": round(onset_s, 6),
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()
        if tick:
            tick()
    evaluations = [evaluate(group, scores, clf.threshold) for group in evaluated]
    return failed, evaluations


def evaluate(items: list[Item], scores: dict[str, float], threshold: float) -> dict[str, Any]:
    """Metrics of the scored items of one manifest (failed files are counted apart)."""
    from sklearn.metrics import roc_auc_score

    scored = [it for it in items if it.shown in scores]
    y = np.array([it.label == "gunshot" for it in scored], dtype=bool)
    p = np.array([scores[it.shown] for it in scored], dtype=float)
    pred = p >= threshold
    tp = int(np.sum(pred & y))
    fp = int(np.sum(pred & ~y))
    fn = int(np.sum(~pred & y))
    tn = int(np.sum(~pred & ~y))
    per_label: dict[str, dict[str, int]] = {}
    for it, pr in zip(scored, pred, strict=True):
        row = per_label.setdefault(str(it.label), {"gunshot": 0, "other": 0})
        row["gunshot" if pr else "other"] += 1
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else None
    return {
        "files": len(items),
        "scored": len(scored),
        "failed": len(items) - len(scored),
        "threshold": threshold,
        "accuracy": (tp + tn) / max(len(scored), 1),
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "roc_auc": auc,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "predicted_by_label": dict(sorted(per_label.items())),
    }
