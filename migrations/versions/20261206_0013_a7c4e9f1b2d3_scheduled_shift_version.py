"""scheduled_shift version: concurrent changes of one scheduled shift are a conflict (OG-5)

Revision ID: a7c4e9f1b2d3
Revises: f2a3b4c5d6e7
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = 'a7c4e9f1b2d3'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scheduled_shift', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('scheduled_shift', schema=None) as batch_op:
        batch_op.drop_column('version')
