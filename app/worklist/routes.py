"""The patient list (Patientliggaren) at `/`, and the registration of the worklist's other pages.

The list refreshes itself: htmx polls the list region every 20 seconds with the filters of the URL
and a digest of what the user sees; an unchanged list answers 204 (nothing swapped, nothing shown,
so nothing to write in the access log). Without JavaScript the "Uppdatera" link reloads the page.
"""

from __future__ import annotations

import hashlib

from flask import Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from app import clock
from app.audit.service import log_access
from app.auth.current import current_actor
from app.auth.navigation import links_for
from app.cases.permissions import reads_cases
from app.db import request_session
from app.people.roles import Role
from app.worklist import views_duty, views_inbox, views_phrases, views_profile  # noqa: F401  (each adds its pages to bp)
from app.worklist.blueprint import bp, short_time
from app.worklist.filters import ROLE_CHOICES, ListFilter
from app.worklist.queries import patient_list

__all__ = ["bp"]

POLL_SECONDS = 20  # WORKLIST_POLL_SECONDS in the app's config overrides it (browser tests use 1)


@bp.get("/")
def index():
    """Patientliggaren: the unit's open tasks for the user's roles, highest priority first."""
    polling = request.args.get("fragment") == "live"
    actor = current_actor(required=not polling)
    if actor is None:  # signed out while the list was open: the whole page goes to the login
        response = Response(status=204)
        response.headers["HX-Redirect"] = url_for("auth.login_page")
        return response
    if not request.args and not reads_cases(actor):
        # Signing in and the "Vårdflöde" link lead here; a role without the list (a local system
        # administrator, a process owner) starts in its own first area rather than at a refusal.
        areas = links_for(actor)
        if areas:
            return redirect(url_for(areas[0].endpoint))
    db = request_session()
    view = ListFilter.from_args(request.args)
    listing = patient_list(db, actor=actor, view=view)
    here = listing.view.args(page=listing.view.page)
    context = {
        "listing": listing,
        "actor": actor,
        "role_choices": ROLE_CHOICES,
        "here": here,
        "is_admin_contact": Role.ADMIN_CONTACT.value in actor.roles,  # OG-7-a: their start page
    }
    alerts = render_template("worklist/_alerts.html", **context)
    region = render_template("worklist/_list.html", **context)
    digest = hashlib.sha256((alerts + region).encode()).hexdigest()[:20]
    if polling and request.args.get("since") == digest:
        db.rollback()
        return Response(status=204)  # unchanged: the user's page stays exactly as it is
    if listing.patient_ids:
        log_access(
            db, actor=actor, action="worklist:list", patient_ids=listing.patient_ids, context=request.path
        )
    db.commit()
    poll_url = url_for("worklist.index", **here, fragment="live", since=digest)
    template = "worklist/_live.html" if polling else "worklist/index.html"
    now_label = short_time(clock.now())
    return render_template(
        template,
        alerts=Markup(alerts),
        region=Markup(region),
        poll_url=poll_url,
        poll_seconds=current_app.config.get("WORKLIST_POLL_SECONDS", POLL_SECONDS),
        now_label=now_label,
        **context,
    )
