"""The package's shape: what BPMN expressions see, and that it stays free of Flask and SQLAlchemy."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import app.calendar as calendar_api
from app.calendar import EXPRESSION_FUNCTIONS

PACKAGE = Path(calendar_api.__file__).parent


def test_every_expression_function_has_a_one_line_docstring_for_the_function_reference():
    assert {
        "is_open",
        "next_opening",
        "add_working_hours",
        "working_hours_between",
        "first_open_weekday",
    } <= set(EXPRESSION_FUNCTIONS)
    for name, function in EXPRESSION_FUNCTIONS.items():
        doc = inspect.getdoc(function)
        assert doc and "\n" not in doc, name


def test_every_public_name_is_exported_and_documented():
    for name in calendar_api.__all__:
        obj = getattr(calendar_api, name)
        if callable(obj) and not isinstance(obj, dict):
            assert inspect.getdoc(obj), name


def test_the_calendar_imports_only_the_standard_library_holidays_and_itself():
    """The app layer loads data into it; the package itself knows nothing of Flask or SQLAlchemy."""
    allowed_roots = set(sys.stdlib_module_names) | {"holidays", "__future__"}
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed_roots or name.startswith("app.calendar"), (
                    f"{path.name}: {name}"
                )
