"""Every timer worker purges expired exports (PostgreSQL): two purging at once delete each export once
and audit it once; the worker that found the exports already gone audits nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock as product_clock
from app.audit.models import AuditEvent
from app.exports import service as exports
from app.exports.models import Export, ExportKind
from app.people.roles import Role
from tests import factories as f


@pytest.mark.postgres
def test_HA_images_two_workers_purging_at_once_audit_each_expired_export_once(
    pg_url, app, session, clock, monkeypatch
):
    unit = f.unit(session)
    nurse = f.user(session, unit, Role.NURSE)
    now = product_clock.now()
    expired = [
        Export(
            owner_user_id=nurse.id,
            kind=ExportKind.LIST,
            filename=f"lista-{n}.csv",
            content_type="text/csv",
            content=b"x",
            size=1,
            created_at=now - timedelta(hours=3),
            expires_at=now - timedelta(hours=1),
        )
        for n in range(3)
    ]
    session.add_all(expired)
    session.commit()
    ids = sorted(export.id for export in expired)
    database = app.extensions["database"]
    barrier = threading.Barrier(2)
    real_delete = exports.delete

    def delete_together(*args, **kwargs):
        barrier.wait(timeout=10)  # both workers are about to delete (and may have looked already)
        return real_delete(*args, **kwargs)

    monkeypatch.setattr(exports, "delete", delete_together)
    counts: list[int] = []

    def purge():
        with database.transaction() as s:
            counts.append(exports.purge_expired(s))

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    session.expire_all()
    assert sorted(counts) == [0, 3]
    purged = session.scalars(select(AuditEvent).where(AuditEvent.action == "export:purged")).all()
    assert [(event.details["count"], event.details["export_ids"]) for event in purged] == [(3, ids)]
    assert session.scalar(select(Export.id).limit(1)) is None
