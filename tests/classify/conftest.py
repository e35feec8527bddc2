"""Fixtures of the classifier tests: the shared data directory (``../shared/data``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotwatch.classifier.data import default_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data; present in CI beside the repository. Fails loudly if missing."""
    d = default_data_dir()
    assert (d / "audio" / "manifest.csv").is_file(), f"shared data missing at {d}"
    return d
