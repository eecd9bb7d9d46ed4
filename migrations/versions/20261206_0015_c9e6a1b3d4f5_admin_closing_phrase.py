"""admin closing phrase template: an administrative case closes with words of its own (OG-7)

An administrative case closed with the clinical closing text ("om dina besvär blir värre ..."). The
new purpose "admin_closing" is a regional template; regions created before this revision get the
default text published, as a new region gets it from app.phrases.service.seed_regional_defaults. The
text is frozen here on purpose: a migration inserts what it inserted on the day it was written.

Revision ID: c9e6a1b3d4f5
Revises: b8d5f0a2c3e4
Create Date: 2026-12-06
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.db

revision = "c9e6a1b3d4f5"
down_revision = "b8d5f0a2c3e4"
branch_labels = None
depends_on = None

PURPOSE = "admin_closing"
TITLE = "Avslut av administrativt ärende"
TEXT = (
    "Tack för att du hörde av dig. Ditt ärende är nu avslutat. Har du fler frågor är du välkommen att "
    "skicka ett nytt ärende."
)

region = sa.table("region", sa.column("id", sa.Integer))
phrase_template = sa.table(
    "phrase_template",
    sa.column("id", sa.Integer),
    sa.column("level", sa.String),
    sa.column("region_id", sa.Integer),
    sa.column("purpose", sa.String),
    sa.column("title", sa.String),
    sa.column("text", sa.Text),
    sa.column("status", sa.String),
    sa.column("published_at", app.db.UTCDateTime(timezone=True)),
    sa.column("created_at", app.db.UTCDateTime(timezone=True)),
)
audit_event = sa.table(
    "audit_event",
    sa.column("at", app.db.UTCDateTime(timezone=True)),
    sa.column("action", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("details", sa.JSON),
)


def upgrade() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    for region_id in connection.scalars(sa.select(region.c.id).order_by(region.c.id)).all():
        exists = connection.scalar(
            sa.select(phrase_template.c.id).where(
                phrase_template.c.region_id == region_id,
                phrase_template.c.level == "regional",
                phrase_template.c.purpose == PURPOSE,
                phrase_template.c.status == "published",
            )
        )
        if exists is not None:
            continue
        template_id = connection.execute(
            sa.insert(phrase_template)
            .values(
                level="regional", region_id=region_id, purpose=PURPOSE, title=TITLE, text=TEXT,
                status="published", published_at=now, created_at=now,
            )
            .returning(phrase_template.c.id)
        ).scalar_one()  # fmt: skip
        connection.execute(
            sa.insert(audit_event).values(
                at=now, action="phrase_template:published", actor_label="system:migration",
                subject_type="phrase_template", subject_id=str(template_id),
                details={"level": "regional", "purpose": PURPOSE, "seeded": True},
            )
        )  # fmt: skip


def downgrade() -> None:
    # The code before this revision uses the clinical closing text; the templates are left unused,
    # not deleted (the audit trail names them, and a region may have edited them).
    pass
