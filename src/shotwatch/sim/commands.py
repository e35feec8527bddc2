"""``shotwatch simulate``: run a scenario file and write its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shotwatch.sim.scenario import Scenario


def _resolve(scenario: Path, seed: int) -> Scenario:
    """A scenario file, a bundled example name, ``urban:KIND`` or ``city:N:HOURS``."""
    from shotwatch.errors import InputError
    from shotwatch.sim.scenario import load_scenario
    from shotwatch.sim.scenes import KINDS, city_scene, urban_scene

    text = str(scenario)
    if not scenario.exists():
        if text.startswith("urban:"):
            kind = text.removeprefix("urban:")
            if kind not in KINDS:
                raise InputError(f"unknown urban scene kind {kind!r}; one of {', '.join(KINDS)}")
            return urban_scene(seed, kind)
        if text.startswith("city:"):
            parts = text.split(":")
            try:
                n = int(parts[1])
                hours = float(parts[2]) if len(parts) > 2 else 1.0
            except (IndexError, ValueError):
                raise InputError(f"expected city:N_SENSORS[:HOURS], got {text!r}") from None
            if not (1 <= n <= 100_000 and 0 < hours <= 168):
                raise InputError(f"city scene out of range (1..100000 sensors, 0..168 h): {text!r}")
            return city_scene(seed, n_sensors=n, hours=hours)
        if scenario.suffix == "" and scenario.parent == Path("."):
            bundled = Path(__file__).resolve().parent / "examples" / f"{scenario.name}.yaml"
            if bundled.is_file():
                return load_scenario(bundled)
    return load_scenario(scenario)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``shotwatch`` command."""

    @app.command("simulate")
    def simulate_cmd(
        scenario: Annotated[
            Path,
            typer.Argument(
                help="Scenario file (YAML or JSON), the name of a bundled example "
                "(downtown_multi, confusers, open_field), urban:KIND (a seeded dense-urban "
                "scene: single, multi_round, two_shooters, mobile, fireworks, firecrackers, "
                "backfire, door_slam, open) or city:N_SENSORS:HOURS."
            ),
        ],
        out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        audio: Annotated[
            bool, typer.Option("--audio", help="Also synthesize per-sensor FLAC audio.")
        ] = False,
        sample_rate: Annotated[
            int, typer.Option("--sample-rate", help="Audio sample rate, Hz.")
        ] = 16000,
        scores: Annotated[
            bool,
            typer.Option(
                "--scores",
                help="Give each pulse a gunshot score drawn from the shipped model's "
                "out-of-fold scores for its source's kind (a scenario's own scores "
                "section wins).",
            ),
        ] = False,
    ) -> None:
        """Simulate a sensor deployment: writes sensors.csv, weather.json, pulses.jsonl,
        truth.json (and clips.csv + audio/*.flac with --audio) into OUT."""
        from shotwatch.sim.engine import simulate
        from shotwatch.sim.output import write_outputs

        sc = _resolve(scenario, seed)
        if scores and sc.scores is None:
            from shotwatch.sim.scores import measured_scores

            sc = sc.model_copy(update={"scores": measured_scores()})
        result = simulate(sc, seed=seed, audio=audio, sample_rate=sample_rate)
        write_outputs(result, out)
        n_inc = len(result.truth["incidents"])
        n_ev = len(result.truth["events"])
        typer.echo(
            f"{len(result.sensors)} sensors, {n_inc} incidents, {n_ev} events, "
            f"{len(result.pulses)} pulses -> {out}",
            err=True,
        )
