"""The compact tree ensemble: same scores as scikit-learn, file round trip, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from shotwatch.core.trees import MAGIC, TreeEnsemble
from shotwatch.errors import ConfigError, InputError


def _forest(seed: int = 0) -> tuple[object, np.ndarray]:
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((600, 12)).astype(np.float32)
    y = ((x[:, 0] + 0.5 * x[:, 3] * x[:, 5] + 0.3 * rng.standard_normal(600)) > 0).astype(int)
    forest = ExtraTreesClassifier(n_estimators=25, min_samples_leaf=2, random_state=seed)
    forest.fit(x, y, sample_weight=np.where(y == 1, 2.0, 1.0))
    return forest, x


def test_scores_equal_scikit_learn_and_survive_the_file() -> None:
    forest, x = _forest()
    ens = TreeEnsemble.from_sklearn(forest)
    assert ens.n_trees == 25 and ens.n_features == 12
    xt = np.random.default_rng(9).standard_normal((300, 12)).astype(np.float32)
    xt[:50] = x[:50]  # rows exactly on training values (ties with split points)
    ref = forest.predict_proba(xt)[:, 1]  # type: ignore[attr-defined]
    np.testing.assert_allclose(ens.predict(xt), ref, atol=1e-6)
    blob = ens.to_bytes()
    assert blob.startswith(MAGIC)
    again = TreeEnsemble.from_bytes(blob)
    assert again.to_bytes() == blob
    np.testing.assert_array_equal(again.predict(xt), ens.predict(xt))
    assert again.predict(np.zeros((0, 12))).shape == (0,)
    with pytest.raises(InputError):
        again.predict(np.zeros((1, 11)))


def test_bad_model_files_are_refused() -> None:
    forest, _ = _forest(1)
    blob = TreeEnsemble.from_sklearn(forest).to_bytes()
    with pytest.raises(ConfigError):
        TreeEnsemble.from_bytes(b"tree ensemble?" + blob)
    with pytest.raises(ConfigError):
        TreeEnsemble.from_bytes(blob[:-1])
    ens = TreeEnsemble.from_bytes(blob)
    internal = int(np.flatnonzero(ens.feature != 255)[0])
    bad = bytearray(blob)
    o = len(MAGIC) + 12 + 4 * ens.n_trees + ens.n_nodes + 2 * internal
    bad[o : o + 2] = (60000).to_bytes(2, "little")  # a right child past the end
    with pytest.raises(ConfigError):
        TreeEnsemble.from_bytes(bytes(bad))
