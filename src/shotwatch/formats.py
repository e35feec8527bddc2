"""Readers and writers for the file contracts of ``../DESIGN.md``.

``sensors.csv`` (``sensor_id,lat,lon,elevation_m``), ``clips.csv``
(``sensor_id,path,start_utc``), ``pulses.jsonl`` (pulse reports) and ``weather.json``.
Every error names the file and line and is an :class:`~shotwatch.errors.InputError`.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import InputError
from shotwatch.models import Pulse, Sensor, Weather
from shotwatch.timeutil import format_utc, parse_utc

SENSOR_COLUMNS = ("sensor_id", "lat", "lon", "elevation_m")
FULL_SCALE_COLUMN = "full_scale_db_spl"
CLIP_COLUMNS = ("sensor_id", "path", "start_utc")


def _read_csv(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        fh = path.open(newline="", encoding="utf-8-sig")  # (-sig: a spreadsheet's BOM)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(
                    f"missing column(s) {', '.join(missing)} (header must be {','.join(columns)})",
                    f"{path}:1",
                )
            for row in reader:
                line = reader.line_num
                if all((v or "").strip() == "" for v in row.values() if isinstance(v, str)):
                    continue
                if any(row.get(c) is None for c in columns):
                    raise InputError("too few fields", f"{path}:{line}")
                got = {c: str(row[c]).strip() for c in columns}
                got.update({c: str(row.get(c) or "").strip() for c in optional if c in header})
                yield line, got
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file", str(path)) from None
        except csv.Error as e:
            raise InputError(f"malformed CSV: {e}", str(path)) from None


def _float(value: str, name: str, where: str, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"{name} is not a number: {value!r}", where) from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise InputError(f"{name} out of range {lo}..{hi}: {value!r}", where)
    return x


def read_sensors(path: Path) -> dict[str, Sensor]:
    """Read ``sensors.csv``; ids must be unique and there must be at least one. An
    optional ``full_scale_db_spl`` column holds each sensor's calibration (dB SPL at 0
    dBFS; empty = uncalibrated)."""
    out: dict[str, Sensor] = {}
    for line, row in _read_csv(path, SENSOR_COLUMNS, optional=(FULL_SCALE_COLUMN,)):
        where = f"{path}:{line}"
        sid = row["sensor_id"]
        if not sid:
            raise InputError("empty sensor_id", where)
        if sid in out:
            raise InputError(f"duplicate sensor_id {sid!r}", where)
        fs = row.get(FULL_SCALE_COLUMN, "")
        out[sid] = Sensor(
            sid,
            _float(row["lat"], "lat", where, -90, 90),
            _float(row["lon"], "lon", where, -180, 180),
            _float(row["elevation_m"], "elevation_m", where, -500, 9000),
            _float(fs, FULL_SCALE_COLUMN, where, 80, 194) if fs else None,
        )
    if not out:
        raise InputError("no sensors", str(path))
    return out


def write_sensors(path: Path, sensors: Iterable[Sensor]) -> None:
    """Write ``sensors.csv`` (with the calibration column when any sensor has one)."""
    rows = list(sensors)
    calibrated = any(s.full_scale_db_spl is not None for s in rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SENSOR_COLUMNS + ((FULL_SCALE_COLUMN,) if calibrated else ()))
        for s in rows:
            cells = [s.sensor_id, f"{s.lat:.8f}", f"{s.lon:.8f}", f"{s.elevation_m:.2f}"]
            if calibrated:
                fs = s.full_scale_db_spl
                cells.append("" if fs is None else f"{fs:.2f}")
            w.writerow(cells)


def read_weather(path: Path) -> Weather:
    """Read ``weather.json``; missing keys take the defaults of :class:`Weather`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON: {e}", str(path)) from None
    if not isinstance(data, dict):
        raise InputError("must be a JSON object", str(path))
    d = Weather()
    limits = {
        "temperature_c": (-60.0, 60.0, d.temperature_c),
        "relative_humidity": (0.0, 100.0, d.relative_humidity),
        "wind_speed_mps": (0.0, 60.0, d.wind_speed_mps),
        "wind_from_deg": (-360.0, 360.0, d.wind_from_deg),
    }
    vals: dict[str, float] = {}
    for k, (lo, hi, default) in limits.items():
        v = data.get(k)
        if v is None:
            vals[k] = default
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InputError(f"{k} must be a number, got {v!r}", str(path))
        vals[k] = _float(str(v), k, str(path), lo, hi)
    return Weather(**vals)


def write_weather(path: Path, w: Weather) -> None:
    path.write_text(
        json.dumps(
            {
                "temperature_c": w.temperature_c,
                "relative_humidity": w.relative_humidity,
                "wind_speed_mps": w.wind_speed_mps,
                "wind_from_deg": w.wind_from_deg,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )


def _opt_float(d: dict[str, Any], key: str, where: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError(f"{key} must be a finite number, got {v!r}", where)
    return float(v)


MAX_UID_CHARS = 64
"""A pulse report's ``pulse_uuid`` (the sensor's own id of the report, for replays): at
most this long, the stored column's width."""


def pulse_from_json(d: Any, where: str, sensors: dict[str, Sensor] | None = None) -> Pulse:
    """Validate one pulse report (a parsed JSON object). Unknown fields are ignored."""
    if not isinstance(d, dict):
        raise InputError("pulse report must be a JSON object", where)
    sid = d.get("sensor_id")
    if not isinstance(sid, str) or not sid:
        raise InputError("missing or empty sensor_id", where)
    if sensors is not None and sid not in sensors:
        raise InputError(f"unknown sensor {sid!r} (not in sensors.csv)", where)
    if "t_utc" not in d:
        raise InputError("missing t_utc", where)
    try:
        t = parse_utc(d["t_utc"])
    except InputError as e:
        raise InputError(str(e), where) from None
    score = _opt_float(d, "gunshot_score", where)
    if score is not None and not 0.0 <= score <= 1.0:
        raise InputError(f"gunshot_score must be in 0..1, got {score}", where)
    feats = d.get("features") or {}
    if not isinstance(feats, dict):
        raise InputError("features must be an object", where)
    sigma = _opt_float(d, "sigma_t_s", where)
    if sigma is not None and not 0.0 < sigma <= 1.0:
        raise InputError(f"sigma_t_s must be in (0, 1] s, got {sigma}", where)
    uid = d.get("pulse_uuid")
    if uid is not None and (
        not isinstance(uid, str) or not 1 <= len(uid) <= MAX_UID_CHARS or "\x00" in uid
    ):
        raise InputError(
            f"pulse_uuid must be a string of 1-{MAX_UID_CHARS} characters without NUL", where
        )
    return Pulse(
        sensor_id=sid,
        t=t,
        snr_db=_opt_float(d, "snr_db", where),
        peak_dbfs=_opt_float(d, "peak_dbfs", where),
        gunshot_score=score,
        features=feats,
        clip=d.get("clip"),
        sigma_t=sigma,
        uid=uid,
    )


def read_pulses(path: Path, sensors: dict[str, Sensor] | None = None) -> list[Pulse]:
    """Read ``pulses.jsonl`` (one report per line; blank lines skipped)."""
    out: list[Pulse] = []
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    with fh:
        try:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{i}"
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"not valid JSON: {e.msg}", where) from None
                out.append(pulse_from_json(d, where, sensors))
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file", str(path)) from None
    return out


def write_pulses(path: Path, pulses: Iterable[Pulse]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for p in pulses:
            fh.write(json.dumps(p.to_json()) + "\n")


@dataclass
class Clip:
    """One recording: samples (first channel, float64 in -1..1), rate, GPS start time."""

    sensor_id: str
    path: Path
    start: float
    samples: NDArray[np.float64]
    sample_rate: int


def read_audio(path: Path) -> tuple[NDArray[np.float64], int]:
    """Read a WAV/FLAC (any rate) and return the first channel as float64 and the rate."""
    import soundfile as sf

    try:
        data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, TypeError, ValueError) as e:
        raise InputError(f"not a readable WAV/FLAC audio file ({e})", str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    if data.shape[0] < 2:
        raise InputError("audio file has fewer than 2 samples", str(path))
    if not 1000 <= sr <= 384_000:
        raise InputError(f"unsupported sample rate {sr} Hz", str(path))
    return np.ascontiguousarray(data[:, 0]), int(sr)


def read_clips(path: Path, sensors: dict[str, Sensor] | None = None) -> list[Clip]:
    """Read ``clips.csv`` and the audio it names (paths relative to the CSV)."""
    out: list[Clip] = []
    lines: list[int] = []
    for line, row in _read_csv(path, CLIP_COLUMNS):
        where = f"{path}:{line}"
        sid = row["sensor_id"]
        if sensors is not None and sid not in sensors:
            raise InputError(f"unknown sensor {sid!r} (not in sensors.csv)", where)
        try:
            start = parse_utc(row["start_utc"])
        except InputError as e:
            raise InputError(str(e), where) from None
        apath = (path.parent / row["path"]).resolve()
        if not apath.is_file():
            raise InputError(f"audio file not found: {row['path']}", where)
        samples, sr = read_audio(apath)
        out.append(Clip(sid, apath, start, samples, sr))
        lines.append(line)
    if not out:
        raise InputError("no clips", str(path))
    by_sensor: dict[str, list[tuple[float, float, int]]] = {}
    for k, c in enumerate(out):
        end = c.start + c.samples.shape[0] / c.sample_rate
        by_sensor.setdefault(c.sensor_id, []).append((c.start, end, lines[k]))
    for sid, spans in by_sensor.items():
        spans.sort()
        for (_a0, a1, la), (b0, _b1, lb) in itertools.pairwise(spans):
            if b0 < a1 - 1e-6:
                raise InputError(
                    f"clips of sensor {sid!r} overlap in time (lines {la} and {lb}): "
                    "start times out of order or wrong",
                    f"{path}:{max(la, lb)}",
                )
    return out


def write_clips_csv(path: Path, rows: Iterable[tuple[str, str, float]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CLIP_COLUMNS)
        for sid, rel, start in rows:
            w.writerow([sid, rel, format_utc(start)])


@dataclass
class InputSet:
    """What ``shotwatch locate DIR`` reads."""

    sensors: dict[str, Sensor]
    weather: Weather | None
    pulses: list[Pulse] | None = None
    clips: list[Clip] | None = None


def load_input_dir(d: Path) -> InputSet:
    """Read ``DIR/sensors.csv`` and ``DIR/clips.csv`` or ``DIR/pulses.jsonl`` (+weather)."""
    if not d.is_dir():
        raise InputError("not a directory", str(d))
    sensors = read_sensors(d / "sensors.csv")
    weather = read_weather(d / "weather.json") if (d / "weather.json").exists() else None
    if (d / "clips.csv").exists():
        return InputSet(sensors, weather, clips=read_clips(d / "clips.csv", sensors))
    if (d / "pulses.jsonl").exists():
        return InputSet(sensors, weather, pulses=read_pulses(d / "pulses.jsonl", sensors))
    raise InputError("neither clips.csv nor pulses.jsonl found", str(d))
