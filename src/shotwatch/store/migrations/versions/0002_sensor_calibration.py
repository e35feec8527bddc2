"""sensor calibration: full scale in dB SPL (for source levels)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sensors") as batch:
        batch.add_column(sa.Column("full_scale_db_spl", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sensors") as batch:
        batch.drop_column("full_scale_db_spl")
