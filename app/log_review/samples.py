"""Sampled log reviews (HSLF-FS 2016:40 asks for systematic sample checks): a stored, reproducible
random sample of a period's access-log rows at the unit, and the reviewer's verdict on each row.

The sample keeps its period (ending no later than the moment it was drawn), size and seed: the log is
append-only, so `draw` with the same arguments always picks the same rows. Nobody judges their own
access; a verdict changed meanwhile by another reviewer is a 409 conflict, never overwritten.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.models import AccessLog
from app.audit.service import Actor, log_access, record
from app.errors import Conflict, GuardRefused, NotFound, ValidationFailed
from app.log_review.models import LogReviewItem, LogReviewSample, Verdict
from app.log_review.services import AccessEntry, entries_for, period, require_reviewer, scope, user_names
from app.people.models import User

MAX_SAMPLE_SIZE = 200


@dataclass(frozen=True)
class ReviewRow:
    item_id: int
    version: int
    entry: AccessEntry
    verdict: str | None
    comment: str
    reviewed_by: str
    reviewed_at: datetime | None
    own_access: bool  # the reviewer's own access: someone else judges it


@dataclass(frozen=True)
class SampleSummary:
    id: int
    period_start: datetime
    period_end: datetime
    size: int
    population: int
    reviewed: int
    follow_up: int
    created_by: str
    created_at: datetime


def create_sample(
    session: Session, *, actor: Actor, first_day: date | None, last_day: date | None, size: int | None
) -> LogReviewSample:
    """Draw and store a random sample of the unit's access-log rows in a past period (reproducible from its seed)."""
    unit = require_reviewer(session, actor=actor)
    if size is None or not 1 <= size <= MAX_SAMPLE_SIZE:
        raise ValidationFailed("the sample size has errors", {"size": [f"1 to {MAX_SAMPLE_SIZE}"]})
    start, end = period(first_day, last_day)
    now = clock.now()
    end = min(end, now)  # rows keep arriving until now: a stored end keeps the draw reproducible
    if end <= start:
        raise ValidationFailed("the period has not begun", {"first_day": ["today or earlier"]})
    seed = secrets.randbits(62)
    population, drawn = draw(session, unit_id=unit.id, start=start, end=end, seed=seed, size=size)
    if not drawn:
        raise ValidationFailed("no access-log rows in the period", {"first_day": ["no rows in the period"]})
    sample = LogReviewSample(
        unit_id=unit.id, period_start=start, period_end=end, requested_size=size, population=population, seed=seed,
        created_by_user_id=actor.user_id, created_at=now,
    )  # fmt: skip
    session.add(sample)
    session.flush()
    for position, log_id in enumerate(drawn):
        session.add(LogReviewItem(sample_id=sample.id, access_log_id=log_id, position=position, comment=""))
    session.flush()
    record(
        session, "log_review:sample_created", actor=actor, subject=("log_review_sample", sample.id), unit_id=unit.id,
        period_start=start.isoformat(), period_end=end.isoformat(), size=len(drawn), population=population,
    )  # fmt: skip
    return sample


def draw(
    session: Session, *, unit_id: int, start: datetime, end: datetime, seed: int, size: int
) -> tuple[int, list[int]]:
    """(population, drawn ids): the same arguments always draw the same rows (the log is append-only).

    The positions are drawn in Python from the seed and only the drawn rows are read, so a month of a
    busy unit's log is counted and numbered in the database, never loaded."""
    in_period = (AccessLog.at >= start, AccessLog.at < end, scope(unit_id))
    population = session.scalar(select(func.count()).select_from(AccessLog).where(*in_period)) or 0
    positions = random.Random(seed).sample(range(population), min(size, population))
    if not positions:
        return population, []
    numbered = (
        select(AccessLog.id, func.row_number().over(order_by=AccessLog.id).label("position"))
        .where(*in_period)
        .subquery()
    )
    wanted = [position + 1 for position in positions]  # row_number() counts from 1
    found = dict(
        session.execute(
            select(numbered.c.position, numbered.c.id).where(numbered.c.position.in_(wanted))
        ).all()
    )
    return population, [found[position] for position in wanted]


def samples(session: Session, *, actor: Actor, limit: int = 50) -> list[SampleSummary]:
    """The unit's latest samples, newest first, with how far their review has come (one query)."""
    unit = require_reviewer(session, actor=actor)
    return _summaries(session, LogReviewSample.unit_id == unit.id, limit=limit)


def _summaries(session: Session, condition, *, limit: int) -> list[SampleSummary]:
    counts = (
        select(
            LogReviewItem.sample_id,
            func.count(LogReviewItem.id).label("size"),
            func.count(LogReviewItem.verdict).label("reviewed"),
            func.sum(case((LogReviewItem.verdict == Verdict.FOLLOW_UP, 1), else_=0)).label("follow_up"),
        )
        .group_by(LogReviewItem.sample_id)
        .subquery()
    )
    rows = session.execute(
        select(LogReviewSample, counts.c.size, counts.c.reviewed, counts.c.follow_up, User)
        .join(counts, counts.c.sample_id == LogReviewSample.id)
        .join(User, User.id == LogReviewSample.created_by_user_id)
        .where(condition)
        .order_by(LogReviewSample.created_at.desc(), LogReviewSample.id.desc())
        .limit(limit)
    ).all()
    return [
        SampleSummary(
            s.id,
            s.period_start,
            s.period_end,
            size,
            s.population,
            reviewed,
            follow_up or 0,
            user.display_name,
            s.created_at,
        )  # fmt: skip
        for s, size, reviewed, follow_up, user in rows
    ]


def sample_rows(session: Session, *, actor: Actor, sample_id: int) -> tuple[SampleSummary, list[ReviewRow]]:
    """A sample's drawn rows with their verdicts; showing them is written to the access log."""
    unit = require_reviewer(session, actor=actor)
    sample = session.get(LogReviewSample, sample_id)
    if sample is None or sample.unit_id != unit.id:
        raise NotFound("no such sample at your unit")
    entries = {
        e.log_id: e
        for e in entries_for(
            session,
            session.scalars(
                select(AccessLog).where(AccessLog.id.in_([i.access_log_id for i in sample.items]))
            ).all(),
        )
    }
    names = user_names(session, {i.reviewed_by_user_id for i in sample.items if i.reviewed_by_user_id})
    rows = [
        ReviewRow(
            i.id,
            i.version,
            entries[i.access_log_id],
            i.verdict.value if i.verdict else None,
            i.comment,
            names.get(i.reviewed_by_user_id, ""),
            i.reviewed_at,
            entries[i.access_log_id].user_id == actor.user_id,
        )  # fmt: skip
        for i in sample.items
    ]
    shown = [p.patient_id for row in rows for p in row.entry.patients]
    log_access(
        session,
        actor=actor,
        action="log_review:sample_read",
        patient_ids=shown,
        context=f"log review sample {sample.id}",
    )
    summary = _summaries(session, LogReviewSample.id == sample.id, limit=1)[0]
    return summary, rows


def record_verdict(
    session: Session, *, actor: Actor, item_id: int, verdict: str, comment: str, expected_version: int | None
) -> LogReviewItem:
    """The reviewer's verdict on one drawn row: ok, or needs follow-up with a comment why."""
    unit = require_reviewer(session, actor=actor)
    item = session.get(LogReviewItem, item_id)
    if item is None or item.sample.unit_id != unit.id:
        raise NotFound("no such review row at your unit")
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    try:
        parsed = Verdict(verdict)
    except ValueError:
        errors["verdict"] = ["ok or follow_up"]
        parsed = None
    if parsed is Verdict.FOLLOW_UP and not comment:
        errors["comment"] = ["say what needs following up"]
    if len(comment) > 2000:
        errors["comment"] = ["at most 2000 characters"]
    if errors:
        raise ValidationFailed("the verdict has errors", errors)
    if expected_version is not None and expected_version != item.version:
        reviewer = user_names(session, {item.reviewed_by_user_id}).get(item.reviewed_by_user_id, "")
        raise Conflict(
            "the row was reviewed by someone else meanwhile",
            verdict=item.verdict.value if item.verdict else None, comment=item.comment, reviewed_by=reviewer,
        )  # fmt: skip
    if session.scalar(select(AccessLog.user_id).where(AccessLog.id == item.access_log_id)) == actor.user_id:
        raise GuardRefused("nobody reviews their own access; another reviewer judges this row")
    previous = item.verdict.value if item.verdict else None
    item.verdict, item.comment = parsed, comment
    item.reviewed_by_user_id, item.reviewed_at = actor.user_id, clock.now()
    session.flush()
    record(
        session, "log_review:verdict_recorded", actor=actor, subject=("log_review_item", item.id), sample_id=item.sample_id,
        access_log_id=item.access_log_id, verdict=parsed.value, previous=previous, comment=comment,
    )  # fmt: skip
    return item
