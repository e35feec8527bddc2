"""``shotwatch locate`` and ``shotwatch bench``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    app.command("locate")(locate_command)
    app.command("bench")(bench_command)


def locate_command(
    directory: Annotated[
        Path, typer.Argument(help="Directory with sensors.csv and clips.csv or pulses.jsonl")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write GeoJSON here")
    ] = None,
) -> None:
    """Locate shots and write incidents as one GeoJSON FeatureCollection."""
    from shotwatch.formats import load_input_dir
    from shotwatch.models import feature_collection
    from shotwatch.pipeline import locate_input

    incidents = locate_input(load_input_dir(directory))
    text = json.dumps(feature_collection(incidents), indent=1)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


def bench_command(
    directory: Annotated[
        Path | None, typer.Argument(help="Live-fire data directory (with --livefire)")
    ] = None,
    livefire: Annotated[
        bool, typer.Option("--livefire", help="Score the real live-fire tests")
    ] = False,
    views: Annotated[str, typer.Option(help="Live-fire views: pulses,audio")] = "pulses,audio",
    scenes: Annotated[int, typer.Option(min=1, max=10_000, help="Simulated scenes per kind")] = 20,
    seed: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Seed of the simulated suite")
    ] = 0,
    city: Annotated[
        bool, typer.Option("--city", help="Stream a simulated 1,000-sensor city instead")
    ] = False,
    hours: Annotated[float, typer.Option(help="Hours of city (with --city)")] = 0.25,
    scores: Annotated[
        bool,
        typer.Option(
            help="Simulated pulses carry gunshot scores drawn from the model's "
            "out-of-fold scores per source kind (suite and --city)"
        ),
    ] = True,
    score_correlation: Annotated[
        float, typer.Option(help="Correlation of the score draws within an incident")
    ] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Benchmarks: the seeded simulated suite, or (--livefire) the real live-fire tests."""
    from rich.console import Console
    from rich.progress import Progress

    from shotwatch.errors import InputError

    console = Console(stderr=as_json)
    result: dict[str, Any]
    if not 0 <= score_correlation <= 1:
        raise InputError(f"--score-correlation must be in [0, 1], got {score_correlation}")
    if livefire:
        from shotwatch.bench.livefire import default_livefire_dir, load_tests, run_livefire

        root = directory or default_livefire_dir()
        if not root.is_dir():
            raise InputError("live-fire data directory not found", str(root))
        vs = tuple(v.strip() for v in views.split(",") if v.strip())
        bad = [v for v in vs if v not in ("pulses", "audio")]
        if bad:
            raise InputError(f"unknown view(s) {bad}; use pulses and/or audio")
        n = len(load_tests(root))
        with Progress(console=console, transient=True) as prog:
            task = prog.add_task("live-fire tests", total=n)
            result = run_livefire(root, vs, lambda _t: prog.advance(task))
        if as_json:
            typer.echo(json.dumps(result, indent=1))
        else:
            from shotwatch.bench.report import print_livefire

            print_livefire(console, result)
        return
    if city:
        from shotwatch.bench.simsuite import city_bench

        if not 0 < hours <= 24:
            raise InputError(f"--hours must be in (0, 24], got {hours}")
        result = city_bench(
            seed=seed or 1,
            hours=hours,
            scores=scores,
            score_correlation=score_correlation,
            progress=lambda d: typer.echo(
                "city: {hours_done} h, {pulses} pulses, locator {cpu_s} CPU s, "
                "RSS {rss_mb} MB".format(**d),
                err=True,
            ),
        )
        if as_json:
            typer.echo(json.dumps(result, indent=1))
        else:
            from shotwatch.bench.report import print_suite

            print_suite(console, result)
        return
    from shotwatch.bench.simsuite import run_suite

    with Progress(console=console, transient=True) as prog:
        task = prog.add_task("simulated scenes", total=None)
        result = run_suite(
            scenes_per_kind=scenes,
            seed=seed,
            progress=lambda: prog.advance(task),
            scores=scores,
            score_correlation=score_correlation,
        )
    if as_json:
        typer.echo(json.dumps(result, indent=1))
    else:
        from shotwatch.bench.report import print_suite

        print_suite(console, result)
