"""Two Lokala systemadministratörer act on phrase templates at the same moment (PostgreSQL): the row
lock makes one wait for the other, the one that waited finds the template changed and gets a Conflict,
and the template ends in one consistent state with one audit record."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict
from app.people.roles import Role
from app.phrases import service as phrases
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate
from tests import factories as f
from tests.races import at_once


@pytest.fixture
def sysadmins(session, clock):
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    first, second = f.user(session, unit, Role.LOCAL_SYSADMIN), f.user(session, unit, Role.LOCAL_SYSADMIN)
    actors = f.signed_in(session, first, unit), f.signed_in(session, second, unit)
    session.commit()
    return actors


def _draft(session, actor, title: str = "Avslut") -> int:
    draft = phrases.create_template(
        session,
        actor=actor,
        level=PhraseLevel.REGIONAL,
        purpose="closing",
        title=title,
        text="Tack för kontakten.",
    )
    session.commit()
    return draft.id


def _at_once(app, monkeypatch, *calls) -> list[str]:
    """Run the calls in two transactions that have both read their template before either changes it.

    Without a row lock both pass the barrier together. With one, the second waits for the first's lock
    and cannot reach the barrier: the first gives up waiting for it after a moment and goes on."""
    database = app.extensions["database"]
    barrier = threading.Barrier(len(calls))
    real = phrases._require_publisher

    def together(*args, **kwargs):
        real(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):  # the other waits for this one's row lock
            barrier.wait(timeout=2)

    monkeypatch.setattr(phrases, "_require_publisher", together)
    return at_once(
        database, *calls, describe=lambda error: "conflict" if isinstance(error, Conflict) else repr(error)
    )


def _audit(session) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.in_(["phrase_template:published", "phrase_template:retired"]))
            .order_by(AuditEvent.id)
        )
    )


@pytest.mark.postgres
def test_a_draft_published_twice_at_once_is_published_and_audited_once(
    pg_url, app, session, sysadmins, monkeypatch
):
    first, second = sysadmins
    template_id = _draft(session, first)
    outcomes = _at_once(
        app,
        monkeypatch,
        lambda s: phrases.publish(s, actor=first, template_id=template_id),
        lambda s: phrases.publish(s, actor=second, template_id=template_id),
    )
    assert outcomes == ["conflict", "ok"]
    assert _audit(session) == ["phrase_template:published"]
    assert session.get(PhraseTemplate, template_id).status is PhraseStatus.PUBLISHED


@pytest.mark.postgres
def test_a_draft_retired_and_published_at_once_ends_either_retired_or_published_never_both(
    pg_url, app, session, sysadmins, monkeypatch
):
    first, second = sysadmins
    template_id = _draft(session, first)
    outcomes = _at_once(
        app,
        monkeypatch,
        lambda s: phrases.retire(s, actor=first, template_id=template_id),
        lambda s: phrases.publish(s, actor=second, template_id=template_id),
    )
    assert outcomes == ["conflict", "ok"]
    [action] = _audit(session)
    template = session.get(PhraseTemplate, template_id)
    if action == "phrase_template:published":
        assert template.status is PhraseStatus.PUBLISHED and template.retired_at is None
    else:
        assert template.status is PhraseStatus.RETIRED and template.published_at is None


@pytest.mark.postgres
def test_two_drafts_for_one_purpose_published_at_once_leave_one_published_the_other_superseding_it(
    pg_url, app, session, sysadmins, monkeypatch
):
    first, second = sysadmins
    one, other = _draft(session, first, "Avslut"), _draft(session, first, "Avslut, kortare")
    outcomes = _at_once(
        app,
        monkeypatch,
        lambda s: phrases.publish(s, actor=first, template_id=one),
        lambda s: phrases.publish(s, actor=second, template_id=other),
    )
    assert outcomes == ["ok", "ok"]  # one after the other: the second supersedes the first
    session.expire_all()
    statuses = sorted(
        session.scalars(select(PhraseTemplate.status).where(PhraseTemplate.id.in_([one, other])))
    )
    assert statuses == sorted([PhraseStatus.PUBLISHED, PhraseStatus.RETIRED])
    assert _audit(session) == ["phrase_template:published"] * 2
