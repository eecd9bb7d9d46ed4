"""What each access-log action code means, in the reviewer's words. The code stays beside the words:
it is what the log holds and what a reviewer quotes when following something up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "case:view": _l("Öppnade ärendet"),
    "case:view_refused": _l("Nekades att öppna ärendet"),
    "case:messages": _l("Läste tidigare chattmeddelanden"),
    "case:task_view": _l("Öppnade en uppgift i ärendet"),
    "case:image_view": _l("Visade en bild i ärendet"),
    "case:form_preview": _l("Förhandsvisade ett formulär till patienten"),
    "worklist:list": _l("Visade patientliggaren"),
    "inbox:list": _l("Visade vidimeringen"),
    "shift:ongoing_cases": _l("Visade sina pågående ärenden vid skiftslut"),
    "duty:absent_owner_cases": _l("Visade ärenden hos frånvarande ägare"),
    "journal:undocumented_list": _l("Visade anteckningar att dokumentera"),
    "instance:view": _l("Öppnade en rutininstans"),
    "export:create": _l("Skapade en export"),
    "export:read": _l("Hämtade en export"),
    "export:read_refused": _l("Nekades att hämta en export"),
    "log_review:who_opened_patient": _l("Loggkontroll: vem har öppnat patienten"),
    "log_review:what_user_opened": _l("Loggkontroll: vad har användaren öppnat"),
    "log_review:sample_read": _l("Loggkontroll: läste ett stickprov"),
    "resident:cases": _l("Invånaren visade sina ärenden"),
    "resident:case": _l("Invånaren öppnade sitt ärende"),
    "resident:chat": _l("Invånaren läste chatten"),
    "resident:chat_new": _l("Invånaren hämtade nya meddelanden"),
    "resident:chat_earlier": _l("Invånaren läste tidigare meddelanden"),
    "resident:form": _l("Invånaren öppnade ett formulär"),
    "resident:new_case_form": _l("Invånaren öppnade Sök vård"),
    "resident:refused": _l("Invånaren nekades"),
    "resident:dev_login_list": _l("Utvecklingsinloggningens lista över invånare"),
}
# Codes made of a prefix and a name (an API endpoint, a control-tower check).
PREFIX_LABELS = {
    "api:": _l("Via API"),
    "control_tower:": _l("Flygledartornet, kontroll"),
}


def action_label(code: str) -> str:
    """The reviewer's words for an action code; an unknown code is shown as it is."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    for prefix, label in PREFIX_LABELS.items():
        if code.startswith(prefix):
            return f"{label}: {code[len(prefix) :]}"
    return code
