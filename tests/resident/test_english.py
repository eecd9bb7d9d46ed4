"""The resident's pages in English: the interface is translated and names 1177's own functions so the
resident recognises them; what stays Swedish (texts from the routines) is marked lang="sv"."""

from __future__ import annotations

import re

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
