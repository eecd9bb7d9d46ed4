"""case resumed_at: when handling resumed after closing, so the closing rules count from there

Revision ID: e1f2a3b4c5d6
Revises: d9e4f5a6b7c8
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

import app.db


revision = 'e1f2a3b4c5d6'
down_revision = 'd9e4f5a6b7c8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('care_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resumed_at', app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('care_case', schema=None) as batch_op:
        batch_op.drop_column('resumed_at')
