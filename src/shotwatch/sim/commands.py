"""Sub-commands of this area (filled in by its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register this area's sub-commands (none yet)."""
