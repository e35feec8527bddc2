"""``shotwatch classify``: JSON lines, bad files reported and skipped, manifest evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from shotwatch.cli import app

# every test here reads real clips from ../shared/data (present in CI)
pytestmark = pytest.mark.livefire


def _bad_files(tmp: Path) -> list[Path]:
    text = tmp / "notes.wav"
    text.write_text("this is not audio\n")
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    silent = tmp / "silent.wav"
    sf.write(silent, np.zeros(16000), 16000, subtype="PCM_16")
    one = tmp / "one.wav"
    sf.write(one, np.array([0.5]), 16000, subtype="PCM_16")
    no_frames = tmp / "noframes.wav"
    sf.write(no_frames, np.zeros(0), 16000, subtype="PCM_16")
    return [text, empty, silent, one, no_frames]


def _good_file(data_dir: Path) -> Path:
    return sorted((data_dir / "audio" / "gunshot").glob("kaggle_*MP5*.wav"))[0]


def test_classify_prints_json_and_survives_bad_files(tmp_path: Path, data_dir: Path) -> None:
    bad = _bad_files(tmp_path)
    good = _good_file(data_dir)
    args = ["classify", str(bad[0]), str(good), *map(str, bad[1:])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [json.loads(s) for s in result.stdout.splitlines() if s.strip()]
    assert len(lines) == 1
    rec = lines[0]
    assert rec["path"] == str(good)
    assert 0.0 <= rec["gunshot_score"] <= 1.0
    assert rec["label"] in ("gunshot", "other")
    errors = [s for s in result.stderr.splitlines() if s.startswith("error: ")]
    assert len(errors) == len(bad)
    for f in bad:
        assert any(str(f) in e for e in errors), f
    assert "Traceback" not in result.output


def test_classify_good_files_exit_zero(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["classify", str(_good_file(data_dir))])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_classify_directory_with_manifest_evaluates(tmp_path: Path, data_dir: Path) -> None:
    audio = data_dir / "audio"
    gun = sorted((audio / "gunshot").glob("kaggle_*_1.wav"))[:3]
    other = sorted((audio / "door").glob("*.wav"))[:3]
    lines = ["path,label,source_repo,source_path,license,notes"]
    lines += [f"{p},gunshot,r,s,l,n" for p in gun] + [f"{p},door,r,s,l,n" for p in other]
    (tmp_path / "broken.wav").write_text("nope")
    lines.append(f"{tmp_path / 'broken.wav'},door,r,s,l,n")
    (tmp_path / "manifest.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["classify", str(tmp_path)])
    assert result.exit_code == 2  # the broken file
    out = [json.loads(s) for s in result.stdout.splitlines() if s.strip()]
    assert len(out) == 7
    ev = out[-1]["evaluation"]
    assert ev["files"] == 7 and ev["scored"] == 6 and ev["failed"] == 1
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        assert ev[key] is None or 0.0 <= ev[key] <= 1.0
    c = ev["confusion"]
    assert c["tp"] + c["fn"] == 3 and c["fp"] + c["tn"] == 3
    assert sum(ev["predicted_by_label"]["door"].values()) == 3
