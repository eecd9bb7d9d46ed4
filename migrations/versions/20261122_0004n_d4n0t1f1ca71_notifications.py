"""notifications: the outbox (notification) written with each state change and delivered by a worker

Revision ID: d4n0t1f1ca71
Revises: c3a1e0d10003
Create Date: 2026-11-22 04:41:59.708344
"""

from alembic import op
import sqlalchemy as sa
import app.db


revision = "d4n0t1f1ca71"
down_revision = "c3a1e0d10003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "email", name="notification_channel", native_enum=False, length=40),
            nullable=False,
        ),
        # A NotificationPurpose value, no CHECK constraint: new purposes need no migration.
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column(
            "recipient_kind",
            sa.Enum("patient", "staff", name="notification_recipient_kind", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=200), nullable=True),
        sa.Column("sender_id", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("neutral", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                "suppressed",
                name="notification_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["care_case.id"], name=op.f("fk_notification_case_id_care_case")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_notification_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_notification_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_notification_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_idempotency_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_notification_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_user_id"))
        batch_op.drop_index("ix_notification_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_notification_patient_id"))
        batch_op.drop_index(batch_op.f("ix_notification_case_id"))

    op.drop_table("notification")
