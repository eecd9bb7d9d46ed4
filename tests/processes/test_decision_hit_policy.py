"""The routing tables declare what they mean: FIRST where the order of rows decides (OG-3,
HA-after-hours), and a UNIQUE table whose rows overlap fails loudly instead of taking the first match."""

from __future__ import annotations

import re
from pathlib import Path

from app.engine import ProcessEngine
from app.engine.bundle import Bundle
from app.engine.specs import parse_bundle

ROOT = Path(__file__).resolve().parents[2]
DMN = (ROOT / "processes" / "after_hours_referral.dmn").read_text(encoding="utf-8")

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_route" targetNamespace="http://vardflode.se/bpmn">
  <bpmn:process id="route_only" isExecutable="true">
    <bpmn:startEvent id="Start_route"><bpmn:outgoing>Flow_a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="Decide"><bpmn:extensionElements><spiffworkflow:calledDecisionId>after_hours_referral</spiffworkflow:calledDecisionId></bpmn:extensionElements><bpmn:incoming>Flow_a</bpmn:incoming><bpmn:outgoing>Flow_b</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:endEvent id="End_route"><bpmn:incoming>Flow_b</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_a" sourceRef="Start_route" targetRef="Decide"/>
    <bpmn:sequenceFlow id="Flow_b" sourceRef="Decide" targetRef="End_route"/>
  </bpmn:process>
</bpmn:definitions>"""


def _rest_row_first(dmn: str) -> str:
    """The table with its catch-all row moved to the top, as a process owner might drag it in the editor."""
    rest = re.search(r"      <rule id=\"Rule_rest\">.*?</rule>\n", dmn, flags=re.S).group(0)
    without = dmn.replace(rest, "")
    first = without.index('      <rule id="Rule_open">')
    return without[:first] + rest + without[first:]


def _decide(dmn: str, **data):
    engine = ProcessEngine(operators={}, script_globals={"is_open": lambda unit_id: False})
    loaded = parse_bundle(Bundle("route_only", "route.bpmn", {"route.bpmn": BPMN, "table.dmn": dmn}))
    handle = engine.start(loaded, {"unit_id": 1, "send_anyway": False, **data})
    incident = handle.advance()
    return incident, handle.data


def test_OG_3_HA_after_hours_the_routing_tables_declare_hit_policy_first():
    """OG-3: the tables' rows overlap and end in a catch-all row: their order decides, said as FIRST."""
    for name in ("after_hours_referral.dmn", "queue_role.dmn"):
        text = (ROOT / "processes" / name).read_text(encoding="utf-8")
        assert 'hitPolicy="FIRST"' in text and 'hitPolicy="UNIQUE"' not in text


def test_OG_3_a_first_table_routes_priority_one_after_hours_to_112():
    """OG-3 / HA-after-hours: priority 1 after closing is told to call 112 (the first matching row)."""
    incident, data = _decide(DMN, priority=1)
    assert incident is None and data["referral"] == "call_112"


def test_OG_3_a_reordered_first_table_behaves_by_its_order():
    """OG-3: FIRST means order: with the catch-all row dragged to the top, every case matches it first."""
    incident, data = _decide(_rest_row_first(DMN), priority=1)
    assert incident is None and data["referral"] == "next_day"


def test_OG_3_HA_after_hours_an_overlapping_unique_table_fails_loudly_naming_the_rows():
    """OG-3: declared UNIQUE, the same overlapping table is an incident naming the rows, not a silent first match."""
    unique = DMN.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"')
    incident, _ = _decide(unique, priority=1)
    assert incident is not None and incident.element_id == "Decide"
    assert "Rule_p1" in incident.message and "Rule_rest" in incident.message
    assert "UNIQUE" in incident.message


def test_OG_3_a_unique_table_with_exactly_one_matching_row_still_decides():
    """A UNIQUE table whose rows are exclusive for the input decides as before."""
    unique = DMN.replace('hitPolicy="FIRST"', 'hitPolicy="UNIQUE"')
    exclusive = re.sub(r"      <rule id=\"Rule_rest\">.*?</rule>\n", "", unique, flags=re.S)
    incident, data = _decide(exclusive, priority=2)
    assert incident is None and data["referral"] == "call_1177"
