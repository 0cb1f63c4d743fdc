/*
 * The dispatcher console's complaint panel: open complaints by escalation risk, from
 * GET /api/v1/complaints/attention, refreshed every minute.
 */
(function (global) {
  "use strict";

  var box = document.getElementById("console-complaints");
  if (!box) return;
  var list = document.getElementById("console-complaint-list");

  function load() {
    fetch(box.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        list.textContent = "";
        data.results.forEach(function (c) {
          var li = document.createElement("li");
          var chip = document.createElement("span");
          chip.className = "risk-chip risk-" + c.risk;
          chip.textContent = c.risk_label;
          li.appendChild(chip);
          var a = document.createElement("a");
          a.href = box.dataset.desk + c.id + "/";
          a.textContent = c.reference;
          li.appendChild(a);
          li.appendChild(document.createTextNode(" " + c.status_label + " · " + (c.address || "") + (c.flags.length ? " · " + c.flags.join("、") : "")));
          list.appendChild(li);
        });
        box.hidden = data.results.length === 0;
      });
  }
  load();
  global.setInterval(load, 60000);
})(window);
