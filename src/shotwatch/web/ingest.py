"""Validation of one pulse report as it arrives over HTTP (the sensor -> server message).

The body is the pulse-report JSON of DESIGN.md. ``clip`` is null or the short audio
clip as base64 WAV/FLAC (a string, or ``{"format": "wav", "data": "<base64>"}``). Every
problem is an :class:`~shotwatch.errors.InputError` whose message is the logged reason.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass
from typing import Any

from shotwatch.errors import InputError
from shotwatch.formats import pulse_from_json
from shotwatch.models import Pulse

MAX_FEATURES_KEYS = 256


@dataclass
class IngestedPulse:
    pulse: Pulse
    clip: bytes | None
    clip_ext: str | None
    clip_seconds: float | None


def _decode_clip(raw: Any, max_seconds: float) -> tuple[bytes, str, float] | None:
    if raw is None:
        return None
    fmt_hint = None
    if isinstance(raw, dict):
        fmt_hint = raw.get("format")
        raw = raw.get("data")
    if not isinstance(raw, str) or not raw:
        raise InputError("clip must be null or base64 WAV/FLAC")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("clip is not valid base64") from None
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError):
        raise InputError("clip is not a readable WAV/FLAC file") from None
    fmt = str(info.format).upper()
    if fmt not in ("WAV", "FLAC", "WAVEX"):
        raise InputError(f"clip format {fmt} not accepted (WAV or FLAC)")
    if fmt_hint is not None and str(fmt_hint).upper() not in ("WAV", "FLAC"):
        raise InputError(f"clip format {fmt_hint!r} not accepted (WAV or FLAC)")
    if not 1000 <= info.samplerate <= 384_000 or info.frames < 2:
        raise InputError("clip has an unusable sample rate or no samples")
    seconds = info.frames / info.samplerate
    if seconds > max_seconds:
        raise InputError(f"clip too long: {seconds:.1f} s > {max_seconds:.1f} s")
    return data, ("flac" if fmt == "FLAC" else "wav"), seconds


def parse_pulse_report(body: bytes, max_bytes: int, max_clip_seconds: float) -> IngestedPulse:
    """Parse and validate one report body; raises InputError with the reason."""
    if len(body) > max_bytes:
        raise InputError(f"report too large: {len(body)} bytes > {max_bytes}")
    try:
        d = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON: {e}") from None
    pulse = pulse_from_json(d, "pulse report")
    if len(pulse.features) > MAX_FEATURES_KEYS:
        raise InputError(f"features has more than {MAX_FEATURES_KEYS} keys")
    clip = _decode_clip(d.get("clip"), max_clip_seconds)
    pulse.clip = None
    if clip is None:
        return IngestedPulse(pulse, None, None, None)
    return IngestedPulse(pulse, clip[0], clip[1], clip[2])
