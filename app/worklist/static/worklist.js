// Progressive enhancement for the clinician's pages (every page works without this file).
// 1. The patient list refreshes itself (htmx polling, see routes.py), but never under the user's
//    hands: no refresh while focus or a text selection is in a refreshed part, within a few
//    seconds of a key press, click or scroll there, or while the tab is hidden.
// 2. After a page load or an htmx swap, focus goes to the message that says what happened.
(function () {
  "use strict";
  var QUIET_MS = 5000;
  var lastInteraction = 0;

  function liveParts() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-part]"));
  }

  function inLivePart(node) {
    return liveParts().some(function (part) { return node && part.contains(node); });
  }

  function userIsBusy() {
    if (document.visibilityState === "hidden") return true;
    if (inLivePart(document.activeElement)) return true;
    var selection = window.getSelection && window.getSelection();
    if (selection && !selection.isCollapsed && inLivePart(selection.anchorNode)) return true;
    return Date.now() - lastInteraction < QUIET_MS;
  }

  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (inLivePart(event.target)) lastInteraction = Date.now();
    }, { passive: true, capture: true });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.id === "worklist-live" && userIsBusy()) event.preventDefault();
  });

  function focusMessage(root) {
    var target = (root || document).querySelector("[data-focus-on-load]");
    if (target) target.focus();
  }

  document.addEventListener("DOMContentLoaded", function () { focusMessage(document); });
  // New content from an htmx form (the inbox replaces <main>) may carry the message to focus; the
  // list's own refresh never does, so it never moves focus.
  document.addEventListener("htmx:load", function (event) {
    var added = event.detail && event.detail.elt;
    if (!added || !added.querySelector) return;
    var target = added.matches("[data-focus-on-load]") ? added : added.querySelector("[data-focus-on-load]");
    if (target) target.focus();
  });
})();
