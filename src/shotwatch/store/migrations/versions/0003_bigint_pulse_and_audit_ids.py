"""64-bit ids for the pulses and the audit log on PostgreSQL

Every pulse is kept seven years, and every access to evidence adds an audit record.
PostgreSQL's ``serial`` ids stop at 2**31 - 1 (2.1 billion rows): a 1,000-sensor city
reporting 4.5 pulses a second (the simulated city's background rate) reaches that in
15 years, and at the 5,000 pulses a second the service is built for in five days. SQLite's
``INTEGER PRIMARY KEY`` is 64-bit already (and only that type auto-increments there), so
the change is PostgreSQL's only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("pulses", "audit_log")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE BIGINT")
        op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq AS BIGINT")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq AS INTEGER")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE INTEGER")
