"""Short audio clips in pulse reports: ``{"encoding": "flac-base64", ...}``.

The ``clip`` field of a pulse report holds the audio around the onset so the server can
re-score it, the consoles can play it and the evidence store can keep it::

    {"encoding": "flac-base64", "format": "flac", "sample_rate": 16000,
     "start_utc": "2026-07-04T21:13:05.023456Z", "onset_s": 0.1, "data": "ZkxhQwAAACIQ..."}

``start_utc`` is the GPS time of the first sample of the clip, ``onset_s`` the onset's
offset into the clip, seconds. ``wav-base64`` (16-bit PCM WAV) is the alternative for
receivers without a FLAC decoder.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError
from shotwatch.timeutil import format_utc, parse_utc

ClipFormat = Literal["flac", "wav"]


def encode_clip(
    samples: NDArray[np.float64],
    sample_rate: int,
    start: float,
    *,
    onset_s: float | None = None,
    fmt: ClipFormat = "flac",
) -> dict[str, Any]:
    """Encode float samples (-1..1, clipped) as 16-bit FLAC/WAV, base64, with their timing."""
    import soundfile as sf

    if fmt not in ("flac", "wav"):
        raise InputError(f"clip format must be flac or wav, got {fmt!r}")
    x = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, x, int(sample_rate), format=fmt.upper(), subtype="PCM_16")
    out: dict[str, Any] = {
        "encoding": f"{fmt}-base64",
        "format": fmt,
        "sample_rate": int(sample_rate),
        "start_utc": format_utc(start),
    }
    if onset_s is not None:
        out["onset_s"] = round(float(onset_s), 7)
    out["data"] = base64.b64encode(buf.getvalue()).decode("ascii")
    return out


def decode_clip(clip: Any) -> tuple[NDArray[np.float64], int, float]:
    """Decode a ``clip`` object back to (samples float64, sample rate, start epoch s)."""
    import soundfile as sf

    if not isinstance(clip, dict):
        raise InputError("clip must be an object")
    enc = clip.get("encoding")
    if enc not in ("flac-base64", "wav-base64"):
        raise InputError(f"unknown clip encoding {enc!r}")
    try:
        raw = base64.b64decode(str(clip.get("data", "")), validate=True)
        data, sr = sf.read(io.BytesIO(raw), dtype="float64", always_2d=True)
    except (binascii.Error, ValueError, RuntimeError, sf.LibsndfileError) as e:
        raise InputError(f"clip data is not valid {enc}: {e}") from None
    start = parse_utc(clip.get("start_utc", ""))
    if int(clip.get("sample_rate", sr)) != int(sr):
        raise InputError("clip sample_rate does not match its audio data")
    return np.ascontiguousarray(data[:, 0]), int(sr), start
