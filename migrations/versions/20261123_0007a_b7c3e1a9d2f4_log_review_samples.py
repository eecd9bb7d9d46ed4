"""log review samples: stored, reproducible samples of the access log with the reviewer's verdicts

Revision ID: b7c3e1a9d2f4
Revises: f6a9170ce4e1
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import app.db


revision = 'b7c3e1a9d2f4'
down_revision = 'f6a9170ce4e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('log_review_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_start', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_size', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['app_user.id'], name=op.f('fk_log_review_sample_created_by_user_id_app_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_log_review_sample_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_review_sample'))
    )
    with op.batch_alter_table('log_review_sample', schema=None) as batch_op:
        batch_op.create_index('ix_log_review_sample_unit_created', ['unit_id', 'created_at'], unique=False)

    op.create_table('log_review_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('access_log_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.Enum('ok', 'follow_up', name='log_review_verdict', native_enum=False, length=40), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['access_log_id'], ['access_log.id'], name=op.f('fk_log_review_item_access_log_id_access_log')),
    sa.ForeignKeyConstraint(['reviewed_by_user_id'], ['app_user.id'], name=op.f('fk_log_review_item_reviewed_by_user_id_app_user')),
    sa.ForeignKeyConstraint(['sample_id'], ['log_review_sample.id'], name=op.f('fk_log_review_item_sample_id_log_review_sample')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_review_item')),
    sa.UniqueConstraint('sample_id', 'access_log_id', name='uq_log_review_item_sample_log')
    )
    with op.batch_alter_table('log_review_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_review_item_sample_id'), ['sample_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('log_review_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_review_item_sample_id'))

    op.drop_table('log_review_item')
    with op.batch_alter_table('log_review_sample', schema=None) as batch_op:
        batch_op.drop_index('ix_log_review_sample_unit_created')

    op.drop_table('log_review_sample')
