"""A resident's image upload through the API, with the image request it answers checked first.

app.cases.chat.upload_image links the image to any `request_id` it is given; an id that does not
exist fails the database's foreign key, and another case's request would be marked fulfilled. Until
that service checks it itself, the API refuses such an id as invalid input.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.cases import chat
from app.cases.lookup import get_case
from app.cases.models import CaseImage, ImageRequest
from app.cases.permissions import require_resident
from app.errors import ValidationFailed


def upload_case_image(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    filename: str,
    content_type: str,
    content: bytes,
    request_id: int | None,
) -> CaseImage:
    """Upload an image into the resident's case (OG-11-f), answering one of the case's image requests."""
    if request_id is not None:
        require_resident(session, actor, get_case(session, case_id))
        wanted = session.get(ImageRequest, request_id)
        if wanted is None or wanted.case_id != case_id:
            raise ValidationFailed(
                "Bildförfrågan finns inte i ärendet.", {"request_id": ["no such image request in this case"]}
            )
    return chat.upload_image(
        session,
        actor=actor,
        case_id=case_id,
        filename=filename,
        content_type=content_type,
        content=content,
        request_id=request_id,
    )
