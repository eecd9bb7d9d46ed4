// Progressive enhancement for the control tower (every page works without this file).
// The overview refreshes itself with htmx, but never under the user's hands: no refresh while focus
// or a text selection is inside the refreshed part, within a few seconds of a key press, click or
// scroll there, or while the tab is hidden. A refresh that does happen keeps focus on the element
// with the same id (htmx restores focus by id), and an unchanged overview is answered with 204.
(function () {
  "use strict";
  var QUIET_MS = 5000;
  var lastTouch = 0;

  function live() { return document.getElementById("tower-live"); }

  function inside(node) {
    var part = live();
    return !!(part && node && part.contains(node));
  }

  function busy() {
    if (document.visibilityState === "hidden") return true;
    if (inside(document.activeElement)) return true;
    var selection = window.getSelection && window.getSelection();
    if (selection && !selection.isCollapsed && inside(selection.anchorNode)) return true;
    return Date.now() - lastTouch < QUIET_MS;
  }

  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (inside(event.target)) lastTouch = Date.now();
    }, { passive: true, capture: true });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.id === "tower-live" && busy()) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var target = document.querySelector("[data-focus-on-load]");
    if (target) target.focus();
  });
})();
