"""consent phrase templates: ask for the answer with the Ja/Nej buttons, not "here in the chat"

The default texts of the two consent questions (HA-handover-consent, OG-8.3) told the resident to
answer yes or no in the chat, where an answer changes nothing: only the case's Ja/Nej buttons record
the consent. A region's regional template still holding the old default text gets the new one; a text
the region has edited is left as the region wrote it. The texts are frozen here on purpose.

Revision ID: b8d5f0a2c3e4
Revises: a7c4e9f1b2d3
Create Date: 2026-12-06
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.db

revision = "b8d5f0a2c3e4"
down_revision = "a7c4e9f1b2d3"
branch_labels = None
depends_on = None

_OLD_ANSWER = "Svara ja eller nej här i chatten."
_NEW_ANSWER = "Svara med knapparna Ja eller Nej i ditt ärende."
TEXTS = {
    "consent_meeting_form": (
        "Vi föreslår att vi fortsätter ditt ärende via {meeting_form}. Ett sådant besök kostar {cost} kronor. "
        "Vill du det? "
    ),
    "consent_handover": (
        "För att du ska få rätt hjälp vill vi lämna över ditt ärende till {handed_to}. Går det bra för dig? "
    ),
}

phrase_template = sa.table(
    "phrase_template",
    sa.column("id", sa.Integer),
    sa.column("level", sa.String),
    sa.column("purpose", sa.String),
    sa.column("text", sa.Text),
    sa.column("status", sa.String),
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


def _replace(old_answer: str, new_answer: str) -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    for purpose, question in TEXTS.items():
        unchanged = connection.scalars(
            sa.select(phrase_template.c.id).where(
                phrase_template.c.level == "regional",
                phrase_template.c.purpose == purpose,
                phrase_template.c.status == "published",
                phrase_template.c.text == question + old_answer,
            )
        ).all()
        for template_id in unchanged:
            connection.execute(
                sa.update(phrase_template)
                .where(phrase_template.c.id == template_id)
                .values(text=question + new_answer)
            )
            connection.execute(
                sa.insert(audit_event).values(
                    at=now, action="phrase_template:edited", actor_label="system:migration",
                    subject_type="phrase_template", subject_id=str(template_id),
                    details={"purpose": purpose, "reason": "answer with the Ja/Nej buttons"},
                )
            )  # fmt: skip


def upgrade() -> None:
    _replace(_OLD_ANSWER, _NEW_ANSWER)


def downgrade() -> None:
    _replace(_NEW_ANSWER, _OLD_ANSWER)
