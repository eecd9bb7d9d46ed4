"""The resident's pages in English: the interface is translated and names 1177's own functions so the
resident recognises them; what stays Swedish (texts from the routines) is marked lang="sv"."""

from __future__ import annotations

import re

from flask_babel import get_locale, gettext
from sqlalchemy import select

from app.cases.models import Case
from app.cases.triage import DemoTriage
from tests.resident.conftest import post, read, sok_vard_form


def _english(client) -> None:
    post(client, "/language", {"lang": "en", "next": "/resident/"})


def _h1(page: str) -> str:
    return re.search(r"<h1>([^<]*)</h1>", page).group(1)


def test_sok_vard_reads_seek_care_with_1177s_name_beside_it_like_the_other_way_in(client, world, sign_in):
    world.submit("adult")
    sign_in("adult")
    _english(client)
    start = client.get("/resident/").get_data(as_text=True)
    assert ">Seek care (Sök vård)</a>" in start and ">Administrative questions</a>" in start
    assert "Seek care (Sök vård) · Vårdcentralen Ekdalen" in start  # the case's kind in the list
    new = client.get("/resident/new").get_data(as_text=True)
    assert _h1(new) == "Seek care (Sök vård)" and "<title>Seek care (Sök vård) – Vårdflöde</title>" in new
    assert _h1(client.get("/resident/new?kind=admin").get_data(as_text=True)) == "Administrative questions"


def test_sok_vard_stays_sok_vard_in_swedish(client, world, sign_in):
    world.submit("adult")
    sign_in("adult")
    start = client.get("/resident/").get_data(as_text=True)
    assert ">Sök vård</a>" in start and "Sök vård · Vårdcentralen Ekdalen" in start
    assert _h1(client.get("/resident/new").get_data(as_text=True)) == "Sök vård"


class _Triage(DemoTriage):
    """A triage of two yes/no questions, its texts in Swedish only (as a vendor's may be) or, with a
    language, translated into the interface's (as the stand-in's are: `x-lang`)."""

    def __init__(self, translated: bool):
        self.translated = translated

    def questionnaire(self) -> dict:
        # Ordinary interface texts stand in for translated questions (they have an English translation).
        text = gettext if self.translated else str
        schema = {
            **super().questionnaire(),
            "title": text("Frågor om besvären"),
            "properties": {
                "one": {"type": "boolean", "title": text("Skriv ett meddelande")},
                "two": {"type": "boolean", "title": text("Dina barn")},
            },
            "required": ["one", "two"],
        }
        schema.pop("x-lang", None)  # Swedish only: the schema does not say
        if self.translated:
            schema["x-lang"] = str(get_locale())
        return schema


def test_a_triage_translated_into_english_reads_in_english_with_yes_and_no(app, client, world, sign_in):
    app.extensions["triage"] = _Triage(translated=True)
    sign_in("adult")
    _english(client)
    page = client.get("/resident/new").get_data(as_text=True)
    assert re.search(r'id="q-one">\s*<legend lang="en">Write a message</legend>', page)
    assert re.search(
        r'<label for="q-one-1" lang="en">Yes</label>.*<label for="q-one-2" lang="en">No</label>', page, re.S
    )
    assert '<span class="questionnaire-title" lang="en">Questions about your symptoms</span>' in page
    refused = post(client, "/resident/new", {"kind": "sok_vard"}).get_data(as_text=True)
    assert (
        '<a href="#q-two-1"><span lang="en">Your children</span> – <span>Choose an answer.</span></a>'
        in refused
    )


def test_a_triage_in_swedish_only_is_marked_swedish_on_an_english_page_with_ja_and_nej(
    app, client, world, sign_in
):
    app.extensions["triage"] = _Triage(translated=False)
    sign_in("adult")
    _english(client)
    page = client.get("/resident/new").get_data(as_text=True)
    assert re.search(r'id="q-one">\s*<legend lang="sv">Skriv ett meddelande</legend>', page)
    assert re.search(
        r'<label for="q-one-1" lang="sv">Ja</label>.*<label for="q-one-2" lang="sv">Nej</label>', page, re.S
    )
    assert '<span class="questionnaire-title" lang="sv">Frågor om besvären</span>' in page
    refused = post(client, "/resident/new", {"kind": "sok_vard"}).get_data(as_text=True)
    assert (
        '<a href="#q-two-1"><span lang="sv">Dina barn</span> – <span>Choose an answer.</span></a>' in refused
    )


def test_OG_6_4_b_the_refusal_reads_in_english_and_is_no_longer_marked_swedish(client, world, sign_in):
    """The age guard's refusal is translated (a lazy text): on the English form it stands without
    lang="sv", which told a screen reader to read English text with Swedish pronunciation."""
    from tests.resident.conftest import sok_vard_form

    sign_in("guardian")
    _english(client)
    response = post(client, "/resident/new", sok_vard_form(world, "teen"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="who-error">.*?</p>', page, re.S).group(0)
    assert "From the age of 13" in error and 'lang="sv"' not in error


def test_the_demo_stand_ins_questions_read_in_english_and_what_it_stores_stays_swedish(
    client, world, sign_in
):
    sign_in("adult")
    _english(client)
    page = client.get("/resident/new").get_data(as_text=True)
    assert re.search(r'id="q-reason">\s*<legend lang="en">What are you seeking care for\?</legend>', page)
    assert '<label for="q-reason-1" lang="en">Sore throat</label>' in page
    assert re.search(
        r'id="q-breathing">\s*<legend lang="en">Do you have difficulty breathing or chest pain\?</legend>',
        page,
    )
    assert re.search(r'<label for="q-breathing-1" lang="en">Yes</label>', page)
    assert (
        "Demo: questions instead of triage (not medical triage)" in page and "Vad söker du för?" not in page
    )
    response = post(client, "/resident/new", sok_vard_form(world, "adult", high_fever="true"))
    assert response.status_code == 303
    [case] = read(world.session, select(Case))
    assert case.search_reason == "Halsont" and "Feber över 39: ja" in case.anamnesis  # as stored: Swedish
