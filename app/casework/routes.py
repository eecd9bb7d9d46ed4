"""Case pages for staff. The views live by use case in `views_case` (the page and the routine's steps),
`views_chat` (the chat and what happens beside the routine) and `views_docs` (journal-note drafts);
importing them here registers them on the blueprint that `app.web` registers."""

from __future__ import annotations

from app.casework import views_case, views_chat, views_docs  # noqa: F401  (they register their views on bp)
from app.casework.blueprint import bp

__all__ = ["bp"]
