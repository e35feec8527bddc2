"""``shotwatch simulate``: run a scenario file and write its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``shotwatch`` command."""

    @app.command("simulate")
    def simulate_cmd(
        scenario: Annotated[
            Path,
            typer.Argument(
                help="Scenario file (YAML or JSON), or the name of a bundled example "
                "(downtown_multi, confusers, open_field)."
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
    ) -> None:
        """Simulate a sensor deployment: writes sensors.csv, weather.json, pulses.jsonl,
        truth.json (and clips.csv + audio/*.flac with --audio) into OUT."""
        from shotwatch.sim.engine import simulate
        from shotwatch.sim.output import write_outputs
        from shotwatch.sim.scenario import load_scenario

        if not scenario.exists() and scenario.suffix == "" and scenario.parent == Path("."):
            bundled = Path(__file__).resolve().parent / "examples" / f"{scenario.name}.yaml"
            if bundled.is_file():
                scenario = bundled
        sc = load_scenario(scenario)
        result = simulate(sc, seed=seed, audio=audio, sample_rate=sample_rate)
        write_outputs(result, out)
        n_inc = len(result.truth["incidents"])
        n_ev = len(result.truth["events"])
        typer.echo(
            f"{len(result.sensors)} sensors, {n_inc} incidents, {n_ev} events, "
            f"{len(result.pulses)} pulses -> {out}",
            err=True,
        )
