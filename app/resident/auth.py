"""The signed-in resident of a request. In production the e-ID service (BankID via 1177) establishes
who it is; in development a demo patient is chosen instead. Either way the identity is kept in the
Flask session under our own key, separate from staff sign-in, and checked against the database on
every request."""

from __future__ import annotations

from flask import g, session

from app.audit.service import Actor
from app.auth.current import mark_session_started, session_timed_out
from app.db import request_session
from app.errors import Unauthenticated
from app.i18n import clear_session
from app.patients.models import Patient

SESSION_KEY = "resident_patient_id"


class ResidentSignInRequired(Unauthenticated):
    """No resident is signed in: the resident blueprint sends them to the resident sign-in."""


def current_resident(required: bool = True) -> Actor | None:
    """The resident as an Actor (label = name, patient_id); unknown patients are signed out."""
    if "resident" in g:
        actor = g.resident
    else:
        actor = None
        patient_id = session.get(SESSION_KEY)
        if patient_id is not None and session_timed_out():  # a phone left unlocked, a shared computer
            end_resident_session()
            g.session_expired = True
            patient_id = None
        if patient_id is not None:
            patient = request_session().get(Patient, patient_id)
            if patient is None:
                session.pop(SESSION_KEY, None)
            else:
                actor = Actor(label=patient.display_name, patient_id=patient.id)
        g.resident = actor
    if actor is None and required:
        raise ResidentSignInRequired("Logga in för att fortsätta.")
    return actor


def start_resident_session(patient: Patient) -> None:
    """Sign a resident in: nothing of an earlier identity (staff or resident) stays in the session."""
    clear_session()
    session[SESSION_KEY] = patient.id
    mark_session_started()
    g.resident = Actor(label=patient.display_name, patient_id=patient.id)


def end_resident_session() -> None:
    for key in (SESSION_KEY, "signed_in_at", "seen_at"):
        session.pop(key, None)
    g.resident = None
