// The BPMN editor: bpmn-js Modeler plus a plain side panel over its modeling API. Everything the
// panel edits is written as the spiffworkflow extension properties the engine reads. Saving sends
// the XML to the server, which validates it (the authority); findings are listed and marked.
// A version that cannot be edited (published, or a reader without edit rights) loads bpmn-js's
// NavigatedViewer instead (the page picks the script): the same panel then only shows.
(function () {
  "use strict";
  var SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  var root = document.getElementById("editor");
  if (!root || !window.BpmnJS) { return; }
  var config = JSON.parse(root.dataset.config);
  var texts = document.getElementById("texts").dataset;
  var status = document.getElementById("status");
  // Keyboard shortcuts bind to the diagram itself (bpmn-js 18 refuses keyboard.bindTo with a console error).
  var modeler = new window.BpmnJS({ container: "#canvas", keyboard: { bind: true } });
  var modeling = config.editable ? modeler.get("modeling") : null; // the viewer has no modeling
  var moddle = modeler.get("moddle");
  var registry = modeler.get("elementRegistry");
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var selection = modeler.get("selection");
  var hash = config.hash;
  var current = null;
  var marked = [];

  function $(id) { return document.getElementById(id); }
  function say(text) { status.textContent = text; }
  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

  function fillSelect(select, values) {
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value; option.textContent = value; select.appendChild(option);
    });
  }
  fillSelect($("p-form"), config.forms);
  fillSelect($("p-uiform"), config.uiForms);
  fillSelect($("p-operator"), config.operators);

  // --- spiffworkflow extension elements (kept generic, so unknown ones round-trip untouched) ---
  function extension(bo, type, create) {
    var ext = bo.extensionElements;
    if (!ext && create) { ext = moddle.create("bpmn:ExtensionElements", { values: [] }); bo.extensionElements = ext; ext.$parent = bo; }
    if (!ext) { return null; }
    ext.values = ext.values || [];
    var found = ext.values.find(function (v) { return v.$type === "spiffworkflow:" + type; });
    if (!found && create) {
      found = moddle.createAny("spiffworkflow:" + type, SPIFF, {});
      found.$parent = ext; ext.values.push(found);
    }
    return found || null;
  }
  function getProperty(bo, name) {
    var props = extension(bo, "properties", false);
    var hit = props && (props.$children || []).find(function (p) { return p.name === name; });
    return hit ? hit.value : "";
  }
  function setProperty(bo, name, value) {
    var props = extension(bo, "properties", !!value);
    if (!props) { return; }
    props.$children = (props.$children || []).filter(function (p) { return p.name !== name; });
    if (value) { props.$children.push(moddle.createAny("spiffworkflow:property", SPIFF, { name: name, value: value })); }
  }
  function getOperator(bo) { var op = extension(bo, "serviceTaskOperator", false); return op ? op.id || "" : ""; }
  function setOperator(bo, value) {
    var op = extension(bo, "serviceTaskOperator", true);
    op.id = value;
    if (!(op.$children || []).some(function (c) { return c.$type === "spiffworkflow:parameters"; })) {
      op.$children = (op.$children || []).concat([moddle.createAny("spiffworkflow:parameters", SPIFF, {})]);
    }
  }

  // --- lanes, timers, conditions ---
  function lanes() { return registry.filter(function (e) { return e.type === "bpmn:Lane"; }); }
  function laneOf(element) {
    var mid = element.y + element.height / 2, cx = element.x + element.width / 2;
    var hit = lanes().filter(function (l) { return mid >= l.y && mid <= l.y + l.height && cx >= l.x && cx <= l.x + l.width; });
    hit.sort(function (a, b) { return a.height - b.height; });
    return hit[0] || null;
  }
  function timerOf(bo) {
    return (bo.eventDefinitions || []).find(function (d) { return is(d, "bpmn:TimerEventDefinition"); }) || null;
  }
  function timerKind(def) { return ["timeDuration", "timeDate", "timeCycle"].find(function (k) { return def[k]; }) || "timeDuration"; }
  function conditional(element) {
    return element.type === "bpmn:SequenceFlow" && element.source &&
      ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"].indexOf(element.source.type) >= 0;
  }

  function show(kind, visible) {
    root.querySelectorAll('[data-for="' + kind + '"]').forEach(function (el) { el.hidden = !visible; });
  }

  function open(element) {
    current = element;
    var panel = $("panel");
    if (!element || element.type === "bpmn:Process" || element.type === "bpmn:Collaboration" || element.type === "label") {
      panel.hidden = true; $("panel-empty").hidden = false; return;
    }
    var bo = element.businessObject;
    panel.hidden = false; $("panel-empty").hidden = true;
    $("p-type").textContent = element.type.replace("bpmn:", "");
    $("p-id").textContent = element.id;
    $("p-name").value = bo.name || "";
    var task = is(bo, "bpmn:FlowNode") && element.type !== "bpmn:Lane";
    show("task", task && lanes().length > 0);
    if (task) {
      var select = $("p-lane"); select.innerHTML = "";
      lanes().forEach(function (l) {
        var o = document.createElement("option"); o.value = l.id; o.textContent = l.businessObject.name || l.id; select.appendChild(o);
      });
      var lane = laneOf(element); select.value = lane ? lane.id : "";
    }
    show("userTask", element.type === "bpmn:UserTask");
    $("p-form").value = getProperty(bo, "formJsonSchemaFilename");
    $("p-uiform").value = getProperty(bo, "formUiSchemaFilename");
    $("p-duty").checked = getProperty(bo, "dutyTask") === "true";
    show("serviceTask", element.type === "bpmn:ServiceTask");
    $("p-operator").value = getOperator(bo);
    var timer = is(bo, "bpmn:Event") ? timerOf(bo) : null;
    show("timer", !!timer);
    if (timer) {
      var kind = timerKind(timer);
      $("p-timer-kind").value = kind;
      $("p-timer").value = timer[kind] ? timer[kind].body || "" : "";
    }
    show("condition", conditional(element));
    $("p-condition").value = bo.conditionExpression ? bo.conditionExpression.body || "" : "";
    show("flownode", task);
    $("p-rules").value = getProperty(bo, "guidelineRules");
  }

  function apply(event) {
    event.preventDefault();
    if (!current || !config.editable) { return; }
    var element = current, bo = element.businessObject;
    var name = $("p-name").value.trim();
    if ((bo.name || "") !== name) { modeling.updateLabel(element, name); }
    if (element.type === "bpmn:UserTask") {
      setProperty(bo, "formJsonSchemaFilename", $("p-form").value);
      setProperty(bo, "formUiSchemaFilename", $("p-uiform").value);
      // Unticked, a task once marked says "false": a diagram that marks none falls back to the old ids.
      var duty = $("p-duty").checked ? "true" : (getProperty(bo, "dutyTask") ? "false" : "");
      setProperty(bo, "dutyTask", duty);
    }
    if (element.type === "bpmn:ServiceTask" && $("p-operator").value) { setOperator(bo, $("p-operator").value); }
    if (is(bo, "bpmn:FlowNode")) { setProperty(bo, "guidelineRules", $("p-rules").value.trim()); }
    var timer = is(bo, "bpmn:Event") ? timerOf(bo) : null;
    if (timer) {
      var update = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      update[$("p-timer-kind").value] = moddle.create("bpmn:FormalExpression", { body: $("p-timer").value.trim() });
      modeling.updateModdleProperties(element, timer, update);
    }
    if (conditional(element)) {
      var text = $("p-condition").value.trim();
      modeling.updateProperties(element, { conditionExpression: text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined });
    }
    // Extension elements were changed in place: register them as a command (undo, dirty state).
    if (bo.extensionElements) { modeling.updateProperties(element, { extensionElements: bo.extensionElements }); }
    var target = $("p-lane").value;
    var lane = laneOf(element);
    if (is(bo, "bpmn:FlowNode") && target && (!lane || lane.id !== target)) {
      var to = registry.get(target);
      var dy = to.y + to.height / 2 - (element.y + element.height / 2);
      modeling.moveElements([element], { x: 0, y: dy });
    }
    say(texts.applied);
    open(element);
  }

  // --- findings ---
  function clearMarks() {
    marked.forEach(function (id) { canvas.removeMarker(id, "finding-error"); canvas.removeMarker(id, "finding-warning"); });
    overlays.remove({ type: "finding" });
    marked = [];
  }
  function showFindings(findings) {
    clearMarks();
    var list = $("findings"); list.innerHTML = "";
    if (!findings.length) {
      var none = document.createElement("li"); none.textContent = texts.none; list.appendChild(none);
    }
    findings.forEach(function (f) {
      var item = document.createElement("li");
      item.className = "finding " + f.severity;
      var label = document.createElement("span"); label.className = "severity";
      label.textContent = f.severity === "error" ? texts.error : texts.warning;
      item.appendChild(label);
      var element = f.element_id ? registry.get(f.element_id) : null;
      if (element) {
        var link = document.createElement("button");
        link.type = "button"; link.className = "link finding-link"; link.textContent = f.element_id;
        link.dataset.element = f.element_id;
        link.addEventListener("click", function () { selection.select(element); canvas.scrollToElement(element); open(element); $("p-name").focus(); });
        item.appendChild(link);
        canvas.addMarker(f.element_id, "finding-" + f.severity);
        marked.push(f.element_id);
        var badge = document.createElement("span");
        badge.className = "finding-badge " + f.severity; badge.textContent = "!"; badge.title = f.message;
        overlays.add(f.element_id, "finding", { position: { top: -8, right: 8 }, html: badge });
      } else if (f.element_id) {
        var code = document.createElement("code"); code.textContent = f.element_id; item.appendChild(code);
      }
      var message = document.createElement("span"); message.lang = "en"; message.textContent = " " + f.message + " (" + f.code + ")";
      item.appendChild(message);
      list.appendChild(item);
    });
  }

  function request(url, options) {
    options.headers = Object.assign({ Accept: "application/json", "X-CSRF-Token": config.csrf }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function save() {
    say(texts.saving);
    modeler.saveXML({ format: true }).then(function (result) {
      return request(config.saveUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ bpmn: result.xml, expected_hash: hash }) });
    }).then(function (answer) {
      if (answer.status === 200) { hash = answer.body.hash; say(texts.saved); showFindings(answer.body.findings); }
      else if (answer.status === 409) { say(texts.conflict + " " + (answer.body.detail || "")); }
      else { say(texts.failed + " " + (answer.body.detail || answer.status)); }
    }).catch(function (error) { say(texts.failed + " " + error); });
  }

  fetch(config.bpmnUrl, { credentials: "same-origin" }).then(function (r) { return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      canvas.zoom("fit-viewport");
      return request(config.findingsUrl, { method: "GET" });
    })
    .then(function (answer) { showFindings(answer.body.findings || []); })
    .catch(function (error) { say(texts.failed + " " + error); });

  modeler.on("selection.changed", function (event) { open(event.newSelection[0] || null); });
  $("panel").addEventListener("submit", apply);
  var button = $("save");
  if (button) { button.addEventListener("click", save); }
  window.vardflodeModeler = modeler; // for the browser test and the console
})();
