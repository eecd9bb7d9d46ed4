"""The acknowledgement inbox (vidimering): listed with the patient, counted on the patient list, acknowledged."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import chat
from app.cases.models import AckItem, AckKind
from tests.worklist.conftest import access_rows, refusals, start


def _invite(world, case, colleague: str = "nurse2"):
    user, _unit = world.staff[colleague]
    chat.invite_colleague(world.session, actor=world.actor("nurse"), case_id=case.id, colleague_id=user.id)
    world.session.commit()


def test_the_inbox_lists_items_for_the_user_and_the_unit_and_the_patient_list_counts_them(world, pages):
    case = world.submit("adult")
    start(world, case)
    _invite(world, case)  # an invitation addressed to nurse2 (HA-video-colleague: seen when logged in)
    html = pages.sign_in("nurse2").text("/inbox")
    assert "Inbjudan till ärende: Anna Andersson" in html and "Till dig" in html and "Kvittera" in html
    assert f'href="/cases/{case.id}"' in html
    assert "1 post att kvittera" in pages.text("/")
    assert "Det finns inget att kvittera." in pages.sign_in("doctor").text("/inbox")  # not addressed to him
    nurse2, _unit = world.staff["nurse2"]
    assert (nurse2.id, {case.patient_id}) in access_rows(world.session, "inbox:list")


def test_acknowledging_an_item_removes_it_and_is_audited(world, pages):
    case = world.submit("adult")
    start(world, case)
    _invite(world, case)
    item = world.session.scalar(select(AckItem).where(AckItem.kind == AckKind.INVITATION))
    pages.sign_in("nurse2")
    response = pages.post(f"/inbox/{item.id}/acknowledge")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    html = pages.text("/inbox")
    assert "Posten är kvitterad (Inbjudan till ärende)." in html and "Det finns inget att kvittera." in html
    world.session.expire_all()
    assert world.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "ack:acknowledged")
    ).subject_id == str(item.id)
    assert "inget att kvittera" in pages.text("/")


def test_an_item_addressed_to_a_colleague_cannot_be_acknowledged_and_stays(world, pages):
    case = world.submit("adult")
    start(world, case)
    _invite(world, case)
    item = world.session.scalar(select(AckItem).where(AckItem.kind == AckKind.INVITATION))
    response = pages.sign_in("doctor").post(f"/inbox/{item.id}/acknowledge")
    assert response.status_code == 403 and "Posten är inte din." in response.get_data(as_text=True)
    doctor, _unit = world.staff["doctor"]
    assert refusals(world.session) == [
        (doctor.id, "ack_item", str(item.id), f"/inbox/{item.id}/acknowledge")
    ]  # the attempt is audited
    world.session.expire_all()
    assert world.session.get(AckItem, item.id).acknowledged_at is None
    via_htmx = pages.post(f"/inbox/{item.id}/acknowledge", headers={"HX-Request": "true"})
    assert via_htmx.status_code == 200 and 'role="alert"' in via_htmx.get_data(
        as_text=True
    )  # htmx swaps it in


def test_an_item_signed_off_stays_signed_off_by_its_first_signer(world, pages):
    """A second "Kvittera" on an item already signed off (a colleague's page open beside it, another
    web worker) is refused with a conflict: who signed it off, and when, is never overwritten."""
    case = world.submit("adult")
    start(world, case)
    world.session.add(
        AckItem(
            unit_id=case.unit_id,
            case_id=case.id,
            kind=AckKind.FORM_RETURNED,
            summary="Formulär besvarat",
            created_at=case.submitted_at,
        )
    )
    world.session.commit()
    item = world.session.scalar(select(AckItem).where(AckItem.kind == AckKind.FORM_RETURNED))
    assert pages.sign_in("nurse").post(f"/inbox/{item.id}/acknowledge").status_code == 302
    again = pages.sign_in("nurse2").post(f"/inbox/{item.id}/acknowledge")
    assert again.status_code == 409 and "Posten är redan kvitterad." in again.get_data(as_text=True)
    world.session.expire_all()
    nurse, _unit = world.staff["nurse"]
    assert world.session.get(AckItem, item.id).acknowledged_by == nurse.id
    assert (
        len(world.session.scalars(select(AuditEvent).where(AuditEvent.action == "ack:acknowledged")).all())
        == 1
    )
