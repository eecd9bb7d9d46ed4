"""`flask api ...`: bearer tokens and service accounts from the command line (for administrators).

Registered by the application's CLI set-up: `app.cli.add_command(api_cli)`.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import clock
from app.api.models import TokenKind
from app.api.tokens import (
    DEFAULT_DAYS,
    create_service_account,
    find_patient,
    find_unit,
    find_user,
    issue_token,
    revoke_token,
    tokens_of,
)
from app.audit.service import Actor
from app.db import get_database
from app.errors import DomainError

api_cli = AppGroup("api", help="The JSON API: bearer tokens and service accounts.")
token_cli = AppGroup("token", help="Create, list and revoke bearer tokens.")
account_cli = AppGroup("service-account", help="Users for systems that call the API.")
api_cli.add_command(token_cli)
api_cli.add_command(account_cli)


def _actor(by: str) -> Actor:
    return Actor(label=f"cli:{by}")


@token_cli.command("create")
@click.option("--user", "username", help="Staff or service-account username (with --unit).")
@click.option("--unit", help="The unit the token acts for: its id or exact name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="Service account: a role it acts with (repeat for several); must be one of the user's roles at the unit.",
)
@click.option("--patient", help="A resident token: the patient's identity number.")
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--days",
    default=DEFAULT_DAYS,
    show_default=True,
    type=click.IntRange(1, 365),
    help="Days until it expires.",
)
@click.option("--by", "created_by", default="cli", help="Who creates it (recorded in the audit trail).")
def token_create(
    username: str | None,
    unit: str | None,
    roles: tuple[str, ...],
    patient: str | None,
    name: str,
    days: int,
    created_by: str,
) -> None:
    """Create a token and print it (once: only its hash is stored)."""
    if bool(patient) == bool(username):
        raise click.UsageError("give either --user with --unit, or --patient")
    if username and not unit:
        raise click.UsageError("--user needs --unit")
    try:
        with get_database().transaction() as session:
            if patient:
                person = find_patient(session, patient)
                token, raw = issue_token(
                    session,
                    actor=_actor(created_by),
                    kind=TokenKind.RESIDENT,
                    name=name or f"cli: {person.display_name}",
                    patient_id=person.id,
                    days=days,
                )
            else:
                user, place = find_user(session, username), find_unit(session, unit)
                kind = TokenKind.SERVICE if roles else TokenKind.USER
                token, raw = issue_token(
                    session,
                    actor=_actor(created_by),
                    kind=kind,
                    name=name or f"cli: {user.username}",
                    user_id=user.id,
                    unit_id=place.id,
                    roles=list(roles) or None,
                    days=days,
                )
            summary = f"token {token.id} ({token.kind.value}), expires {token.expires_at.isoformat()}"
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(summary, err=True)
    click.echo(raw)


@token_cli.command("revoke")
@click.argument("token_id", type=int)
@click.option("--by", "revoked_by", default="cli", help="Who revokes it (recorded in the audit trail).")
def token_revoke(token_id: int, revoked_by: str) -> None:
    """Revoke token TOKEN_ID (see `flask api token list`)."""
    from app.api.models import ApiToken

    with get_database().transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        revoke_token(session, actor=_actor(revoked_by), token=token)
    click.echo(f"token {token_id} revoked")


@token_cli.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
@click.option("--patient", help="Only this patient's tokens.")
def token_list(username: str | None, patient: str | None) -> None:
    """List tokens (never the tokens themselves): id, kind, hint, owner, unit, roles, expiry, last use, state."""
    try:
        with get_database().transaction() as session:
            user_id = find_user(session, username).id if username else None
            patient_id = find_patient(session, patient).id if patient else None
            now = clock.now()
            lines = []
            for t in tokens_of(session, user_id=user_id, patient_id=patient_id):
                state = "revoked" if t.revoked_at else ("expired" if t.expires_at <= now else "active")
                owner = f"user {t.user_id} unit {t.unit_id}" if t.user_id else f"patient {t.patient_id}"
                roles = ",".join(t.roles or []) or "-"
                used = t.last_used_at.isoformat() if t.last_used_at else "never"
                lines.append(
                    f"{t.id}\t{t.kind.value}\t{t.hint}…\t{owner}\t{roles}\texpires {t.expires_at.isoformat()}\tused {used}\t{state}\t{t.name}"
                )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo("\n".join(lines) if lines else "no tokens")


@account_cli.command("create")
@click.argument("username")
@click.option("--unit", required=True, help="The unit it acts for: its id or exact name.")
@click.option(
    "--role", "roles", multiple=True, required=True, help="A role it acts with (repeat for several)."
)
@click.option("--name", "display_name", default="", help="A readable name (default: the username).")
@click.option("--by", "created_by", default="cli", help="Who creates it (recorded in the audit trail).")
def account_create(
    username: str, unit: str, roles: tuple[str, ...], display_name: str, created_by: str
) -> None:
    """Create a service account USERNAME at a unit with roles; then give it a token with
    `flask api token create --user USERNAME --unit UNIT --role ROLE`."""
    try:
        with get_database().transaction() as session:
            place = find_unit(session, unit)
            user = create_service_account(
                session,
                actor=_actor(created_by),
                username=username,
                display_name=display_name or username,
                unit_id=place.id,
                roles=list(roles),
            )
            created = f"service account {user.username} (user {user.id}) at {place.name}: {', '.join(roles)}"
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(getattr(error, "message", error))) from error
    click.echo(created)
