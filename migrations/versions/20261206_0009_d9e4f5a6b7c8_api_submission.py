"""api submission: what an Idempotency-Key was first sent with, so the key reused for another request is refused

Revision ID: d9e4f5a6b7c8
Revises: c8d1e2f3a4b5
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = 'd9e4f5a6b7c8'
down_revision = 'c8d1e2f3a4b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_submission',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['care_case.id'], name=op.f('fk_api_submission_case_id_care_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_api_submission'))
    )


def downgrade() -> None:
    op.drop_table('api_submission')
