"""``shotwatch sensor run`` end to end (a subprocess, as a user runs it)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sensorutil import T0, impulse_train

from shotwatch.formats import read_pulses
from shotwatch.timeutil import format_utc

START = format_utc(T0)


def shotwatch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", "from shotwatch.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    x, truth = impulse_train(24000, seconds=5.0, seed=21)
    path = tmp_path_factory.mktemp("audio") / "s001.wav"
    sf.write(str(path), x, 24000, subtype="FLOAT")
    return path, truth


@pytest.mark.slow
def test_file_to_jsonl(wav: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    path, truth = wav
    out = tmp_path / "pulses.jsonl"
    r = shotwatch(
        "sensor", "run", "--sensor-id", "S001", "--input", str(path), "--start-utc", START,
        "--out", str(out), "--no-classifier",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr.decode()
    pulses = read_pulses(out)
    assert [p.sensor_id for p in pulses] == ["S001"] * len(truth)
    assert np.max(np.abs(np.array([p.t - T0 for p in pulses]) - truth)) < 0.5e-3
    assert b"pulses from 5.0 s of audio" in r.stderr


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize("mode", ["wav", "raw"])
def test_stream_on_stdin_to_stdout(
    mode: str,
    wav: tuple[Path, np.ndarray],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shotwatch.cli import main

    path, truth = wav
    x, sr = sf.read(str(path), dtype="float64")
    args = ["sensor", "run", "--sensor-id", "S002", "-i", "-", "--start-utc", START, "--out", "-"]
    args += ["--no-classifier", "--clip-format", "none"]
    if mode == "wav":
        buf = io.BytesIO()
        sf.write(buf, x, sr, format="WAV", subtype="PCM_16")
        data = buf.getvalue()
    else:
        data = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        args += ["--sample-rate", str(sr)]
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    monkeypatch.setattr(sys, "argv", ["shotwatch", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
    pulses = [json.loads(line) for line in out.out.splitlines()]
    assert [p["sensor_id"] for p in pulses] == ["S002"] * len(truth)
    assert all(p["clip"] is None for p in pulses)


@pytest.mark.parametrize(
    "case",
    [
        (["--input", "missing.wav", "--start-utc", START, "--out", "x.jsonl"], "not found"),
        (["--input", "{wav}", "--out", "x.jsonl"], "--start-utc"),
        (["--input", "{wav}", "--start-utc", "soon", "--out", "x.jsonl"], "ISO-8601"),
        (["--input", "{wav}", "--start-utc", START], "exactly one"),
        (["--input", "{wav}", "--start-utc", START, "--server", "http://h"], "--token"),
        (["--input", "{wav}", "--start-utc", START, "--mqtt", "tcp://h"], "mqtt://"),
        (["--input", "{txt}", "--start-utc", START, "--out", "x.jsonl"], "WAV/FLAC"),
        (["--input", "{wav}", "--start-utc", START, "-o", "x", "--clip-after-ms", "0"], "clip"),
        (["--input", "-", "--out", "x.jsonl"], "stdin: cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    case: tuple[list[str], str],
    wav: tuple[Path, np.ndarray],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shotwatch.cli import main

    extra, needle = case
    txt = tmp_path / "notes.wav"
    txt.write_text("not audio")
    args = [a.format(wav=wav[0], txt=txt) for a in extra]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["shotwatch", "sensor", "run", "--sensor-id", "S001", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle in err


@pytest.mark.parametrize("opt", [["--spool-max", "-1"], ["--spool-max-mb", "-3"]])
def test_spool_limits_must_be_positive(
    opt: list[str],
    wav: tuple[Path, np.ndarray],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refused whatever the transport (before, only where a spool is made: --server,
    --mqtt; with --out a negative limit passed unremarked)."""
    from shotwatch.cli import main

    args = ["--input", str(wav[0]), "--start-utc", START, "-o", "x.jsonl", "--spool", "sp", *opt]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["shotwatch", "sensor", "run", "--sensor-id", "S001", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and opt[0] in err and "Traceback" not in err
