"""Signing in and out, and the start page with the resident's cases and their children's."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from app.audit.service import Actor, record
from app.db import request_session
from app.ids import bounded_id
from app.patients.models import Patient
from app.resident import queries
from app.resident.auth import current_resident, end_resident_session, start_resident_session
from app.resident.blueprint import bp
from app.resident.handlers import log_read


def _local_path(target: str | None) -> str:
    # Only a path on this site: never an open redirect.
    if target and target.startswith("/resident") and not target.startswith("//"):
        return target
    return url_for("resident.start")


@bp.get("/login")
def login_page():
    if not current_app.config["DEV_LOGIN"]:
        return render_template("resident/login_eid.html")
    db = request_session()
    patients = queries.demo_patients(db)
    log_read(
        db,
        actor=Actor.system("resident-dev-login"),
        action="resident:dev_login_list",
        patient_ids=[p.id for p, _age, _children in patients],
    )
    db.commit()
    return render_template(
        "resident/login.html",
        patients=patients,
        next=request.args.get("next", ""),
        expired=request.args.get("expired") == "1",
    )


@bp.post("/login")
def login_submit():
    if not current_app.config["DEV_LOGIN"]:
        abort(404)
    db = request_session()
    patient = db.get(Patient, request.form.get("patient_id", type=bounded_id) or 0)
    if patient is None:
        abort(400, description="Okänd patient.")
    start_resident_session(patient)
    record(
        db,
        "resident:signed_in",
        actor=current_resident(),
        subject=("patient", patient.id),
        method="development stand-in for e-ID",
    )
    db.commit()
    return redirect(_local_path(request.form.get("next")), code=303)


@bp.post("/logout")
def logout():
    actor = current_resident(required=False)
    if actor is not None:
        db = request_session()
        record(db, "resident:signed_out", actor=actor, subject=("patient", actor.patient_id))
        db.commit()
    end_resident_session()
    return redirect(url_for("resident.login_page"), code=303)


@bp.get("/")
def start():
    actor = current_resident()
    db = request_session()
    view = queries.overview(db, actor=actor)
    log_read(db, actor=actor, action="resident:cases", patient_ids=view.patient_ids)
    db.commit()
    return render_template("resident/start.html", view=view)
