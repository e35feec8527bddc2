"""Replay a recorded deployment (``clips.csv``) as a set of live sensors.

``clips.csv`` (``sensor_id,path,start_utc``; the DESIGN recordings contract) names WAV or
FLAC files per sensor, continuous or not. :func:`replay` runs one
:class:`~shotwatch.sensor.agent.SensorAgent` per sensor and feeds all of them in lockstep
along one timeline, block by block, so pulses leave in the time order a real deployment
would send them; with ``speed`` the timeline is paced against the wall clock (1 = real
time). ``time_shift`` (seconds) moves every timestamp, e.g. to replay an old recording
to a live server as if it were happening now. Audio is read block by block, never whole.
"""

from __future__ import annotations

import asyncio
import csv
import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError
from shotwatch.sensor.agent import Scorer, SensorAgent, default_classifier, validate_sensor_id
from shotwatch.sensor.clip import ClipFormat
from shotwatch.sensor.sources import FileSource
from shotwatch.sensor.transport import Transport
from shotwatch.timeutil import parse_utc

CLIP_COLUMNS = ("sensor_id", "path", "start_utc")


@dataclass
class ClipRef:
    """One recording of ``clips.csv``: audio file, GPS time of its first sample."""

    sensor_id: str
    source: FileSource
    start: float

    @property
    def end(self) -> float:
        return self.start + self.source.frames / self.source.sample_rate


def read_clip_refs(path: Path) -> dict[str, list[ClipRef]]:
    """Read ``clips.csv`` (or ``DIR/clips.csv``; paths relative to it) without loading
    audio: clips per sensor, in time order. Errors name the file and line."""
    if path.is_dir():
        path = path / "clips.csv"
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    out: dict[str, list[ClipRef]] = {}
    with fh:
        try:
            reader = csv.DictReader(fh)
            missing = [c for c in CLIP_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"missing column(s) {', '.join(missing)} (header must be "
                    f"{','.join(CLIP_COLUMNS)})",
                    f"{path}:1",
                )
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if all(not (v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue
                if any(row.get(c) is None for c in CLIP_COLUMNS):
                    raise InputError("too few fields", where)
                sid = row["sensor_id"].strip()
                try:
                    validate_sensor_id(sid)
                    start = parse_utc(row["start_utc"])
                    src = FileSource(path.parent / row["path"].strip())
                except InputError as e:
                    raise InputError(str(e), where) from None
                out.setdefault(sid, []).append(ClipRef(sid, src, start))
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file", str(path)) from None
        except csv.Error as e:
            raise InputError(f"malformed CSV: {e}", str(path)) from None
    if not out:
        raise InputError("no clips", str(path))
    for clips in out.values():
        clips.sort(key=lambda c: c.start)
    return out


def _blocks(
    clips: list[ClipRef], block_s: float
) -> Iterator[tuple[float, int, NDArray[np.float64]]]:
    """(time of first sample, sample rate, block) over a sensor's clips, in time order."""
    for clip in clips:
        sr = clip.source.sample_rate
        t = clip.start
        for block in clip.source.blocks(max(1, round(block_s * sr))):
            yield t, sr, block
            t += block.shape[0] / sr


@dataclass
class ReplayStats:
    sensors: int = 0
    clips: int = 0
    audio_s: float = 0.0
    pulses: int = 0
    wall_s: float = 0.0
    per_sensor: dict[str, int] = field(default_factory=dict)


async def replay(
    clips: dict[str, list[ClipRef]],
    transport_for: Callable[[str], Transport],
    *,
    speed: float | None = None,
    block_s: float = 0.1,
    time_shift: float = 0.0,
    clip_format: ClipFormat | None = "flac",
    classify: bool = True,
) -> ReplayStats:
    """Feed every sensor's audio to its agent in global time order; see the module doc.

    ``transport_for(sensor_id)`` gives each sensor's transport (it may be shared).
    ``speed``: None = as fast as possible, 1 = real time, 10 = ten times real time.
    """
    if speed is not None and not speed > 0:
        raise InputError(f"speed must be > 0, got {speed}")
    # load the model once and share it between the agents
    classifier: Scorer | None = default_classifier() if classify else None
    stats = ReplayStats(sensors=len(clips), clips=sum(len(c) for c in clips.values()))
    streams = {sid: _blocks(cl, block_s) for sid, cl in clips.items()}
    agents: dict[str, SensorAgent] = {}
    heap: list[tuple[float, str, int, NDArray[np.float64]]] = []

    def advance(sid: str) -> None:
        nxt = next(streams[sid], None)
        if nxt is not None:
            heapq.heappush(heap, (nxt[0], sid, nxt[1], nxt[2]))

    for sid in streams:
        advance(sid)
    if not heap:
        return stats
    t_first = heap[0][0]
    wall0 = time.monotonic()
    while heap:
        t, sid, sr, block = heapq.heappop(heap)
        if speed is not None:
            due = wall0 + (t + block.shape[0] / sr - t_first) / speed
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        agent = agents.get(sid)
        if agent is not None and agent.sample_rate != sr:
            stats.pulses += len(await agent.close())
            agent = None
        if agent is None:
            agent = SensorAgent(
                sid,
                transport_for(sid),
                sample_rate=sr,
                start_utc=t + time_shift,
                classifier=classifier,
                clip_format=clip_format,
            )
            agents[sid] = agent
        n = len(await agent.feed(block, t_start=t + time_shift))
        stats.pulses += n
        stats.per_sensor[sid] = stats.per_sensor.get(sid, 0) + n
        stats.audio_s += block.shape[0] / sr
        advance(sid)
        if speed is None:
            await asyncio.sleep(0)  # let the transports work
    for sid, agent in agents.items():
        n = len(await agent.close())
        stats.pulses += n
        stats.per_sensor[sid] = stats.per_sensor.get(sid, 0) + n
    stats.wall_s = time.monotonic() - wall0
    return stats
