"""The after-hours referral texts became phrase templates (OG-8.2); regions created before that got
them from migration f2a3b4c5d6e7, a region's own published wording is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from app.migrate import upgrade

BEFORE = "e1f2a3b4c5d6"  # the revision before the referral templates


def test_OG_8_2_upgrading_gives_existing_regions_the_referral_templates_and_keeps_their_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, BEFORE)
    engine = create_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC).isoformat(" ")
    with engine.begin() as connection:
        for region_id, code in ((1, "OG"), (2, "HA")):
            connection.execute(
                text("INSERT INTO region (id, code, name, policies) VALUES (:id, :code, :code, '{}')"),
                {"id": region_id, "code": code},
            )
        connection.execute(  # Halland had worded its 112 referral already
            text(
                "INSERT INTO phrase_template (level, region_id, purpose, title, text, status, published_at,"
                " created_at) VALUES ('regional', 2, 'referral_112', 'Ring 112', 'Ring 112 nu.', 'published',"
                " :now, :now)"
            ),
            {"now": now},
        )
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT region_id, purpose, text FROM phrase_template WHERE purpose LIKE 'referral_%'"
                " AND status = 'published' AND level = 'regional' ORDER BY region_id, purpose"
            )
        ).all()
        seeded = connection.scalar(
            text(
                "SELECT count(*) FROM audit_event WHERE action = 'phrase_template:published'"
                " AND actor_label = 'system:migration' AND details LIKE '%referral_%'"
            )
        )
    engine.dispose()
    assert [(region, purpose) for region, purpose, _ in rows] == [
        (1, "referral_112"), (1, "referral_1177"), (1, "referral_self_care"),
        (2, "referral_112"), (2, "referral_1177"), (2, "referral_self_care"),
    ]  # fmt: skip
    assert rows[3][2] == "Ring 112 nu."  # Halland's own wording stays, not doubled
    assert "1177" in rows[1][2] and "egenvård" in rows[2][2]
    assert seeded == 5  # every row the migration published is in the audit trail


def test_OG_7_upgrading_gives_existing_regions_the_administrative_closing_text(tmp_path):
    """Migration c9e6a1b3d4f5: a region created before it gets "admin_closing" published, audited."""
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    upgrade(url, "b8d5f0a2c3e4")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO region (id, code, name, policies) VALUES (1, 'OG', 'OG', '{}')"))
    upgrade(url)
    with engine.connect() as connection:
        [(body,)] = connection.execute(
            text("SELECT text FROM phrase_template WHERE purpose = 'admin_closing' AND status = 'published'")
        ).all()
        audited = connection.scalar(
            text("SELECT count(*) FROM audit_event WHERE details LIKE '%admin_closing%'")
        )
    engine.dispose()
    from app.phrases.defaults import DEFAULTS

    assert body == DEFAULTS["admin_closing"][1] and "besvär" not in body and audited == 1
