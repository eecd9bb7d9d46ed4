// Switching the language reloads the page: what the user had typed or chosen in the page's forms is
// carried over in this tab's sessionStorage and put back into the same fields of the page the switch
// leads to, once, then forgotten. Hidden fields (versions, tokens) are never carried: they belong to
// the page as the server rendered it. Without JavaScript the switch still works; the input is lost.
(function () {
  "use strict";
  var KEY = "vardflode-language-carry";

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function carried(element) {
    var type = (element.type || "").toLowerCase();
    return element.name && !element.disabled &&
      ["hidden", "password", "file", "submit", "button", "reset", "image"].indexOf(type) === -1;
  }

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, carried);
  }

  function postForms() {
    return document.querySelectorAll("main form[method=post]");
  }

  function collect() {
    var fields = [];
    postForms().forEach(function (form) {
      fieldsOf(form).forEach(function (element) {
        var type = (element.type || "").toLowerCase();
        if (type === "radio" || type === "checkbox") {
          fields.push({ action: form.action, name: element.name, value: element.value, checked: element.checked });
        } else if (element.value !== element.defaultValue || element.tagName === "SELECT") {
          fields.push({ action: form.action, name: element.name, value: element.value });
        }
      });
    });
    return fields;
  }

  function restore(fields) {
    postForms().forEach(function (form) {
      fieldsOf(form).forEach(function (element) {
        var type = (element.type || "").toLowerCase();
        fields.forEach(function (field) {
          if (field.action !== form.action || field.name !== element.name) { return; }
          if (type === "radio" || type === "checkbox") {
            if (field.value === element.value) { element.checked = field.checked; }
          } else if (element.tagName !== "SELECT" ||
                     Array.prototype.some.call(element.options, function (o) { return o.value === field.value; })) {
            element.value = field.value;
          }
        });
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var storage = store();
    if (!storage || !form.classList || !form.classList.contains("language")) { return; }
    var next = form.querySelector("input[name=next]");
    storage.setItem(KEY, JSON.stringify({ path: next ? next.value : "", fields: collect() }));
  });

  document.addEventListener("DOMContentLoaded", function () {
    var storage = store();
    var saved = storage && storage.getItem(KEY);
    if (!saved) { return; }
    storage.removeItem(KEY);
    try { saved = JSON.parse(saved); } catch (e) { return; }
    if (saved.path === window.location.pathname + window.location.search) { restore(saved.fields || []); }
  });
}());
