// The schedule pages: after a refused save, focus goes to the error summary, so a keyboard or
// screen-reader user starts from the list of what to correct (WCAG 2.1: 3.3.1, 2.4.3).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });
})();
