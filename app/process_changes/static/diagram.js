// Draws a version's diagram with bpmn-js's NavigatedViewer and marks elements listed on the page:
// each element with data-element / data-change inside the container named by data-markers-from gets
// a marker class ("change-added", "change-changed", "change-removed") and a +, ~ or − badge. The lists
// on the page are the accessible alternative; the diagram is decoration for sighted users.
(function () {
  "use strict";
  var BADGES = { added: "+", changed: "~", removed: "\u2212" };

  function markers(container) {
    var source = document.getElementById(container.getAttribute("data-markers-from"));
    var result = {};
    if (!source) return result;
    Array.prototype.forEach.call(source.querySelectorAll("[data-element][data-change]"), function (node) {
      result[node.getAttribute("data-element")] = node.getAttribute("data-change");
    });
    return result;
  }

  function draw(container) {
    if (typeof window.BpmnJS !== "function") return;
    var byElement = markers(container);
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
          var change = byElement[id];
          canvas.addMarker(id, "change-" + change);
          if (BADGES[change]) {
            var badge = document.createElement("span");
            badge.className = "change-badge change-badge-" + change;
            badge.textContent = BADGES[change];
            overlays.add(id, "change", { position: { top: -10, left: -10 }, html: badge });
          }
        });
        canvas.zoom("fit-viewport");
        container.classList.add("diagram-ready");
      })
      .catch(function () { container.classList.add("diagram-failed"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".diagram-canvas[data-diagram-url]"), draw);
  });
})();
