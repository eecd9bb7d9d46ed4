/* The case page's small enhancements; every page works without them.
   - Copy a journal-note draft to the clipboard (the text stays selectable without JavaScript).
   - Insert a phrase template at the cursor instead of posting the form ("Infoga" posts without JS).
   - Move focus to what an htmx request brought in (older messages, a form preview).
   - Keep typed text through a lost session (see setUpDrafts). */
(function () {
  "use strict";

  function announce(button, text) {
    var status = button.parentElement && button.parentElement.querySelector(".copy-status");
    if (status) { status.textContent = text; }
  }

  function setUpCopy(root) {
    root.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      if (!navigator.clipboard) { return; }
      button.hidden = false;
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        if (!source) { return; }
        navigator.clipboard.writeText(source.textContent).then(
          function () { announce(button, button.dataset.copied); },
          function () { announce(button, button.dataset.copyFailed); }
        );
      });
    });
  }

  function insertAtCursor(area, text) {
    var start = area.selectionStart, end = area.selectionEnd, value = area.value;
    var before = value.slice(0, start), after = value.slice(end);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    area.value = before + glue + text + after;
    var caret = (before + glue + text).length;
    area.focus();
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));  // the tone hint reads the new text
  }

  function setUpPhrases(root) {
    root.querySelectorAll("button[data-phrase-insert]").forEach(function (button) {
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.addEventListener("click", function (event) {
        var select = document.getElementById(button.dataset.phraseInsert);
        var area = select && document.getElementById(select.dataset.phraseTarget);
        var option = select && select.options[select.selectedIndex];
        if (!area || !option || !option.value) { return; }  // nothing chosen: the server says so
        event.preventDefault();
        insertAtCursor(area, option.dataset.text || "");
      });
    });
  }

  // Text typed on the case page survives a lost session (an idle timeout, a sign-out in another tab):
  // it is kept in this tab's sessionStorage while typed, put back into the empty field when the case
  // page is opened again, and forgotten once the server confirms the action or on signing out.
  // sessionStorage is per tab and ends with it; nothing is sent anywhere.
  var DRAFT = "vardflode-draft|";
  var PENDING = "vardflode-draft-pending";

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function draftFields(root) {
    return root.querySelectorAll(".casework form[method=post] textarea[name], .casework form[method=post] input[type=text][name]");
  }

  function draftKey(field) {
    return DRAFT + field.form.action + "|" + field.name;
  }

  function forget(prefix) {
    var s = store();
    if (!s) { return; }
    for (var i = s.length - 1; i >= 0; i--) {
      var key = s.key(i);
      if (key && key.indexOf(prefix) === 0) { s.removeItem(key); }
    }
  }

  function setUpDrafts(root) {
    var s = store();
    if (!s) { return; }
    var container = document.querySelector(".casework");
    var restoredText = container ? container.dataset.draftRestored : "";
    draftFields(root).forEach(function (field) {
      if (field.dataset.draft || field.readOnly || !field.form) { return; }
      field.dataset.draft = "1";
      var kept = s.getItem(draftKey(field));
      if (kept && !field.value) {
        field.value = kept;
        if (restoredText) {
          var note = document.createElement("p");
          note.className = "hint draft-restored";
          note.textContent = restoredText;
          field.insertAdjacentElement("afterend", note);
        }
      }
      field.addEventListener("input", function () {
        if (field.value) { s.setItem(draftKey(field), field.value); } else { s.removeItem(draftKey(field)); }
      });
    });
  }

  function settleDrafts() {
    var s = store();
    if (!s) { return; }
    var pending = s.getItem(PENDING);
    // The status message is only shown after an action the server carried out (post/redirect/get).
    if (pending && document.querySelector(".casework .notice[role=status]")) {
      forget(DRAFT + pending + "|");
    }
    s.removeItem(PENDING);
  }

  document.addEventListener("submit", function (event) {
    var s = store();
    var form = event.target;
    if (!s || !form || !form.action) { return; }
    if (/\/(logout|shift\/end)$/.test(form.action)) { forget(DRAFT); return; }  // signing out
    if (form.closest && form.closest(".casework")) { s.setItem(PENDING, form.action); }
  }, true);

  function setUp(root) {
    setUpCopy(root);
    setUpPhrases(root);
    setUpDrafts(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    settleDrafts();
    setUp(document);
    var first = document.querySelector("[autofocus]");
    if (first && document.activeElement !== first) { first.focus(); }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    setUp(document);
    // Older messages replace their "Visa tidigare" link: the list that came in takes the focus.
    // Anything else brought in (a form preview) focuses its own [autofocus] element.
    var path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
    var elt = event.detail.elt;
    if (/\/messages(\?|$)/.test(path)) {
      var lists = document.querySelectorAll("#chat-log ol.messages");
      if (lists.length) { lists[0].focus(); }
      return;
    }
    var wanted = elt && elt.querySelector ? elt.querySelector("[autofocus]") : null;
    if (wanted) { wanted.focus(); }
  });
})();
