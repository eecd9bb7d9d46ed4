"""The casework blueprint: the clinician's case page, its actions, and documentation support."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "casework",
    __name__,
    url_prefix="/cases",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/casework",
)
