"""Audio sources for the sensor agent: a WAV/FLAC file, or a stream on stdin.

A source yields float64 blocks (first channel, -1..1) and knows its sample rate. Stdin
carries either a WAV stream (``arecord -f S16_LE -r 16000 -c 1`` writes one; the length
fields may be 0 or 0xFFFFFFFF, so the data run to the end of the stream) or raw
little-endian 16-bit mono PCM when the sample rate is given.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError

_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_FLOAT = 3
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class FileSource:
    """A WAV or FLAC file read in blocks (soundfile)."""

    def __init__(self, path: Path | str) -> None:
        import soundfile as sf

        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("audio file not found", str(self.path))
        try:
            info = sf.info(str(self.path))
        except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as e:
            raise InputError(f"not a readable WAV/FLAC audio file ({e})", str(self.path)) from None
        self.sample_rate = int(info.samplerate)
        self.frames = int(info.frames)

    def blocks(self, block_frames: int) -> Iterator[NDArray[np.float64]]:
        import soundfile as sf

        try:
            with sf.SoundFile(str(self.path)) as f:
                while True:
                    data = f.read(block_frames, dtype="float64", always_2d=True)
                    if data.shape[0] == 0:
                        return
                    yield np.ascontiguousarray(data[:, 0])
        except (RuntimeError, sf.LibsndfileError) as e:
            raise InputError(f"error reading audio: {e}", str(self.path)) from None


class StreamSource:
    """A WAV stream or raw s16le mono PCM (``sample_rate`` given) on a binary stream."""

    def __init__(self, stream: BinaryIO, sample_rate: int | None = None, name: str = "stdin"):
        self._s = stream
        self.name = name
        self._pending = b""
        self.sample_rate: int = 0
        self.channels: int = 1
        self._bits: int = 16
        self._float: bool = False
        head = self._read_exact(4, allow_short=True)
        if head == b"RIFF":
            self._parse_wav_header()
            if sample_rate is not None and sample_rate != self.sample_rate:
                raise InputError(
                    f"--sample-rate {sample_rate} disagrees with the WAV header "
                    f"({self.sample_rate} Hz)",
                    name,
                )
        else:
            if sample_rate is None:
                raise InputError("not a WAV stream; for raw 16-bit PCM give the sample rate", name)
            self.sample_rate = int(sample_rate)
            self.channels, self._bits, self._float = 1, 16, False
            self._pending = head
        self.frames: int | None = None

    def _read_exact(self, n: int, allow_short: bool = False) -> bytes:
        out = b""
        while len(out) < n:
            try:
                chunk = self._s.read(n - len(out))
            except OSError as e:
                raise InputError(f"cannot read: {e}", self.name) from None
            if not chunk:
                break
            out += chunk
        if len(out) < n and not allow_short:
            raise InputError("stream ended inside the WAV header", self.name)
        return out

    def _parse_wav_header(self) -> None:
        rest = self._read_exact(8)
        if rest[4:] != b"WAVE":
            raise InputError("RIFF stream is not WAVE", self.name)
        fmt_seen = False
        while True:
            hdr = self._read_exact(8)
            cid, size = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"fmt ":
                body = self._read_exact(size + (size & 1))
                tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if tag == _WAVE_FORMAT_EXTENSIBLE and size >= 40:
                    tag = struct.unpack("<H", body[24:26])[0]
                if tag not in (_WAVE_FORMAT_PCM, _WAVE_FORMAT_FLOAT):
                    raise InputError(f"WAV format tag {tag} not supported", self.name)
                if (tag == _WAVE_FORMAT_PCM and bits not in (16, 24, 32)) or (
                    tag == _WAVE_FORMAT_FLOAT and bits != 32
                ):
                    raise InputError(f"WAV with {bits}-bit samples not supported", self.name)
                if ch < 1 or rate < 1:
                    raise InputError("WAV header has no channels or no rate", self.name)
                self.sample_rate, self.channels, self._bits = int(rate), int(ch), int(bits)
                self._float = tag == _WAVE_FORMAT_FLOAT
                fmt_seen = True
            elif cid == b"data":
                if not fmt_seen:
                    raise InputError("WAV data before its fmt chunk", self.name)
                return
            else:
                self._read_exact(size + (size & 1))

    def _decode(self, raw: bytes) -> NDArray[np.float64]:
        if self._float:
            x = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif self._bits == 16:
            x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
        elif self._bits == 32:
            x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
        else:  # 24-bit little-endian
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
            v = np.where(v >= 1 << 23, v - (1 << 24), v)
            x = v.astype(np.float64) / float(1 << 23)
        return np.ascontiguousarray(x.reshape(-1, self.channels)[:, 0])

    def blocks(self, block_frames: int) -> Iterator[NDArray[np.float64]]:
        frame_bytes = self.channels * self._bits // 8
        want = block_frames * frame_bytes
        while True:
            raw = self._pending + self._read_exact(want - len(self._pending), allow_short=True)
            self._pending = b""
            usable = len(raw) - len(raw) % frame_bytes
            if usable:
                yield self._decode(raw[:usable])
            if len(raw) < want:
                return
