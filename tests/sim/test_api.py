"""Determinism, scenario validation, outputs and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shotwatch.cli import app, main
from shotwatch.errors import InputError
from shotwatch.formats import read_clips, read_pulses, read_sensors, read_weather
from shotwatch.sim import load_scenario, simulate, write_outputs
from shotwatch.timeutil import parse_utc

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "shotwatch" / "sim" / "examples"


def test_examples_load() -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert "downtown_multi.yaml" in names
    for p in EXAMPLES.glob("*.yaml"):
        assert load_scenario(p).sources


def test_deterministic_for_a_seed() -> None:
    sc = load_scenario(EXAMPLES / "confusers.yaml")
    a, b = simulate(sc, seed=5), simulate(sc, seed=5)
    c = simulate(sc, seed=6)
    assert [p.to_json() for p in a.pulses] == [p.to_json() for p in b.pulses]
    assert a.truth == b.truth
    assert [p.to_json() for p in a.pulses] != [p.to_json() for p in c.pulses]
    # the deployment is part of the scenario, not of the seed
    assert a.sensors == c.sensors


def test_truth_arrivals_are_exactly_the_pulses() -> None:
    sc = load_scenario(EXAMPLES / "confusers.yaml")
    res = simulate(sc, seed=2)
    pulses = {(p.sensor_id, p.to_json()["t_utc"]) for p in res.pulses}
    arrivals = [(a["sensor_id"], a["t_utc"]) for e in res.truth["events"] for a in e["arrivals"]]
    assert len(arrivals) == len(set(arrivals))
    assert set(arrivals) <= pulses
    kinds = {i["kind"] for i in res.truth["incidents"]}
    assert kinds == {"fireworks", "firecrackers", "backfire", "door_slam", "gunfire"}
    ev = res.truth["events"][0]
    for key in (
        "id",
        "incident",
        "kind",
        "shooter",
        "t_utc",
        "lat",
        "lon",
        "elevation_m",
        "east_m",
        "north_m",
        "up_m",
        "weapon",
        "arrivals",
    ):
        assert key in ev
    assert set(res.truth["frame"]) == {"lat0", "lon0", "h0"}


BAD = [
    ("a: [1, 2\n", "not valid YAML"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("area: {lat: 40, lon: -80}\nsensor: {}\n", "sensor"),
    ("sources: []\n", "area"),
    (
        "area: {lat: 40, lon: -80}\n"
        "sources: [{kind: gunfire, t_s: 1, east_m: 0, north_m: 0, rounds: 0}]\n",
        "sources.0.shooters.0.rounds",
    ),
    ("area: {lat: 40, lon: -80}\nsources: [{kind: meteor, t_s: 1}]\n", "sources.0"),
    ("area: {lat: 40, lon: -80}\nweather: {temperature_c: .nan}\n", "weather.temperature_c"),
    ("area: {lat: 40, lon: -80}\nsensors: {layout: explicit}\n", "sites"),
    (
        "area: {lat: 40, lon: -80}\nsources: [{kind: fireworks, t_s: 1, east_m: 0, north_m: 0, "
        "burst_height_m: [200, 40]}]\n",
        "burst_height_m",
    ),
    # (a source 1e300 m off overflowed the propagation, a time 1e18 s on the clock:
    # tracebacks before these bounds)
    (
        "area: {lat: 40, lon: -80}\nsources: [{kind: backfire, t_s: 1, east_m: 1e300, "
        "north_m: 0}]\n",
        "sources.0.east_m",
    ),
    (
        "area: {lat: 40, lon: -80}\nsources: [{kind: gunfire, t_s: 1e18, east_m: 0, north_m: 0}]\n",
        "sources.0.t_s",
    ),
    ('area: {lat: 40, lon: -80}\nstart_utc: "0001-01-01T00:00:00Z"\n', "time out of range"),
]


@pytest.mark.parametrize(("text", "needle"), BAD)
def test_bad_scenarios_raise_input_error(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=needle.replace(".", r"\.")) as ei:
        load_scenario(p)
    assert str(p) in str(ei.value)


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text('{"area": ', encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_scenario(p)
    with pytest.raises(InputError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_source_inside_explicit_building_is_named(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(
        "area: {lat: 40, lon: -80}\n"
        "buildings: {mode: explicit, boxes: [{east_min: -5, east_max: 5, north_min: -5,"
        " north_max: 5, height_m: 10}]}\n"
        "sources: [{kind: gunfire, t_s: 1, east_m: 0, north_m: 0}]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"buildings\.boxes\.0"):
        simulate(load_scenario(p), seed=0)


def test_write_outputs_round_trip(tmp_path: Path) -> None:
    sc = load_scenario(EXAMPLES / "open_field.yaml")
    res = simulate(sc, seed=3, audio=True, sample_rate=8000)
    out = write_outputs(res, tmp_path / "o")
    sensors = read_sensors(out / "sensors.csv")
    assert set(sensors) == set(res.sensors)
    assert read_weather(out / "weather.json") == res.weather
    pulses = read_pulses(out / "pulses.jsonl", sensors)
    assert len(pulses) == len(res.pulses)
    assert [p.sensor_id for p in pulses] == [p.sensor_id for p in res.pulses]
    clips = read_clips(out / "clips.csv", sensors)
    assert {c.sensor_id for c in clips} == set(res.sensors)
    c0 = clips[0]
    orig = res.clips[c0.sensor_id]
    assert c0.sample_rate == 8000 and abs(c0.start - orig.start) < 1e-6
    assert np.max(np.abs(c0.samples - orig.samples)) < 1e-4  # 16-bit FLAC
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["events"][0]["kind"] == "gunfire"
    assert parse_utc(truth["events"][0]["t_utc"]) == pytest.approx(sc.start + 2.0)


def test_cli_simulate_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["simulate", str(EXAMPLES / "confusers.yaml"), "-o", str(out), "--seed", "4"]
    )
    assert r.exit_code == 0, r.output
    for name in ("sensors.csv", "weather.json", "pulses.jsonl", "truth.json"):
        assert (out / name).is_file()
    assert not (out / "clips.csv").exists()
    assert read_pulses(out / "pulses.jsonl", read_sensors(out / "sensors.csv"))


def test_cli_bad_scenario_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("area: {lat: 400, lon: 0}\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["shotwatch", "simulate", str(p), "-o", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as ei:
        main()
    assert ei.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "area.lat" in err[0] and "Traceback" not in err[0]


def test_rooftop_shooter_is_not_inside_the_building(tmp_path: Path) -> None:
    p = tmp_path / "roof.yaml"
    p.write_text(
        "area: {lat: 40, lon: -80}\n"
        "sensors: {layout: explicit, sites: [{id: A, east_m: 200, north_m: 0}]}\n"
        "buildings: {mode: explicit, boxes: [{east_min: -5, east_max: 5, north_min: -5,"
        " north_max: 5, height_m: 10}]}\n"
        "sources: [{kind: gunfire, t_s: 1, east_m: 0, north_m: 0, up_m: 11.5}]\n",
        encoding="utf-8",
    )
    res = simulate(load_scenario(p), seed=0)
    assert res.truth["events"][0]["up_m"] == 11.5
    assert res.pulses


def test_cli_accepts_a_bundled_example_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["simulate", "open_field", "-o", "out", "--seed", "1"])
    assert r.exit_code == 0, r.output
    truth = json.loads((tmp_path / "out" / "truth.json").read_text(encoding="utf-8"))
    assert truth["incidents"][0]["rounds"] == 3


def test_cli_builtin_scenes(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app, ["simulate", "urban:backfire", "-o", str(tmp_path / "u"), "--seed", "2"]
    )
    assert r.exit_code == 0, r.output
    truth = json.loads((tmp_path / "u" / "truth.json").read_text(encoding="utf-8"))
    assert truth["incidents"][0]["kind"] == "backfire"
    r = CliRunner().invoke(app, ["simulate", "city:30:0.02", "-o", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    assert len(read_sensors(tmp_path / "c" / "sensors.csv")) == 30
    r = CliRunner().invoke(app, ["simulate", "urban:meteor", "-o", str(tmp_path / "x")])
    assert isinstance(r.exception, InputError)


def test_oversized_layouts_are_refused() -> None:
    from shotwatch.sim.scenario import scenario_from_dict

    big = {"area": {"lat": 40, "lon": -80, "size_m": [50000, 50000]}}
    with pytest.raises(InputError, match="100000 sites"):
        simulate(scenario_from_dict({**big, "sensors": {"spacing_m": 50}}), seed=0)
    with pytest.raises(InputError, match="million city blocks"):
        simulate(
            scenario_from_dict(
                {
                    **big,
                    "sensors": {"spacing_m": 5000},
                    "buildings": {"mode": "random", "block_m": 30},
                }
            ),
            seed=0,
        )
