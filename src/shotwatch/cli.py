"""The ``shotwatch`` command. Each area registers its own sub-commands (lazy imports
inside each command keep start-up fast); every ShotwatchError becomes one line on
stderr and exit status 2."""

from __future__ import annotations

import importlib
import sys

import typer

from shotwatch.errors import ShotwatchError

app = typer.Typer(
    name="shotwatch",
    help="Gunfire detection, location and alerting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One module per area; each defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "shotwatch.commands.locate",  # locate, bench
    "shotwatch.sim.commands",  # simulate
    "shotwatch.commands.classify",  # classify, train-classifier
    "shotwatch.web.commands",  # serve, demo
    "shotwatch.sensor.commands",  # sensor
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Entry point of the ``shotwatch`` console script."""
    try:
        app()
    except ShotwatchError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
