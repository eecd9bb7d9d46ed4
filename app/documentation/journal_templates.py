"""Journal notes in each region's EHR template (Cosmic), as fields and as text to paste.

Region Östergötland (OG-11-b): a new care contact "Internetkontakt", template "Rådgivning RGS webb"
(or "Rådgivning"), the search reason under Kontaktorsak, "Ärende via e-tjänst" under Kontaktsätt,
the anamnesis under "Aktuellt hälsoproblem", other information under relevant keywords.
Region Halland (HA-doc-b): template "Besöksanteckning", care contact "Distansbesök - skriftlig" for
chat or "Distansbesök - video" for video, keywords "Anamnes - Aktuellt" and "Bedömning".
`Region.policies["journal_template"]` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.documentation.models import DraftReason, FormHandling

OG_RGS_WEBB = "og_rgs_webb"
HA_BESOKSANTECKNING = "ha_besoksanteckning"


@dataclass(frozen=True)
class FormSummary:
    """A form the patient returned, and how it goes to the EHR (HA-forms)."""

    name: str
    handling: FormHandling
    answers: Sequence[tuple[str, str]] = ()  # (question, answer): what "copied" copies
    summary: str = ""  # what the form showed: the note "summarised" leaves in the EHR


@dataclass(frozen=True)
class NoteInput:
    """What a note is built from; `anamnesis` is None when an earlier note already documented it."""

    reason: DraftReason
    search_reason: str
    anamnesis: str | None
    assessment: str | None
    form: FormSummary | None
    video: bool = False
    # HA-doc-a: the symptom assessment and the images are records too. The triage's priority goes with
    # the anamnesis (the first assessor's); every note says how many images the case holds.
    triage_priority: int | None = None
    priority: int | None = None  # the case's priority now, when staff changed the triage's
    images: int = 0


@dataclass
class Note:
    template: str
    care_contact: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    heading: list[str] = field(default_factory=list)

    def add(self, keyword: str, text: str, hint: str | None = None) -> None:
        self.entries.append({"keyword": keyword, "text": text, "hint": hint})

    def as_fields(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "care_contact": self.care_contact,
            "heading": self.heading,
            "entries": self.entries,
        }

    def as_text(self) -> str:
        blocks = ["\n".join(self.heading)]
        blocks += [f"{entry['keyword']}\n{entry['text']}".rstrip() for entry in self.entries]
        return "\n\n".join(blocks) + "\n"


# What the note says was done, per reason ("övrig information under relevanta sökord").
_ACTIONS = {
    DraftReason.CLOSED_UNANSWERED: "Patienten har inte svarat trots kontaktförsök. Ärendet avslutat i 1177 direkt med råd att söka vård vid behov.",
    DraftReason.HANDOVER: "Ärendet överlämnat till annan personal eller annan enhet i 1177 direkt.",
    DraftReason.CLOSED: "Ärendet avslutat i dialog med patienten i 1177 direkt.",
}
_OWN_ASSESSMENT_HINT = (
    "Skriv din egen medicinska bedömning; den dokumenterar var och en själv, även vid överlämning."
)
_ANAMNESIS_DONE_HINT = "Anamnesen dokumenterades av den som gjorde den första bedömningen."


def og_rgs_webb(data: NoteInput) -> Note:
    """Region Östergötland, OG-11-b."""
    # A form note is added to the case's care contact; every other note starts a new one.
    contact_line = (
        "Vårdkontakt: ärendets Internetkontakt"
        if data.reason is DraftReason.FORM
        else "Ny vårdkontakt: Internetkontakt"
    )
    note = Note(
        template="Rådgivning RGS webb",
        care_contact="Internetkontakt",
        heading=[contact_line, "Mall: Rådgivning RGS webb (alternativt Rådgivning)"],
    )
    if data.reason is DraftReason.FORM:
        _add_form(note, data.form, anamnesis_keyword="Aktuellt hälsoproblem")
        return note
    note.add("Kontaktorsak", data.search_reason)
    note.add("Kontaktsätt", "Ärende via e-tjänst")
    if data.anamnesis is not None:
        note.add("Aktuellt hälsoproblem", data.anamnesis, "Bedöm om all text ska tas med eller inte.")
    _add_records(note, data, archive="regionens bildarkiv")
    _add_assessment_and_rest(note, data, anamnesis_keyword="Aktuellt hälsoproblem")
    return note


def ha_besoksanteckning(data: NoteInput) -> Note:
    """Region Halland, HA-doc-b."""
    care_contact = "Distansbesök - video" if data.video else "Distansbesök - skriftlig"
    note = Note(
        template="Besöksanteckning",
        care_contact=care_contact,
        heading=[
            f"Vårdkontakt: {care_contact} (välj aktuell vårdkontakt eller skapa ny)",
            "Mall: Besöksanteckning",
        ],
    )
    if data.reason is DraftReason.FORM:
        _add_form(note, data.form, anamnesis_keyword="Anamnes - Aktuellt")
        return note
    if data.anamnesis is not None:
        note.add(
            "Anamnes - Aktuellt",
            data.anamnesis,
            "Plattformens anamnes och bedömning kan klistras in här. Värdera texten och formulera om vid behov: den faller under ditt ansvar.",
        )
    _add_records(note, data, archive="bildarkivet (Vidiview)")  # HA-images-b
    _add_assessment_and_rest(note, data, anamnesis_keyword="Anamnes - Aktuellt")
    return note


BUILDERS: dict[str, Callable[[NoteInput], Note]] = {
    OG_RGS_WEBB: og_rgs_webb,
    HA_BESOKSANTECKNING: ha_besoksanteckning,
}


TRIAGE_KEYWORD = "Symtombedömning"
IMAGES_KEYWORD = "Bilder"


def _add_records(note: Note, data: NoteInput, *, archive: str) -> None:
    """HA-doc-a: the triage's symptom assessment (with the anamnesis) and the case's images."""
    if data.anamnesis is not None and data.triage_priority is not None:
        text = f"Symtombedömning (triagering i 1177 direkt): prioritet {data.triage_priority}."
        if data.priority is not None and data.priority != data.triage_priority:
            text += f" Prioriteten ändrades av vårdpersonal till {data.priority}."
        note.add(TRIAGE_KEYWORD, text, "Skriv under relevant sökord.")
    if data.images:
        count = "1 bild" if data.images == 1 else f"{data.images} bilder"
        note.add(
            IMAGES_KEYWORD,
            f"Patienten har laddat upp {count} i ärendet i 1177 direkt. Bilder som ska sparas "
            f"förs över till {archive}; ange var de finns och vad de visar.",
            "Bilderna finns i ärendet tills de arkiveras.",
        )


def _add_assessment_and_rest(note: Note, data: NoteInput, *, anamnesis_keyword: str) -> None:
    hint = (
        _OWN_ASSESSMENT_HINT
        if data.anamnesis is not None
        else f"{_ANAMNESIS_DONE_HINT} {_OWN_ASSESSMENT_HINT}"
    )
    if data.form is not None:
        _add_form(note, data.form, anamnesis_keyword=anamnesis_keyword)
    note.add("Bedömning", (data.assessment or "").strip(), hint)
    if data.reason in _ACTIONS:
        note.add("Åtgärd", _ACTIONS[data.reason])


def _add_form(note: Note, form: FormSummary | None, *, anamnesis_keyword: str) -> None:
    # A filled-in form is the patient's own account, so it goes with the anamnesis keyword.
    if form is None:
        raise ValueError("a form note needs the form")  # the service refuses such a draft first
    if form.handling is FormHandling.COPIED:
        lines = [f"Formulär ifyllt av patienten: {form.name}"] + [
            f"{question}: {answer}" for question, answer in form.answers
        ]
        note.add(anamnesis_keyword, "\n".join(lines), "Frågor och svar kopierade från formuläret.")
    else:
        text = f"Patienten har fyllt i formuläret {form.name} i 1177 direkt; formuläret finns kvar i plattformen. Det visade: {form.summary.strip()}"
        note.add(anamnesis_keyword, text, "Formuläret sammanfattat: det finns kvar i plattformen.")
