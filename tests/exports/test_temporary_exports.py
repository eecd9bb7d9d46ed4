"""The temporary export store (HA-images): readable only by the exporter, gone after two hours."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AccessLog, AuditEvent
from app.audit.service import Actor
from app.errors import Forbidden, NotFound, ValidationFailed
from app.exports import service as exports
from app.exports.models import Export, ExportKind
from app.people.roles import Role
from tests import factories as f

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(session, clock):
    unit = f.unit(session)
    nurse, colleague = f.user(session, unit, Role.NURSE), f.user(session, unit, Role.NURSE)
    case = f.case(session, unit, f.patient(session))
    session.commit()
    return f.signed_in(session, nurse, unit), f.signed_in(session, colleague, unit), case


def _audit(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_HA_images_an_export_is_readable_only_by_the_one_who_exported_it(session, people):
    nurse, colleague, case = people
    export = exports.create_export(
        session,
        actor=nurse,
        kind=ExportKind.IMAGE,
        filename="utslag.png",
        content_type="image/png",
        content=PNG,
        case_id=case.id,
    )
    assert exports.read_export(session, actor=nurse, export_id=export.id).content == PNG
    with pytest.raises(Forbidden) as refused:
        exports.read_export(session, actor=colleague, export_id=export.id)
    assert refused.value.details["rule"] == "HA-images"
    with pytest.raises(Forbidden):
        exports.read_export(session, actor=Actor.system("worker"), export_id=export.id)

    refusal = _audit(session, "export:read_refused")[0]
    assert refusal.actor_user_id == colleague.user_id and refusal.details["owner_user_id"] == nurse.user_id
    logged = session.scalars(select(AccessLog).where(AccessLog.action == "export:read_refused")).first()
    assert logged.user_id == colleague.user_id and [p.patient_id for p in logged.patients] == [
        case.patient_id
    ]
    assert [e.actor_user_id for e in _audit(session, "export:read")] == [nurse.user_id]


def test_HA_images_an_export_is_gone_after_two_hours(session, people, clock):
    nurse, _colleague, _case = people
    export = exports.create_export(
        session,
        actor=nurse,
        kind=ExportKind.FORM,
        filename="formular.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.7",
    )
    assert export.expires_at == export.created_at + exports.LIFETIME
    session.commit()
    clock.advance(hours=1, minutes=59)
    assert exports.read_export(session, actor=nurse, export_id=export.id).filename == "formular.pdf"
    assert exports.purge_expired(session) == 0
    clock.advance(minutes=2)  # two hours and one minute after the export
    with pytest.raises(NotFound, match="expired"):
        exports.read_export(session, actor=nurse, export_id=export.id)
    assert exports.purge_expired(session) == 1
    session.commit()
    assert session.scalars(select(Export)).all() == []
    assert _audit(session, "export:purged")[0].details["export_ids"] == [export.id]


def test_HA_images_purge_deletes_only_what_has_expired(session, people, clock):
    nurse, colleague, _case = people
    old = exports.create_export(
        session,
        actor=nurse,
        kind=ExportKind.LIST,
        filename="lista.csv",
        content_type="text/csv",
        content=b"a;b\n",
    )
    clock.advance(hours=1)
    young = exports.create_export(
        session,
        actor=colleague,
        kind=ExportKind.LIST,
        filename="lista.csv",
        content_type="text/csv",
        content=b"c;d\n",
    )
    clock.advance(hours=1, minutes=1)
    assert exports.purge_expired(session) == 1
    assert session.get(Export, old.id) is None and session.get(Export, young.id) is not None


def test_an_export_tied_to_a_case_writes_the_access_log(session, people):
    """HA-logcheck: exporting patient data is a read of it, logged with the patient."""
    nurse, _colleague, case = people
    exports.create_export(
        session,
        actor=nurse,
        kind=ExportKind.IMAGE,
        filename="bild.jpg",
        content_type="image/jpeg",
        content=b"jpeg",
        case_id=case.id,
    )
    row = session.scalars(select(AccessLog).where(AccessLog.action == "export:create")).one()
    assert row.case_id == case.id and [p.patient_id for p in row.patients] == [case.patient_id]
    assert _audit(session, "export:created")[0].details["size"] == 4


def test_exports_need_a_user_a_plain_name_and_a_content_type(session, people):
    nurse, _colleague, _case = people
    with pytest.raises(Forbidden):
        exports.create_export(
            session,
            actor=Actor.system("worker"),
            kind=ExportKind.LIST,
            filename="x.csv",
            content_type="text/csv",
            content=b"",
        )
    export = exports.create_export(
        session,
        actor=nurse,
        kind=ExportKind.IMAGE,
        filename="..\\..\\etc/passwd.png",
        content_type="image/png",
        content=PNG,
    )
    assert export.filename == "passwd.png"
    with pytest.raises(ValidationFailed):
        exports.create_export(
            session, actor=nurse, kind=ExportKind.IMAGE, filename="../", content_type="image/png", content=PNG
        )
    with pytest.raises(ValidationFailed):
        exports.create_export(
            session, actor=nurse, kind=ExportKind.IMAGE, filename="a.png", content_type="bild", content=PNG
        )
    with pytest.raises(ValueError):
        exports.create_export(
            session, actor=nurse, kind="video", filename="a.mp4", content_type="video/mp4", content=b""
        )
