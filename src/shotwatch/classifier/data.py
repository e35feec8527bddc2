"""Training data for the gunshot classifier, read from ``../shared/data`` (never copied).

Two sources of labelled windows, all resampled to 12 kHz and cut as ``SEG_LEN`` samples
with the onset at ``SEG_PRE`` (longer than the feature window so augmentation can add
reverberation and noise without edge effects). Every onset is where the runtime picker
(:func:`shotwatch.core.picking.pick_onsets`, which the sensor uses before it scores a
pulse) puts it, so the model learns the alignment it is given in the field:

* ``audio/manifest.csv`` clips (``path,label,source_repo,source_path,license,notes``):
  :func:`shotwatch.core.classify.clip_picks` (the picker on the clip inside its own
  noise floor, :func:`shotwatch.core.classify.embed_clip`; the runtime pulses of the
  clip's loud events). Windows are cut from that embedded clip, so no window holds
  digital silence where a sensor would hear ambient noise. A gunshot clip gives its
  highest-SNR pick, and none if that SNR is under ``MIN_GUNSHOT_SNR_DB``: such a clip
  shows no clear impulse (several of the very quiet gabemagee clips), so its label is
  doubtful. Every other clip gives up to three picks (highest SNR first).
  Groups for cross-validation follow the data README's split rules: gabemagee is one
  group, the Kaggle set one group per weapon, ESC-50 and the other fireworks one group per
  source recording.
* ``livefire/FP*/test_*``: real city-sensor recordings of live fire. Each shot's arrival
  at a sensor with audio is taken from the vendor's shot tuples (``original/*.nlos-tuples
  .json`` pulse uuids joined with ``pulses/pulses.jsonl`` and ``audio/clips.csv``); its
  window is at the picker's pick nearest to it within -10..+40 ms (none: no window).
  Background windows are the highest-SNR picks of the picker at a more sensitive trigger
  (``LIVEFIRE_BG_PICKER``) in stretches far from every pulse the sensor reported (0.3 s
  before to 1.2 s after a shot, 0.3 s before to 0.5 s after any other pulse).
  One group per firing position (FP1..FP4).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from shotwatch.core.classify import clip_picks, embed_clip
from shotwatch.core.features import TARGET_RATE, resample_to_target
from shotwatch.core.picking import pick_onsets
from shotwatch.errors import InputError
from shotwatch.timeutil import parse_utc

SEG_PRE = TARGET_RATE // 4  # 0.25 s before the onset
SEG_POST = 3 * TARGET_RATE // 4  # 0.75 s after
SEG_LEN = SEG_PRE + SEG_POST

GUNSHOT_PICKS = 1
"""Windows per gunshot clip: its highest-SNR picks (see :func:`clip_picks`)."""
OTHER_PICKS = 3
"""Windows per non-gunshot clip."""
MIN_GUNSHOT_SNR_DB = 12.0
"""A gunshot clip whose loud part gives the runtime picker no pulse with at least this
SNR shows no clear impulse: its label is doubtful and it gives no training window."""
LIVEFIRE_BG_PICKER = {"on_ratio": 3.0, "min_snr_db": 3.0}
"""Picker settings for live-fire background windows: the runtime picker at a more
sensitive trigger (at the default one it picks almost nothing in those stretches)."""

MANIFEST_COLUMNS = ("path", "label", "source_repo", "source_path", "license", "notes")


def default_data_dir() -> Path:
    """``$SHOTWATCH_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("SHOTWATCH_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


@dataclass(frozen=True)
class Example:
    """One labelled window: ``segment`` at 12 kHz (``SEG_LEN``, onset at ``SEG_PRE``)."""

    segment: NDArray[np.float32]
    label: int  # 1 = gunshot
    cls: str  # manifest label, or livefire_gunshot / livefire_background
    group: str  # cross-validation group (recording session / source)
    source: str  # esc50, gabemagee, kaggle, fireworks, livefire
    origin: str  # file (relative to the data dir) and onset time, for tracing


def read_audio(path: Path) -> tuple[NDArray[np.float64], int]:
    """First channel of a WAV/FLAC file as float64 and its rate; InputError if unreadable."""
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as e:
        raise InputError(f"not a readable audio file ({e})", str(path)) from None
    if data.shape[0] == 0:
        raise InputError("audio file is empty", str(path))
    return np.ascontiguousarray(data[:, 0]), int(rate)


def cut_segment(x12: NDArray[np.float64], onset: int) -> NDArray[np.float32]:
    """``SEG_LEN`` samples of a 12 kHz signal around ``onset`` (zeros outside)."""
    out = np.zeros(SEG_LEN, dtype=np.float32)
    lo = onset - SEG_PRE
    a, b = max(lo, 0), min(lo + SEG_LEN, x12.size)
    if b > a:
        out[a - lo : b - lo] = x12[a:b]
    return out


def read_manifest(path: Path) -> list[dict[str, str]]:
    """Rows of ``manifest.csv``; InputError naming the line if malformed."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            if "path" not in header or "label" not in header:
                raise InputError("manifest needs columns path,label", f"{path}:1")
            rows = []
            for row in reader:
                if not (row.get("path") or "").strip():
                    raise InputError("empty path", f"{path}:{reader.line_num}")
                rows.append({k: (v or "").strip() for k, v in row.items() if k})
            return rows
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", str(path)) from None


def _note(notes: str, key: str) -> str | None:
    m = re.search(rf"(?:^|;)\s*{re.escape(key)}=([^;]+)", notes)
    return m.group(1).strip() if m else None


def manifest_group(row: dict[str, str]) -> tuple[str, str]:
    """(group, source) of a manifest row, per the data README's split rules."""
    notes = row.get("notes", "")
    repo = row.get("source_repo", "")
    rec = _note(notes, "source_recording")
    if rec:
        if rec.startswith("karx:"):
            return "karx", "fireworks"  # karx clips may share one original recording
        if rec.startswith("pixabay:"):
            return rec, "fireworks"
        return rec, "esc50"  # freesound:<id> = ESC-50 src_file
    src = _note(notes, "src_file")
    if src:
        return f"freesound:{src}", "esc50"
    weapon = _note(notes, "weapon")
    if weapon:
        return f"kaggle:{weapon}", "kaggle"
    if "gabemagee" in repo:
        return "gabemagee", "gabemagee"
    return f"repo:{repo or row['path']}", "other"


def manifest_examples(
    data_dir: Path,
    progress: Callable[[], None] | None = None,
    rows: Sequence[dict[str, str]] | None = None,
) -> Iterator[Example]:
    """Windows from ``audio/manifest.csv`` (see module docstring); ``rows`` restricts
    them to some manifest rows."""
    audio = data_dir / "audio"
    for row in read_manifest(audio / "manifest.csv") if rows is None else rows:
        x, sr = read_audio(audio / row["path"])
        is_gun = row["label"] == "gunshot"
        n = GUNSHOT_PICKS if is_gun else OTHER_PICKS
        picks = clip_picks(x, sr, max_picks=n) if x.size >= 2 and np.any(x) else []
        if is_gun and picks and picks[0].snr_db < MIN_GUNSHOT_SNR_DB:
            picks = []  # no clear impulse: a doubtful label
        if not picks:
            if progress:
                progress()
            continue
        y, off = embed_clip(x, sr)
        x12 = resample_to_target(y, sr)
        onsets = [round((p.onset + off) * TARGET_RATE / sr) for p in picks]
        group, source = manifest_group(row)
        for on in onsets:
            yield Example(
                cut_segment(x12, int(on)),
                int(is_gun),
                row["label"],
                group,
                source,
                f"audio/{row['path']}@{on / TARGET_RATE - off / sr:.3f}",
            )
        if progress:
            progress()


def livefire_tests(data_dir: Path) -> list[Path]:
    """Test directories under ``livefire`` (``FP*/test_*``), sorted."""
    return sorted(p for p in (data_dir / "livefire").glob("FP*/test_*") if p.is_dir())


def livefire_examples(
    data_dir: Path,
    progress: Callable[[], None] | None = None,
    tests: Sequence[Path] | None = None,
) -> Iterator[Example]:
    """Shot and background windows from the live-fire recordings (see module docstring);
    ``tests`` restricts them to some test directories."""
    for tdir in livefire_tests(data_dir) if tests is None else tests:
        fp = tdir.parent.name
        name = tdir.name
        tuples = json.loads((tdir / "original" / f"{name}.nlos-tuples.json").read_text())
        pulses: dict[str, tuple[str, float]] = {}
        with (tdir / "pulses" / "pulses.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    d = json.loads(line)
                    pulses[d["pulse_uuid"]] = (d["sensor_id"], parse_utc(d["t_utc"]))
        shot_uuids = {u for s in tuples for u in s["pulse_uuids"]}
        with (tdir / "audio" / "clips.csv").open(newline="", encoding="utf-8") as fh:
            clips = list(csv.DictReader(fh))
        for clip in clips:
            sid = clip["sensor_id"]
            x, sr = read_audio(tdir / "audio" / clip["path"])
            x12 = resample_to_target(x, sr)
            t0 = parse_utc(clip["start_utc"])
            rel = f"livefire/{fp}/{name}/audio/{clip['path']}"

            def at(o: int, rel: str = rel) -> str:
                return f"{rel}@{o / TARGET_RATE:.3f}"

            shots = sorted((t - t0) for u, (s, t) in pulses.items() if s == sid and u in shot_uuids)
            others = sorted(
                (t - t0) for u, (s, t) in pulses.items() if s == sid and u not in shot_uuids
            )
            # The released recordings hold ~2 s of audio inside 10 s of digital zeros:
            # keep only windows wholly inside the recorded span.
            nz = np.nonzero(x12)[0]
            if nz.size == 0:
                continue
            first, last = int(nz[0]), int(nz[-1])
            picks = pick_onsets(x, sr)
            p12 = picks.onset * (TARGET_RATE / sr)
            for ts in shots:
                c = round(ts * TARGET_RATE)
                if not first + TARGET_RATE // 20 <= c < last - TARGET_RATE * 3 // 10:
                    continue
                near = np.flatnonzero(
                    (p12 >= c - TARGET_RATE // 100) & (p12 <= c + TARGET_RATE // 25)
                )
                if near.size:
                    o = round(float(p12[near[np.argmin(np.abs(p12[near] - c))]]))
                    if first + TARGET_RATE // 50 <= o < last - TARGET_RATE * 3 // 10:
                        yield Example(
                            cut_segment(x12, o), 1, "livefire_gunshot", fp, "livefire", at(o)
                        )
            # background: far from every reported pulse, after the leading digital silence
            if len(shots) < len({s["shot_index"] for s in tuples}):
                continue  # a shot this sensor did not report may still be audible
            allowed = np.zeros(x12.size, dtype=bool)
            allowed[first + TARGET_RATE // 20 : last - TARGET_RATE * 3 // 10] = True
            for ts in shots:
                c = round(ts * TARGET_RATE)
                allowed[max(c - int(0.3 * TARGET_RATE), 0) : max(c + int(1.2 * TARGET_RATE), 0)] = (
                    False
                )
            for ts in others:
                c = round(ts * TARGET_RATE)
                allowed[max(c - int(0.3 * TARGET_RATE), 0) : max(c + int(0.5 * TARGET_RATE), 0)] = (
                    False
                )
            taken = 0
            bg = pick_onsets(x, sr, **LIVEFIRE_BG_PICKER)
            b12 = bg.onset * (TARGET_RATE / sr)
            for a, b in _runs(allowed):
                if b - a < TARGET_RATE // 5 or taken >= 2:
                    continue
                inside = np.flatnonzero((b12 >= a) & (b12 < b))
                if inside.size:
                    o = round(float(b12[inside[np.argmax(bg.snr_db[inside])]]))
                    yield Example(
                        cut_segment(x12, o), 0, "livefire_background", fp, "livefire", at(o)
                    )
                    taken += 1
        if progress:
            progress()


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, end) of the runs of True in a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.nonzero(d == 1)[0]
    ends = np.nonzero(d == -1)[0]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def data_fingerprint(data_dir: Path) -> str:
    """SHA-256 of the audio manifest and of the live-fire labelling inputs (tuples, pulses,
    clips), in a fixed order: identifies the training data in the model metadata."""
    h = hashlib.sha256()
    files = [data_dir / "audio" / "manifest.csv"]
    for tdir in livefire_tests(data_dir):
        files += [
            tdir / "original" / f"{tdir.name}.nlos-tuples.json",
            tdir / "pulses" / "pulses.jsonl",
            tdir / "audio" / "clips.csv",
        ]
    for f in files:
        h.update(str(f.relative_to(data_dir)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def count_items(data_dir: Path) -> int:
    """Number of progress steps of :func:`load_all` (manifest rows + live-fire tests)."""
    return len(read_manifest(data_dir / "audio" / "manifest.csv")) + len(livefire_tests(data_dir))


def load_all(data_dir: Path, progress: Callable[[], None] | None = None) -> list[Example]:
    """Every labelled window of the shared data, in a fixed order."""
    if not (data_dir / "audio" / "manifest.csv").is_file():
        raise InputError(
            "no audio/manifest.csv here (set SHOTWATCH_SHARED_DATA or --data)", str(data_dir)
        )
    return [*manifest_examples(data_dir, progress), *livefire_examples(data_dir, progress)]
