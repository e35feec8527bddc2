"""Audio evidence: content-addressed files on disk (the embedded default).

A clip is stored once under ``<root>/<sha256[:2]>/<sha256>.<ext>``; its key is
``<sha256>.<ext>``. The interface is two methods so an S3-compatible store can stand
behind the same calls.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from shotwatch.errors import InputError, NotFoundError


class EvidenceStore(Protocol):
    def put(self, data: bytes, ext: str) -> tuple[str, str]: ...

    def get(self, key: str) -> bytes: ...


class FileEvidenceStore:
    """Write-once files; ``put`` returns ``(key, sha256)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        name, _, ext = key.partition(".")
        if len(name) != 64 or not all(c in "0123456789abcdef" for c in name) or not ext.isalnum():
            raise InputError(f"bad evidence key {key!r}")
        return self.root / name[:2] / key

    def put(self, data: bytes, ext: str) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest}.{ext}"
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return key, digest

    def delete(self, key: str) -> None:
        """Remove a clip whose retention period ended (missing is fine)."""
        self._path(key).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"evidence {key} not found") from None
