"""Benchmarks of the edge agent (``pytest tests/sensor -k bench --benchmark-enable``).

With benchmarks disabled (the default) each runs once as a correctness test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sensorutil import T0, impulse_train

from shotwatch.sensor import SensorAgent


@pytest.mark.parametrize(("sr", "block_s"), [(16000, 0.1), (48000, 0.1), (48000, 2.0)])
def test_bench_agent_throughput(benchmark: Any, sr: int, block_s: float) -> None:
    """CPU cost of streaming 20 s of audio (a real-time sensor uses 0.1 s blocks)."""
    x, truth = impulse_train(sr, seconds=20.0, seed=2)
    n = round(block_s * sr)
    blocks = [x[i : i + n] for i in range(0, len(x), n)]

    def run() -> int:
        agent = SensorAgent("S1", sample_rate=sr, start_utc=T0, classifier=None)
        count = 0
        for b in blocks:
            count += len(agent.process(b))
        return count + len(agent.finish())

    assert benchmark(run) == len(truth)
    assert np.all(np.isfinite(x))
