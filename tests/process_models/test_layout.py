"""Diagram layout (BPMN DI) for semantic BPMN: complete, tidy, idempotent, and semantics untouched."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from app.engine.bundle import executable_process_ids
from app.engine.xml import UnsafeXml, parse_xml
from app.process_models.layout import BPMNDI_NS, DC_NS, DI_NS, has_layout, layout_bpmn

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "tests" / "fixtures" / "layout"
PRODUCT_DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn"))
DIAGRAMS = (
    sorted((ROOT / "tests" / "fixtures" / "bpmn").glob("*.bpmn"))
    + sorted((ROOT / "bench").glob("*.bpmn"))
    + PRODUCT_DIAGRAMS
)
ALL = DIAGRAMS + sorted(LAYOUT.glob("*.bpmn"))
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess",
}  # fmt: skip
FLOW_NODES = EVENTS | GATEWAYS | ACTIVITIES


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom
        )


@dataclass
class Plane:
    element: str  # what the plane shows: a collaboration, a process or a subprocess
    shapes: dict[str, Box]
    edges: dict[str, list[tuple[float, float]]]
    attributes: dict[str, dict[str, str]]  # BPMNShape attributes by element


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def bounds(element: etree._Element) -> Box:
    b = element.find("dc:Bounds", NS)
    return Box(*(float(b.get(k)) for k in ("x", "y", "width", "height")))


def planes(root: etree._Element) -> dict[str, Plane]:
    """Every plane of the document by the id of the container whose flow elements it draws."""
    result: dict[str, Plane] = {}
    for plane in root.iterfind("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS):
        shapes = {s.get("bpmnElement"): bounds(s) for s in plane.iterfind("bpmndi:BPMNShape", NS)}
        edges = {
            e.get("bpmnElement"): [
                (float(p.get("x")), float(p.get("y"))) for p in e.iterfind("di:waypoint", NS)
            ]
            for e in plane.iterfind("bpmndi:BPMNEdge", NS)
        }
        attributes = {s.get("bpmnElement"): dict(s.attrib) for s in plane.iterfind("bpmndi:BPMNShape", NS)}
        drawn = Plane(plane.get("bpmnElement"), shapes, edges, attributes)
        owner = root.find(f".//*[@id='{drawn.element}']")
        for participant in owner.iterfind("bpmn:participant", NS) if local(owner) == "collaboration" else []:
            result[participant.get("processRef")] = drawn
        result[drawn.element] = drawn
    return result


def containers(root: etree._Element):
    """Every executable process and every subprocess inside one."""
    for pid in executable_process_ids(root):
        process = root.find(f"bpmn:process[@id='{pid}']", NS)
        yield process
        yield from (el for el in process.iter() if local(el) == "subProcess")


def children(container: etree._Element, kinds: set[str]) -> list[etree._Element]:
    return [el for el in container if local(el) in kinds]


def laid_out(path: Path) -> tuple[str, etree._Element]:
    text = layout_bpmn(path.read_bytes())
    return text, parse_xml(text)


def on_left_side(point, box: Box) -> bool:
    return point[0] == box.x and box.y <= point[1] <= box.bottom


def hosts_of(container: etree._Element) -> dict[str, str]:
    return {b.get("id"): b.get("attachedToRef") for b in children(container, {"boundaryEvent"})}


@pytest.fixture(params=ALL, ids=lambda p: p.name)
def diagram(request) -> Path:
    return request.param


# --- completeness and geometry -----------------------------------------------------------------


def test_every_lane_flow_node_and_sequence_flow_is_drawn(diagram):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane = drawn[container.get("id")]
        for node in children(container, FLOW_NODES):
            assert node.get("id") in plane.shapes, f"{diagram.name}: no shape for {node.get('id')}"
        for flow in children(container, {"sequenceFlow"}):
            assert flow.get("id") in plane.edges, f"{diagram.name}: no edge for {flow.get('id')}"
        for lane in container.iter(f"{{{BPMN_NS}}}lane"):
            assert plane.attributes[lane.get("id")]["isHorizontal"] == "true"
    assert has_layout(etree.tostring(root))


def test_edges_are_orthogonal_from_the_sources_right_side_or_a_boundary_events_bottom_to_the_targets_left(
    diagram,
):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane, hosts = drawn[container.get("id")], hosts_of(container)
        for flow in children(container, {"sequenceFlow"}):
            points = plane.edges[flow.get("id")]
            source, target = plane.shapes[flow.get("sourceRef")], plane.shapes[flow.get("targetRef")]
            assert len(points) >= 2
            for (x1, y1), (x2, y2) in itertools.pairwise(points):
                assert x1 == x2 or y1 == y2, f"{flow.get('id')} has a slanted segment"
            if flow.get("sourceRef") in hosts:
                assert points[0] == (source.x + source.w / 2, source.bottom)
            else:
                assert points[0] == (source.right, source.y + source.h / 2)
            assert on_left_side(points[-1], target), (
                f"{flow.get('id')} does not end on its target's left side"
            )


def passes_through(points: list[tuple[float, float]], box: Box) -> bool:
    """Whether an orthogonal polyline runs through the inside of a box (touching its border is fine)."""
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if x1 == x2 and box.x < x1 < box.right and min(y1, y2) < box.bottom and box.y < max(y1, y2):
            return True
        if y1 == y2 and box.y < y1 < box.bottom and min(x1, x2) < box.right and box.x < max(x1, x2):
            return True
    return False


def test_edges_never_pass_through_a_shape(diagram):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane = drawn[container.get("id")]
        nodes = {n.get("id") for n in children(container, FLOW_NODES)}
        for flow in children(container, {"sequenceFlow"}):
            for node in nodes - {flow.get("sourceRef"), flow.get("targetRef")}:
                assert not passes_through(plane.edges[flow.get("id")], plane.shapes[node]), (
                    f"{flow.get('id')} passes through {node}"
                )


def test_shapes_do_not_overlap_except_boundary_events_on_their_host(diagram):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane, hosts = drawn[container.get("id")], hosts_of(container)
        nodes = [n.get("id") for n in children(container, FLOW_NODES)]
        for a, b in itertools.combinations(nodes, 2):
            if hosts.get(a) == b or hosts.get(b) == a:
                continue
            assert not plane.shapes[a].overlaps(plane.shapes[b]), f"{a} overlaps {b}"


def test_shapes_lie_in_their_lanes_band_and_lanes_in_the_pool(diagram):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane, hosts = drawn[container.get("id")], hosts_of(container)
        lanes = list(container.iter(f"{{{BPMN_NS}}}lane"))
        participant = root.find(
            f"bpmn:collaboration/bpmn:participant[@processRef='{container.get('id')}']", NS
        )
        for lane in lanes:
            assert plane.shapes[participant.get("id")].contains(plane.shapes[lane.get("id")])
            refs = {ref.text.strip() for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
            for node in refs:
                if hosts.get(node, node) not in refs:
                    continue  # a boundary event sits on its host, wherever that is
                assert plane.shapes[lane.get("id")].contains(plane.shapes[node]), (
                    f"{node} is outside the lane"
                )
        if lanes:  # nodes in no lane still lie in some lane's band
            for node in children(container, FLOW_NODES):
                assert any(
                    plane.shapes[lane.get("id")].contains(plane.shapes[node.get("id")]) for lane in lanes
                )


def test_lanes_are_horizontal_bands_in_document_order_sized_to_their_content():
    _, root = laid_out(ROOT / "tests" / "fixtures" / "bpmn" / "simple_case.bpmn")
    plane = planes(root)["simple_case"]
    nurse, doctor = plane.shapes["Lane_nurse"], plane.shapes["Lane_doctor"]
    assert nurse.bottom == doctor.y and nurse.x == doctor.x and nurse.right == doctor.right
    assert nurse.h > doctor.h  # the boundary timer's path takes a second row in the nurse's band


def test_boundary_events_sit_on_the_bottom_edge_of_their_host(diagram):
    _, root = laid_out(diagram)
    drawn = planes(root)
    for container in containers(root):
        plane = drawn[container.get("id")]
        for boundary, host in hosts_of(container).items():
            b, h = plane.shapes[boundary], plane.shapes[host]
            assert b.y + b.h / 2 == h.bottom and h.x <= b.x + b.w / 2 <= h.right


def test_shape_sizes_and_markers_follow_bpmn_js_conventions():
    _, root = laid_out(LAYOUT / "two_lanes.bpmn")
    drawn = planes(root)
    for container in containers(root):
        plane = drawn[container.get("id")]
        for node in children(container, FLOW_NODES):
            box, attrs, kind = plane.shapes[node.get("id")], plane.attributes[node.get("id")], local(node)
            expected = (36, 36) if kind in EVENTS else (50, 50) if kind in GATEWAYS else (100, 80)
            assert (box.w, box.h) == expected, node.get("id")
            assert attrs.get("isMarkerVisible") == ("true" if kind == "exclusiveGateway" else None)
            assert attrs.get("isExpanded") == ("false" if kind == "subProcess" else None)
    # a collapsed subprocess gets a plane of its own, drawn as bpmn-js drills down into it
    assert set(drawn["A_sub"].shapes) == {"A_sub_start", "A_sub_task", "A_sub_end"}


def test_named_events_and_gateways_get_a_label_below_them():
    _, root = laid_out(LAYOUT / "two_lanes.bpmn")
    for element_id in ("Start_case", "Gateway_complete", "Timer_reminder"):
        shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
        label = bounds(shape.find("bpmndi:BPMNLabel", NS))
        assert label.y > bounds(shape).bottom


# --- layout rules --------------------------------------------------------------------------------


def centre_x(plane: Plane, node: str, hosts: dict[str, str]) -> float:
    box = plane.shapes[hosts.get(node, node)]
    return box.x + box.w / 2


def test_flows_run_left_to_right_in_longest_path_columns_except_loop_backs():
    _, root = laid_out(LAYOUT / "two_lanes.bpmn")
    plane = planes(root)["layout_routine"]
    hosts = {"Timer_reminder": "Task_receive"}
    order = ["Start_case", "Task_receive", "Rule_priority", "Gateway_complete", "Task_complement"]
    xs = [centre_x(plane, n, hosts) for n in order]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert centre_x(plane, "Call_assess", hosts) == centre_x(plane, "Task_complement", hosts)
    assert {x2 - x1 for x1, x2 in itertools.pairwise(xs)} == {150}  # one column is 150 px
    # the join after a longer branch waits for it: a column after the branch's last task
    _, branches = laid_out(LAYOUT / "branches.bpmn")
    plane = planes(branches)["layout_branches"]
    assert centre_x(plane, "Br_merge", {}) == centre_x(plane, "Br_report", {}) + 150


@pytest.mark.parametrize(
    ("name", "flow"), [("two_lanes.bpmn", "Flow_again"), ("endless_loop.bpmn", "L_back")]
)
def test_a_loop_back_routes_below_its_source_and_target(name, flow):
    path = LAYOUT / name if (LAYOUT / name).exists() else ROOT / "tests" / "fixtures" / "bpmn" / name
    _, root = laid_out(path)
    element = root.find(f".//bpmn:sequenceFlow[@id='{flow}']", NS)
    plane = planes(root)[element.getparent().get("id")]
    source, target = plane.shapes[element.get("sourceRef")], plane.shapes[element.get("targetRef")]
    points = plane.edges[flow]
    assert target.x < source.x
    assert max(y for _, y in points) > max(source.bottom, target.bottom)


def test_a_flow_skipping_a_column_detours_around_the_task_in_its_way():
    _, root = laid_out(LAYOUT / "branches.bpmn")
    plane = planes(root)["layout_branches"]
    report = plane.shapes["Br_report"]
    assert max(y for _, y in plane.edges["br_skip"]) > report.bottom


def test_targets_sharing_a_column_keep_the_order_of_the_outgoing_flows_top_to_bottom():
    _, root = laid_out(LAYOUT / "branches.bpmn")
    plane = planes(root)["layout_branches"]
    ys = [plane.shapes[n].y for n in ("Br_task_a", "Br_task_b", "Br_task_c")]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_a_node_in_no_lane_is_drawn_in_its_predecessors_lane():
    _, root = laid_out(LAYOUT / "two_lanes.bpmn")
    plane = planes(root)["layout_routine"]
    assert plane.shapes["Lane_nurse"].contains(plane.shapes["End_flagged"])


def test_nested_lanes_cover_their_child_lanes():
    _, root = laid_out(LAYOUT / "nested_lanes.bpmn")
    plane = planes(root)["layout_nested"]
    care, nurse, doctor = (plane.shapes[n] for n in ("Lane_care", "Lane_nurse_n", "Lane_doctor_n"))
    assert care.contains(nurse) and care.contains(doctor) and nurse.bottom == doctor.y
    assert nurse.x > care.x  # room for the parent lane's name


def test_a_large_diagram_is_laid_out_quickly_without_recursion():
    tasks = 1500
    nodes = "".join(f'<bpmn:task id="T{i}" />' for i in range(tasks))
    flows = "".join(
        f'<bpmn:sequenceFlow id="F{i}" sourceRef="T{i}" targetRef="T{i + 1}" />' for i in range(tasks - 1)
    )
    loop = f'<bpmn:sequenceFlow id="Back" sourceRef="T{tasks - 1}" targetRef="T0" />'
    xml = (
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D"><bpmn:process id="big" isExecutable="true">'
        f"{nodes}{flows}{loop}</bpmn:process></bpmn:definitions>"
    )
    started = time.perf_counter()
    assert has_layout(layout_bpmn(xml))
    assert time.perf_counter() - started < 10


# --- the document ---------------------------------------------------------------------------------


def test_lanes_are_wrapped_in_a_collaboration_with_one_participant_and_a_process_without_lanes_is_not():
    _, root = laid_out(LAYOUT / "two_lanes.bpmn")
    collaboration = root.find("bpmn:collaboration", NS)
    assert collaboration.get("id") == "Collaboration_layout_routine"
    (participant,) = collaboration.findall("bpmn:participant", NS)
    assert dict(participant.attrib) == {
        "id": "Participant_layout_routine",
        "name": "Bedömning med komplettering",
        "processRef": "layout_routine",
    }
    assert collaboration.getnext().get("id") == "layout_routine"
    elements = [p.get("bpmnElement") for p in root.iterfind("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)]
    assert elements == ["Collaboration_layout_routine", "layout_assessment", "A_sub"]
    assert planes(root)["layout_routine"].attributes["Participant_layout_routine"]["isHorizontal"] == "true"


def test_di_namespaces_are_declared_once_on_the_root():
    text, root = laid_out(LAYOUT / "two_lanes.bpmn")
    assert {root.nsmap[p] for p in ("bpmndi", "dc", "di")} == {BPMNDI_NS, DC_NS, DI_NS}
    assert text.count("xmlns:dc=") == 1 and text.count("xmlns:bpmndi=") == 1
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- Layout fixture')


def test_an_existing_collaboration_prefixes_and_diagram_are_reused_and_replaced():
    text, root = laid_out(LAYOUT / "nested_lanes.bpmn")
    assert [c.get("id") for c in root.iterfind("bpmn:collaboration", NS)] == ["Collaboration_old"]
    assert "Diagram_old" not in text and "Shape_old_start" not in text and "Edge_old_1" not in text
    assert "omgdc:Bounds" in text and "omgdi:waypoint" in text and "xmlns:dc=" not in text
    assert planes(root)["layout_nested"].shapes["Pool_care"].w > 0


def test_layout_is_deterministic_and_idempotent(diagram):
    first = layout_bpmn(diagram.read_bytes())
    assert layout_bpmn(diagram.read_text(encoding="utf-8")) == first
    assert layout_bpmn(first) == first


def test_existing_di_is_replaced(diagram):
    fresh = layout_bpmn(diagram.read_bytes())
    root = parse_xml(fresh)
    for b in root.iter(f"{{{DC_NS}}}Bounds"):
        b.set("x", "9999")
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    stray = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape", id="Stray_di", bpmnElement="Stray")
    etree.SubElement(stray, f"{{{DC_NS}}}Bounds", x="0", y="0", width="1", height="1")
    assert layout_bpmn(etree.tostring(root.getroottree())) == fresh


def semantic_parts(root: etree._Element, added: set[str] = frozenset()) -> list[bytes]:
    """Canonical form of every root element but the diagrams (and collaborations the layout added)."""
    return [
        etree.tostring(el, method="c14n", exclusive=True, with_tail=False)
        for el in root
        if isinstance(el.tag, str) and local(el) != "BPMNDiagram" and el.get("id") not in added
    ]


def test_semantic_content_is_unchanged(diagram):
    before = parse_xml(diagram.read_bytes())
    _, after = laid_out(diagram)
    added = {c.get("id") for c in after.iterfind("bpmn:collaboration", NS)} - {
        c.get("id") for c in before.iterfind("bpmn:collaboration", NS)
    }
    assert semantic_parts(after, added) == semantic_parts(before)
    assert dict(after.attrib) == dict(before.attrib)


def spiff_specs(text: str, path: Path) -> dict:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(parse_xml(text), filename=path.name)
    for dmn in sorted(path.parent.glob("*.dmn")):
        parser.add_dmn_xml(parse_xml(dmn.read_bytes()), filename=dmn.name)
    return {pid: parser.get_spec(pid) for pid in executable_process_ids(parse_xml(text))}


def test_spiffworkflow_still_parses_and_validates_the_result(diagram):
    specs = spiff_specs(layout_bpmn(diagram.read_bytes()), diagram)
    assert specs and all(spec.task_specs for spec in specs.values())


def test_gateway_conditions_are_evaluated_in_the_same_order_after_layout(diagram):
    """SpiffWorkflow orders a gateway's outgoing flows by the y of their targets."""

    def conditions(specs: dict) -> dict:
        return {
            (pid, name): [target for condition, target in spec.cond_task_specs if condition is not None]
            for pid, process in specs.items()
            for name, spec in process.task_specs.items()
            if hasattr(spec, "cond_task_specs")
        }

    assert conditions(spiff_specs(layout_bpmn(diagram.read_bytes()), diagram)) == conditions(
        spiff_specs(diagram.read_text(encoding="utf-8"), diagram)
    )


def test_has_layout_tells_whether_anything_is_missing():
    source = (LAYOUT / "two_lanes.bpmn").read_bytes()
    assert not has_layout(source)
    root = parse_xml(layout_bpmn(source))
    assert has_layout(etree.tostring(root))
    edge = root.find(".//bpmndi:BPMNEdge[@bpmnElement='Flow_again']", NS)
    edge.getparent().remove(edge)
    assert not has_layout(etree.tostring(root))


def test_unsafe_xml_is_refused_before_parsing():
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>'
    with pytest.raises(UnsafeXml):
        layout_bpmn(bomb)
    with pytest.raises(UnsafeXml):
        has_layout(bomb)


@pytest.mark.parametrize("diagram", PRODUCT_DIAGRAMS, ids=lambda p: p.name)
def test_every_routine_in_processes_carries_its_layout_so_bpmn_js_can_draw_it(diagram):
    assert has_layout(diagram.read_bytes()), f"run `flask processes layout {diagram.name}`"


def test_the_layout_command_draws_a_diagram_without_layout_and_keeps_one_that_has_it(app, tmp_path):
    bare = tmp_path / "bare.bpmn"
    bare.write_bytes((ROOT / "tests" / "fixtures" / "bpmn" / "simple_case.bpmn").read_bytes())
    assert not has_layout(bare.read_bytes())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["processes", "layout", str(bare)])
    assert result.exit_code == 0 and "laid out" in result.output
    assert has_layout(bare.read_bytes())
    drawn = bare.read_bytes()
    kept = runner.invoke(args=["processes", "layout", "--missing-only", str(bare)])
    assert "kept" in kept.output and bare.read_bytes() == drawn


def test_a_gateways_targets_keep_their_order_when_one_is_also_reached_by_a_longer_path(tmp_path):
    """The third target of a decision, also reached through the second one's path, stays below the second:
    SpiffWorkflow evaluates the conditions by the y of their targets, so the layout must not swap them."""
    flows = [("f0", "S", "G"), ("f1", "G", "A"), ("f2", "G", "B"), ("f3", "G", "C"), ("f4", "B", "W"),
             ("f5", "W", "C"), ("f6", "A", "E"), ("f7", "C", "E")]  # fmt: skip
    conditions = {"f1": "x == 1", "f2": "x == 2", "f3": "x == 3"}

    def node(tag: str, node_id: str) -> str:
        ins = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f, _s, t in flows if t == node_id)
        outs = "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f, s, _t in flows if s == node_id)
        return f'<bpmn:{tag} id="{node_id}">{ins}{outs}</bpmn:{tag}>'

    def flow(fid: str, source: str, target: str) -> str:
        condition = conditions.get(fid)
        body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'

    nodes = [("startEvent", "S"), ("exclusiveGateway", "G"), ("task", "A"), ("task", "B"), ("task", "W"),
             ("task", "C"), ("endEvent", "E")]  # fmt: skip
    xml = (
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="D" targetNamespace="http://bpmn.io/schema/bpmn">'
        '<bpmn:process id="decision_order" isExecutable="true">'
        + "".join(node(tag, node_id) for tag, node_id in nodes)
        + "".join(flow(*f) for f in flows)
        + "</bpmn:process></bpmn:definitions>"
    )
    path = tmp_path / "decision_order.bpmn"
    specs = spiff_specs(layout_bpmn(xml), path)
    gateway = specs["decision_order"].task_specs["G"]
    assert [target for condition, target in gateway.cond_task_specs if condition is not None] == [
        "A",
        "B",
        "C",
    ]
