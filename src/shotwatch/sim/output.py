"""Writing a simulation run to a directory in the file contracts of DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path

from shotwatch.errors import InputError
from shotwatch.formats import write_clips_csv, write_pulses, write_sensors, write_weather
from shotwatch.sim.engine import SimResult


def write_outputs(result: SimResult, out_dir: str | Path) -> Path:
    """Write ``sensors.csv``, ``weather.json``, ``pulses.jsonl``, ``truth.json`` and, in
    audio mode, ``clips.csv`` with one FLAC per sensor under ``audio/``.

    Returns the output directory. Note that ``shotwatch locate`` reads ``clips.csv``
    in preference to ``pulses.jsonl`` when both are present.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_sensors(out / "sensors.csv", result.sensors.values())
        write_weather(out / "weather.json", result.weather)
        write_pulses(out / "pulses.jsonl", result.pulses)
        if result.clips:
            import soundfile as sf

            (out / "audio").mkdir(exist_ok=True)
            rows = []
            for sid, clip in result.clips.items():
                sf.write(
                    str(out / clip.path),
                    clip.samples,
                    clip.sample_rate,
                    format="FLAC",
                    subtype="PCM_16",
                )
                rows.append((sid, clip.path.as_posix(), clip.start))
            write_clips_csv(out / "clips.csv", rows)
        (out / "truth.json").write_text(json.dumps(result.truth, indent=1) + "\n", encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror}", str(e.filename or out)) from None
    return out
