"""The simulated suite (``shotwatch bench``) with and without drawn classifier scores."""

from __future__ import annotations

import sys

import pytest

from shotwatch.bench.simsuite import run_suite
from shotwatch.cli import main


def test_scores_change_only_the_classification_figures() -> None:
    plain = run_suite(1, seed=0, audio_scenes=1, scores=False)
    scored = run_suite(1, seed=0, audio_scenes=1, scores=True)
    assert plain["pulse_scores"] is None
    assert "out-of-fold scores of model" in scored["pulse_scores"]
    classification = {
        "pulse_scores",
        "gunfire_incidents_as_gunfire / non_gunfire",
        "confuser_scenes_alerted_gunfire",
        "confuser_scenes_flagged",
        "fireworks_alerted_gunfire",
        "pulses_per_s_end_to_end",
        "locate_throughput",
    }
    for key, value in plain.items():
        if key not in classification:
            assert scored[key] == value, key
    told, _, of = scored["gunfire_incidents_as_gunfire / non_gunfire"].partition(" of ")
    gun, non = (int(x) for x in told.split(" / "))
    assert int(of) == 5 and 0 <= gun + non <= 5
    # the rounds-exact figure over the incidents whose every round four sensors heard
    ok4, all4 = (
        int(x)
        for x in scored["rounds_exact / gunfire_incidents_every_round_heard_by_4+"].split(" / ")
    )
    le2 = scored["gunfire_incidents_with_a_round_heard_by_2_or_fewer"]
    assert 0 <= ok4 <= all4 and all4 + le2 <= 5
    assert ok4 <= round(scored["rounds_exact_share"] * 5)
    flagged, total = (int(x) for x in scored["confuser_scenes_flagged"].split(" / "))
    alerted = int(scored["confuser_scenes_alerted_gunfire"].split(" / ")[0])
    assert total == 4 and alerted <= flagged <= total


def test_bench_rejects_a_correlation_out_of_range(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["shotwatch", "bench", "--scenes", "1", "--score-correlation", "1.5"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as ei:
        main()
    assert ei.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--score-correlation must be in [0, 1]" in err[0]
