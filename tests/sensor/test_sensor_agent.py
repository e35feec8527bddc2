"""The streaming agent: one pulse per impulse, at the right time, whatever the blocks."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from sensorutil import T0, impulse_train, split_at

from shotwatch.core.picking import Picks, pick_onsets
from shotwatch.errors import InputError
from shotwatch.models import Pulse
from shotwatch.sensor import SensorAgent, decode_clip, pulse_report
from shotwatch.timeutil import parse_utc


def run_blocks(agent: SensorAgent, blocks: list[NDArray[np.float64]]) -> list[Pulse]:
    out: list[Pulse] = []
    for b in blocks:
        out += agent.process(b)
    return out + agent.finish()


def agent_for(sr: int, **kw: object) -> SensorAgent:
    return SensorAgent("S017", sample_rate=sr, start_utc=T0, classifier=None, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("sr", [24000, 48000])
@pytest.mark.parametrize("block", [64, 1000, 4097, 24000, 10**9])
def test_one_pulse_per_impulse_at_the_right_time(sr: int, block: int) -> None:
    x, truth = impulse_train(sr, seconds=6.0, seed=sr + block % 97)
    pulses = run_blocks(agent_for(sr), [x[i : i + block] for i in range(0, len(x), block)])
    t = np.array([p.t - T0 for p in pulses])
    assert len(t) == len(truth), f"expected {len(truth)} pulses, got {len(t)}"
    assert np.max(np.abs(t - truth)) < 0.5e-3
    assert all(p.sensor_id == "S017" for p in pulses)


@pytest.mark.parametrize("sr", [8000, 16000, 44100])
def test_impulses_spanning_block_boundaries_are_picked_once(sr: int) -> None:
    """Cut the stream 0.1, 1 and 5 ms after each onset; results equal the batch picker's."""
    x, truth = impulse_train(sr, seconds=7.0, spacing_s=0.45, seed=3)
    batch = pick_onsets(x, sr).onset / sr
    assert len(batch) == len(truth)
    for delay in (0.0001, 0.001, 0.005):
        cuts = [round((t + delay) * sr) for t in truth]
        pulses = run_blocks(agent_for(sr), split_at(x, cuts))
        t = np.array([p.t - T0 for p in pulses])
        assert len(t) == len(truth), f"cut {delay * 1e3} ms after onsets"
        assert np.max(np.abs(t - batch)) < 5e-6, "streaming must match the batch picker"


def test_random_block_sizes_match_batch() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=8.0, spacing_s=0.33, seed=11)
    rng = np.random.default_rng(5)
    cuts = list(np.cumsum(rng.integers(1, 3000, size=400)))
    pulses = run_blocks(agent_for(sr), split_at(x, cuts))
    batch = pick_onsets(x, sr).onset / sr
    assert len(pulses) == len(batch) == len(truth)
    assert np.allclose([p.t - T0 for p in pulses], batch, atol=5e-6)


def test_pulse_fields_and_clip_roundtrip() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=4.0, seed=2)
    pulses = run_blocks(agent_for(sr), [x])
    assert len(pulses) == len(truth)
    for p in pulses:
        assert p.snr_db is not None and p.snr_db > 20
        assert p.peak_dbfs is not None and -10 < p.peak_dbfs <= 0
        assert p.sigma_t is not None and 0 < p.sigma_t < 1e-3
        assert p.gunshot_score is None, "no classifier: no score"
        assert p.uid
        samples, clip_sr, start = decode_clip(p.clip)
        assert clip_sr == sr
        assert p.clip["encoding"] == "flac-base64"
        assert abs(start + p.clip["onset_s"] - p.t) < 1e-6
        assert len(samples) == pytest.approx(1.0 * sr, abs=2)
        i0 = round((start - T0) * sr)
        assert np.max(np.abs(samples - x[i0 : i0 + len(samples)])) < 1.0 / 16384
        report = pulse_report(p)
        assert parse_utc(report["t_utc"]) == pytest.approx(p.t, abs=1e-6)
        assert report["sigma_t_s"] == pytest.approx(p.sigma_t, rel=1e-3)
        assert report["pulse_uuid"] == p.uid


def test_wav_clip_and_no_clip() -> None:
    sr = 8000
    x, truth = impulse_train(sr, seconds=3.0, seed=4)
    wav = run_blocks(agent_for(sr, clip_format="wav"), [x])
    assert wav[0].clip["encoding"] == "wav-base64"
    assert decode_clip(wav[0].clip)[1] == sr
    none = run_blocks(agent_for(sr, clip_format=None), [x])
    assert none[0].clip is None and len(none) == len(truth)


class OnsetProbe:
    """A stand-in classifier that reports how loud the audio is at the onset it is given:
    1 if the sample at ``onset`` starts the burst, 0 if it is background noise."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, samples: NDArray[np.float64], sample_rate: int, onset: int) -> float:
        self.calls += 1
        before = np.max(np.abs(samples[max(0, onset - 40) : onset - 2]))
        after = np.max(np.abs(samples[onset : onset + 20]))
        return 1.0 if after > 10 * before else 0.0


def test_classifier_gets_the_clip_and_onset() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=4.0, seed=9)
    probe = OnsetProbe()
    agent = SensorAgent("S1", sample_rate=sr, start_utc=T0, classifier=probe)
    pulses = run_blocks(agent, [x[i : i + 800] for i in range(0, len(x), 800)])
    assert probe.calls == len(pulses) == len(truth)
    assert [p.gunshot_score for p in pulses] == [1.0] * len(truth)


def test_time_jump_restarts_stream() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=4.0, seed=1)
    agent = agent_for(sr)
    first = run_blocks(agent, [x[: len(x) // 2], x[len(x) // 2 :]])
    later = T0 + 3600.0
    second = agent.process(x, t_start=later) + agent.finish()
    assert len(first) == len(second) == len(truth)
    assert np.allclose([p.t - later for p in second], [p.t - T0 for p in first], atol=1e-6)


def test_silence_and_short_input_give_no_pulses() -> None:
    agent = agent_for(16000)
    assert run_blocks(agent, [np.zeros(16000 * 3)]) == []
    assert run_blocks(agent_for(16000), [np.zeros(10)]) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate": 4000},
        {"sample_rate": 96000},
        {"sample_rate": 16000.5},
        {"sensor_id": "bad id"},
        {"sensor_id": "a.b"},
        {"sensor_id": ""},
        {"start_utc": "yesterday"},
        {"start_utc": float("nan")},
        {"hop_s": 0.0},
    ],
)
def test_bad_settings_raise_input_error(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"sensor_id": "S1", "sample_rate": 16000, "start_utc": T0}
    args.update(kwargs)
    with pytest.raises(InputError):
        SensorAgent(classifier=None, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("block", [np.array([0.0, np.nan]), np.zeros((2, 2, 2)), ["a", "b"]])
def test_bad_blocks_raise_input_error(block: object) -> None:
    agent = agent_for(16000)
    with pytest.raises(InputError):
        agent.process(block)


def test_stereo_block_uses_first_channel() -> None:
    sr = 16000
    x, truth = impulse_train(sr, seconds=3.0, seed=6)
    stereo = np.stack([x, np.zeros_like(x)], axis=1)
    assert len(run_blocks(agent_for(sr), [stereo])) == len(truth)


def test_regression_no_pulse_on_dropout_edges() -> None:
    """Recorders write exact zeros during a dropout (the live-fire clips start with 1 s of
    them); the band-pass smears the step where audio resumes, which must not be a pulse."""
    sr = 24000
    x, truth = impulse_train(sr, seconds=6.0, first_s=2.0, spacing_s=0.9, seed=12)
    x[:sr] = 0.0  # leading dropout
    x[round(3.3 * sr) : round(3.6 * sr)] = 0.0  # a dropout between impulses
    pulses = run_blocks(agent_for(sr), [x[i : i + 2400] for i in range(0, len(x), 2400)])
    t = np.array([p.t - T0 for p in pulses])
    near = [np.min(np.abs(t - tt)) < 0.5e-3 for tt in truth]
    assert all(near), "every impulse still reported"
    assert len(t) == len(truth), (
        f"spurious pulses at {sorted(set(np.round(t, 3)) - set(np.round(truth, 3)))}"
    )


def test_failing_classifier_leaves_pulses_unscored(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def score(self, samples: NDArray[np.float64], sample_rate: int, onset: int) -> float:
            raise RuntimeError("model file corrupt")

    sr = 16000
    x, truth = impulse_train(sr, seconds=3.0, seed=7)
    agent = SensorAgent("S1", sample_rate=sr, start_utc=T0, classifier=Broken())
    pulses = run_blocks(agent, [x])
    assert len(pulses) == len(truth)
    assert all(p.gunshot_score is None for p in pulses)
    assert any("classifier failed" in r.getMessage() for r in caplog.records)


def test_picker_value_error_becomes_input_error() -> None:
    def picky(samples: NDArray[np.float64], sample_rate: int) -> Picks:
        raise ValueError("samples contain NaN or infinity")

    agent = SensorAgent("S1", sample_rate=8000, start_utc=T0, classifier=None, picker=picky)
    with pytest.raises(InputError, match="picker rejected"):
        run_blocks(agent, [np.zeros(8000 * 3)])


@pytest.mark.parametrize(("before", "after"), [(1.0, 0.2), (0.1, 0.9), (0.0, 2.0)])
def test_clip_extent_and_pulse_latency(before: float, after: float) -> None:
    """A pulse leaves once its clip tail (and the classifier's 0.35 s) has arrived, not
    much later; the clip holds exactly the requested pre-roll and tail."""
    sr = 16000
    x, truth = impulse_train(sr, seconds=9.5, first_s=2.0, spacing_s=2.5, seed=3)
    agent = agent_for(sr, clip_before_s=before, clip_after_s=after, hop_s=0.25)
    step = sr // 20
    lags: list[float] = []
    pulses: list[Pulse] = []
    for i in range(0, len(x), step):
        new = agent.process(x[i : i + step])
        lags += [(i + step) / sr - (p.t - T0) for p in new]
        pulses += new
    assert len(pulses) == len(truth)
    wait = max(after, 0.35)
    assert all(wait <= lag <= wait + 0.25 + 0.05 + 1e-9 for lag in lags), lags
    for p in pulses:
        samples = decode_clip(p.clip)[0]
        assert len(samples) == pytest.approx((before + after) * sr, abs=2)
        assert p.clip["onset_s"] == pytest.approx(before, abs=1.0 / sr)


def test_the_agent_readies_the_classifiers_kernels_before_the_first_pulse() -> None:
    """With the shipped classifier, constructing the agent scores a synthetic impulse:
    its compiled feature kernels are ready (loaded or, after an install, compiled) before
    the first real pulse, which then compiles nothing (at 16 kHz and 44.1 kHz). In a
    fresh interpreter: in this one other tests have compiled them already."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import numba, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from sensorutil import T0, impulse_train\n"
        "from shotwatch.core import features\n"
        "from shotwatch.sensor import SensorAgent\n"
        "ks = [v for v in vars(features).values()\n"
        "      if isinstance(v, numba.core.registry.CPUDispatcher)]\n"
        "assert ks and not any(k.signatures for k in ks)\n"
        "out = []\n"
        "for sr in (16000, 44100):\n"
        "    agent = SensorAgent('S1', sample_rate=sr, start_utc=T0, clip_format=None)\n"
        "    before = [len(k.signatures) for k in ks]\n"
        "    x, _ = impulse_train(sr)\n"
        "    pulses = agent.process(x) + agent.finish()\n"
        "    assert pulses and all(p.gunshot_score is not None for p in pulses)\n"
        "    out += [k.__name__ for k, b in zip(ks, before) if len(k.signatures) > b]\n"
        "print(out)\n"
    )
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert got.stdout.strip() == "[]"
