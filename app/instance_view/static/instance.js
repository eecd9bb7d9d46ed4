// Draws the instance's diagram with bpmn-js's NavigatedViewer and marks each element with its state
// (completed, active, waiting, error) read from the state table on the page, the accessible
// alternative: the table and the diagram always agree.
(function () {
  "use strict";
  var SYMBOLS = { completed: "\u2713", active: "\u25CF", waiting: "\u2026", error: "!" };

  function states(table) {
    var result = {};
    Array.prototype.forEach.call(table.querySelectorAll("tr[data-element]"), function (row) {
      result[row.getAttribute("data-element")] = row.getAttribute("data-state");
    });
    return result;
  }

  function draw(container) {
    var table = document.getElementById(container.getAttribute("data-states-from"));
    if (!table || typeof window.BpmnJS !== "function") return;
    var byElement = states(table);
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.getAttribute("data-diagram-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("diagram " + response.status);
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var overlays = viewer.get("overlays");
        var registry = viewer.get("elementRegistry");
        Object.keys(byElement).forEach(function (id) {
          if (!registry.get(id)) return;
          var state = byElement[id];
          canvas.addMarker(id, "state-" + state);
          var badge = document.createElement("span");
          badge.className = "state-badge state-badge-" + state;
          badge.textContent = SYMBOLS[state] || "";
          overlays.add(id, "state", { position: { top: -10, left: -10 }, html: badge });
        });
        canvas.zoom("fit-viewport");
        container.classList.add("diagram-ready");
      })
      .catch(function () { container.classList.add("diagram-failed"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("instance-diagram");
    if (container) draw(container);
  });
})();
