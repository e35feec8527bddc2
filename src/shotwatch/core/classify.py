"""Gunshot classification of single pulses: ``gunshot_score`` in [0, 1].

The shipped model is an ensemble of extremely randomised trees (scikit-learn's
``ExtraTreesClassifier`` at training time, scored here by
:class:`shotwatch.core.trees.TreeEnsemble`) on the features of
:mod:`shotwatch.core.features` (window: 20 ms before the onset to 300 ms after, resampled
to 12 kHz and high-passed at 200 Hz). It was chosen over LightGBM and a small CNN on the
log-mel patch by source-grouped cross-validation (see ``shotwatch train-classifier --cv``
and the model's metadata). The model file ships as package data
(``shotwatch/models/gunshot_et.bin``, :mod:`shotwatch.core.trees`' format) with its
metadata (``gunshot_et.json``: version, threshold, data manifest hash, training date, CV
metrics).

This module also holds a simple energy-envelope onset finder for whole clips with no
known onset (:func:`find_onsets`); the project's onset picker lives elsewhere.

Everything here is pure: numpy in, numpy out; the only I/O is loading the model file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.core.features import FEATURE_NAMES, extract_features, extract_features_many
from shotwatch.core.trees import TreeEnsemble
from shotwatch.errors import ConfigError, InputError

MODEL_DIR = "models"  # package data directory of ``shotwatch`` (no __init__: models.py exists)
MODEL_FILE = "gunshot_et.bin"
META_FILE = "gunshot_et.json"

_EPS = 1e-20


def find_onsets(
    samples: NDArray[np.float64],
    sample_rate: int,
    max_onsets: int = 1,
    min_separation_s: float = 0.3,
    search: tuple[int, int] | None = None,
    min_rel_db: float = -20.0,
) -> NDArray[np.int64]:
    """Onsets of the strongest impulses, strongest first (energy-envelope method).

    1. energy in 1 ms frames; the noise floor is the median frame energy;
    2. the loudest remaining frame is a peak; frames within ``min_separation_s`` of it are
       suppressed and the next peak is taken, while it is within ``min_rel_db`` of the
       strongest and at least 10 dB above the noise floor (the first is always taken);
    3. from each peak, walk back (at most 50 ms) while the energy stays above
       max(peak - 25 dB, 4 x noise floor); in the first frame of that rise, the onset is
       the first sample whose magnitude reaches max(10 % of the rise's peak magnitude,
       3 x the noise RMS).

    :param samples: mono signal
    :param sample_rate: Hz
    :param max_onsets: at most this many onsets
    :param min_separation_s: minimum time between returned peaks, seconds
    :param search: optional ``(lo, hi)`` sample range where peaks are sought (the noise
        floor still comes from the whole signal)
    :returns: sample indices (int64), strongest impulse first; empty if the signal is silent
    :raises InputError: not 1-D, fewer than 2 samples, non-finite values, bad rate
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise InputError(f"need a 1-D signal of at least 2 samples, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("samples contain NaN or infinity")
    if sample_rate < 1000:
        raise InputError(f"sample rate too low: {sample_rate!r} Hz")
    x = x - float(np.mean(x))
    fl = max(round(sample_rate / 1000), 1)
    nf = x.size // fl
    if nf < 1:
        nf, fl = 1, x.size
    e = np.mean(x[: nf * fl].reshape(nf, fl) ** 2, axis=1)
    if float(e.max()) <= 0.0:
        return np.zeros(0, dtype=np.int64)
    noise = float(np.median(e))
    lo_f, hi_f = 0, nf
    if search is not None:
        lo_f = max(int(search[0]) // fl, 0)
        hi_f = min(-(-int(search[1]) // fl), nf)
        if hi_f <= lo_f:
            return np.zeros(0, dtype=np.int64)
    avail = np.zeros(nf, dtype=bool)
    avail[lo_f:hi_f] = True
    sep = max(round(min_separation_s * 1000), 1)
    back = 50
    out: list[int] = []
    first_e = 0.0
    while len(out) < max_onsets and avail.any():
        k = int(np.argmax(np.where(avail, e, -1.0)))
        ek = float(e[k])
        if ek <= 0.0:
            break
        if out and (ek < first_e * 10 ** (min_rel_db / 10) or ek < 10.0 * noise):
            break
        if not out:
            first_e = ek
        avail[max(k - sep, 0) : k + sep + 1] = False
        thr = max(ek * 10 ** (-2.5), 4.0 * noise)
        k0 = k
        while k0 > 0 and k - k0 < back and e[k0 - 1] > thr:
            k0 -= 1
        a, b = k0 * fl, (k + 1) * fl
        seg = np.abs(x[a:b])
        level = max(0.1 * float(seg.max()), 3.0 * np.sqrt(noise))
        i = int(np.argmax(seg >= level))
        out.append(a + i)
    return np.asarray(out, dtype=np.int64)


LOUD_DB = 10.0
"""Picks of a clip more than this far under its peak level are not its events."""
LEAD_IN_S = 0.6
"""Noise put before a clip (longer than the picker's 0.5 s LTA window)."""
TRAIL_S = 0.4
"""Noise put after a clip (longer than the feature window's 0.3 s after an onset)."""


def embed_clip(samples: NDArray[np.float64], sample_rate: int) -> tuple[NDArray[np.float64], int]:
    """A clip inside its own noise floor, as a sensor that records all the time hears it.

    Edited clips start and end where an editor cut them, often on the impulse itself and
    often with digital silence around it; a sensor hears ambient noise there. The clip's
    leading and trailing digital silence (exact zeros) is replaced by, and ``LEAD_IN_S``
    before and ``TRAIL_S`` after it are added of, white noise (fixed seed) at the clip's
    own noise floor (RMS about the mean of its 10th-percentile 1 ms frame, at least one
    PCM16 step), offset to the clip's first and last sound so there is no step at a join;
    the clip's own DC offset is removed.

    :returns: (signal, index in it of the clip's first sample)
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2:
        raise InputError(f"need at least 2 samples, got {x.size}")
    fl = max(round(sample_rate / 1000), 1)
    nf = max(x.size // fl, 1)
    frames = x[: nf * fl].reshape(nf, -1) if x.size >= fl else x.reshape(1, -1)
    e = np.var(frames, axis=1)  # about each frame's mean: a DC offset is no noise
    floor = max(float(np.sqrt(np.percentile(e, 10))), 2.0**-15)
    nz = np.flatnonzero(x)
    a, b = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, x.size)
    x = x - float(np.mean(x[a:b]))  # a DC offset is the recording chain's, not sound
    n_lead, n_trail = round(LEAD_IN_S * sample_rate), round(TRAIL_S * sample_rate)
    rng = np.random.default_rng(0)
    lead = rng.standard_normal(n_lead + a) * floor + x[a]
    trail = rng.standard_normal(x.size - b + n_trail) * floor + x[b - 1]
    return np.concatenate([lead, x[a:b], trail]), n_lead


@dataclass(frozen=True)
class ClipPick:
    """A pulse of a clip as the runtime picker reports it: ``onset`` (sample index in the
    clip), ``snr_db`` and ``below_peak_db`` (its 50 ms peak level under the clip's peak)."""

    onset: int
    snr_db: float
    below_peak_db: float


def clip_picks(
    samples: NDArray[np.float64],
    sample_rate: int,
    max_picks: int = 1,
    min_separation_s: float = 0.3,
    max_below_peak_db: float = LOUD_DB,
) -> list[ClipPick]:
    """The ``max_picks`` highest-SNR pulses the runtime picker
    (:func:`shotwatch.core.picking.pick_onsets`) reports for a clip's loud events, highest
    SNR first; empty if it finds none.

    The sensor scores a pulse at the picker's onset, which is often a few ms (up to tens
    of ms) before the energy onset of :func:`find_onsets`, so training and
    ``shotwatch classify`` use the picker too, on the clip inside its noise floor
    (:func:`embed_clip`: the picker needs 0.5 s of signal before a trigger, and an edited
    clip may start on the impulse). A pick is kept if its 50 ms peak is within
    ``max_below_peak_db`` of the clip's peak (a loud event, not a blip in the clip's quiet
    part) and it is ``min_separation_s`` from those kept. A pick up to 50 ms before the
    clip's start is put on its first sample. (Within a burst of automatic fire the first
    shot has the highest SNR: the 0.5 s noise window of the later ones holds the earlier.)
    """
    from shotwatch.core.picking import pick_onsets

    x = np.asarray(samples, dtype=np.float64)
    y, off = embed_clip(x, sample_rate)
    picks = pick_onsets(y, sample_rate)
    on = picks.onset - off
    sep = min_separation_s * sample_rate
    top = 20.0 * np.log10(max(float(np.max(np.abs(x))), 1e-12))
    out: list[ClipPick] = []
    for j in np.argsort(-picks.snr_db, kind="stable"):
        if len(out) >= max_picks:
            break
        o = float(on[j])
        below = top - float(picks.peak_dbfs[j])
        if not -0.05 * sample_rate <= o < x.size or below > max_below_peak_db:
            continue  # in the added noise, or a blip in the clip's quiet part
        o = max(o, 0.0)  # the picker may put a blast at the clip's start a little early
        if any(abs(o - p.onset) < sep for p in out):
            continue
        out.append(ClipPick(min(round(o), x.size - 1), float(picks.snr_db[j]), below))
    return out


def strongest_onset(samples: NDArray[np.float64], sample_rate: int) -> int:
    """Onset (sample index) of the clip's highest-SNR pulse where the runtime picker puts
    it (:func:`clip_picks`), or the energy onset of its strongest impulse
    (:func:`find_onsets`) if the picker finds none; :class:`InputError` if silent."""
    on = find_onsets(samples, sample_rate, max_onsets=1)
    if on.size == 0:
        raise InputError("signal is silent")
    picks = clip_picks(samples, sample_rate, max_picks=1)
    return picks[0].onset if picks else int(on[0])


def _sigmoid_guard(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Scores into [0, 1]: NaN to 0, the rest clipped (as ``np.clip(np.nan_to_num(p,
    nan=0.0), 0.0, 1.0)``, without their overhead on one score)."""
    q = np.where(np.isnan(p), 0.0, p)
    out: NDArray[np.float64] = np.minimum(np.maximum(q, 0.0), 1.0)
    return out


@dataclass(frozen=True)
class GunshotClassifier:
    """A trained gunshot classifier: ``score`` in [0, 1], ``label`` gunshot if >= threshold.

    ``model`` is a :class:`TreeEnsemble`; ``meta`` the model's metadata dict.
    """

    model: TreeEnsemble
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_files(cls, model_path: Path, meta_path: Path | None = None) -> GunshotClassifier:
        """Load a model file and its JSON metadata (default: same stem, .json)."""
        meta_path = meta_path or model_path.with_suffix(".json")
        try:
            blob = model_path.read_bytes()
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot load classifier model {model_path}: {e}") from None
        return cls._build(TreeEnsemble.from_bytes(blob), meta)

    @classmethod
    def _build(cls, model: TreeEnsemble, meta: dict[str, Any]) -> GunshotClassifier:
        names = list(meta.get("feature_names", []))
        if names != list(FEATURE_NAMES):
            raise ConfigError(
                "classifier model was trained on other features; retrain with "
                "`shotwatch train-classifier`"
            )
        if model.n_features != len(FEATURE_NAMES):
            raise ConfigError("classifier model file does not match its metadata's features")
        return cls(model=model, threshold=float(meta["threshold"]), meta=meta)

    @classmethod
    def load_default(cls) -> GunshotClassifier:
        """The shipped model (package data ``shotwatch/models``), loaded once and cached."""
        return _load_default()

    def score_features(self, feats: NDArray[np.float32]) -> NDArray[np.float64]:
        """Scores of feature rows, shape (n, len(FEATURE_NAMES)) -> (n,)."""
        f = np.atleast_2d(np.asarray(feats, dtype=np.float32))
        if f.shape[1] != len(FEATURE_NAMES):
            raise InputError(f"expected {len(FEATURE_NAMES)} features, got {f.shape[1]}")
        if f.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        p = self.model.predict(f)
        return _sigmoid_guard(np.asarray(p, dtype=np.float64))

    def score(self, samples: NDArray[np.float64], sample_rate: int, onset: int) -> float:
        """``gunshot_score`` in [0, 1] of the pulse whose onset is sample ``onset``."""
        return float(self.score_features(extract_features(samples, sample_rate, onset))[0])

    def score_many(
        self, samples: NDArray[np.float64], sample_rate: int, onsets: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Scores of several pulses of one signal, shape (len(onsets),)."""
        on = np.asarray(onsets, dtype=np.int64).reshape(-1)
        if on.size == 0:
            return np.zeros(0, dtype=np.float64)
        return self.score_features(extract_features_many(samples, sample_rate, on))

    def is_gunshot(self, score: float) -> bool:
        """Whether a score is at or above the shipped threshold."""
        return score >= self.threshold


@lru_cache(maxsize=1)
def _load_default() -> GunshotClassifier:
    pkg = resources.files("shotwatch").joinpath(MODEL_DIR)
    try:
        blob = pkg.joinpath(MODEL_FILE).read_bytes()
        meta = json.loads(pkg.joinpath(META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"shipped classifier model missing or corrupt: {e}") from None
    return GunshotClassifier._build(TreeEnsemble.from_bytes(blob), meta)
