"""The site navigation offers each user the areas their roles open, and nothing else."""

from __future__ import annotations

from app.audit.service import Actor
from app.auth.navigation import current_area, links_for
from app.cases.permissions import DUTY
from app.people.roles import Role


def _endpoints(*roles: Role) -> list[str]:
    actor = Actor(label="test", user_id=1, unit_id=1, roles=frozenset(str(r) for r in roles))
    return [link.endpoint for link in links_for(actor)]


def test_a_nurse_is_offered_the_patient_list_and_documentation_and_on_duty_the_control_tower():
    assert _endpoints(Role.NURSE) == ["worklist.index", "casework.undocumented", "scheduling.week"]
    on_duty = Actor(label="test", user_id=1, unit_id=1, roles=frozenset({str(Role.NURSE), DUTY}))
    assert [link.endpoint for link in links_for(on_duty)] == [
        "worklist.index",
        "casework.undocumented",
        "control_tower.index",
        "scheduling.week",  # every member of the unit reads its schedule (OG-5)
    ]


def test_a_process_owner_is_offered_the_processes_and_a_sysadmin_the_administration_and_log_review():
    assert _endpoints(Role.PROCESS_OWNER) == [
        "modeler.index",
        "process_changes.traceability",
        "scheduling.week",
    ]
    assert _endpoints(Role.LOCAL_SYSADMIN) == ["admin.index", "log_review.index", "scheduling.week"]
    assert _endpoints(Role.HEAD_OF_UNIT) == [
        "worklist.index",  # a head of unit reads the unit's cases, so the list is offered too
        "casework.undocumented",  # and marks notes documented for someone who is away
        "control_tower.index",
        "modeler.index",
        "process_changes.traceability",
        "log_review.index",
        "scheduling.week",
    ]


def test_residents_and_the_signed_out_get_no_staff_navigation():
    assert links_for(None) == []
    assert links_for(Actor(label="resident", patient_id=7, roles=frozenset({str(Role.NURSE)}))) == []


def test_the_area_a_page_belongs_to_is_marked_current_and_only_that_one():
    """A case page lives beside "Att dokumentera" in the casework blueprint but is opened from the patient
    list: the list is its area. The changes pages belong to Processer, the traceability page to Spårbarhet."""
    head = Actor(label="t", user_id=1, unit_id=1, roles=frozenset({str(Role.HEAD_OF_UNIT), str(Role.NURSE)}))
    links = links_for(head)
    assert current_area(links, "casework.case_page") == "worklist.index"
    assert current_area(links, "worklist.inbox") == "worklist.index"
    assert current_area(links, "casework.undocumented") == "casework.undocumented"
    assert current_area(links, "casework.undocumented_mark") == "casework.undocumented"
    assert current_area(links, "process_changes.traceability") == "process_changes.traceability"
    assert current_area(links, "process_changes.migration_page") == "modeler.index"
    assert current_area(links, "control_tower.region") == "control_tower.index"
    assert current_area(links, "auth.login") is None and current_area(links, None) is None
