// The resident's pages: move focus where the user needs it (an error summary, a status message, the
// newly loaded messages) and announce what an htmx swap changed. Loaded with CSP script-src 'self'.
(function () {
  "use strict";

  function focusMarked(root) {
    var target = (root || document).querySelector("[data-focus]");
    if (target) {
      target.removeAttribute("data-focus");
      target.focus();
    }
  }

  function announce(root) {
    var source = (root || document).querySelector("[data-announce]");
    var live = document.getElementById("live");
    if (!source || !live) {
      return;
    }
    var text = source.getAttribute("data-announce");
    source.removeAttribute("data-announce");
    live.textContent = "";
    // A moment later, so screen readers notice the change of the live region.
    window.setTimeout(function () { live.textContent = text; }, 100);
  }

  // The chat's poll (#chat-poll): an answer that arrives after the chat was replaced (the resident just
  // sent a message) is dropped, since the new chat already holds those messages; a refused poll (for
  // example the child turned 13) stops polling instead of being refused, and logged, again and again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.elt;
    if (source && source.id === "chat-poll" && !document.body.contains(source)) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var source = event.detail.elt;
    if (source && source.id === "chat-poll") {
      source.remove();
    }
  });

  // A form posted the ordinary way is sent once: a second tap while the first is on its way (a slow
  // phone connection) would otherwise submit a second case or answer. htmx forms manage their own requests.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-post")) {
      return;
    }
    if (form.hasAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "");
  });
  // Back to a page kept in the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      form.removeAttribute("data-sending");
    });
  });

  document.addEventListener("DOMContentLoaded", function () { focusMarked(document); });
  document.addEventListener("htmx:afterSettle", function () {
    announce(document);
    focusMarked(document);
  });
})();
