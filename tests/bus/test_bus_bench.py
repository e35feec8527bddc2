"""Bus throughput benchmarks (``pytest tests/bus -k bench --benchmark-enable``).

With benchmarks disabled (the default) each runs once as a delivery test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from busutil import unique

from shotwatch.bus import Bus, connect_url
from shotwatch.bus.jetstream import NatsBus

N = 2000
CONCURRENCY = 50


async def _pump(bus: Bus) -> int:
    got = 0
    done = asyncio.Event()

    async def handler(subject: str, payload: bytes) -> None:
        nonlocal got
        got += 1
        if got == N:
            done.set()

    sub = await bus.subscribe("bench.*", handler, group="g")
    payload = b"x" * 400  # about one pulse report without a clip
    for _ in range(0, N, CONCURRENCY):
        await asyncio.gather(*(bus.publish("bench.S1", payload) for _ in range(CONCURRENCY)))
    await asyncio.wait_for(done.wait(), 60)
    await sub.unsubscribe()
    return got


def test_bench_memory_bus(benchmark: Any) -> None:
    async def once() -> int:
        async with connect_url("memory://") as bus:
            return await _pump(bus)

    assert benchmark(lambda: asyncio.run(once())) == N


@pytest.mark.services
def test_bench_nats_bus(benchmark: Any) -> None:
    stream, prefix = unique("B").upper(), unique("b")

    async def once() -> int:
        async with NatsBus(stream=stream, prefix=prefix) as bus:
            n = await _pump(bus)
            await bus.delete_stream()
            return n

    assert benchmark(lambda: asyncio.run(once())) == N
