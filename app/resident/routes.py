"""Pages for residents (patient or guardian): sign-in, their cases, submitting and answering a case.

The views live by use case in `views_signin`, `views_submit` and `views_case`; importing them here
registers them on the blueprint that `app.web` registers.
"""

from __future__ import annotations

from app.resident import views_case, views_signin, views_submit  # noqa: F401  (they register their views on bp)
from app.resident.blueprint import bp

__all__ = ["bp"]
