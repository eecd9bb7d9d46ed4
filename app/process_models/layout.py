"""Diagram layout (BPMN DI) for semantic BPMN, so routines authored without one render in bpmn-js.

The layout is a small layered one: columns by longest-path rank from the start events (loops
ignored), lanes as horizontal bands in document order, nodes sharing a band and a column stacked
in rows, orthogonal edges, loop-backs routed below the band. The semantic content is left as it
is; only the `bpmndi` diagrams (and, for lanes, a collaboration with one participant) change.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from lxml import etree

from app.engine.bundle import BPMN_NS, executable_process_ids
from app.engine.xml import parse_xml

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_DI_PREFIXES = {"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
_NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS}

_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
_SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
_ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity",
} | _SUBPROCESSES  # fmt: skip
_FLOW_NODES = _EVENTS | _GATEWAYS | _ACTIVITIES

ORIGIN_X, ORIGIN_Y = 160, 80
COLUMN = 150  # one rank; a task is 100 wide, so 50 px of every column is the gap edges bend in
ROW = 150  # one row of a band; a task is 80 high, leaving room for boundary events and labels
STRIP = 30  # the name strip on the left of a pool and of each lane
FIRST_COLUMN = 70  # from the content's left edge to the first column's centre (room for loop entries)
BAND_BOTTOM = 40  # below the last row: labels of boundary events, then the loop tracks
LOOP_TRACK = 15  # vertical distance between loop-backs sharing a band's channel
SIDE_TRACK = 13  # loops and detours run this far beside the centre of the gap between columns
POOL_GAP = 40  # between stacked pools of one collaboration
LABEL_WIDTH, LABEL_LINE, LABEL_CHARS = 90, 14, 15


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2


Point = tuple[int, int]


@dataclass
class Placement:
    """Where everything of one container (a process or a subprocess) goes in its plane."""

    lanes: list[tuple[str, Box]] = field(default_factory=list)
    shapes: dict[str, Box] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)
    edges: list[tuple[str, list[Point], Box | None]] = field(default_factory=list)
    width: int = 0
    height: int = 0


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


# --- the graph ------------------------------------------------------------------------------------


@dataclass
class _Graph:
    kinds: dict[str, str]  # flow node id -> local tag, document order (boundary events included)
    hosts: dict[str, str]  # boundary event id -> the activity it is attached to
    flows: list[tuple[str, str, str]]  # (flow id, source, target), document order
    incoming: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # node -> (flow, source)
    ranks: dict[str, int] = field(default_factory=dict)  # boundary events get their host's
    order: list[str] = field(default_factory=list)  # non-boundary nodes, topologically
    back: set[str] = field(default_factory=set)  # flows closing a cycle (loop-backs)

    def anchor(self, node: str) -> str:
        """The node that stands in for `node` in ranking: a boundary event counts as its host."""
        return self.hosts.get(node, node)

    def forward_in(self, node: str) -> list[tuple[str, str]]:
        return [(fid, source) for fid, source in self.incoming[node] if fid not in self.back]

    def attached(self) -> dict[str, list[str]]:
        """Each host's boundary events, in document order."""
        result: dict[str, list[str]] = {}
        for boundary, host in self.hosts.items():
            result.setdefault(host, []).append(boundary)
        return result


def _graph(container: etree._Element) -> _Graph:
    kinds = {el.get("id"): _local(el) for el in container if _local(el) in _FLOW_NODES and el.get("id")}
    hosts = {
        el.get("id"): el.get("attachedToRef")
        for el in container.iterchildren(_bpmn("boundaryEvent"))
        if el.get("id") in kinds and kinds.get(el.get("attachedToRef")) not in (None, "boundaryEvent")
    }
    flows = [
        (el.get("id"), el.get("sourceRef"), el.get("targetRef"))
        for el in container.iterchildren(_bpmn("sequenceFlow"))
        if el.get("id") and el.get("sourceRef") in kinds and el.get("targetRef") in kinds
    ]
    graph = _Graph(kinds, hosts, flows)
    # A boundary event sits on its host, so for ranking its flows leave from (or, if invalid, enter) the host.
    graph.incoming = {n: [] for n in kinds if n not in hosts}
    for fid, source, target in flows:
        graph.incoming[graph.anchor(target)].append((fid, source))
    _rank(graph)
    return graph


def _rank(graph: _Graph) -> None:
    """Longest-path ranks over the flows that do not close a cycle (found by depth-first search)."""
    nodes = list(graph.incoming)
    outgoing: dict[str, list[tuple[str, str]]] = {n: [] for n in nodes}
    for fid, source, target in graph.flows:
        outgoing[graph.anchor(source)].append((fid, graph.anchor(target)))
    starts = [n for n in nodes if graph.kinds[n] == "startEvent"]
    sources = [n for n in nodes if not graph.incoming[n]]
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 finished; iterative, so size is no problem
    for root in itertools.chain(starts, sources, nodes):
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, pending = stack[-1]
            for fid, target in pending:
                if state.get(target) == 1:
                    graph.back.add(fid)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(outgoing[target])))
                    break
            else:
                state[node] = 2
                stack.pop()

    # Kahn's algorithm, taking ready nodes in document order, keeps the result deterministic.
    position = {n: i for i, n in enumerate(nodes)}
    indegree = {n: len(graph.forward_in(n)) for n in nodes}
    ready = [position[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(ready)
    graph.ranks = dict.fromkeys(nodes, 0)
    while ready:
        node = nodes[heapq.heappop(ready)]
        graph.order.append(node)
        for fid, target in outgoing[node]:
            if fid in graph.back:
                continue
            graph.ranks[target] = max(graph.ranks[target], graph.ranks[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, position[target])
    for boundary, host in graph.hosts.items():
        graph.ranks[boundary] = graph.ranks[host]


# --- lanes and bands ------------------------------------------------------------------------------


@dataclass
class _Lane:
    id: str
    depth: int
    bands: list[int]  # the leaf lanes (bands) it covers


def _lanes(container: etree._Element) -> tuple[list[_Lane], dict[str, int]]:
    """Every lane (nested ones too) with the bands it covers, and each referenced node's band."""
    lanes: list[_Lane] = []
    band_of: dict[str, int] = {}
    leaves = 0

    def visit(lane_set: etree._Element, depth: int) -> list[int]:
        nonlocal leaves
        covered: list[int] = []
        for lane in lane_set.iterchildren(_bpmn("lane")):
            entry = _Lane(lane.get("id"), depth, [])
            lanes.append(entry)
            children = lane.find("bpmn:childLaneSet", _NS)
            if children is not None and children.find("bpmn:lane", _NS) is not None:
                entry.bands = visit(children, depth + 1)
            else:
                entry.bands = [leaves]
                leaves += 1
            for ref in lane.iterchildren(_bpmn("flowNodeRef")):
                band_of.setdefault((ref.text or "").strip(), entry.bands[0])
            covered += entry.bands
        return covered

    for lane_set in container.iterchildren(_bpmn("laneSet")):
        visit(lane_set, 0)
    return lanes, band_of


def _assign_bands(graph: _Graph, referenced: dict[str, int]) -> dict[str, int]:
    """A node not in any lane follows its first predecessor; a boundary event follows its host."""
    band_of: dict[str, int] = {}
    for node in graph.order:
        predecessors = [band_of[graph.anchor(source)] for _fid, source in graph.forward_in(node)]
        band_of[node] = referenced.get(node, predecessors[0] if predecessors else 0)
    for boundary, host in graph.hosts.items():
        band_of[boundary] = band_of[host]
    return band_of


DECIDING_GATEWAYS = {
    "exclusiveGateway",
    "inclusiveGateway",
}  # SpiffWorkflow tests their conditions in y order


def _assign_rows(graph: _Graph, band_of: dict[str, int]) -> dict[str, int]:
    """Stack nodes sharing a band and column; a node prefers the row of its predecessor.

    Targets of one source keep the order of its outgoing flows from top to bottom where they share
    a band and column: SpiffWorkflow orders a gateway's outgoing flows by the y of their targets.
    """
    out_index: dict[str, int] = {}
    counts: dict[str, int] = {}
    outgoing: dict[str, list[tuple[str, str, str]]] = {}
    for fid, source, target in graph.flows:
        out_index[fid] = counts[source] = counts.get(source, -1) + 1
        outgoing.setdefault(source, []).append((fid, source, target))
    columns: dict[int, list[str]] = {}
    for node in graph.order:
        columns.setdefault(graph.ranks[node], []).append(node)
    position = {n: i for i, n in enumerate(graph.kinds)}
    rows: dict[str, int] = {}
    taken: set[tuple[int, int, int]] = set()
    for column in sorted(columns):
        wishes = {}
        for node in columns[column]:
            # (row, has none, ...): without a predecessor in the band, the top row after those with
            # one, start events first (an event subprocess has no flows at all)
            wish = (0, 1, 0 if graph.kinds[node] == "startEvent" else 1, 0, 0)
            candidates, from_gateways = [], []
            for fid, source in graph.forward_in(node):
                anchor = graph.anchor(source)
                if band_of[anchor] == band_of[node]:
                    below = 1 if source in graph.hosts else 0  # a boundary event's path runs below its host
                    candidate = (rows[anchor] + below, 0, graph.ranks[anchor], rows[anchor], out_index[fid])
                    candidates.append(candidate)
                    if graph.kinds[source] in DECIDING_GATEWAYS:
                        # Below the gateway's earlier targets already placed (in earlier columns).
                        floor = max(
                            (
                                rows[target] + 1
                                for other, _s, target in outgoing[source]
                                if out_index[other] < out_index[fid]
                                and target in rows
                                and band_of[target] == band_of[node]
                            ),
                            default=candidate[0],
                        )
                        from_gateways.append((max(candidate[0], floor), *candidate[1:]))
            # A target of a deciding gateway takes its place among that gateway's targets even when
            # another path also leads to it: the order of the conditions must not change.
            wishes[node] = min(from_gateways or candidates) if candidates else wish
        for node in sorted(wishes, key=lambda n: (wishes[n], position[n])):
            row = wishes[node][0]
            while (band_of[node], column, row) in taken:
                row += 1
            taken.add((band_of[node], column, row))
            rows[node] = row
    return rows


# --- geometry -------------------------------------------------------------------------------------


def _size(kind: str) -> tuple[int, int]:
    if kind in _EVENTS:
        return 36, 36
    if kind in _GATEWAYS:
        return 50, 50
    return 100, 80


def _label_box(name: str, x: int, y: int) -> Box:
    lines = max(1, -(-len(name) // LABEL_CHARS))
    return Box(x, y, LABEL_WIDTH, lines * LABEL_LINE)


def _crosses(points: list[Point], box: Box) -> bool:
    """Whether an orthogonal polyline passes through the inside of a box."""
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if x1 == x2 and box.x < x1 < box.right and min(y1, y2) < box.bottom and max(y1, y2) > box.y:
            return True
        if y1 == y2 and box.y < y1 < box.bottom and min(x1, x2) < box.right and max(x1, x2) > box.x:
            return True
    return False


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and middle points of straight runs."""
    result: list[Point] = []
    for point in points:
        if result and point == result[-1]:
            continue
        if len(result) >= 2 and (
            result[-2][0] == result[-1][0] == point[0] or result[-2][1] == result[-1][1] == point[1]
        ):
            result[-1] = point
        else:
            result.append(point)
    return result


@dataclass
class _Grid:
    """Column and band coordinates of one container, and the loop-back tracks."""

    content_x: int
    band_y: list[int]  # top of each band, then the bottom of the last
    band_rows: list[int]
    loops: dict[str, tuple[int, int]]  # loop-back flow -> (band of its channel, track)

    def column_x(self, column: int) -> int:
        return self.content_x + FIRST_COLUMN + column * COLUMN

    def row_y(self, band: int, row: int) -> int:
        return self.band_y[band] + row * ROW + ROW // 2

    def channel_y(self, fid: str) -> int:
        band, track = self.loops[fid]
        return self.band_y[band] + self.band_rows[band] * ROW + BAND_BOTTOM // 2 + track * LOOP_TRACK


def _grid(graph: _Graph, band_of: dict[str, int], rows: dict[str, int], bands: int, x: int, y: int) -> _Grid:
    # A loop-back runs in a channel at the bottom of the lower of the two bands it joins.
    loops: dict[str, tuple[int, int]] = {}
    tracks = [0] * bands
    for fid, source, target in graph.flows:
        if fid in graph.back:
            band = max(band_of[source], band_of[target])
            loops[fid] = (band, tracks[band])
            tracks[band] += 1
    band_rows = [1] * bands
    for node, row in rows.items():
        band_rows[band_of[node]] = max(band_rows[band_of[node]], row + 1)
    band_y = [y]
    for band in range(bands):
        band_y.append(band_y[-1] + band_rows[band] * ROW + BAND_BOTTOM + tracks[band] * LOOP_TRACK)
    return _Grid(x, band_y, band_rows, loops)


def _place(container: etree._Element, x: int, y: int, pool: bool) -> Placement:
    """Place a process's (or subprocess's) lanes, nodes and flows with the top left corner at x, y."""
    graph = _graph(container)
    lanes, referenced = _lanes(container)
    band_of = _assign_bands(graph, referenced)
    rows = _assign_rows(graph, band_of)
    bands = max([b for lane in lanes for b in lane.bands] + list(band_of.values()) + [0]) + 1
    lanes_x = x + (STRIP if pool else 0)
    depth = max((lane.depth + 1 for lane in lanes), default=0)
    grid = _grid(graph, band_of, rows, bands, lanes_x + STRIP * depth, y)
    columns = max(graph.ranks.values(), default=0) + 1
    placement = Placement(width=grid.column_x(columns - 1) + COLUMN - x, height=grid.band_y[-1] - y)

    for lane in lanes:
        lane_x = lanes_x + lane.depth * STRIP
        top, bottom = grid.band_y[lane.bands[0]], grid.band_y[lane.bands[-1] + 1]
        placement.lanes.append((lane.id, Box(lane_x, top, x + placement.width - lane_x, bottom - top)))
    shapes = {}
    for node in graph.order:
        w, h = _size(graph.kinds[node])
        cx, cy = grid.column_x(graph.ranks[node]), grid.row_y(band_of[node], rows[node])
        shapes[node] = Box(cx - w // 2, cy - h // 2, w, h)
    shapes |= _boundary_shapes(graph, shapes)
    placement.shapes = {node: shapes[node] for node in graph.kinds}  # document order

    names = {el.get("id"): el.get("name") for el in container if el.get("id") and el.get("name")}
    placement.labels = _labels(graph, shapes, names)
    by_column: dict[int, list[tuple[str, Box]]] = {}
    for node, box in placement.shapes.items():
        by_column.setdefault(graph.ranks[node], []).append((node, box))
    for fid, source, target in graph.flows:
        points = _route(graph, grid, shapes, by_column, fid, source, target)
        label = _flow_label(points, names[fid]) if names.get(fid) else None
        placement.edges.append((fid, points, label))
    return placement


def _boundary_shapes(graph: _Graph, shapes: dict[str, Box]) -> dict[str, Box]:
    """Boundary events centred on their host's bottom edge, 40 px apart while they fit."""
    result = {}
    for host, attached in graph.attached().items():
        box, gaps = shapes[host], max(1, len(attached) - 1)
        step = 40 if gaps * 40 <= box.w - 20 else (box.w - 20) // gaps
        first = box.cx - step * (len(attached) - 1) // 2
        for i, boundary in enumerate(attached):
            result[boundary] = Box(first + i * step - 18, box.bottom - 18, 36, 36)
    return result


def _labels(graph: _Graph, shapes: dict[str, Box], names: dict[str, str]) -> dict[str, Box]:
    """Labels below named events and gateways; boundary events' labels right of the last one."""
    labels = {}
    for node, box in shapes.items():
        if names.get(node) and graph.kinds[node] in _EVENTS | _GATEWAYS and node not in graph.hosts:
            labels[node] = _label_box(names[node], box.cx - LABEL_WIDTH // 2, box.bottom + 5)
    for attached in graph.attached().values():
        # one below another, clear of the flows leaving the events' bottoms
        last = shapes[attached[-1]]
        y = last.bottom + 5
        for boundary in (b for b in attached if names.get(b)):
            labels[boundary] = _label_box(names[boundary], last.cx + 8, y)
            y = labels[boundary].bottom + 2
    return labels


def _flow_label(points: list[Point], name: str) -> Box:
    """Above the flow's longest horizontal run after the first, which flows of one source share."""
    runs = [(a, b) for a, b in itertools.pairwise(points) if a[1] == b[1]] or [(points[0], points[1])]
    runs = runs[1:] or runs
    (x1, y), (x2, _) = max(runs, key=lambda run: abs(run[1][0] - run[0][0]))
    return Box(min(x1, x2) + 6, y - 20, max(20, 7 * len(name)), LABEL_LINE)


def _route(
    graph: _Graph, grid: _Grid, shapes: dict[str, Box], by_column, fid: str, source: str, target: str
) -> list[Point]:
    """Orthogonal waypoints from the source's right side (a boundary event's bottom) to the target's left."""
    s, t = shapes[source], shapes[target]
    from_bottom = source in graph.hosts
    start = (s.cx, s.bottom) if from_bottom else (s.right, s.cy)
    end = (t.x, t.cy)
    source_column, target_column = graph.ranks[source], graph.ranks[target]
    after_source = grid.column_x(source_column) + COLUMN // 2  # the gap right of the source's column
    before_target = grid.column_x(target_column) - COLUMN // 2
    if fid in grid.loops:
        # Below everything, then up into the target beside (not on) the gap's centre.
        channel = grid.channel_y(fid)
        exit_x = s.cx if from_bottom else after_source - SIDE_TRACK
        entry_x = before_target + SIDE_TRACK
        return _simplify(
            [start, (exit_x, start[1]), (exit_x, channel), (entry_x, channel), (entry_x, t.cy), end]
        )

    # Between the source's row and the next there is no shape, so the last candidate is always clear
    # (from a boundary event it runs low, below the event's label); its vertical runs sit beside the
    # gap's centre, where joining flows already run the other way.
    detour_y = shapes[graph.anchor(source)].cy + (ROW - 50 if from_bottom else ROW // 2)
    down, up = after_source - SIDE_TRACK, before_target + SIDE_TRACK
    if from_bottom:
        candidates = [[start, (s.cx, t.cy), end]] if t.cy > s.bottom else []
        candidates.append([start, (s.cx, detour_y), (up, detour_y), (up, t.cy), end])
    else:
        candidates = [[start, end]] if s.cy == t.cy else []
        candidates += [
            [start, (after_source, s.cy), (after_source, t.cy), end],
            [start, (before_target, s.cy), (before_target, t.cy), end],
            [start, (down, s.cy), (down, detour_y), (up, detour_y), (up, t.cy), end],
        ]
    others = [
        box
        for column in range(source_column, target_column + 1)
        for node, box in by_column.get(column, [])
        if node not in (source, target)
    ]
    clear = next((c for c in candidates if not any(_crosses(c, box) for box in others)), candidates[-1])
    return _simplify(clear)


# --- writing the diagram --------------------------------------------------------------------------


def _bounds(parent: etree._Element, box: Box) -> None:
    etree.SubElement(
        parent, f"{{{DC_NS}}}Bounds", x=str(box.x), y=str(box.y), width=str(box.w), height=str(box.h)
    )


def _shape(plane: etree._Element, element_id: str, box: Box, label: Box | None = None, **attrs: str) -> None:
    shape = etree.SubElement(
        plane, f"{{{BPMNDI_NS}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id, **attrs
    )
    _bounds(shape, box)
    if label is not None:
        _bounds(etree.SubElement(shape, f"{{{BPMNDI_NS}}}BPMNLabel"), label)


def _write_placement(plane: etree._Element, container: etree._Element, placement: Placement) -> None:
    for lane_id, box in placement.lanes:
        _shape(plane, lane_id, box, isHorizontal="true")
    kinds = {el.get("id"): _local(el) for el in container if el.get("id")}
    for node, box in placement.shapes.items():
        attrs = {}
        if kinds[node] == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        elif kinds[node] in _SUBPROCESSES:
            attrs["isExpanded"] = "false"  # its content gets a plane of its own (bpmn-js drill-down)
        _shape(plane, node, box, placement.labels.get(node), **attrs)
    for fid, points, label in placement.edges:
        edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge", id=f"{fid}_di", bpmnElement=fid)
        for px, py in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(px), y=str(py))
        if label is not None:
            _bounds(etree.SubElement(edge, f"{{{BPMNDI_NS}}}BPMNLabel"), label)


def _diagram(element_id: str) -> tuple[etree._Element, etree._Element]:
    diagram = etree.Element(f"{{{BPMNDI_NS}}}BPMNDiagram", id=f"BPMNDiagram_{element_id}")
    plane = etree.SubElement(
        diagram, f"{{{BPMNDI_NS}}}BPMNPlane", id=f"BPMNPlane_{element_id}", bpmnElement=element_id
    )
    return diagram, plane


def _container_diagram(container: etree._Element) -> etree._Element:
    """A plane of its own for a process without a pool, or for a subprocess."""
    diagram, plane = _diagram(container.get("id"))
    _write_placement(plane, container, _place(container, ORIGIN_X, ORIGIN_Y, pool=False))
    return diagram


def _subprocess_diagrams(container: etree._Element) -> list[etree._Element]:
    """One plane per subprocess, drawn collapsed in its parent (bpmn-js drills down into it)."""
    diagrams = []
    for sub in container:
        if _local(sub) in _SUBPROCESSES and sub.get("id"):
            diagrams += [_container_diagram(sub), *_subprocess_diagrams(sub)]
    return diagrams


def _collaboration_diagram(
    collaboration: etree._Element, processes: dict[str, etree._Element]
) -> etree._Element:
    diagram, plane = _diagram(collaboration.get("id"))
    y = ORIGIN_Y
    for participant in collaboration.iterchildren(_bpmn("participant")):
        process = processes.get(participant.get("processRef"))
        if process is None:
            continue  # a black-box pool: nothing of ours to draw
        placement = _place(process, ORIGIN_X, y, pool=True)
        pool = Box(ORIGIN_X, y, placement.width, placement.height)
        _shape(plane, participant.get("id"), pool, isHorizontal="true")
        _write_placement(plane, process, placement)
        y += placement.height + POOL_GAP
    return diagram


# --- the document ---------------------------------------------------------------------------------


def _with_di_namespaces(root: etree._Element) -> etree._Element:
    """Declare bpmndi, dc and di on the root (a new root: lxml cannot add declarations in place)."""
    nsmap = dict(root.nsmap)
    missing = {prefix: uri for prefix, uri in _DI_PREFIXES.items() if uri not in nsmap.values()}
    if not missing:
        return root
    for prefix, uri in missing.items():
        free = next(
            p
            for p in itertools.chain([prefix], (f"{prefix}{i}" for i in itertools.count(1)))
            if p not in nsmap
        )
        nsmap[free] = uri
    new_root = etree.Element(root.tag, dict(root.attrib), nsmap=nsmap)
    new_root.text = root.text
    new_root.extend(list(root))
    for sibling in reversed(list(root.itersiblings(preceding=True))):
        new_root.addprevious(sibling)
    for sibling in reversed(list(root.itersiblings())):
        new_root.addnext(sibling)  # each goes right after the root, so the farthest goes first
    return new_root


def _indent_before(element: etree._Element) -> str:
    previous = element.getprevious()
    text = previous.tail if previous is not None else element.getparent().text
    return text if text and not text.strip() else "\n  "


def _insert_after(anchor: etree._Element, element: etree._Element) -> None:
    etree.indent(element, space="  ", level=1)
    element.tail, anchor.tail = anchor.tail or "\n", _indent_before(anchor)
    anchor.addnext(element)


def _remove(element: etree._Element) -> None:
    previous = element.getprevious()
    if previous is not None:
        previous.tail = element.tail  # keeps the closing tag after it indented as before
    element.getparent().remove(element)


def _diagram_owner(root: etree._Element, process: etree._Element) -> etree._Element:
    """The collaboration showing the process; a new one with one participant when it has lanes."""
    pid = process.get("id")
    for participant in root.iterfind("bpmn:collaboration/bpmn:participant", _NS):
        if participant.get("processRef") == pid:
            return participant.getparent()
    if process.find("bpmn:laneSet/bpmn:lane", _NS) is None:
        return process
    collaboration = etree.Element(_bpmn("collaboration"), id=f"Collaboration_{pid}")
    participant = etree.SubElement(collaboration, _bpmn("participant"), id=f"Participant_{pid}")
    if process.get("name"):
        participant.set("name", process.get("name"))
    participant.set("processRef", pid)
    etree.indent(collaboration, space="  ", level=1)
    collaboration.tail = _indent_before(process)
    process.addprevious(collaboration)
    return collaboration


def _pools(owner: etree._Element, processes: dict[str, etree._Element]) -> list[etree._Element]:
    """The processes a diagram owner (a collaboration or a process) shows."""
    if _local(owner) == "process":
        return [owner]
    refs = (p.get("processRef") for p in owner.iterfind("bpmn:participant", _NS))
    return [processes[ref] for ref in refs if ref in processes]


def layout_bpmn(xml: str | bytes) -> str:
    """Return the document with a fresh BPMNDiagram for each executable process (existing DI replaced)."""
    root = _with_di_namespaces(parse_xml(xml))
    processes = {p.get("id"): p for p in root.iterfind("bpmn:process", _NS)}
    owners = list(dict.fromkeys(_diagram_owner(root, processes[pid]) for pid in executable_process_ids(root)))

    # Old diagrams of what we draw go: planes of the owners, their processes and subprocesses.
    replaced = {owner.get("id") for owner in owners}
    for owner in owners:
        for process in _pools(owner, processes):
            replaced |= {
                el.get("id") for el in process.iter() if el is process or _local(el) in _SUBPROCESSES
            }
    for old in root.findall("bpmndi:BPMNDiagram", _NS):
        plane = old.find("bpmndi:BPMNPlane", _NS)
        if plane is None or plane.get("bpmnElement") in replaced:
            _remove(old)

    diagrams = []
    for owner in owners:
        if _local(owner) == "collaboration":
            diagrams.append(_collaboration_diagram(owner, processes))
        else:
            diagrams.append(_container_diagram(owner))
        for process in _pools(owner, processes):
            diagrams += _subprocess_diagrams(process)
    if diagrams:
        # BPMNDiagram follows the root elements and precedes any bpmn:relationship (the schema's order).
        anchor = [el for el in root if isinstance(el.tag, str) and _local(el) != "relationship"][-1]
        for diagram in diagrams:
            _insert_after(anchor, diagram)
            anchor = diagram
    # Comments and processing instructions around the root keep a line each (lxml would join them).
    nodes = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    body = "\n".join(etree.tostring(node, encoding="unicode", with_tail=False) for node in nodes)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def has_layout(xml: str | bytes) -> bool:
    """Whether every lane, flow node and sequence flow of every executable process has a DI element."""
    root = parse_xml(xml)
    drawn = {el.get("bpmnElement") for el in root.iterfind("bpmndi:BPMNDiagram//*[@bpmnElement]", _NS)}
    processes = {p.get("id"): p for p in root.iterfind("bpmn:process", _NS)}
    return all(
        element.get("id") in drawn
        for pid in executable_process_ids(root)
        for element in processes[pid].iter()
        if _local(element) in _FLOW_NODES | {"sequenceFlow", "lane"}
    )
