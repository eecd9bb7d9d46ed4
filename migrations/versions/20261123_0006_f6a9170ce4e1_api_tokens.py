"""api tokens: bearer tokens for the JSON API (stored hashed, revocable, with expiry and last use)

Revision ID: f6a9170ce4e1
Revises: e5a1b2c3d4e5
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import app.db


revision = 'f6a9170ce4e1'
down_revision = 'e5a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('user', 'service', 'resident', name='api_token_kind', native_enum=False, length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=160), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=160), nullable=True),
    sa.CheckConstraint("(kind = 'resident' AND patient_id IS NOT NULL AND user_id IS NULL AND unit_id IS NULL) OR (kind <> 'resident' AND patient_id IS NULL AND user_id IS NOT NULL AND unit_id IS NOT NULL)", name=op.f('ck_api_token_principal')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_api_token_patient_id_patient')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_api_token_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_api_token_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name='uq_api_token_token_hash')
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_api_token_patient_id'))

    op.drop_table('api_token')
