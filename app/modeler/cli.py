"""`flask process-models export`: write a version back into processes/ and forms/ (registered in app/cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit.service import Actor
from app.db import get_database

process_models_cli = AppGroup(
    "process-models", help="Process models published in the product: export them as files."
)


@process_models_cli.command("export")
@click.argument("process_id")
@click.option(
    "--version", "number", type=int, default=None, help="Version number (default: the newest published)."
)
@click.option(
    "--processes-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Default: PROCESSES_DIR.",
)
@click.option(
    "--forms-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default: FORMS_DIR."
)
@click.option("--by", "exported_by", default="cli", help="Who exports (recorded in the audit trail).")
def export(
    process_id: str, number: int | None, processes_dir: Path | None, forms_dir: Path | None, exported_by: str
) -> None:
    """Write PROCESS_ID's diagrams, decision tables and forms into processes/ and forms/ (for git)."""
    from app.process_models.transfer import export_to_directories

    processes_dir = processes_dir or Path(current_app.config["PROCESSES_DIR"])
    forms_dir = forms_dir or Path(current_app.config["FORMS_DIR"])
    with get_database().transaction() as session:
        written = export_to_directories(
            session,
            actor=Actor(label=f"cli:{exported_by}"),
            process_id=process_id,
            number=number,
            processes_dir=processes_dir,
            forms_dir=forms_dir,
        )
    for path in written:
        click.echo(f"wrote {path}")
