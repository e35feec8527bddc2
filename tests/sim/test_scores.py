"""Classifier scores drawn for simulated pulses (``sim/scores``, a scenario's ``scores``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtri

from shotwatch.errors import InputError
from shotwatch.sim import load_scenario, simulate
from shotwatch.sim.scenario import Scores, scenario_from_dict
from shotwatch.sim.scores import KIND_CLASS, draw_scores, measured_scores, model_meta

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "shotwatch" / "sim" / "examples"
KINDS = ("gunfire", "fireworks", "firecrackers", "backfire", "door_slam", "noise")


def _flat(lo: float, hi: float) -> list[float]:
    return list(np.linspace(lo, hi, 11))


def test_draws_keep_the_marginal_and_the_incident_correlation() -> None:
    q = [0.0, 0.1, 0.2, 0.5, 0.9, 1.0]
    rng = np.random.default_rng(0)
    n_inc, per = 4000, 2
    inc = np.repeat(np.arange(n_inc), per)
    s = draw_scores(q, inc, 0.6, rng)
    assert s.min() >= 0.0 and s.max() <= 1.0
    # the quantile function at evenly spaced probabilities: P(s <= 0.2) = 0.4, median 0.35
    assert np.mean(s <= 0.2) == pytest.approx(0.4, abs=0.02)
    assert np.median(s) == pytest.approx(0.35, abs=0.02)
    # normal scores of two pulses of one incident correlate by rho; of two incidents not
    p = np.interp(s, q, np.linspace(0.0, 1.0, len(q)))
    z = ndtri(np.clip(p, 1e-9, 1 - 1e-9)).reshape(n_inc, per)
    assert np.corrcoef(z[:, 0], z[:, 1])[0, 1] == pytest.approx(0.6, abs=0.05)
    assert abs(np.corrcoef(z[:-1, 0], z[1:, 0])[0, 1]) < 0.05
    # rho 0: independent draws
    s0 = draw_scores(q, inc, 0.0, np.random.default_rng(1))
    p0 = np.interp(s0, q, np.linspace(0.0, 1.0, len(q)))
    z0 = ndtri(np.clip(p0, 1e-9, 1 - 1e-9)).reshape(n_inc, per)
    assert abs(np.corrcoef(z0[:, 0], z0[:, 1])[0, 1]) < 0.05


def test_simulated_pulses_carry_their_kinds_scores() -> None:
    sc = load_scenario(EXAMPLES / "confusers.yaml")
    # disjoint score ranges per kind, so each pulse's score names its kind
    ranges = {k: (0.1 * i, 0.1 * i + 0.05) for i, k in enumerate(KINDS)}
    scored = sc.model_copy(
        update={"scores": Scores(quantiles={k: _flat(*ranges[k]) for k in KINDS})}
    )
    plain, res = simulate(sc, seed=3), simulate(scored, seed=3)
    # the scores are an extra stream: everything else is as without them
    assert [(p.sensor_id, p.t, p.snr_db) for p in plain.pulses] == [
        (p.sensor_id, p.t, p.snr_db) for p in res.pulses
    ]
    assert all(p.gunshot_score is None for p in plain.pulses)
    kind_at = {
        (a["sensor_id"], a["t_utc"]): e["kind"] for e in res.truth["events"] for a in e["arrivals"]
    }
    seen: set[str] = set()
    for p in res.pulses:
        kind = kind_at.get((p.sensor_id, p.to_json()["t_utc"]))
        assert kind is not None  # this scenario has no spurious picks
        lo, hi = ranges[kind]
        assert p.gunshot_score is not None and lo - 1e-4 <= p.gunshot_score <= hi + 1e-4
        seen.add(kind)
    assert seen == {"fireworks", "firecrackers", "backfire", "door_slam", "gunfire"}


def test_spurious_picks_draw_from_noise() -> None:
    doc = {
        "area": {"lat": 40.0, "lon": -80.0, "size_m": [1000, 1000]},
        "duration_s": 600.0,
        "noise": {"spurious_per_sensor_hour": 60.0},
        "sources": [],
        "scores": {"quantiles": {"noise": _flat(0.2, 0.3)}},
    }
    res = simulate(scenario_from_dict(doc), seed=1)
    assert len(res.pulses) > 20
    assert all(0.2 - 1e-4 <= (p.gunshot_score or -1.0) <= 0.3 + 1e-4 for p in res.pulses)


@pytest.mark.parametrize(
    ("scores", "needle"),
    [
        ({"quantiles": {"gunfire": [0.5]}}, "at least 2"),
        ({"quantiles": {"gunfire": [0.5, 0.2]}}, "must not decrease"),
        ({"quantiles": {"gunfire": [0.5, 1.2]}}, "within 0..1"),
        ({"quantiles": {"door_slam": [0.0, 1.0]}}, "no distribution for gunfire"),
        ({"quantiles": {"gunfire": [0.0, 1.0]}, "incident_correlation": 2}, "correlation"),
        ({"quantiles": {"meteor": [0.0, 1.0]}}, "meteor"),
    ],
)
def test_bad_scores_sections_are_named(scores: dict[str, object], needle: str) -> None:
    doc = {
        "area": {"lat": 40.0, "lon": -80.0},
        "sources": [{"kind": "gunfire", "t_s": 1.0, "east_m": 0.0, "north_m": 0.0}],
        "scores": scores,
    }
    with pytest.raises(InputError, match=needle):
        scenario_from_dict(doc)


def test_measured_scores_come_from_the_shipped_models_out_of_fold_scores() -> None:
    meta = model_meta()
    table = meta["cv"]["score_quantiles"]
    s = measured_scores()
    assert set(s.quantiles) == set(KINDS)
    for kind, cls in KIND_CLASS.items():
        assert s.quantiles[kind] == table[cls]  # type: ignore[index]
    # what the model learned: live-fire gunshots score above door knocks and fireworks
    med = {k: float(np.interp(0.5, np.linspace(0, 1, len(v)), v)) for k, v in s.quantiles.items()}
    assert med["gunfire"] > 0.7 > max(med["door_slam"], med["fireworks"], med["noise"])
    with pytest.raises(InputError, match="score_quantiles"):
        measured_scores({"cv": {}})
    with pytest.raises(InputError, match="door"):
        measured_scores({"cv": {"score_quantiles": {c: [0.0, 1.0] for c in ("fireworks",)}}})


def test_cli_simulate_scores_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shotwatch.cli import app
    from shotwatch.formats import read_pulses, read_sensors

    out = tmp_path / "run"
    args = ["simulate", str(EXAMPLES / "confusers.yaml"), "-o", str(out), "--seed", "4"]
    r = CliRunner().invoke(app, [*args, "--scores"])
    assert r.exit_code == 0, r.output
    pulses = read_pulses(out / "pulses.jsonl", read_sensors(out / "sensors.csv"))
    scores = [p.gunshot_score for p in pulses]
    assert scores and all(s is not None and 0.0 <= s <= 1.0 for s in scores)
