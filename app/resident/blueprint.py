"""The resident blueprint: its own templates and static files (CSS, a small focus script)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "resident",
    __name__,
    url_prefix="/resident",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/resident",
)
