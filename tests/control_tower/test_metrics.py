"""/metrics in the Prometheus text format: what it exposes, and who may read it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cases import handling
from app.instances.models import Incident, ProcessInstance
from app.people.roles import Role
from tests.conftest import make_app
from tests.control_tower.conftest import start


def _value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, flags=re.M)
    assert match, f"{series} missing in\n{text}"
    return float(match.group(1))


def test_metrics_expose_open_cases_by_priority_overdue_timers_incidents_and_request_latency(
    world, client, clock, engine
):
    unit = world.units["og"]
    case = world.submit("adult")
    nurse = start(world, case, "nurse")
    handling.hand_over(
        world.session, engine, actor=nurse, case_id=case.id, role=Role.DOCTOR.value
    )  # a one-day consent timer
    world.session.commit()
    world.submit("other")
    instance = world.session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
    world.session.add(
        Incident(
            instance_id=instance.id,
            error_type="SmsDown",
            message="SMS-tjänsten svarar inte",
            created_at=clock.now(),
            source="step",
        )
    )
    world.session.commit()
    first = client.get("/metrics")
    assert first.status_code == 200 and first.mimetype == "text/plain"
    text = first.get_data(as_text=True)
    assert _value(text, f'vardflode_open_cases{{unit_id="{unit.id}",priority="3"}}') == 2
    assert _value(text, 'vardflode_timers_overdue{kind="bpmn"}') == 0
    assert _value(text, 'vardflode_incidents_open{source="step"}') == 1
    assert _value(text, 'vardflode_incidents_open{source="timer"}') == 0
    clock.advance(days=1, minutes=10)
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, 'vardflode_timers_overdue{kind="bpmn"}') == 1
    assert _value(text, 'vardflode_timer_lateness_seconds{kind="bpmn"}') == pytest.approx(
        timedelta(minutes=10).total_seconds(), abs=120
    )
    assert "# TYPE vardflode_http_request_duration_seconds histogram" in text
    count = re.search(
        r'^vardflode_http_request_duration_seconds_count\{method="GET",endpoint="control_tower.metrics",pid="\d+"\} (\d+)$',
        text,
        flags=re.M,
    )
    assert count and int(count.group(1)) >= 1  # the first scrape was timed
    assert re.search(
        r'_bucket\{method="GET",endpoint="control_tower.metrics",pid="\d+",le="\+Inf"\} \d+', text
    )


def test_metrics_without_a_token_answer_only_the_machine_itself(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403


def test_metrics_with_a_token_require_it_from_everyone(db_url, clock):
    app = make_app(db_url, clock, METRICS_TOKEN="s3cret-scrape")
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 403  # loopback is not enough once a token is set
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        good = client.get(
            "/metrics",
            headers={"Authorization": "Bearer s3cret-scrape"},
            environ_base={"REMOTE_ADDR": "10.1.2.3"},
        )
        assert good.status_code == 200 and "vardflode_incidents_open" in good.get_data(as_text=True)
    finally:
        app.extensions["database"].dispose()
