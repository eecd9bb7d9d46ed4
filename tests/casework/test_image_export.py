"""HA-images: an image leaves the product (to the EHR or the image archive) only through the temporary
export store: readable by the one who exported it, for two hours. The case page still shows it."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import chat
from app.exports.models import Export
from app.exports.service import purge_expired
from tests.casework.conftest import access_log, read, started

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 48


def _case_with_image(world):
    case = world.submit("adult")
    nurse = started(world, case)
    chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild på utslaget.")
    world.session.commit()
    image = chat.upload_image(
        world.session,
        actor=world.resident("adult"),
        case_id=case.id,
        filename="utslag.png",
        content_type="image/png",
        content=PNG,
    )
    world.session.commit()
    return case, image


def test_HA_images_an_exported_image_is_read_only_by_its_exporter_and_gone_after_two_hours(
    world, staff, clock
):
    case, image = _case_with_image(world)
    nurse, colleague = staff("nurse"), staff("nurse2")  # both may read the case
    page = nurse.page(case.id)
    assert f'action="/cases/{case.id}/images/{image.id}/export"' in page
    assert f'src="/cases/{case.id}/images/{image.id}"' in page  # still shown in the case page

    exported = nurse.post(f"/cases/{case.id}/images/{image.id}/export")
    assert exported.status_code == 303
    link = exported.headers["Location"]
    export_id = int(link.rsplit("/", 1)[1])
    assert link.endswith(f"/cases/{case.id}/exports/{export_id}")
    owner = read(world, select(Export.owner_user_id).where(Export.id == export_id))
    assert owner == nurse.user.id

    fetched = nurse.get(link)
    assert fetched.status_code == 200 and fetched.data == PNG
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert fetched.headers["Cache-Control"] == "no-store"

    refused = colleague.get(link)
    assert refused.status_code == 403 and PNG not in refused.data
    assert access_log(world, "export:read_refused") == [(colleague.user.id, case.id, [case.patient_id])]
    assert (
        read(world, select(func.count(AuditEvent.id)).where(AuditEvent.action == "export:read_refused")) == 1
    )

    clock.advance(hours=2)
    assert nurse.get(link).status_code == 404  # expired: gone for the exporter too
    assert colleague.get(link).status_code == 404
    assert purge_expired(world.session) == 1
    world.session.commit()
    assert read(world, select(func.count(Export.id))) == 0


def test_HA_images_only_case_readers_export_and_an_export_opens_only_under_its_own_case(world, staff):
    case, image = _case_with_image(world)
    outsider = staff("ha_nurse")  # another unit: may not read the case
    assert outsider.post(f"/cases/{case.id}/images/{image.id}/export").status_code == 403
    assert read(world, select(func.count(Export.id))) == 0
    nurse = staff("nurse")
    other = world.submit("other")
    assert nurse.post(f"/cases/{other.id}/images/{image.id}/export").status_code == 404
    link = nurse.post(f"/cases/{case.id}/images/{image.id}/export").headers["Location"]
    export_id = int(link.rsplit("/", 1)[1])
    assert nurse.get(f"/cases/{other.id}/exports/{export_id}").status_code == 404
