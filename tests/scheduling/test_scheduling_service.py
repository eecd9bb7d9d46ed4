"""The scheduling rules (app.people.scheduling): who may schedule (OG-5, the unit's routine), what a
shift must satisfy, DST-safe local times, conflicts instead of overwrites, the audit trail, and the
chat gaps the schedule leaves (HA-chat-staff)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.admin import unit_setting_catalog as catalog
from app.audit.models import AuditEvent
from app.errors import Conflict, Forbidden, ValidationFailed
from app.people import scheduling
from app.people.models import Membership, ScheduledShift
from app.people.roles import Role
from app.people.staffing import chat_staffing_gaps, on_shift
from tests.scheduling.conftest import MONDAY

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=STOCKHOLM)


def _audit(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _refused_field(excinfo) -> dict[str, str]:
    return {name: " ".join(str(m) for m in messages) for name, messages in excinfo.value.field_errors.items()}


# --- OG-5: who schedules is the unit's routine ----------------------------------------------------


def test_OG_5_the_head_of_unit_schedules_by_default_and_the_product_knows_who_is_on_shift(ward):
    head = ward.actor("head")
    shift = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry("nurse", starts="10:00", ends="18:00", chat_responsible=True),
    )
    ward.session.commit()
    assert shift.starts_at == _at(MONDAY, 10) and shift.ends_at == _at(MONDAY, 18)
    staff = on_shift(ward.session, unit_id=ward.unit.id, at=_at(MONDAY, 11))
    assert [(s.name, s.role, s.chat_responsible) for s in staff] == [("Sara Lind", Role.NURSE, True)]
    assert on_shift(ward.session, unit_id=ward.unit.id, at=_at(MONDAY, 18)) == []  # half-open: over at 18:00


def test_OG_5_others_may_not_schedule_unless_the_units_routine_names_their_role(ward):
    with pytest.raises(Forbidden):
        scheduling.add_shift(ward.session, actor=ward.actor("medadmin"), entry=ward.entry("nurse"))
    ward.session.rollback()
    ward.unit.settings = {**ward.unit.settings, "schedulers": [Role.MEDICAL_ADMIN.value]}
    ward.session.commit()
    scheduling.add_shift(ward.session, actor=ward.actor("medadmin"), entry=ward.entry("nurse"))
    ward.session.commit()
    with pytest.raises(Forbidden):  # the routine replaced the default: the head of unit no longer schedules
        scheduling.add_shift(ward.session, actor=ward.actor("head"), entry=ward.entry("doctor", Role.DOCTOR))


def test_OG_5_a_scheduler_acts_only_on_their_own_units_schedule(ward):
    shift = scheduling.add_shift(ward.session, actor=ward.actor("head"), entry=ward.entry("nurse"))
    ward.session.commit()
    other_head = ward.actor("other_head")
    with pytest.raises(Forbidden):
        scheduling.change_shift(
            ward.session,
            actor=other_head,
            shift_id=shift.id,
            expected_version=shift.version,
            entry=ward.entry("nurse"),
        )
    ward.session.rollback()
    with pytest.raises(Forbidden):
        scheduling.remove_shift(
            ward.session, actor=other_head, shift_id=shift.id, expected_version=shift.version
        )
    ward.session.rollback()
    # Acting for the other unit, Sara (not staff there) cannot be scheduled there either.
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(ward.session, actor=other_head, entry=ward.entry("nurse"))
    assert "har inte rollen Sjuksköterska på enheten" in _refused_field(refused)["role"]


def test_OG_5_a_person_who_left_the_unit_loses_the_right_to_schedule(ward, clock):
    membership = ward.session.scalar(
        select(Membership).where(
            Membership.user_id == ward.people["head"].id, Membership.unit_id == ward.unit.id
        )
    )
    actor = ward.actor("head")  # signed in before the role ended
    membership.valid_until = clock.now() - timedelta(minutes=1)
    ward.session.commit()
    with pytest.raises(Forbidden):
        scheduling.add_shift(ward.session, actor=actor, entry=ward.entry("nurse"))


def test_OG_5_the_schedulers_setting_is_declared_with_the_head_of_unit_as_default():
    setting = catalog.BY_KEY["schedulers"]
    assert setting.kind is catalog.Kind.ROLE_SET and setting.rule == "OG-5"
    assert setting.default == [Role.HEAD_OF_UNIT.value]

    class Form(dict):
        def getlist(self, key):
            value = self.get(key, [])
            return value if isinstance(value, list) else [value]

    def parsed(ticked):
        return catalog.parse(Form(schedulers=ticked), unit_name="Vårdcentralen Ekdalen")

    assert parsed([Role.HEAD_OF_UNIT.value, Role.NURSE.value]).values["schedulers"] == [
        Role.NURSE.value,  # stored in the order the page lists the roles
        Role.HEAD_OF_UNIT.value,
    ]
    assert parsed([]).values["schedulers"] is None  # nothing ticked: the default applies
    assert "schedulers" in parsed(["Städare"]).errors


# --- what a shift must satisfy --------------------------------------------------------------------


def test_OG_5_the_person_must_hold_the_shifts_role_at_the_unit_for_the_whole_shift(ward, clock):
    head = ward.actor("head")
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", Role.DOCTOR))
    assert _refused_field(refused)["role"] == "Sara Lind har inte rollen Läkare på enheten."
    ward.session.rollback()

    membership = ward.session.scalar(select(Membership).where(Membership.user_id == ward.people["nurse"].id))
    membership.valid_until = _at(MONDAY, 12)  # her employment ends at noon
    ward.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(
            ward.session, actor=head, entry=ward.entry("nurse", starts="10:00", ends="14:00")
        )
    assert "inte under hela passet" in _refused_field(refused)["role"]
    ward.session.rollback()
    scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", starts="10:00", ends="12:00"))

    membership.valid_until, membership.valid_from = (
        None,
        _at(MONDAY + timedelta(days=1), 0),
    )  # starts tomorrow
    ward.session.commit()
    with pytest.raises(ValidationFailed):
        scheduling.add_shift(
            ward.session, actor=head, entry=ward.entry("nurse", starts="13:00", ends="17:00")
        )


def test_a_shift_ends_after_it_starts_lasts_at_most_24_hours_and_has_not_already_ended(ward):
    head = ward.actor("head")
    tuesday = MONDAY + timedelta(days=1)
    cases = [
        (
            ward.entry("nurse", day=tuesday, starts="17:00", ends="08:00"),
            "Passet ska sluta efter att det börjar",
        ),
        (
            ward.entry("nurse", day=tuesday, starts="08:00", ends="08:00"),
            "Passet ska sluta efter att det börjar",
        ),
        (
            ward.entry("nurse", day=tuesday, starts="08:00", ends="09:00", ends_next_day=True),
            "högst 24 timmar",
        ),
        (
            ward.entry("nurse", day=MONDAY, starts="06:00", ends="08:59"),
            "Passet har redan slutat",
        ),  # now: 09:00
    ]
    for entry, reason in cases:
        with pytest.raises(ValidationFailed) as refused:
            scheduling.add_shift(ward.session, actor=head, entry=entry)
        assert reason in _refused_field(refused)["ends"], entry
        ward.session.rollback()
    night = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry("nurse", day=tuesday, starts="22:00", ends="07:00", ends_next_day=True),
    )
    whole_day = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry(
            "doctor", Role.DOCTOR, day=tuesday, starts="08:00", ends="08:00", ends_next_day=True
        ),
    )
    assert night.ends_at - night.starts_at == timedelta(hours=9)
    assert whole_day.ends_at - whole_day.starts_at == timedelta(hours=24)
    assert (
        ward.session.scalar(select(ScheduledShift.id).where(ScheduledShift.starts_at < _at(MONDAY, 9)))
        is None
    )


def test_OG_5_no_overlapping_shifts_of_one_person_at_the_unit(ward):
    head = ward.actor("head")
    tuesday = MONDAY + timedelta(days=1)
    first = scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", day=tuesday))
    ward.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(
            ward.session, actor=head, entry=ward.entry("nurse", day=tuesday, starts="16:00", ends="20:00")
        )
    assert _refused_field(refused)["starts"] == (
        "Sara Lind har redan ett pass som överlappar: 2026-11-24 08:00–17:00."
    )
    assert refused.value.details["overlapping_shift_id"] == first.id
    ward.session.rollback()
    scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse", day=tuesday, starts="17:00", ends="20:00")
    )
    scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse2", day=tuesday)
    )  # a colleague: fine
    # A change of the shift itself is no overlap with itself.
    scheduling.change_shift(
        ward.session,
        actor=head,
        shift_id=first.id,
        expected_version=first.version,
        entry=ward.entry("nurse", day=tuesday, starts="07:00", ends="17:00"),
    )
    ward.session.commit()
    assert first.starts_at == _at(tuesday, 7)


def test_a_wall_time_the_clock_skips_is_refused_and_lengths_across_DST_are_real_hours(ward):
    head = ward.actor("head")
    spring, autumn = date(2027, 3, 28), date(2027, 10, 31)  # the last Sundays of March and October 2027
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(
            ward.session, actor=head, entry=ward.entry("nurse", day=spring, starts="02:30", ends="08:00")
        )
    assert "Klockan 02:30 finns inte den 2027-03-28" in _refused_field(refused)["starts"]
    ward.session.rollback()
    saturday_night = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry(
            "nurse", day=spring - timedelta(days=1), starts="22:00", ends="07:00", ends_next_day=True
        ),
    )
    autumn_night = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry(
            "nurse", day=autumn - timedelta(days=1), starts="22:00", ends="07:00", ends_next_day=True
        ),
    )
    assert saturday_night.ends_at - saturday_night.starts_at == timedelta(hours=8)
    assert autumn_night.ends_at - autumn_night.starts_at == timedelta(hours=10)
    assert autumn_night.ends_at.astimezone(STOCKHOLM).hour == 7
    # 20:00 to 20:00 the next day across the autumn change is 25 real hours: longer than a shift may be.
    with pytest.raises(ValidationFailed) as refused:
        scheduling.add_shift(
            ward.session,
            actor=head,
            entry=ward.entry(
                "doctor",
                Role.DOCTOR,
                day=autumn - timedelta(days=1),
                starts="20:00",
                ends="20:00",
                ends_next_day=True,
            ),
        )
    assert "högst 24 timmar" in _refused_field(refused)["ends"]


# --- concurrency and audit -------------------------------------------------------------------------


def test_OG_5_a_change_made_meanwhile_is_a_conflict_never_an_overwrite(ward, database):
    head = ward.actor("head")
    shift = scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse", day=MONDAY + timedelta(days=1))
    )
    ward.session.commit()
    seen = shift.version
    with database.transaction() as colleague:  # another scheduler changes it first
        scheduling.change_shift(
            colleague,
            actor=head,
            shift_id=shift.id,
            expected_version=seen,
            entry=ward.entry("nurse", day=MONDAY + timedelta(days=1), starts="09:00"),
        )
    with pytest.raises(Conflict):
        scheduling.change_shift(
            ward.session,
            actor=head,
            shift_id=shift.id,
            expected_version=seen,
            entry=ward.entry("nurse", day=MONDAY + timedelta(days=1), ends="15:00"),
        )
    ward.session.rollback()
    with pytest.raises(Conflict):
        scheduling.remove_shift(ward.session, actor=head, shift_id=shift.id, expected_version=seen)
    ward.session.rollback()
    ward.session.expire_all()
    kept = ward.session.get(ScheduledShift, shift.id)
    assert (kept.starts_at, kept.ends_at) == (
        _at(MONDAY + timedelta(days=1), 9),
        _at(MONDAY + timedelta(days=1), 17),
    )
    scheduling.remove_shift(ward.session, actor=head, shift_id=shift.id, expected_version=kept.version)
    ward.session.commit()
    with pytest.raises(Conflict) as gone:  # removed meanwhile: a conflict too, nothing to overwrite
        scheduling.remove_shift(ward.session, actor=head, shift_id=shift.id, expected_version=kept.version)
    assert gone.value.details["gone"] is True


def test_OG_5_every_change_is_audited_in_the_same_transaction(ward):
    head = ward.actor("head")
    tuesday = MONDAY + timedelta(days=1)
    scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", day=tuesday))
    ward.session.rollback()  # the action failed later: neither the shift nor its audit row remain
    assert (
        ward.session.scalar(select(ScheduledShift.id)) is None
        and _audit(ward.session, scheduling.ACTION_ADDED) == []
    )

    shift = scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", day=tuesday))
    ward.session.commit()
    scheduling.change_shift(
        ward.session,
        actor=head,
        shift_id=shift.id,
        expected_version=shift.version,
        entry=ward.entry("nurse", day=tuesday, ends="16:00", chat_responsible=True),
    )
    ward.session.commit()
    scheduling.remove_shift(ward.session, actor=head, shift_id=shift.id, expected_version=shift.version)
    ward.session.commit()
    [added] = _audit(ward.session, scheduling.ACTION_ADDED)
    [changed] = _audit(ward.session, scheduling.ACTION_CHANGED)
    [removed] = _audit(ward.session, scheduling.ACTION_REMOVED)
    assert added.subject_id == str(shift.id) and added.actor_user_id == ward.people["head"].id
    assert added.details["role"] == "Sjuksköterska" and added.details["user_id"] == ward.people["nurse"].id
    assert set(changed.details["changes"]) == {"ends_at", "chat_responsible"}
    assert changed.details["changes"]["chat_responsible"] == {"old": False, "new": True}
    assert removed.details["chat_responsible"] is True and removed.acting_unit_id == ward.unit.id


def test_a_shift_that_has_ended_is_history_and_is_not_changed(ward, clock):
    head = ward.actor("head")
    shift = scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse", starts="09:00", ends="12:00")
    )
    ward.session.commit()
    clock.advance(hours=4)
    with pytest.raises(ValidationFailed):
        scheduling.remove_shift(ward.session, actor=head, shift_id=shift.id, expected_version=shift.version)
    ward.session.rollback()
    assert ward.session.get(ScheduledShift, shift.id) is not None


# --- copying a week ---------------------------------------------------------------------------------


def test_OG_5_copying_a_week_keeps_local_times_across_DST_and_copying_again_changes_nothing(ward, clock):
    head = ward.actor("head")
    week, sunday = date(2027, 3, 15), date(2027, 3, 21)  # the next Sunday, 28 March, summer time begins
    scheduling.add_shift(ward.session, actor=head, entry=ward.entry("nurse", day=week, chat_responsible=True))
    scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse", day=sunday, starts="10:00", ends="18:00")
    )
    scheduling.add_shift(  # 02:30 exists on 21 March, not on 28 March: that copy is refused with the reason
        ward.session, actor=head, entry=ward.entry("nurse2", day=sunday, starts="02:30", ends="06:00")
    )
    scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("doctor", Role.DOCTOR, day=week + timedelta(days=2))
    )
    ward.session.commit()
    # The doctor leaves before the next week: that copy is refused with its reason too.
    ward.session.scalar(
        select(Membership).where(Membership.user_id == ward.people["doctor"].id)
    ).valid_until = _at(week + timedelta(days=7), 0)
    ward.session.commit()

    result = scheduling.copy_week(ward.session, actor=head, week_start=week + timedelta(days=3))
    ward.session.commit()
    assert result.copied == 2
    reasons = {s.name: s.reason for s in result.skipped}
    assert set(reasons) == {"Maria Berg", "Erik Holm"}
    assert (
        "inte under hela passet" in reasons["Maria Berg"]
        and "finns inte den 2027-03-28" in reasons["Erik Holm"]
    )
    copies = ward.session.scalars(
        select(ScheduledShift)
        .where(ScheduledShift.starts_at >= _at(week + timedelta(days=7), 0))
        .order_by(ScheduledShift.starts_at)
    ).all()
    assert [(c.starts_at, c.ends_at, c.chat_responsible) for c in copies] == [
        (_at(date(2027, 3, 22), 8), _at(date(2027, 3, 22), 17), True),
        (_at(date(2027, 3, 28), 10), _at(date(2027, 3, 28), 18), False),
    ]
    assert copies[1].ends_at - copies[1].starts_at == timedelta(hours=8)  # 10:00 CEST, not 10:00 CET
    assert copies[1].starts_at.astimezone(STOCKHOLM).utcoffset() == timedelta(hours=2)

    again = scheduling.copy_week(ward.session, actor=head, week_start=week)
    ward.session.commit()
    assert again.copied == 0 and len(again.skipped) == 4
    [first, _again] = _audit(ward.session, scheduling.ACTION_WEEK_COPIED)
    assert first.details["week"] == "2027-03-15" and len(first.details["copied"]) == 2


def test_OG_5_copying_a_week_is_for_schedulers_only(ward):
    with pytest.raises(Forbidden):
        scheduling.copy_week(ward.session, actor=ward.actor("nurse"), week_start=MONDAY)


# --- HA-chat-staff: the week's gaps -----------------------------------------------------------------


def test_HA_chat_staff_a_scheduled_chat_responsible_closes_the_gap_and_removing_it_reopens_it(ward):
    head = ward.actor("head")
    tuesday = MONDAY + timedelta(days=1)
    week = scheduling.week_schedule(ward.session, actor=head, week_start=tuesday)
    assert week.takes_chats and week.days[0] == MONDAY
    by_day = {d.day: [(g.starts_at, g.ends_at) for g in d.gaps] for d in week.gaps}
    assert by_day[tuesday] == [(_at(tuesday, 8), _at(tuesday, 17))]
    assert by_day[MONDAY + timedelta(days=5)] == []  # Saturday: closed, nothing to cover

    scheduling.add_shift(
        ward.session, actor=head, entry=ward.entry("nurse", day=tuesday, ends="12:00")
    )  # not chat
    chat = scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry("nurse2", day=tuesday, starts="08:00", ends="13:00", chat_responsible=True),
    )
    ward.session.commit()
    assert [
        (g.starts_at, g.ends_at) for g in chat_staffing_gaps(ward.session, unit_id=ward.unit.id, day=tuesday)
    ] == [(_at(tuesday, 13), _at(tuesday, 17))]
    scheduling.change_shift(
        ward.session,
        actor=head,
        shift_id=chat.id,
        expected_version=chat.version,
        entry=ward.entry("nurse2", day=tuesday, chat_responsible=True),
    )
    ward.session.commit()
    week = scheduling.week_schedule(ward.session, actor=head, week_start=tuesday)
    assert {d.day: d.gaps for d in week.gaps}[tuesday] == ()
    scheduling.remove_shift(ward.session, actor=head, shift_id=chat.id, expected_version=chat.version)
    ward.session.commit()
    assert chat_staffing_gaps(ward.session, unit_id=ward.unit.id, day=tuesday) != []


def test_OG_5_the_week_shows_days_by_people_with_role_and_chat_responsibility_to_every_member(ward):
    head = ward.actor("head")
    tuesday = MONDAY + timedelta(days=1)
    scheduling.add_shift(
        ward.session,
        actor=head,
        entry=ward.entry(
            "nurse", day=tuesday, starts="22:00", ends="07:00", ends_next_day=True, chat_responsible=True
        ),
    )
    ward.session.commit()
    week = scheduling.week_schedule(ward.session, actor=ward.actor("nurse2"), week_start=MONDAY)
    assert not week.can_schedule  # she reads it; the routine says who changes it
    sara = next(p for p in week.people if p.name == "Sara Lind")
    [cell] = sara.days[1]
    assert (cell.role, cell.starts, cell.ends, cell.chat_responsible, cell.editable) == (
        "Sjuksköterska",
        "22:00",
        "07:00 (+1)",
        True,
        False,
    )
    assert [p.name for p in week.people][:2] == ["Gunilla Ahl", "Maria Berg"]  # by family name
    assert "Hanna Wik" not in [p.name for p in week.people]  # another unit's staff
    as_head = scheduling.week_schedule(ward.session, actor=head, week_start=MONDAY)
    assert (
        as_head.can_schedule and next(p for p in as_head.people if p.name == "Sara Lind").days[1][0].editable
    )
