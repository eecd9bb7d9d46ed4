"""Command-line interface beside the blueprints: `flask db`, `flask processes`, `flask demo`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.audit.service import Actor
from app.db import get_database
from app.instances.engine_setup import current_engine

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
processes_cli = AppGroup("processes", help="Deploy process models from processes/.")
demo_cli = AppGroup("demo", help="Demo data for development and browser tests.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL."""
    from app.migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    click.echo("database is at the newest schema")


@processes_cli.command("deploy")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Deploy even over a version published in the product.")
@click.option("--note", default="", help="Change note recorded with the new version.")
@click.option("--by", "deployed_by", default="cli", help="Who deploys (recorded in the audit trail).")
def processes_deploy(path: Path | None, force: bool, note: str, deployed_by: str) -> None:
    """Deploy PATH (a .bpmn file or a folder; default processes/): changed bundles become new versions."""
    from app.process_models.service import deploy_directory, deploy_file

    processes_dir = Path(current_app.config["PROCESSES_DIR"])
    forms_dir = Path(current_app.config["FORMS_DIR"])
    actor = Actor(label=f"cli:{deployed_by}")
    engine = current_engine()
    database = get_database()
    failed = False
    with database.transaction() as session:
        if path is not None and path.is_file():
            from app.engine import BundleInvalid
            from app.process_models.service import DeployResult

            try:
                results = [
                    deploy_file(
                        session,
                        engine,
                        path=path,
                        processes_dir=path.parent,
                        forms_dir=forms_dir,
                        actor=actor,
                        change_note=note,
                        force=force,
                    )
                ]
            except BundleInvalid as exc:
                results = [
                    DeployResult(
                        path.name, "refused", None, None, "\n".join(f"  - {f}" for f in exc.findings)
                    )
                ]
        else:
            results = deploy_directory(
                session,
                engine,
                processes_dir=path or processes_dir,
                forms_dir=forms_dir,
                actor=actor,
                force=force,
            )
        for result in results:
            label = f"{result.process_id} v{result.version}" if result.version else (result.process_id or "")
            click.echo(f"{result.status:>9}  {result.file}  {label}  {result.message}".rstrip())
            failed = failed or result.status == "refused"
    if failed:
        sys.exit(1)


@processes_cli.command("layout")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--missing-only", is_flag=True, help="Leave diagrams that already carry layout untouched.")
def processes_layout(paths: tuple[Path, ...], missing_only: bool) -> None:
    """Write diagram layout (DI) into PATHS (default: every .bpmn in processes/) so bpmn-js can draw them.

    An existing layout is replaced: run it after generating or hand-editing a diagram's XML, not after
    arranging it in the modeller."""
    from app.process_models.layout import has_layout, layout_bpmn

    files = list(paths) or sorted(Path(current_app.config["PROCESSES_DIR"]).glob("*.bpmn"))
    for file in files:
        xml = file.read_bytes()
        if missing_only and has_layout(xml):
            click.echo(f"     kept  {file.name}")
            continue
        file.write_text(layout_bpmn(xml), encoding="utf-8")
        click.echo(f"  laid out  {file.name}")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create the demo regions, units, staff, schedules and patients, then a few cases (idempotent)."""
    from app.demo.cases import DemoCasesNotMade, seed_demo_cases
    from app.demo.seed import seed_demo

    database = get_database()
    with database.transaction() as session:
        summary = seed_demo(session)
    click.echo(summary)
    try:
        made = seed_demo_cases(
            database,
            current_app.extensions["engine"],
            processes_dir=Path(current_app.config["PROCESSES_DIR"]),
            forms_dir=Path(current_app.config["FORMS_DIR"]),
        )
        click.echo(made)
    except DemoCasesNotMade as exc:
        click.echo(f"demo cases: not made: {exc}")


def init_app(app: Flask) -> None:
    from app.api.cli import api_cli
    from app.modeler.cli import process_models_cli
    from app.notifications.cli import notifications_cli
    from app.timers.cli import timers_cli

    app.cli.add_command(timers_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(processes_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(api_cli)
    app.cli.add_command(process_models_cli)
