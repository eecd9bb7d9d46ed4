"""A throwaway database and app for benchmarks (SQLite file, or PostgreSQL at TEST_DATABASE_URL)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from app import create_app
from app.audit.service import Actor
from app.migrate import upgrade
from app.people.models import Membership, OpeningHours, Region, Unit, UnitKind, User
from app.people.roles import Role
from app.people.service import actor_for, sign_in
from app.process_models.service import deploy_file

BENCH_DIR = Path(__file__).resolve().parent


def make_app(url: str | None = None):
    """A migrated, empty database and an app on it; SQLite in a temp dir unless `url` is given."""
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='vardflode-bench-')}/bench.db"
    else:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return create_app({"DATABASE_URL": url, "PROCESSES_DIR": str(BENCH_DIR), "FORMS_DIR": str(BENCH_DIR)})


def bench_world(app, diagram: str = "chat_case_bench.bpmn"):
    """Deploy the benchmark diagram; a unit with a nurse and a doctor signed in. Returns actors."""
    from datetime import time, timedelta

    from app import clock

    database = app.extensions["database"]
    engine = app.extensions["engine"]
    with database.transaction() as session:
        deploy_file(
            session,
            engine,
            path=BENCH_DIR / diagram,
            processes_dir=BENCH_DIR,
            forms_dir=BENCH_DIR,
            actor=Actor(label="bench"),
        )
        region = Region(code="BX", name="Benchregion", policies={})
        session.add(region)
        session.flush()
        unit = Unit(
            region_id=region.id,
            name="Bench VC",
            kind=UnitKind.CARE_CENTRE,
            activated=True,
            functions=[],
            settings={},
        )
        session.add(unit)
        session.flush()
        for weekday in range(7):
            session.add(OpeningHours(unit_id=unit.id, weekday=weekday, opens=time(0), closes=time(23, 59)))
        actors = {}
        for username, role in (("nurse", Role.NURSE), ("doctor", Role.DOCTOR)):
            user = User(
                username=username,
                given_name="Bench",
                family_name=username,
                created_at=clock.now(),
                active=True,
            )
            session.add(user)
            session.flush()
            session.add(
                Membership(
                    user_id=user.id, unit_id=unit.id, role=role, valid_from=clock.now() - timedelta(days=1)
                )
            )
            session.flush()
            sign_in(session, user=user, unit_id=unit.id)
            actors[role] = actor_for(session, user, unit.id)
        unit_id = unit.id
    return unit_id, actors
