"""`record(...)`: one call writes an audit event in the caller's transaction; `log_access(...)` writes
the access log of a read. Neither commits: a rolled-back action leaves no audit row behind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app import clock
from app.audit.models import AccessLog, AccessLogPatient, AuditEvent
from app.errors import source_text

_INSERT_AUDIT = insert(AuditEvent.__table__)
LABEL_LENGTH = AuditEvent.__table__.c.actor_label.type.length


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user acting for a unit, a patient, or the system (worker, CLI)."""

    label: str
    user_id: int | None = None
    unit_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    patient_id: int | None = None  # set when a resident (patient or guardian) acts

    def __post_init__(self) -> None:
        # Labels are stored beside the ids that identify the actor (String(160) columns): a name longer
        # than that (two 80-character names and a space) is shortened, never a failed action.
        if len(self.label) > LABEL_LENGTH:
            object.__setattr__(self, "label", self.label[: LABEL_LENGTH - 1] + "…")

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(label=f"system:{label}")


def record(
    session: Session, action: str, *, actor: Actor, subject: tuple[str, Any] | None = None, **details: Any
) -> None:
    """Append an audit event ("subject:action") to the current transaction."""
    subject_type, subject_id = subject if subject else (None, None)
    values = {
        "at": clock.now(),
        "action": str(action),
        "actor_user_id": actor.user_id,
        "actor_label": actor.label,
        "acting_unit_id": actor.unit_id,
        "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id),
        "details": _jsonable(details),
    }
    # A Core insert from one prepared statement: audit rows are written on every action. The row
    # reads nothing of the session's pending changes, so they are not flushed for it (they go with
    # the action's next flush, in the same transaction).
    with session.no_autoflush:
        session.execute(_INSERT_AUDIT, values)


def log_access(
    session: Session,
    *,
    actor: Actor,
    action: str,
    patient_ids: Iterable[int],
    case_id: int | None = None,
    context: str | None = None,
) -> int:
    """Append one access-log row naming every patient whose data this read showed; returns its id."""
    log_id = session.execute(
        insert(AccessLog.__table__)
        .values(
            at=clock.now(),
            user_id=actor.user_id,
            actor_label=actor.label,
            acting_unit_id=actor.unit_id,
            action=action,
            case_id=case_id,
            context=context,
        )
        .returning(AccessLog.__table__.c.id)
    ).scalar_one()
    patients = list(dict.fromkeys(patient_ids))
    if patients:
        session.execute(
            insert(AccessLogPatient.__table__),
            [{"access_log_id": log_id, "patient_id": pid} for pid in patients],
        )
    return log_id


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, LazyString):  # a refusal's reason, say: the trail is Swedish whoever read it
        return source_text(value)
    return str(value)
