"""Acknowledgement-inbox items addressed to someone who has left go to the overall responsible (or the
unit while nobody holds the duty) instead of waiting for them (OG-6.1-i, OG-6.1-j, HA-shift)."""

from __future__ import annotations

import pytest

from app.cases import chat, handling, shifts
from app.cases.ack import acknowledge, inbox
from app.errors import Forbidden
from app.people.service import take_duty

ANSWERS = {"q1": 1, "q2": 2, "q3": 0, "q4": 3}


def _form_sent(world, who="nurse"):
    case = world.submit("adult")
    sender = world.actor(who)
    handling.receive(world.session, world.engine, actor=sender, case_id=case.id)
    handling.start(world.session, world.engine, actor=sender, case_id=case.id, first_message="Hej!")
    form = chat.send_form(world.session, actor=sender, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    return case, sender, form


def _kinds(world, key):
    return [(i.kind.value, i.case_id) for i in inbox(world.session, actor=world.actor(key))]


def test_OG_6_1_i_HA_shift_a_form_answered_after_the_sender_ended_the_shift_reaches_the_overall_responsible(
    world,
):
    """The nurse sent a form and ended her shift (her cases went to the role queue); the patient answers: the
    returned form is in the overall responsible's inbox, who signs it off; a colleague without the duty is not
    handed someone else's item."""
    case, nurse, form = _form_sent(world)
    take_duty(world.session, actor=world.actor("nurse2"))
    shifts.end_shift(world.session, actor=nurse, confirmed=True)
    world.session.commit()
    chat.answer_form(world.session, actor=world.resident("adult"), form_id=form.id, answers=ANSWERS)
    world.session.commit()
    assert _kinds(world, "nurse2") == [("form_returned", case.id)]
    assert _kinds(world, "doctor") == []
    [item] = inbox(world.session, actor=world.actor("nurse2"))
    with pytest.raises(Forbidden) as refused:
        acknowledge(world.session, actor=world.actor("doctor"), item_id=item.id)
    assert refused.value.details["rule"] == "OG-6.1-j"
    world.session.rollback()
    acknowledge(world.session, actor=world.actor("nurse2"), item_id=item.id)
    world.session.commit()
    assert item.acknowledged_by == world.actor("nurse2").user_id


def test_OG_6_1_j_while_nobody_holds_the_duty_an_absent_senders_returned_form_is_the_units(world, clock):
    """The sender went home without logging out; nobody holds the duty: the returned form is shown to the unit."""
    case, _nurse, form = _form_sent(world)
    clock.advance(hours=3)
    chat.answer_form(world.session, actor=world.resident("adult"), form_id=form.id, answers=ANSWERS)
    world.session.commit()
    assert _kinds(world, "nurse2") == [("form_returned", case.id)]
    assert _kinds(world, "doctor") == [("form_returned", case.id)]


def test_OG_6_1_j_a_present_senders_item_stays_theirs(world):
    """Not opened to everyone: while the sender is at work, the overall responsible does not take her item."""
    case, _nurse, form = _form_sent(world)
    take_duty(world.session, actor=world.actor("nurse2"))
    chat.answer_form(world.session, actor=world.resident("adult"), form_id=form.id, answers=ANSWERS)
    world.session.commit()
    assert _kinds(world, "nurse") == [("form_returned", case.id)]
    assert _kinds(world, "nurse2") == []
    [item] = inbox(world.session, actor=world.actor("nurse"))
    with pytest.raises(Forbidden) as refused:
        acknowledge(world.session, actor=world.actor("nurse2"), item_id=item.id)
    assert refused.value.details["rule"] == "OG-6.1-j"
