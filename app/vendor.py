"""Front-end libraries from npm (`npm ci` puts them in node_modules/), served by path.

Only the files and folders listed here are served: node_modules holds far more than the browser
should see (build scripts, READMEs, whole dependency trees). Folders are listed whole where a
stylesheet loads its fonts by relative path (bpmn-js, dmn-js).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

# Short names kept for the pages that already use them.
FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
}

# Served folders (relative to node_modules), e.g. /vendor/bpmn-js/dist/bpmn-modeler.production.min.js
FOLDERS = (
    "htmx.org/dist/",
    "bpmn-js/dist/",
    "dmn-js/dist/",
)

bp = Blueprint("vendor", __name__)


@bp.get("/vendor/<path:name>")
def asset(name: str):
    relative = FILES.get(name) or (name if _in_served_folder(name) else None)
    if relative is None or not (NODE_MODULES / relative).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, relative, max_age=3600)


def _in_served_folder(name: str) -> bool:
    parts = Path(name).parts
    return ".." not in parts and any(name.startswith(folder) for folder in FOLDERS)
