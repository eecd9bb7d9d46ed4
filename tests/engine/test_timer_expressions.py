"""Timer expressions SpiffWorkflow could not parse are refused before deploy, not in every instance.

A timer's value is parsed only when an instance reaches the timer; a value SpiffWorkflow refuses
(`"two hours"`, an unquoted PT2H) would fail every instance there. The checks run at draft save,
publish and `flask processes deploy`; timers built from task data and calendar functions still pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.engine import Bundle, BundleInvalid, collect_bundle, parse_xml, validate_bundle
from app.engine.timer_expressions import timer_findings, value_problem
from app.errors import ValidationFailed
from app.instances.guards import known_guards
from app.people.roles import Role
from app.process_models.drafts import save_draft
from app.process_models.models import ProcessVersion, VersionStatus
from app.process_models.publishing import publish_draft
from tasks.registry import registered_operators
from tests.factories import FIXTURES
from tests.modeler.conftest import FORMS_DIR, ROOT, SIMPLE

TIMER = '<bpmn:timeDuration>"PT2H"</bpmn:timeDuration>'


def _with_timer(expression: str, tag: str = "timeDuration") -> str:
    assert TIMER in SIMPLE
    return SIMPLE.replace(TIMER, f"<bpmn:{tag}>{expression}</bpmn:{tag}>")


def _bundle(bpmn: str) -> Bundle:
    bundle = collect_bundle(FIXTURES / "bpmn" / "simple_case.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    return Bundle(
        bundle.process_id, bundle.entry_file, {**bundle.documents, bundle.entry_file: bpmn}, bundle.forms
    )


def _timer_findings(bpmn: str) -> list[tuple[str | None, str]]:
    try:
        validate_bundle(
            _bundle(bpmn),
            operators=registered_operators().keys(),
            roles=[r.value for r in Role],
            guards=known_guards(),
        )
    except BundleInvalid as exc:
        return [(f.element_id, f.message) for f in exc.findings if f.code == "timer_expression"]
    return []


def test_a_timer_in_words_is_refused_naming_the_element_and_the_expression():
    [(element_id, message)] = _timer_findings(_with_timer('"two hours"'))
    assert element_id == "Timer_remind"
    assert "timeDuration '\"two hours\"'" in message and "not an ISO 8601 duration" in message


def test_an_unquoted_iso_duration_asks_for_quotes():
    [(element_id, message)] = _timer_findings(_with_timer("PT2H"))
    assert element_id == "Timer_remind"
    assert "quote the ISO 8601 duration: 'PT2H'" in message


def test_an_unquoted_duration_inside_a_larger_expression_asks_for_quotes_too():
    [(_, message)] = _timer_findings(_with_timer("P1D if urgent else P7D"))
    assert "quote the ISO 8601 duration: 'P1D'" in message


@pytest.mark.parametrize(
    ("tag", "expression"),
    [
        ("timeDuration", "'PT2H'"),
        ("timeDuration", '"P1DT12H"'),
        ("timeDuration", "'PT' + '90M'"),
        ("timeDate", "'2026-03-02T08:00:00+01:00'"),
        ("timeCycle", "'R3/PT1H'"),
        # The value depends on task data or the product's calendar functions: not guessed at.
        ("timeDuration", "reminder_after"),
        ("timeDate", "iso(add_working_hours(unit_id, now(), 6))"),
        ("timeDate", "iso(closing_time(unit_id, day) - duration_hours(0.25))"),
        ("timeDate", "closing['reopen_until'] or iso(now())"),
    ],
)
def test_valid_and_data_dependent_timer_expressions_pass(tag, expression):
    assert _timer_findings(_with_timer(expression, tag)) == []


@pytest.mark.parametrize(
    ("tag", "expression", "says"),
    [
        ("timeDuration", "7200", "gives int '7200'"),
        ("timeDuration", "'2 h'", "not an ISO 8601 duration"),
        ("timeDate", "'PT2H'", "a duration belongs in timeDuration"),
        ("timeDate", "'tomorrow morning'", "not an ISO 8601 date and time"),
        ("timeDate", "20260302", "gives int '20260302'"),
        ("timeCycle", "'every hour'", "not an ISO 8601 repetition"),
        ("timeCycle", "R3/PT1H", "quote the ISO 8601 duration: 'R3/PT1H'"),
    ],
)
def test_timer_values_spiffworkflow_would_refuse_are_findings(tag, expression, says):
    [(_, message)] = _timer_findings(_with_timer(expression, tag))
    assert message.startswith(f"{tag} ") and says in message


def test_value_problem_uses_spiffworkflows_own_parsers():
    assert value_problem("timeDuration", "PT2H") is None
    # SpiffWorkflow would count these out month by month for hours before it overflowed.
    assert "past the year 9999" in value_problem("timeDuration", "P99999999999Y")
    assert "past the year 9999" in value_problem("timeCycle", "R2/P99999999999M")
    assert value_problem("timeDuration", "P100Y") is None
    assert value_problem("timeDate", "2026-W10-1") is None
    assert value_problem("timeCycle", "R/PT1H/PT2H") is not None


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_the_products_timers_pass(path: Path):
    root = parse_xml(path.read_text(encoding="utf-8"), path.name)
    assert timer_findings(root, path.name) == []


# --- through save, publish and deploy ---------------------------------------------------------


def test_a_draft_with_a_timer_in_words_shows_the_finding_and_cannot_be_published(
    session, engine, owners, draft
):
    saved, findings = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=FORMS_DIR,
        bpmn=_with_timer('"two hours"'),
    )
    session.commit()
    assert [(f.element_id, f.severity) for f in findings if f.code == "timer_expression"] == [
        ("Timer_remind", "error")
    ]
    with pytest.raises(ValidationFailed) as refused:
        publish_draft(
            session,
            engine,
            actor=owners.owner,
            process_id="simple_case",
            number=saved.number,
            expected_hash=saved.bundle_hash,
            approver_user_id=owners.head_id,
            change_note="Påminnelse",
            effective_from=saved.deployed_at,
        )
    assert any("two hours" in m for m in refused.value.field_errors["findings"])
    assert session.get(ProcessVersion, draft.id).status == VersionStatus.DRAFT


def test_the_deploy_command_refuses_a_timer_it_could_not_run(app, session, tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(FIXTURES / "bpmn", processes)
    (processes / "simple_case.bpmn").write_text(_with_timer("PT2H"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["processes", "deploy", str(processes / "simple_case.bpmn")])
    assert result.exit_code == 1, result.output
    assert "Timer_remind" in result.output and "quote the ISO 8601 duration: 'PT2H'" in result.output
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 0
