"""A case's states in the staff's words: one list for the case page, the patient list and the control
tower (they once named the same state three ways: "Startad", "Pågående", "Överlämnat"). The resident's
pages say it in words of their own (app/resident/queries.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.cases.models import CaseState

# Keyed by the state; a state's plain value ("started") finds its label too (a StrEnum).
STATE_LABELS = {
    CaseState.NEW: _l("Nytt"),
    CaseState.RECEIVED: _l("Mottaget"),
    CaseState.STARTED: _l("Pågående"),
    CaseState.HANDED_OVER: _l("Väntar på överlämning"),  # consent asked, not yet taken (HA-handover-consent)
    CaseState.CLOSED: _l("Avslutat"),
    CaseState.REFERRED: _l("Hänvisat"),
    CaseState.REFUSED: _l("Hanteras inte här"),
}
