"""Languages of the user interface: Swedish by default, English available.

Source texts are Swedish (the language of the routines, the guideline and the users); English
catalogs translate them. Each area with pages keeps its own catalog beside its code
(`app/translations/` for the shell, `app/<package>/translations/` for a package with pages), all
compiled by `make` and merged at run time. A user's
choice is kept in their session; without one, Swedish. Domain code marks user-facing texts with
`lazy_gettext`, which reads the request's language when shown and the Swedish text elsewhere
(workers, the audit trail).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session, url_for
from flask_babel import Babel, LazyString, get_locale
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

LANGUAGES = {"sv": "Svenska", "en": "English"}
DEFAULT_LANGUAGE = "sv"

bp = Blueprint("i18n", __name__)


def select_language() -> str:
    if not has_request_context():  # a worker or the CLI: the routines' own language
        return DEFAULT_LANGUAGE
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def clear_session() -> None:
    """End whatever the session held (an identity, a form's state) but the chosen language: it is
    the browser's preference, not the user's, and a sign-in or sign-out must not switch it back."""
    language = session.get("lang")
    session.clear()
    if language in LANGUAGES:
        session["lang"] = language


@bp.post("/language")
def choose_language():
    """Switch the interface language and return to the page the user was on."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    back = request.form.get("next") or ""
    # Only a path on this site: never an open redirect.
    return redirect(back if back.startswith("/") and not back.startswith("//") else url_for("worklist.index"))


def return_path() -> str:
    """Where the language switch leads back to: this page, or, on a page answering a refused form
    (a POST to an action URL such as /cases/7/receive), the page that form was on. Redirecting to
    the action URL itself would GET a POST-only route and end on an error page."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    if _answers_get(request.path):
        return request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and _answers_get(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    parts = request.path.rstrip("/").split("/")
    while len(parts) > 1:  # /cases/7/receive → /cases/7 → /cases
        parts.pop()
        if _answers_get("/".join(parts) or "/"):
            return "/".join(parts) or "/"
    return "/"


def _answers_get(path: str) -> bool:
    adapter = current_app.url_map.bind(request.host, script_name=request.script_root or None)
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def text_lang(text) -> str | None:
    """The language to mark a service's text with on this page: none when the service marked it for
    translation (it reads in the page's language), else its Swedish, when the page is not Swedish."""
    if isinstance(text, LazyString) or str(get_locale() or DEFAULT_LANGUAGE) == DEFAULT_LANGUAGE:
        return None
    return DEFAULT_LANGUAGE


def catalog_directories() -> list[Path]:
    """Every translations/ folder of the app: the shell's first, then each package's."""
    root = Path(__file__).resolve().parent
    return [root / "translations", *sorted(root.glob("*/translations"))]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(str(d) for d in catalog_directories()))
    Babel(app, locale_selector=select_language)
    app.register_blueprint(bp)

    @app.context_processor
    def _language_globals():
        return {
            "languages": LANGUAGES,
            "current_language": str(get_locale() or DEFAULT_LANGUAGE),
            "language_return_path": return_path,
            "text_lang": text_lang,
        }
