"""case submission key: a resident's submission sent twice (a double click, a retried request) makes one case

Revision ID: c8d1e2f3a4b5
Revises: b7c3e1a9d2f4
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = 'c8d1e2f3a4b5'
down_revision = 'b7c3e1a9d2f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('care_case', sa.Column('submission_key', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_care_case_submission_key'), 'care_case', ['submission_key'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_care_case_submission_key'), table_name='care_case')
    op.drop_column('care_case', 'submission_key')
