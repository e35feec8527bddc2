"""Hash-chained, append-only audit log (chain of custody).

Each record stores ``prev_hash`` and ``hash = sha256(prev_hash + "\\n" + canonical)``
where ``canonical`` is the JSON of ``(at, actor, action, object, detail)``. Changing or
deleting any record breaks every later hash, which :func:`verify_chain` detects.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shotwatch.store.db import Database
from shotwatch.store.tables import AuditRow

GENESIS = "0" * 64
_lock = threading.Lock()


def _digest(prev: str, at: float, actor: str, action: str, obj: str, detail: str) -> str:
    canonical = json.dumps([repr(at), actor, action, obj, detail], separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()


def append(
    db: Database, actor: str, action: str, obj: str, detail: str = "", at: float | None = None
) -> str:
    """Append one record in its own transaction, serialised so the chain never forks.

    Returns the record's hash.
    """
    with _lock, db.session() as s:
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            s.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
        last = s.execute(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).scalar()
        prev = last.hash if last is not None else GENESIS
        when = time.time() if at is None else at
        digest = _digest(prev, when, actor, action, obj, detail)
        s.add(
            AuditRow(
                at=when,
                actor=actor,
                action=action,
                object=obj,
                detail=detail,
                prev_hash=prev,
                hash=digest,
            )
        )
    return digest


def verify_chain(s: Session) -> tuple[bool, int | None]:
    """Return ``(ok, first_bad_id)`` after re-hashing the whole chain in order."""
    prev = GENESIS
    for row in s.execute(select(AuditRow).order_by(AuditRow.id)).scalars():
        if row.prev_hash != prev or row.hash != _digest(
            prev, row.at, row.actor, row.action, row.object, row.detail
        ):
            return False, row.id
        prev = row.hash
    return True, None
