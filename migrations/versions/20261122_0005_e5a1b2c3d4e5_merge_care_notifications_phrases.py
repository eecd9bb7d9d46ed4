"""merge the care-domain, notification and phrase/documentation branches

Revision ID: e5a1b2c3d4e5
Revises: d4ca5ed0ma1n, d4n0t1f1ca71, d4phr45e5d0c
Create Date: 2026-11-22
"""

revision = "e5a1b2c3d4e5"
down_revision = ("d4ca5ed0ma1n", "d4n0t1f1ca71", "d4phr45e5d0c")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
