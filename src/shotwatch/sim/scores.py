"""Gunshot classifier scores for simulated pulses.

The simulator's pulses carry no audio, so without this the incident logic tells a
backfire from a shot by level and reach alone. With a scenario's ``scores`` section each
pulse gets a ``gunshot_score`` drawn from a measured score distribution of its source's
kind: :func:`measured_scores` takes the shipped model's out-of-fold scores per class of
its training data (``cv.score_quantiles`` of the model's metadata, written by
``shotwatch train-classifier``), which is what the model gives sounds of a recording
session it was not trained on.

The classes stand in for the simulated kinds as follows (``KIND_CLASS``). Gunfire: the
live fire's gunshots as the deployed city sensors recorded them (handguns and rifles at
tens to hundreds of metres), not the web's close-range clips. Door slams: ESC-50's door
knocks. Fireworks and firecracker strings: the fireworks recordings. Backfires: no
recording of one exists in the data; the fireworks class, the explosive bangs, stands in
(of the impulsive classes it has the most false positives after glass breaking, which
is too small to use). Spurious picks (``noise``): the live fire's non-gunshot picks of
the same sensors.

Draws are correlated within an incident (a Gaussian copula): pulse ``i`` of incident
``k`` takes the normal score ``z = sqrt(rho) u_k + sqrt(1 - rho) e_i`` and the score is
the kind's quantile function at ``Phi(z)``, so every pulse keeps its kind's marginal
distribution. On the training windows the intraclass correlation of the normal scores is
0.23 among one live-fire test's windows (several sensors, one to three rounds of one
gun), 0.55 among the windows of one door recording and 0.80 among one fireworks
recording's; the default ``rho`` 0.5 lies between.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from shotwatch.errors import InputError
from shotwatch.sim.scenario import Scores

KIND_CLASS: dict[str, str] = {
    "gunfire": "livefire_gunshot",
    "door_slam": "door",
    "fireworks": "fireworks",
    "firecrackers": "fireworks",
    "backfire": "fireworks",
    "noise": "livefire_background",
}


def model_meta() -> dict[str, Any]:
    """The shipped gunshot model's metadata (``models/gunshot_et.json``)."""
    path = resources.files("shotwatch") / "models" / "gunshot_et.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def measured_scores(
    meta: dict[str, Any] | None = None, incident_correlation: float = 0.5
) -> Scores:
    """A scenario ``scores`` section from a model's out-of-fold score quantiles.

    ``meta`` is the model's metadata (default: the shipped model's).
    """
    meta = model_meta() if meta is None else meta
    table = (meta.get("cv") or {}).get("score_quantiles")
    if not isinstance(table, dict):
        raise InputError("the model's metadata has no cv.score_quantiles (retrain it)")
    missing = sorted({c for c in KIND_CLASS.values() if c not in table})
    if missing:
        raise InputError(f"cv.score_quantiles lacks the class(es) {', '.join(missing)}")
    return Scores.model_validate(
        {
            "quantiles": {k: list(table[c]) for k, c in KIND_CLASS.items()},
            "incident_correlation": incident_correlation,
        }
    )


def draw_scores(
    quantiles: list[float],
    incident: NDArray[np.int64],
    rho: float,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Scores of pulses of one kind, ``incident`` (n,) their incident numbers.

    One common normal draw per distinct incident, one own per pulse (see the module
    docstring); the score is the quantile function (linear between the given quantiles,
    at evenly spaced probabilities) at the normal law's CDF of their mix.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    n = incident.shape[0]
    uniq, inv = np.unique(incident, return_inverse=True)
    common: NDArray[np.float64] = np.asarray(rng.standard_normal(len(uniq)))
    z = math.sqrt(rho) * common[inv] + math.sqrt(1.0 - rho) * rng.standard_normal(n)
    p = np.asarray(ndtr(z), dtype=np.float64)
    return np.asarray(np.interp(p, np.linspace(0.0, 1.0, q.shape[0]), q), dtype=np.float64)
