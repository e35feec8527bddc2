"""Replaying a recorded deployment (clips.csv) as live sensors."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sensorutil import T0, Receiver, impulse_train

from shotwatch.errors import InputError
from shotwatch.formats import read_pulses
from shotwatch.sensor import HttpTransport, JsonlTransport
from shotwatch.sensor.replay import read_clip_refs, replay
from shotwatch.timeutil import format_utc

SENSORS = {"A1": (16000, 0.0), "B2": (48000, 0.0123), "C3": (8000, 0.0311)}


@pytest.fixture
def deployment(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Three sensors at different rates hearing the same impulses with different delays;
    sensor A1 recorded in two clips with a 1.5 s gap between them."""
    truth: dict[str, np.ndarray] = {}
    rows = ["sensor_id,path,start_utc"]
    (tmp_path / "audio").mkdir()
    for k, (sid, (sr, delay)) in enumerate(SENSORS.items()):
        x, onsets = impulse_train(sr, seconds=6.0, first_s=1.0 + delay, spacing_s=0.8, seed=k)
        if sid == "A1":
            cut = round(3.1 * sr)
            sf.write(str(tmp_path / "audio" / "A1a.flac"), x[:cut], sr, subtype="PCM_24")
            sf.write(str(tmp_path / "audio" / "A1b.flac"), x[cut:], sr, subtype="PCM_24")
            rows.append(f"A1,audio/A1a.flac,{format_utc(T0)}")
            rows.append(f"A1,audio/A1b.flac,{format_utc(T0 + 3.1 + 1.5)}")
            on = np.where(onsets < 3.1, onsets, onsets + 1.5)
            # an impulse within the LTA warm-up after the gap cannot be picked
            truth[sid] = on[(on < 3.1 - 0.06) | (on > 3.1 + 1.5 + 0.6)]
        else:
            sf.write(str(tmp_path / "audio" / f"{sid}.flac"), x, sr, subtype="PCM_24")
            rows.append(f"{sid},audio/{sid}.flac,{format_utc(T0)}")
            truth[sid] = onsets
    (tmp_path / "clips.csv").write_text("\n".join(rows) + "\n")
    return tmp_path, truth


def test_replay_to_jsonl_in_global_time_order(
    deployment: tuple[Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    root, truth = deployment
    out = tmp_path / "pulses.jsonl"
    refs = read_clip_refs(root / "clips.csv")
    assert sorted(refs) == sorted(SENSORS) and len(refs["A1"]) == 2

    async def main() -> None:
        async with JsonlTransport(out) as tr:
            stats = await replay(refs, lambda sid: tr, classify=False, clip_format=None)
        assert stats.sensors == 3 and stats.clips == 4
        assert stats.pulses == sum(len(v) for v in truth.values())

    asyncio.run(main())
    pulses = read_pulses(out)
    for sid, want in truth.items():
        got = np.array([p.t - T0 for p in pulses if p.sensor_id == sid])
        sr = SENSORS[sid][0]
        assert len(got) == len(want), sid
        # the picker's own accuracy is ~8 samples; the replay adds nothing to it
        assert np.max(np.abs(got - want)) < 10.0 / sr, sid
    # pulses leave roughly in time order across sensors (each at its own decision lag)
    times = np.array([p.t for p in pulses])
    assert np.all(np.diff(times) > -1.5)


def test_replay_time_shift_and_pacing(deployment: tuple[Path, dict[str, np.ndarray]]) -> None:
    root, truth = deployment
    refs = read_clip_refs(root)
    refs = {"C3": refs["C3"]}
    got: list[dict[str, object]] = []

    class Collect(JsonlTransport):
        async def send(self, report: dict[str, object]) -> None:
            got.append(report)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t = loop.time()
        await replay(refs, lambda sid: Collect("-"), speed=4.0, time_shift=100.0, classify=False)
        return loop.time() - t

    wall = asyncio.run(main())
    assert wall >= 6.0 / 4.0 - 0.1, "paced at 4x real time"
    assert len(got) == len(truth["C3"])
    first = read_pulses_from(got)[0]
    assert abs(first - (T0 + 100.0 + truth["C3"][0])) < 2e-3


def read_pulses_from(reports: list[dict[str, object]]) -> list[float]:
    from shotwatch.formats import pulse_from_json

    return [pulse_from_json(r, "test").t for r in reports]


def test_clips_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "clips.csv"
    p.write_text("sensor_id,path,start_utc\nS1,missing.flac,2026-01-01T00:00:00Z\n")
    with pytest.raises(InputError, match=r"clips.csv:2.*not found"):
        read_clip_refs(p)
    p.write_text("sensor,path\n")
    with pytest.raises(InputError, match="missing column"):
        read_clip_refs(p)


def test_replay_cli_to_server_needs_a_token_per_sensor(
    deployment: tuple[Path, dict[str, np.ndarray]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shotwatch.cli import main

    root, _ = deployment
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("sensor_id,token\nA1,t1\nB2,t2\n")
    argv = ["shotwatch", "sensor", "replay", str(root), "--server", "http://127.0.0.1:9"]
    monkeypatch.setattr(sys, "argv", [*argv, "--tokens", str(tokens)])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "no token for sensor(s) C3" in err and len(err.splitlines()) == 1


def test_replay_cli_to_stdout(
    deployment: tuple[Path, dict[str, np.ndarray]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shotwatch.cli import main

    root, truth = deployment
    argv = ["shotwatch", "sensor", "replay", str(root / "clips.csv"), "--out", "-"]
    monkeypatch.setattr(sys, "argv", [*argv, "--no-classifier", "--clip-format", "none"])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
    reports = [json.loads(line) for line in out.out.splitlines()]
    assert len(reports) == sum(len(v) for v in truth.values())
    assert "replayed 3 sensors, 4 clips" in out.err


def test_replay_to_http_with_a_token_per_sensor(
    deployment: tuple[Path, dict[str, np.ndarray]],
) -> None:
    root, truth = deployment
    refs = read_clip_refs(root)

    async def main(rx: Receiver) -> list[HttpTransport]:
        import httpx

        async with httpx.AsyncClient() as client:
            trs = {sid: HttpTransport(rx.url, "s3cret", client=client) for sid in refs}
            for t in trs.values():
                await t.start()
            await replay(refs, trs.__getitem__, classify=False)
            for t in trs.values():
                assert await t.flush(10.0)
                await t.close()
            return list(trs.values())

    with Receiver(fail_first=2) as rx:
        trs = asyncio.run(main(rx))
    assert sum(t.delivered for t in trs) == sum(len(v) for v in truth.values())
    assert len(rx.accepted) == sum(len(v) for v in truth.values())
    assert {r["sensor_id"] for r in rx.accepted} == set(SENSORS)
