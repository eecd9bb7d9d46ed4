"""referral phrase templates: the after-hours referral texts become regional templates (OG-8.2)

The three texts were built into the code; they are now phrase templates the region can edit. Regions
created before this revision get the default texts published as regional templates, as a new region
gets them from app.phrases.service.seed_regional_defaults. The texts are frozen here on purpose: a
migration must insert what it inserted on the day it was written.

Revision ID: f2a3b4c5d6e7
Revises: e1f2a3b4c5d6
Create Date: 2026-12-06
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import app.db


revision = 'f2a3b4c5d6e7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

_SEEK_CARE = "Om du blir sämre och behöver vård, ring 1177 för sjukvårdsrådgivning. Vid livshotande tillstånd, ring 112."
TEMPLATES = {
    "referral_112": ("Hänvisning till 112", "Utifrån dina svar bör du ringa 112 nu."),
    "referral_1177": (
        "Hänvisning till 1177",
        "Mottagningen har stängt. Utifrån dina svar bör du ringa 1177 för sjukvårdsrådgivning.",
    ),
    "referral_self_care": (
        "Hänvisning till egenvård",
        "Mottagningen har stängt. Läs om egenvård på 1177.se och kontakta oss igen om du inte blir bättre. "
        + _SEEK_CARE,
    ),
}

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
    now = datetime.now(timezone.utc)
    for region_id in connection.scalars(sa.select(region.c.id).order_by(region.c.id)).all():
        for purpose, (title, text) in TEMPLATES.items():
            exists = connection.scalar(
                sa.select(phrase_template.c.id).where(
                    phrase_template.c.region_id == region_id,
                    phrase_template.c.level == "regional",
                    phrase_template.c.purpose == purpose,
                    phrase_template.c.status == "published",
                )
            )
            if exists is not None:
                continue
            template_id = connection.execute(
                sa.insert(phrase_template)
                .values(
                    level="regional", region_id=region_id, purpose=purpose, title=title, text=text,
                    status="published", published_at=now, created_at=now,
                )
                .returning(phrase_template.c.id)
            ).scalar_one()  # fmt: skip
            connection.execute(
                sa.insert(audit_event).values(
                    at=now, action="phrase_template:published", actor_label="system:migration",
                    subject_type="phrase_template", subject_id=str(template_id),
                    details={"level": "regional", "purpose": purpose, "seeded": True},
                )
            )  # fmt: skip


def downgrade() -> None:
    # The code before this revision has the texts built in; the templates are left unused, not deleted
    # (the audit trail names them, and a region may have edited them).
    pass
