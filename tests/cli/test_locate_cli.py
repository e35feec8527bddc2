"""``shotwatch locate``: the GeoJSON contract and one clear line + exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shotwatch.cli import app
from shotwatch.formats import write_pulses, write_sensors, write_weather
from shotwatch.geo import LocalFrame
from shotwatch.models import Pulse, Sensor, Weather

runner = CliRunner()
FRAME = LocalFrame(40.0, -80.0, 200.0)


def _scene(tmp: Path, n_sensors: int = 8, rounds: int = 3) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    xy = rng.uniform(-400, 400, (n_sensors, 2))
    enu = np.column_stack([xy, rng.uniform(5, 12, n_sensors)])
    lat, lon, h = FRAME.to_geodetic(enu)
    sensors = [
        Sensor(f"S{i:03d}", float(lat[i]), float(lon[i]), float(h[i])) for i in range(n_sensors)
    ]
    write_sensors(tmp / "sensors.csv", sensors)
    write_weather(tmp / "weather.json", Weather(temperature_c=20.0, relative_humidity=50.0))
    from shotwatch.core.acoustics import speed_of_sound

    c = float(speed_of_sound(20.0, 50.0))
    src = np.array([30.0, -50.0, 1.5])
    pulses = []
    for k in range(rounds):
        t0 = 1.8e9 + 0.4 * k
        for i, s in enumerate(sensors):
            t = t0 + np.linalg.norm(enu[i] - src) / c + rng.normal(0, 1e-4)
            pulses.append(Pulse(s.sensor_id, float(t), snr_db=30.0))
    pulses.sort(key=lambda p: p.t)
    write_pulses(tmp / "pulses.jsonl", pulses)
    slat, slon, _ = FRAME.to_geodetic(src)
    return float(slat), float(slon)


def test_locate_writes_the_contract(tmp_path: Path) -> None:
    lat, lon = _scene(tmp_path)
    res = runner.invoke(app, ["locate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    fc = json.loads(res.output)
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == 1
    p = fc["features"][0]["properties"]
    for key in (
        "id", "classification", "confidence", "first_shot_utc", "last_shot_utc", "rounds",
        "shooters", "mobile", "speed_mps", "heading_deg", "error_radius_m", "sensors",
        "summary", "shots",
    ):  # fmt: skip
        assert key in p
    assert p["rounds"] == 3
    assert p["first_shot_utc"].endswith("Z")
    shot = p["shots"][0]
    d = FRAME.to_enu(shot["lat"], shot["lon"], 200.0) - FRAME.to_enu(lat, lon, 200.0)
    assert np.hypot(d[0], d[1]) < 1.0
    out = tmp_path / "out.geojson"
    assert runner.invoke(app, ["locate", str(tmp_path), "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["features"][0]["properties"]["rounds"] == 3


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from shotwatch.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _one_line_error(p: subprocess.CompletedProcess[str], needle: str) -> None:
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    assert needle in lines[0]


def test_missing_column(tmp_path: Path) -> None:
    _scene(tmp_path)
    (tmp_path / "sensors.csv").write_text("sensor_id,lat,lon\nS000,40,-80\n")
    _one_line_error(_run("locate", str(tmp_path)), "missing column(s) elevation_m")


def test_unknown_sensor(tmp_path: Path) -> None:
    _scene(tmp_path)
    with (tmp_path / "pulses.jsonl").open("a") as fh:
        fh.write('{"sensor_id": "S999", "t_utc": "2027-01-15T08:00:00.000000Z"}\n')
    _one_line_error(_run("locate", str(tmp_path)), "unknown sensor 'S999'")


def test_non_audio_file(tmp_path: Path) -> None:
    _scene(tmp_path)
    (tmp_path / "a.wav").write_text("this is not audio")
    (tmp_path / "clips.csv").write_text(
        "sensor_id,path,start_utc\nS000,a.wav,2027-01-15T08:00:00.000000Z\n"
    )
    _one_line_error(_run("locate", str(tmp_path)), "not a readable WAV/FLAC")


def test_bad_time(tmp_path: Path) -> None:
    _scene(tmp_path)
    with (tmp_path / "pulses.jsonl").open("a") as fh:
        fh.write('{"sensor_id": "S001", "t_utc": "yesterday"}\n')
    _one_line_error(_run("locate", str(tmp_path)), "pulses.jsonl:")


def test_clips_out_of_order(tmp_path: Path) -> None:
    _scene(tmp_path)
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(16000), 16000)
    (tmp_path / "clips.csv").write_text(
        "sensor_id,path,start_utc\n"
        "S000,a.wav,2027-01-15T08:00:00.500000Z\n"
        "S000,a.wav,2027-01-15T08:00:00.000000Z\n"
    )
    _one_line_error(_run("locate", str(tmp_path)), "overlap")


def test_fewer_than_four_sensors(tmp_path: Path) -> None:
    _scene(tmp_path, n_sensors=3)
    _one_line_error(_run("locate", str(tmp_path)), "at least 4")


@pytest.mark.parametrize("junk", ["not json", "[1, 2]", '{"t_utc": "2027-01-01T00:00:00Z"}'])
def test_malformed_pulse_lines(tmp_path: Path, junk: str) -> None:
    _scene(tmp_path)
    with (tmp_path / "pulses.jsonl").open("a") as fh:
        fh.write(junk + "\n")
    _one_line_error(_run("locate", str(tmp_path)), "pulses.jsonl:")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        # year 1: the shot, before its first arrival, had no time to format (a traceback)
        ('{"sensor_id": "S001", "t_utc": "0001-01-01T00:00:00Z"}', "time out of range"),
        ('{"sensor_id": "S001", "t_utc": "9999-12-31T23:59:59Z"}', "time out of range"),
        # (a negative, zero or absurd onset sigma was taken as given)
        ('{"sensor_id": "S001", "t_utc": "2027-01-15T08:00:00Z", "sigma_t_s": -1}', "sigma_t_s"),
        ('{"sensor_id": "S001", "t_utc": "2027-01-15T08:00:00Z", "sigma_t_s": 0}', "sigma_t_s"),
        ('{"sensor_id": "S001", "t_utc": "2027-01-15T08:00:00Z", "sigma_t_s": 1e300}', "sigma_t_s"),
    ],
)
def test_clock_and_sigma_nonsense(tmp_path: Path, line: str, needle: str) -> None:
    _scene(tmp_path)
    with (tmp_path / "pulses.jsonl").open("a") as fh:
        fh.write(line + "\n")
    _one_line_error(_run("locate", str(tmp_path)), needle)


def test_a_spreadsheets_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    """A CSV saved by a spreadsheet as "CSV UTF-8" opens with a byte order mark (it read
    as a header without its sensor_id column)."""
    _scene(tmp_path)
    for name in ("sensors.csv", "pulses.jsonl", "weather.json"):
        f = tmp_path / name
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    p = _run("locate", str(tmp_path), "-o", str(tmp_path / "out.json"))
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "out.json").read_text())["features"]


def test_sensor_calibration_column_round_trips_and_is_checked(tmp_path: Path) -> None:
    from shotwatch.formats import read_sensors

    sensors = [Sensor("S1", 40.0, -80.0, 200.0, 150.0), Sensor("S2", 40.001, -80.0, 201.0)]
    write_sensors(tmp_path / "sensors.csv", sensors)
    got = read_sensors(tmp_path / "sensors.csv")
    assert got["S1"].full_scale_db_spl == 150.0
    assert got["S2"].full_scale_db_spl is None
    _scene(tmp_path)
    text = (tmp_path / "sensors.csv").read_text().splitlines()
    text[0] += ",full_scale_db_spl"
    text[1] += ",loud"
    text[2:] = [line + "," for line in text[2:]]
    (tmp_path / "sensors.csv").write_text("\n".join(text) + "\n")
    _one_line_error(_run("locate", str(tmp_path)), "full_scale_db_spl is not a number")


def test_a_shot_heard_by_three_sensors_is_reported_as_such(tmp_path: Path) -> None:
    """Only the three sensors nearest the source heard it: one incident, located, never
    told certain gunfire, and its summary says that three sensors heard it."""
    lat, lon = _scene(tmp_path, rounds=1)
    sensors = {s["sensor_id"]: s for s in _csv_rows(tmp_path / "sensors.csv")}
    enu = {
        k: FRAME.to_enu(float(v["lat"]), float(v["lon"]), float(v["elevation_m"]))
        for k, v in sensors.items()
    }
    src = FRAME.to_enu(lat, lon, 201.5)
    near = sorted(enu, key=lambda k: float(np.hypot(*(enu[k] - src)[:2])))[:3]
    lines = (tmp_path / "pulses.jsonl").read_text().splitlines()
    kept = [ln for ln in lines if json.loads(ln)["sensor_id"] in near]
    # a fourth sensor reported an unrelated impulse a minute later (input from three
    # sensors alone is refused: see test_fewer_than_four_sensors)
    far = max(enu, key=lambda k: float(np.hypot(*(enu[k] - src)[:2])))
    kept.append(json.dumps({"sensor_id": far, "t_utc": "2027-01-15T08:01:00.000000Z"}))
    (tmp_path / "pulses.jsonl").write_text("\n".join(kept) + "\n")
    res = runner.invoke(app, ["locate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    feats = json.loads(res.output)["features"]
    assert len(feats) == 1
    p = feats[0]["properties"]
    assert p["classification"] != "gunfire"
    assert "heard by only three sensors" in p["summary"]
    assert sorted(p["sensors"]) == sorted(near)
    shot = p["shots"][0]
    d = FRAME.to_enu(shot["lat"], shot["lon"], 200.0) - FRAME.to_enu(lat, lon, 200.0)
    alt = shot.get("alternative")
    if alt is not None:  # the true point is one of the two the arrivals fit
        da = FRAME.to_enu(alt["lat"], alt["lon"], 200.0) - FRAME.to_enu(lat, lon, 200.0)
        assert min(np.hypot(d[0], d[1]), np.hypot(da[0], da[1])) < 5.0
    else:
        assert np.hypot(d[0], d[1]) < 5.0


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--scenes", "0"], "--scenes"),
        (["--scenes", "-3"], "--scenes"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_bench_refuses_counts_and_seeds_out_of_range(args: list[str], needle: str) -> None:
    """(``--scenes 0`` printed an empty table with status 0; ``--seed -1`` a traceback.)"""
    p = _run("bench", *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert needle in p.stderr and "Traceback" not in p.stderr
