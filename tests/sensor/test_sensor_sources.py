"""Audio sources (file, WAV stream, raw PCM) and real-time pacing."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from numpy.typing import NDArray
from sensorutil import T0, impulse_train

from shotwatch.errors import InputError
from shotwatch.sensor import SensorAgent
from shotwatch.sensor.runner import run_source
from shotwatch.sensor.sources import FileSource, StreamSource


def _wav_bytes(x: np.ndarray, sr: int, subtype: str, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    data = np.stack([x] + [np.zeros_like(x)] * (channels - 1), axis=1) if channels > 1 else x
    sf.write(buf, data, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("subtype", "tol"), [("PCM_16", 1 / 32768), ("PCM_24", 1e-6), ("PCM_32", 1e-8), ("FLOAT", 1e-7)]
)
@pytest.mark.parametrize("channels", [1, 2])
def test_wav_stream_decodes_like_soundfile(subtype: str, tol: float, channels: int) -> None:
    rng = np.random.default_rng(0)
    x = np.clip(rng.normal(0, 0.2, 5001), -0.99, 0.99)
    src = StreamSource(io.BytesIO(_wav_bytes(x, 22050, subtype, channels)))
    assert src.sample_rate == 22050
    y = np.concatenate(list(src.blocks(777)))
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) <= tol


def test_raw_pcm_stream_needs_rate() -> None:
    raw = (np.arange(100, dtype="<i2") * 100).tobytes()
    with pytest.raises(InputError):
        StreamSource(io.BytesIO(raw))
    src = StreamSource(io.BytesIO(raw), sample_rate=8000)
    y = np.concatenate(list(src.blocks(30)))
    assert np.allclose(y * 32768, np.arange(100) * 100)


@pytest.mark.parametrize(
    "data",
    [b"RIFF\x00\x00\x00\x00WAVEfmt ", b"RIFF\x00\x00\x00\x00JUNK", b""],
)
def test_broken_wav_streams_raise_input_error(data: bytes) -> None:
    with pytest.raises(InputError):
        StreamSource(io.BytesIO(data))


def test_file_source_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        FileSource(tmp_path / "missing.flac")
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC but not really")
    with pytest.raises(InputError, match="WAV/FLAC"):
        FileSource(bad)


def test_flac_file_source_and_realtime_pacing(tmp_path: Path) -> None:
    sr = 8000
    x, truth = impulse_train(sr, seconds=2.5, first_s=0.8, spacing_s=0.5, seed=4)
    path = tmp_path / "a.flac"
    sf.write(str(path), x, sr, format="FLAC", subtype="PCM_16")
    src = FileSource(path)
    assert (src.sample_rate, src.frames) == (sr, len(x))

    async def main(realtime: bool) -> tuple[int, float]:
        agent = SensorAgent("S1", sample_rate=sr, start_utc=T0, classifier=None)
        t = time.monotonic()
        stats = await run_source(agent, src, block_s=0.1, realtime=realtime)
        return stats.pulses, time.monotonic() - t

    n_fast, _ = asyncio.run(main(False))
    n_real, wall = asyncio.run(main(True))
    assert n_fast == n_real == len(truth)
    assert wall >= 2.4, "real-time replay must take as long as the audio"


def test_cancelled_run_still_finishes_the_stream() -> None:
    """Ctrl-C / SIGTERM: the pulses already heard are still decided and sent."""
    sr = 8000
    x, truth = impulse_train(sr, seconds=30.0, first_s=0.8, spacing_s=0.3, seed=5)

    class ArraySource:
        sample_rate = sr

        def blocks(self, n: int) -> Iterator[NDArray[np.float64]]:
            for i in range(0, len(x), n):
                yield x[i : i + n]

    async def main() -> tuple[bool, int, int]:
        agent = SensorAgent("S1", sample_rate=sr, start_utc=T0, classifier=None)
        task = asyncio.create_task(run_source(agent, ArraySource(), block_s=0.1, realtime=True))
        await asyncio.sleep(1.6)
        task.cancel()
        stats = await task
        return stats.interrupted, stats.pulses, stats.samples

    interrupted, pulses, samples = asyncio.run(main())
    heard = truth[truth < samples / sr - 0.06]
    assert interrupted
    assert 0 < samples < len(x)
    assert pulses == len(heard), "impulses heard before the cancel are all reported"
