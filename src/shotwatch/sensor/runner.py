"""Run a :class:`~shotwatch.sensor.agent.SensorAgent` over a source, paced or not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from shotwatch.sensor.agent import SensorAgent


class Source(Protocol):
    sample_rate: int

    def blocks(self, block_frames: int) -> Iterator[NDArray[np.float64]]: ...


@dataclass
class RunStats:
    samples: int = 0
    pulses: int = 0
    wall_s: float = 0.0
    interrupted: bool = False

    def describe(self, sample_rate: int) -> str:
        audio = self.samples / sample_rate
        speed = audio / self.wall_s if self.wall_s > 0 else float("inf")
        return (
            f"{self.pulses} pulses from {audio:.1f} s of audio in {self.wall_s:.1f} s "
            f"({speed:.0f}x real time)"
        )


_END = object()


async def run_source(
    agent: SensorAgent, source: Source, *, block_s: float = 0.1, realtime: bool = False
) -> RunStats:
    """Feed every block of ``source`` to ``agent`` and finish the stream.

    ``realtime``: pace the blocks at the audio's own speed (a replayed file then behaves
    like a live sensor); otherwise as fast as possible. Reading runs in a worker thread,
    so a blocking stream (stdin) never stalls the transport's retries.

    Cancelling the run (Ctrl-C, SIGTERM in the CLI) stops reading but still finishes the
    stream, so the pulses of the last second are decided and handed to the transport;
    the returned stats then say ``interrupted``.
    """
    block_frames = max(1, round(block_s * source.sample_rate))
    stats = RunStats()
    it = source.blocks(block_frames)
    t_wall0 = time.monotonic()

    def next_block() -> object:
        return next(it, _END)

    try:
        while True:
            block = await asyncio.to_thread(next_block)
            if block is _END:
                break
            assert isinstance(block, np.ndarray)
            if realtime:
                due = t_wall0 + (stats.samples + block.shape[0]) / source.sample_rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            stats.pulses += len(await agent.feed(block))
            stats.samples += block.shape[0]
    except asyncio.CancelledError:
        stats.interrupted = True
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
    stats.pulses += len(await agent.close())
    stats.wall_s = time.monotonic() - t_wall0
    return stats
