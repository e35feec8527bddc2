"""A compact extremely-randomised-trees ensemble: storage and scoring, numpy and numba only.

The gunshot classifier is scikit-learn's ``ExtraTreesClassifier`` (trained by
:mod:`shotwatch.classifier.train`); this module stores its trees in a small binary file
and scores feature rows without scikit-learn. A tree is a run of nodes in depth-first
order (the order scikit-learn builds them in), so an internal node's left child is the
next node and only the right child needs storing, as an offset. Per node: the feature
index (``LEAF`` for a leaf), the right child's offset, and one float32: the split
threshold of an internal node (``x <= threshold`` goes left) or the leaf's share of the
gunshot class. scikit-learn compares the float32 feature with a float64 threshold; the
threshold is stored as the largest float32 not above it, which sends every float32 value
the same way, so the scores equal scikit-learn's up to float32 rounding of the leaf
values (about 1e-8).

File layout (little-endian): ``MAGIC``, then uint32 number of trees, uint32 number of
nodes, uint32 number of features, the trees' first nodes (uint32 each), then the nodes'
features (uint8 each), right offsets (uint16 each) and values (float32 each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import ConfigError, InputError

MAGIC = b"SWXT1\n"
LEAF = 255
"""Feature index that marks a leaf (the features number fewer than 255)."""


@dataclass(frozen=True)
class TreeEnsemble:
    """Trees whose score is the mean of the leaf values reached (the gunshot class share)."""

    roots: NDArray[np.uint32]
    feature: NDArray[np.uint8]
    right: NDArray[np.uint16]
    value: NDArray[np.float32]
    n_features: int

    @property
    def n_trees(self) -> int:
        return int(self.roots.size)

    @property
    def n_nodes(self) -> int:
        return int(self.feature.size)

    @classmethod
    def from_sklearn(cls, forest: Any) -> TreeEnsemble:
        """The trees of a fitted binary scikit-learn forest (``estimators_``)."""
        roots: list[int] = []
        feats: list[NDArray[np.uint8]] = []
        rights: list[NDArray[np.uint16]] = []
        values: list[NDArray[np.float32]] = []
        n_features = int(forest.n_features_in_)
        if n_features >= LEAF:
            raise InputError(f"at most {LEAF - 1} features, got {n_features}")
        start = 0
        for est in forest.estimators_:
            t = est.tree_
            n = int(t.node_count)
            left = np.asarray(t.children_left, dtype=np.int64)
            rgt = np.asarray(t.children_right, dtype=np.int64)
            leaf = left == -1
            idx = np.arange(n)
            if not np.all(leaf | (left == idx + 1)):
                raise InputError("tree nodes are not in depth-first order")
            off = np.where(leaf, 0, rgt - idx)
            if off.max(initial=0) > np.iinfo(np.uint16).max:
                raise InputError("tree too large for 16-bit child offsets")
            thr64 = np.asarray(t.threshold, dtype=np.float64)
            thr = thr64.astype(np.float32)
            over = thr.astype(np.float64) > thr64
            thr[over] = np.nextafter(thr[over], np.float32(-np.inf))
            val = np.asarray(t.value, dtype=np.float64)[:, 0, :]
            share = val[:, 1] / np.maximum(val.sum(axis=1), 1e-300)
            roots.append(start)
            feats.append(np.where(leaf, LEAF, t.feature).astype(np.uint8))
            rights.append(off.astype(np.uint16))
            values.append(np.where(leaf, share, thr).astype(np.float32))
            start += n
        return cls(
            np.asarray(roots, dtype=np.uint32),
            np.concatenate(feats),
            np.concatenate(rights),
            np.concatenate(values),
            n_features,
        )

    def to_bytes(self) -> bytes:
        """The model file's bytes (deterministic)."""
        head = np.array([self.n_trees, self.n_nodes, self.n_features], dtype="<u4")
        return b"".join(
            [
                MAGIC,
                head.tobytes(),
                self.roots.astype("<u4").tobytes(),
                self.feature.astype("u1").tobytes(),
                self.right.astype("<u2").tobytes(),
                self.value.astype("<f4").tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TreeEnsemble:
        """Parse a model file; ConfigError if it is not one."""
        k = len(MAGIC)
        if data[:k] != MAGIC or len(data) < k + 12:
            raise ConfigError("not a Shotwatch tree-ensemble model file")
        n_trees, n_nodes, n_features = (int(v) for v in np.frombuffer(data, "<u4", 3, k))
        if len(data) != k + 12 + 4 * n_trees + 7 * n_nodes:
            raise ConfigError("tree-ensemble model file has the wrong length")
        o = k + 12
        roots = np.frombuffer(data, "<u4", n_trees, o).astype(np.uint32)
        o += 4 * n_trees
        feature = np.frombuffer(data, "u1", n_nodes, o).astype(np.uint8)
        o += n_nodes
        right = np.frombuffer(data, "<u2", n_nodes, o).astype(np.uint16)
        o += 2 * n_nodes
        value = np.frombuffer(data, "<f4", n_nodes, o).astype(np.float32)
        ens = cls(roots, feature, right, value, n_features)
        ens._check()
        return ens

    def _check(self) -> None:
        """Every path stays inside the node array (a corrupt file must not crash)."""
        n = self.n_nodes
        if self.roots.size == 0 or int(self.roots.max()) >= n:
            raise ConfigError("tree-ensemble model: bad tree roots")
        internal = self.feature != LEAF
        if np.any(self.feature[internal] >= self.n_features):
            raise ConfigError("tree-ensemble model: feature index out of range")
        idx = np.flatnonzero(internal)
        if idx.size and (
            int(idx.max()) + 1 >= n or int((idx + self.right[idx].astype(np.int64)).max()) >= n
        ):
            raise ConfigError("tree-ensemble model: child index out of range")
        if np.any(self.right[idx] < 2):
            raise ConfigError("tree-ensemble model: right child must follow the left subtree")

    def predict(self, x: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Scores in [0, 1] of feature rows, shape (n, n_features) -> (n,)."""
        f = np.ascontiguousarray(np.atleast_2d(x), dtype=np.float32)
        if f.shape[1] != self.n_features:
            raise InputError(f"expected {self.n_features} features, got {f.shape[1]}")
        out = np.zeros(f.shape[0], dtype=np.float64)
        if f.shape[0]:
            _predict(f, self.roots, self.feature, self.right, self.value, out)
        return out


@numba.njit(cache=True)
def _predict(
    x: NDArray[np.float32],
    roots: NDArray[np.uint32],
    feature: NDArray[np.uint8],
    right: NDArray[np.uint16],
    value: NDArray[np.float32],
    out: NDArray[np.float64],
) -> None:
    for i in range(x.shape[0]):
        s = 0.0
        for t in range(roots.size):
            j = np.int64(roots[t])
            while feature[j] != LEAF:
                if x[i, feature[j]] <= value[j]:
                    j += 1
                else:
                    j += np.int64(right[j])
            s += value[j]
        out[i] = s / roots.size
