"""The unit's local routines ("Verksamheten beslutar om lokal rutin") on the administration page: edited
by the unit's Lokal systemadministratör, read back by the product through `unit_setting`."""

from __future__ import annotations

import ast
import contextlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.admin import unit_setting_catalog as catalog
from app.admin.settings_services import routine_settings
from app.audit.models import AuditEvent
from app.cases import chat, handling
from app.cases.models import CaseState
from app.errors import GuardRefused
from app.notifications.compose import NEUTRAL_SMS_SENDER, Recipient, compose
from app.notifications.models import RecipientKind
from app.notifications.purposes import NotificationPurpose
from app.notifications.service import sender_unit
from app.people.models import Unit
from app.people.unit_settings import DEFAULTS, unit_setting

APP = Path(__file__).resolve().parents[2] / "app"


def _actions(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _unit(pages) -> Unit:
    pages.world.session.expire_all()
    return pages.world.session.get(Unit, pages.world.units["og"].id)


def _form(pages, **overrides) -> dict:
    """The routines form as the page shows it now (version included), with some fields changed."""
    page = routine_settings(pages.world.session, actor=pages.world.actor("sysadmin"))
    pages.world.session.commit()
    form: dict = {"version": page.version, "shown": page.shown}
    for state in page.states:
        setting = state.setting
        if setting.kind is catalog.Kind.ROLE_MAP:
            for role, targets in state.value.items():
                form[catalog.role_field(role)] = list(targets)
        elif setting.kind is catalog.Kind.BOOLEAN:
            if state.value:
                form[setting.key] = "1"
        elif setting.kind in (catalog.Kind.INTEGER, catalog.Kind.DECIMAL):
            form[setting.key] = str(state.value)
        else:
            form[setting.key] = state.value if state.is_set else ""
    for key, value in overrides.items():
        if value is None:
            form.pop(key, None)  # an unticked checkbox is not sent
        else:
            form[key] = value
    return form


def _started(world, case):
    nurse = world.actor("nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(
        world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej! Hur mår du?"
    )
    world.session.commit()
    return nurse


def _closed_in_dialogue(world, clock):
    case = world.submit("adult")
    nurse = _started(world, case)
    clock.advance(minutes=5)
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Bättre nu."
    )
    world.session.commit()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    return case


def test_the_page_shows_each_setting_with_its_value_or_the_default(pages):
    pages.sign_in("sysadmin")
    html = pages.get("/admin/routines").get_data(as_text=True)
    assert "Lokala rutiner" in html and 'aria-current="page"' in html
    assert "Enhetens värde: 3 dagar (standard: 3 dagar)" in html  # the world's unit set reopen_days
    assert "standard: 15 minuter" in html and "standard: Distanskontakt" in html
    assert "standard: VC Ekdalen" in html and "standard: vardcentralen-ekdalen" in html  # derived
    for setting in catalog.CATALOG:
        if setting.kind is not catalog.Kind.ROLE_MAP:
            assert f'for="f-{setting.key}"' in html  # every field has its label
    assert html.count("<legend>") >= len(catalog.GROUP_LEGENDS)
    english = pages.sign_in("sysadmin", lang="en").get("/admin/routines").get_data(as_text=True)
    assert "Local routines" in english and "default: 15 minutes" in english


def test_OG_6_5_a_changed_reopen_window_applies_to_cases_closed_afterwards(pages, clock):
    world = pages.world
    before = _closed_in_dialogue(world, clock)
    assert before.reopen_until - before.closed_at == timedelta(days=3)
    pages.sign_in("sysadmin")
    response = pages.post("/admin/routines", _form(pages, reopen_days="5"))
    assert response.status_code == 302
    assert unit_setting(_unit(pages), "reopen_days") == 5
    after = _closed_in_dialogue(world, clock)
    assert after.state == CaseState.CLOSED
    assert after.reopen_until - after.closed_at == timedelta(days=5)
    world.session.refresh(before)
    assert before.reopen_until - before.closed_at == timedelta(days=3)  # a closed case keeps its window


def test_OG_6_1_g_the_units_hours_between_contact_attempts_govern_closing_an_unanswered_case(pages, clock):
    world = pages.world
    pages.sign_in("sysadmin")
    assert pages.post("/admin/routines", _form(pages, hours_between_contact_attempts="4")).status_code == 302
    assert unit_setting(_unit(pages), "hours_between_contact_attempts") == 4
    case = world.submit("adult")
    nurse = _started(world, case)  # Monday 09:01: the first message is the first attempt
    clock.advance(hours=3)
    chat.remind(world.session, actor=nurse, case_id=case.id)  # 12:01: three hours on (the default is two)
    world.session.commit()
    clock.advance(hours=3, minutes=1)  # 15:02: six working hours have passed
    with pytest.raises(GuardRefused) as refused:
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=False,
            confirmed=True,
        )
    assert refused.value.rule == "OG-6.1-g"  # the unit's four hours, not the default two
    world.session.rollback()
    chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Ring oss om det blir värre.")
    world.session.commit()  # 15:02: six hours after the first attempt
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=False, confirmed=True
    )
    world.session.commit()
    assert case.state == CaseState.CLOSED and case.closed_reason == "unanswered"


def test_OG_8_5_OG_8_6_the_units_collaboration_routines_reach_the_case_services(pages):
    world = pages.world
    pages.sign_in("sysadmin")
    form = _form(pages, invite_colleague=None)
    form[catalog.role_field("Sjuksköterska")] = ["Läkare"]
    assert pages.post("/admin/routines", form).status_code == 302
    unit = _unit(pages)
    assert unit_setting(unit, "invite_colleague") is False
    assert unit_setting(unit, "handover_roles")["Sjuksköterska"] == ["Läkare"]
    case = world.submit("adult")
    nurse = _started(world, case)
    doctor, _unit_of_doctor = world.staff["doctor"]
    with pytest.raises(GuardRefused) as refused:
        chat.invite_colleague(world.session, actor=nurse, case_id=case.id, colleague_id=doctor.id)
    assert refused.value.rule == "OG-8.5"
    world.session.rollback()
    with pytest.raises(GuardRefused) as refused:
        handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Psykolog")
    assert refused.value.rule == "OG-8.6"
    world.session.rollback()


def test_bad_values_are_refused_beside_the_fields_with_the_typed_values_and_nothing_saved(pages):
    session = pages.world.session
    before = dict(_unit(pages).settings)
    pages.sign_in("sysadmin")
    form = _form(
        pages,
        reopen_days="tre",
        hours_between_contact_attempts="0,5",
        urgent_no_action_minutes="500",
        phone="ring växeln",
        sms_sender="Vårdcentralen",
        slug="Ekdalen!",
        care_service="x" * 81,
    )
    form[catalog.role_field("Läkare")] = []
    response = pages.post("/admin/routines", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for key in (
        "reopen_days", "hours_between_contact_attempts", "urgent_no_action_minutes", "phone", "sms_sender",
        "slug", "care_service", "handover_roles",
    ):  # fmt: skip
        assert f'id="e-{key}"' in html, key
    assert 'value="tre"' in html and 'value="ring växeln"' in html and 'value="Vårdcentralen"' in html
    assert 'href="#f-reopen_days"' in html and "data-focus-on-load" in html  # the summary links each field
    assert 'aria-invalid="true"' in html
    assert f'name="version" value="{form["version"]}"' in html  # still against the page first shown
    assert _unit(pages).settings == before and _actions(session, "unit:routine_settings_changed") == []


def test_SEC_protected_sms_sender_and_slug_never_reach_a_protected_patient_and_the_neutral_wording_is_refused(
    pages,
):
    pages.sign_in("sysadmin")
    refused = pages.post("/admin/routines", _form(pages, sms_sender="1177", slug="direkt"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="e-sms_sender"' in html and 'id="e-slug"' in html
    assert "skyddad identitet" in html
    saved = pages.post(
        "/admin/routines", _form(pages, sms_sender="VC Ekdal", slug="ekdalen", phone="013-12 34 56")
    )
    assert saved.status_code == 302
    unit = sender_unit(_unit(pages))
    text = "Du har fått ett svar från {unit}. Ring {unit_phone} om du behöver."

    def sms(protected: bool):
        recipient = Recipient(
            kind=RecipientKind.PATIENT, name="Anna", phone="+46701234567", protected=protected, patient_id=1
        )
        return compose(
            NotificationPurpose.NEW_CHAT_MESSAGE, recipient=recipient, unit=unit, text=text,
            links=("https://example.invalid/{unit_slug}",),
        )  # fmt: skip

    open_message, neutral = sms(False), sms(True)
    assert open_message.sender_id == "VC Ekdal" and "ekdalen" in open_message.links[0]
    assert "013-12 34 56" in open_message.body
    assert neutral.sender_id == NEUTRAL_SMS_SENDER and "ekdal" not in " ".join(neutral.links).lower()
    assert "12 34 56" not in neutral.body


def test_administration_of_routines_is_refused_to_others_with_403_and_the_attempt_audited(pages):
    before = dict(_unit(pages).settings)
    form = _form(pages, reopen_days="9")
    for who in ("nurse", "head"):
        pages.sign_in(who)
        assert pages.get("/admin/routines").status_code == 403
        assert pages.post("/admin/routines", form).status_code == 403
        assert pages.post("/admin/routines/reset", {**form, "key": "reopen_days"}).status_code == 403
    refused = _actions(pages.world.session, "admin:refused")
    assert [e.details["path"] for e in refused] == [
        "/admin/routines",
        "/admin/routines",
        "/admin/routines/reset",
    ] * 2
    assert _unit(pages).settings == before


def test_another_units_sysadmin_changes_only_their_own_units_routines(pages):
    og_before = dict(_unit(pages).settings)
    pages.sign_in("ha_sysadmin")
    html = pages.get("/admin/routines").get_data(as_text=True)
    assert "Vårdcentralen Havsbris" in html and "Vårdcentralen Ekdalen" not in html
    ha = pages.world.units["ha"]
    page = routine_settings(pages.world.session, actor=pages.world.actor("ha_sysadmin"))
    pages.world.session.commit()
    form = _form(pages, reopen_days="7", version=page.version, shown=page.shown)
    assert pages.post("/admin/routines", form).status_code == 302
    pages.world.session.expire_all()
    assert pages.world.session.get(Unit, ha.id).settings["reopen_days"] == 7
    assert _unit(pages).settings == og_before


def test_a_change_made_meanwhile_is_a_409_showing_what_changed_never_an_overwrite(pages):
    pages.sign_in("sysadmin")
    stale = _form(pages, hours_between_contact_attempts="4")
    assert pages.post("/admin/routines", _form(pages, reopen_days="5")).status_code == 302
    response = pages.post("/admin/routines", stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Någon annan ändrade" in html
    row = re.search(
        r"<tr><th scope=\"row\">Dagar då patienten[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>", html
    )
    assert row and row.groups() == ("3 dagar", "5 dagar")  # what was seen, what is saved now
    assert (
        'id="f-hours_between_contact_attempts" name="hours_between_contact_attempts" type="text" value="4"'
        in html
    )
    unit = _unit(pages)
    assert unit.settings["reopen_days"] == 5 and unit.settings["hours_between_contact_attempts"] == 2
    stale_reset = pages.post("/admin/routines/reset", {**stale, "key": "reopen_days"})
    assert stale_reset.status_code == 409 and _unit(pages).settings["reopen_days"] == 5
    fresh = re.search(r'name="version" value="([0-9a-f]+)"', html).group(1)
    shown = re.search(r'name="shown" value="([^"]*)"', html).group(1).replace("&#34;", '"')
    again = pages.post("/admin/routines", {**stale, "version": fresh, "shown": shown, "reopen_days": "5"})
    assert again.status_code == 302  # saving over it is a deliberate second choice
    assert _unit(pages).settings["hours_between_contact_attempts"] == 4
    assert len(_actions(pages.world.session, "unit:routine_settings_changed")) == 2


def test_every_change_is_audited_with_old_and_new_values_and_a_reset_restores_the_default(pages):
    session = pages.world.session
    pages.sign_in("sysadmin")
    form = _form(
        pages, reopen_days="5", invite_colleague=None, on_call_number="013-20 00 00", care_service=""
    )
    assert pages.post("/admin/routines", form).status_code == 302
    [changed] = _actions(session, "unit:routine_settings_changed")
    assert changed.details["changes"] == {
        "reopen_days": {"old": 3, "new": 5},
        "invite_colleague": {"old": None, "new": False},
        "on_call_number": {"old": None, "new": "013-20 00 00"},
    }
    assert changed.subject_id == str(pages.world.units["og"].id) and changed.actor_user_id is not None
    html = pages.get("/admin/routines").get_data(as_text=True)
    assert "Återställ till standard" in html
    response = pages.post("/admin/routines/reset", {**_form(pages), "key": "reopen_days"})
    assert response.status_code == 302
    unit = _unit(pages)
    assert "reopen_days" not in unit.settings and unit_setting(unit, "reopen_days") == 3
    reset = _actions(session, "unit:routine_settings_changed")[-1]
    assert reset.details["changes"] == {"reopen_days": {"old": 5, "new": None}}
    assert reset.details["reset"] == ["reopen_days"]


def test_saving_the_page_unchanged_changes_nothing_and_defaults_stay_unset(pages):
    before = dict(_unit(pages).settings)
    pages.sign_in("sysadmin")
    response = pages.post("/admin/routines", _form(pages), follow_redirects=True)
    assert "Inget ändrades" in response.get_data(as_text=True)
    assert _unit(pages).settings == before  # the defaults shown were not written as values
    assert _actions(pages.world.session, "unit:routine_settings_changed") == []


def test_keys_the_catalogue_does_not_know_are_kept_untouched(pages):
    session = pages.world.session
    unit = _unit(pages)
    unit.settings = {
        **unit.settings,
        "legacy_flag": {"kept": True},
        "handover_roles": {"Administrativ kontakt": ["Medicinsk admin"]},
    }
    session.commit()
    pages.sign_in("sysadmin")
    form = _form(pages, reopen_days="4")
    form[catalog.role_field("Fysioterapeut")] = ["Läkare", "Fysioterapeut"]
    assert pages.post("/admin/routines", form).status_code == 302
    settings = _unit(pages).settings
    assert settings["legacy_flag"] == {"kept": True} and settings["reopen_days"] == 4
    assert settings["handover_roles"]["Administrativ kontakt"] == ["Medicinsk admin"]
    assert settings["handover_roles"]["Fysioterapeut"] == ["Läkare", "Fysioterapeut"]


def _keys_read() -> dict[str, list[str]]:
    """Every `unit_setting(unit, KEY)` call in app/: key -> [where]."""
    found: dict[str, list[str]] = {}
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                with contextlib.suppress(ValueError):  # not a literal: not a key
                    constants[node.targets[0].id] = ast.literal_eval(node.value)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "unit_setting"
            ):
                key_node = node.args[1]
                key = constants[key_node.id] if isinstance(key_node, ast.Name) else ast.literal_eval(key_node)
                found.setdefault(key, []).append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    return found


def test_every_setting_the_product_reads_is_on_the_page_with_the_default_the_reader_gets(session):
    """One source for the defaults (app/people/unit_settings.py): the page shows and resets to exactly
    what a reader gets for a unit that has not set the key, and every key read is on the page."""
    from tests import factories

    read = _keys_read()
    assert {"reopen_days", "hours_between_contact_attempts", "handover_roles", "invite_colleague"} <= set(
        read
    )
    assert set(read) <= set(catalog.BY_KEY), {
        key: where for key, where in read.items() if key not in catalog.BY_KEY
    }
    assert set(catalog.BY_KEY) == set(DEFAULTS)
    unit = factories.unit(session)
    unit.settings = {}
    for key, setting in catalog.BY_KEY.items():
        assert (
            unit_setting(unit, key) == setting.default == catalog.effective(setting, {})
            or setting.kind is catalog.Kind.ROLE_MAP
        )
    with pytest.raises(KeyError):
        unit_setting(unit, "reopen_dayz")  # a misspelt key is a bug, never silently a default
    assert set(catalog.HANDOVER_DEFAULT_TARGETS) == set(handling.DEFAULT_HANDOVER_ROLES)
