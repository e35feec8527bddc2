"""Model choice by measurement: a small CNN on the log-mel patch vs the shipped tree model.

Training-only. PyTorch is optional and never a dependency of Shotwatch
(``pip install torch`` into the virtualenv to run this); it is imported dynamically.
The CNN sees exactly what the tree model sees (same windows, folds, augmentation, threshold
rule) but as the 32 x 30 log-mel patch of :func:`shotwatch.core.features.log_mel_patch`:

    conv3x3(1->16) BN ReLU maxpool2 -> conv3x3(16->32) BN ReLU maxpool2
    -> conv3x3(32->32) BN ReLU -> global average pool -> dropout 0.3 -> linear(32->1)

trained with Adam (lr 3e-3, weight decay 1e-4), balanced BCE, 25 epochs, batch 64,
fixed seeds, one thread.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.classifier.augment import augment
from shotwatch.classifier.data import Example
from shotwatch.classifier.train import (
    JITTER,
    N_AUG,
    SEED,
    CvResult,
    Tick,
    folds,
    noise_pool_of,
    window_of,
)
from shotwatch.core.features import log_mel_patch
from shotwatch.errors import ConfigError

EPOCHS = 25
BATCH = 64


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ConfigError(
            "the CNN comparison needs PyTorch: pip install torch (CPU) into the virtualenv"
        ) from None


def patches(
    examples: Sequence[Example],
    n_aug: int,
    rng: np.random.Generator,
    pool: list[NDArray[np.float32]],
    include_clean: bool = True,
    tick: Tick | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Log-mel patches (n, 32, 30), scaled to about [-1, 0], and their example index."""
    rows: list[NDArray[np.float32]] = []
    idx: list[int] = []
    for i, ex in enumerate(examples):
        if include_clean:
            rows.append(log_mel_patch(_norm(window_of(ex.segment))))
            idx.append(i)
        for _ in range(n_aug):
            seg = augment(ex.segment, rng, pool)
            j = int(rng.integers(-JITTER, JITTER + 1))
            rows.append(log_mel_patch(_norm(window_of(seg, j))))
            idx.append(i)
        if tick:
            tick(1)
    x = np.stack(rows).astype(np.float32) / 100.0
    return x, np.asarray(idx, dtype=np.int64)


def _norm(w: NDArray[np.float64]) -> NDArray[np.float64]:
    w = w - float(np.mean(w))
    peak = float(np.max(np.abs(w)))
    return w / peak if peak > 0 else w


def _model(torch: Any) -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(32, 1),
    )


def fit_cnn(x: NDArray[np.float32], y: NDArray[np.int64], seed: int) -> Any:
    """Train the CNN on patches ``x`` (n, 32, 30) with labels ``y``."""
    torch = _torch()
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = _model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt = torch.from_numpy(x[:, None, :, :])
    yt = torch.from_numpy(y.astype(np.float32))
    pos_weight = torch.tensor(max(float(np.sum(y == 0)), 1.0) / max(float(np.sum(y == 1)), 1.0))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(xt.shape[0], generator=gen)
        for k in range(0, xt.shape[0], BATCH):
            b = perm[k : k + BATCH]
            if b.numel() < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(model(xt[b]).squeeze(1), yt[b])
            loss.backward()
            opt.step()
    model.eval()
    return model


def predict_cnn(model: Any, x: NDArray[np.float32]) -> NDArray[np.float64]:
    """Gunshot probability of each patch."""
    torch = _torch()
    with torch.no_grad():
        logits = model(torch.from_numpy(x[:, None, :, :])).squeeze(1)
        return np.asarray(torch.sigmoid(logits).numpy(), dtype=np.float64)


def cross_validate_cnn(
    examples: Sequence[Example], augmented: bool, tick: Tick | None = None
) -> CvResult:
    """The CNN through the same grouped CV as :func:`shotwatch.classifier.train.cross_validate`."""
    n = len(examples)
    oof = np.full(n, np.nan)
    oof_aug = np.full(n, np.nan)
    for k, test in enumerate(folds(examples)):
        tset = set(test.tolist())
        train = [examples[i] for i in range(n) if i not in tset]
        tests = [examples[i] for i in test]
        rng = np.random.default_rng([SEED, k, int(augmented)])
        xtr, itr = patches(train, N_AUG if augmented else 0, rng, noise_pool_of(train), tick=tick)
        ytr = np.array([train[i].label for i in itr], dtype=np.int64)
        model = fit_cnn(xtr, ytr, SEED + k)
        xte, _ = patches(tests, 0, rng, [], tick=tick)
        trng = np.random.default_rng([SEED, k, 99])
        xta, _ = patches(tests, 1, trng, noise_pool_of(tests), include_clean=False, tick=tick)
        oof[test] = predict_cnn(model, xte)
        oof_aug[test] = predict_cnn(model, xta)
    return CvResult("cnn+aug" if augmented else "cnn", oof, oof_aug)
