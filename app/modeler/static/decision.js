// The decision-table editor: dmn-js Modeler over one .dmn of the draft; saving sends it to the
// server, whose validator refuses FEEL and checks every cell as a Python expression.
(function () {
  "use strict";
  var root = document.getElementById("decision");
  if (!root || !window.DmnJS) { return; }
  var config = JSON.parse(root.dataset.config);
  var texts = document.getElementById("texts").dataset;
  var status = document.getElementById("status");
  // Keyboard shortcuts bind to the table itself (dmn-js 17 refuses keyboard.bindTo with a console error).
  var modeler = new window.DmnJS({ container: "#dmn", common: { keyboard: { bind: true } } });
  var hash = config.hash;

  function showFindings(findings) {
    var list = document.getElementById("findings"); list.innerHTML = "";
    var mine = findings.filter(function (f) { return f.file === config.name; });
    if (!mine.length) { var li = document.createElement("li"); li.textContent = texts.none; list.appendChild(li); }
    mine.forEach(function (f) {
      var item = document.createElement("li"); item.className = "finding " + f.severity;
      item.textContent = (f.severity === "error" ? texts.error : texts.warning) + ": " + (f.element_id || "") + " " + f.message;
      list.appendChild(item);
    });
  }

  fetch(config.dmnUrl, { credentials: "same-origin" }).then(function (r) { return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      var table = modeler.getViews().find(function (v) { return v.type === "decisionTable"; });
      if (table) { return modeler.open(table); }
    })
    .catch(function (error) { status.textContent = texts.failed + " " + error; });

  var button = document.getElementById("save");
  if (button) {
    button.addEventListener("click", function () {
      status.textContent = texts.saving;
      modeler.saveXML({ format: true }).then(function (result) {
        var decisions = {}; decisions[config.name] = result.xml;
        return fetch(config.saveUrl, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": config.csrf },
          body: JSON.stringify({ decisions: decisions, expected_hash: hash })
        });
      }).then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
        .then(function (answer) {
          if (answer.status === 200) { hash = answer.body.hash; status.textContent = texts.saved; showFindings(answer.body.findings); }
          else if (answer.status === 409) { status.textContent = texts.conflict; }
          else { status.textContent = texts.failed + " " + (answer.body.detail || answer.status); }
        })
        .catch(function (error) { status.textContent = texts.failed + " " + error; });
    });
  }
})();
