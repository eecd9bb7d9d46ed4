// The heatmap: the process diagram drawn by bpmn-js's NavigatedViewer, with the number of cases
// standing at each element as an overlay and a marker whose shade grows with the count. The counts
// come from the table on the same page (the accessible alternative), so both always agree.
(function () {
  "use strict";

  function counts(table) {
    var result = {};
    Array.prototype.forEach.call(table.querySelectorAll("tr[data-element]"), function (row) {
      result[row.getAttribute("data-element")] = parseInt(row.getAttribute("data-count"), 10) || 0;
    });
    return result;
  }

  function level(count, max) {
    if (max <= 0) return 1;
    return Math.max(1, Math.min(4, Math.ceil((count / max) * 4)));
  }

  function draw(container) {
    var table = document.getElementById(container.getAttribute("data-counts-from"));
    if (!table || typeof window.BpmnJS !== "function") return;
    var byElement = counts(table);
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
        var max = 0;
        Object.keys(byElement).forEach(function (id) { max = Math.max(max, byElement[id]); });
        Object.keys(byElement).forEach(function (id) {
          if (!registry.get(id)) return;
          canvas.addMarker(id, "heat-" + level(byElement[id], max));
          var badge = document.createElement("span");
          badge.className = "heat-badge";
          badge.textContent = String(byElement[id]);
          overlays.add(id, "heat", { position: { top: -12, right: 12 }, html: badge });
        });
        canvas.zoom("fit-viewport");
        container.classList.add("heatmap-ready");
      })
      .catch(function () {
        container.classList.add("heatmap-failed");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("heatmap");
    if (container) draw(container);
  });
})();
