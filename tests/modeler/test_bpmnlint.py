"""bpmnlint (from npm) over every diagram in processes/, with the repository's .bpmnlintrc.

The rules that matter for execution are errors (start and end events, no disconnected elements, no
implicit splits, conditional flows, labels). A gateway that both joins and forks is only a warning:
SpiffWorkflow runs it correctly and the routines use it on purpose (a decision right after a merge).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import IN_CI, ROOT

BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"
DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn"))


@pytest.fixture(scope="module")
def bpmnlint() -> str:
    if not BPMNLINT.exists() or shutil.which("node") is None:
        message = "bpmnlint needs node and node_modules (npm ci; `make test` runs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return str(BPMNLINT)


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=[p.name for p in DIAGRAMS])
def test_bpmnlint_finds_no_errors_in_the_routines(bpmnlint, diagram):
    result = subprocess.run(
        [bpmnlint, "--config", str(ROOT / ".bpmnlintrc"), str(diagram)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bpmnlint_fails_on_a_diagram_with_a_duplicated_flow(bpmnlint, tmp_path):
    """The check can fail: a second flow between the same two elements is an error."""
    text = (ROOT / "processes" / "test_result_followup.bpmn").read_text(encoding="utf-8")
    start = next(line for line in text.splitlines() if "<bpmn:sequenceFlow " in line)
    ref = start.split('sourceRef="')[1].split('"')[0]
    target = start.split('targetRef="')[1].split('"')[0]
    extra = f'<bpmn:sequenceFlow id="Flow_extra_split" sourceRef="{ref}" targetRef="{target}" />'
    broken = tmp_path / "broken.bpmn"
    broken.write_text(text.replace("</bpmn:process>", extra + "</bpmn:process>", 1), encoding="utf-8")
    result = subprocess.run(
        [bpmnlint, "--config", str(ROOT / ".bpmnlintrc"), str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "no-duplicate-sequence-flows" in result.stdout
