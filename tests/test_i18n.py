"""The interface in Swedish by default and in English on request; every text has its English translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.i18n import catalog_directories
from app.people.roles import Role
from tests import factories as f

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),  # a text in a context ("Sök vård" on the resident's pages)
    "lazy_gettext": None,
    "_l": None,
}
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("templates/**.html", "jinja2"),
]  # as babel.cfg


def _source_texts() -> set[tuple[str | None, str]]:
    """(context, text) of every marked text: a text in a context is translated in that context."""
    texts = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT / "app"), METHODS, keywords=KEYWORDS
    ):
        texts.update((context, m) for m in ([message] if isinstance(message, str) else message) if m)
    return texts


def test_every_interface_text_has_an_english_translation():
    translated = set()
    for directory in catalog_directories():  # the shell's catalog and each package's, merged at run time
        with open(directory / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalog = read_po(handle)
        for m in catalog:
            if not m.id or m.fuzzy:
                continue
            if isinstance(m.id, str):
                translated |= {(m.context, m.id)} if m.string else set()
            elif all(m.string):  # a plural message: every form translated
                translated |= {(m.context, i) for i in m.id}
    missing = sorted(text for _context, text in _source_texts() - translated)
    assert not missing, f"run `make translations` and translate: {missing[:20]}"


def test_swedish_by_default_and_english_when_chosen(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Hoppa till innehållet" in page
    response = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": _csrf(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Skip to content" in page


def test_the_language_switch_never_redirects_off_the_site(client):
    client.get("/login")
    response = client.post(
        "/language", data={"lang": "en", "next": "//evil.example/", "csrf_token": _csrf(client)}
    )
    assert response.headers["Location"] == "/"


def _csrf(client) -> str:
    with client.session_transaction() as session:
        return session["csrf_token"]


def test_front_end_libraries_come_from_npm_and_nothing_else_of_node_modules_is_served(client):
    with client.get("/vendor/htmx.min.js") as htmx:
        assert htmx.status_code == 200 and b"htmx" in htmx.data
    assert client.get("/vendor/package.json").status_code == 404
    assert client.get("/vendor/..%2Fpackage.json").status_code == 404


def test_the_diagram_editors_are_served_from_their_npm_folders_and_nothing_beside_them(client):
    with client.get("/vendor/bpmn-js/dist/bpmn-modeler.production.min.js") as modeler:
        assert modeler.status_code == 200 and b"BpmnJS" in modeler.data
    with client.get("/vendor/bpmn-js/dist/assets/bpmn-font/css/bpmn.css") as font_css:
        assert font_css.status_code == 200
    with client.get("/vendor/dmn-js/dist/dmn-modeler.production.min.js") as decision_tables:
        assert decision_tables.status_code == 200
    assert client.get("/vendor/bpmn-js/package.json").status_code == 404  # beside dist/
    assert client.get("/vendor/bpmn-js/dist/../package.json").status_code == 404
    assert client.get("/vendor/bpmn-js/dist/..%2Fpackage.json").status_code == 404
    assert client.get("/vendor/diagram-js/lib/Diagram.js").status_code == 404  # a dependency, not listed


def test_the_language_chosen_before_signing_in_stays_through_sign_in_and_sign_out(client, session):
    """The language is the browser's choice: signing in starts a fresh session, but not in Swedish again."""
    user = f.user(session, f.unit(session, "Vårdcentralen Ekdalen"), Role.NURSE, given="Sara", family="Lind")
    session.commit()
    client.get("/login")
    client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": _csrf(client)})
    signed_in = client.post(
        "/login", data={"user_id": user.id, "csrf_token": _csrf(client)}, follow_redirects=True
    )
    assert '<html lang="en">' in signed_in.get_data(as_text=True)
    with client.session_transaction() as browser:
        assert browser["user_id"] == user.id
    signed_out = client.post("/logout", data={"csrf_token": _csrf(client)}, follow_redirects=True)
    assert '<html lang="en">' in signed_out.get_data(as_text=True)
    with client.session_transaction() as browser:
        assert "user_id" not in browser
