"""The resident's pages in English: the interface is translated and names 1177's own functions so the
resident recognises them; what stays Swedish (texts from the routines) is marked lang="sv"."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.cases.triage import DemoTriage
from tests.resident.conftest import post


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


class _TranslatedTriage(DemoTriage):
    """A triage whose questions are marked for translation (as the stand-in's may be), beside one
    question in Swedish only (as a vendor's or a routine's text is)."""

    def questionnaire(self) -> dict:
        schema = super().questionnaire()
        schema["title"] = _l("Frågor om besvären")
        schema["properties"] = {
            "translated": {"type": "boolean", "title": _l("Skriv ett meddelande")},
            "swedish": {"type": "boolean", "title": "Har du feber?"},
        }
        schema["required"] = ["translated", "swedish"]
        return schema


def test_triage_questions_marked_for_translation_are_in_english_and_swedish_ones_are_marked_swedish(
    app, client, world, sign_in
):
    app.extensions["triage"] = _TranslatedTriage()
    sign_in("adult")
    _english(client)
    page = client.get("/resident/new").get_data(as_text=True)
    # Translated: in the page's language, without lang="sv" (the title is an ordinary text for the test).
    assert re.search(r'id="q-translated">\s*<legend>Write a message</legend>', page)
    assert re.search(
        r'<label for="q-translated-1">Yes</label>.*<label for="q-translated-2">No</label>', page, re.S
    )
    assert re.search(r'id="q-swedish">\s*<legend lang="sv">Har du feber\?</legend>', page)  # Swedish only
    assert re.search(
        r'<label for="q-swedish-1" lang="sv">Ja</label>.*<label for="q-swedish-2" lang="sv">Nej</label>',
        page,
        re.S,
    )
    assert '<span class="questionnaire-title">Questions about your symptoms</span>' in page
    refused = post(client, "/resident/new", {"kind": "sok_vard"}).get_data(as_text=True)
    assert (
        '<a href="#q-translated-1"><span>Write a message</span> – <span>Choose an answer.</span></a>'
        in refused
    )
    assert (
        '<a href="#q-swedish-1"><span lang="sv">Har du feber?</span> – <span>Choose an answer.</span></a>'
        in refused
    )
