/*
 * "Why this crew": the dispatch decision of the selected order, its summary and table.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  function componentList(explanation) {
    return el("ul", { className: "components" }, (explanation || []).map(function (x) {
      return el("li", null, [el("span", { text: x.label }), el("b", { text: Number(x.minutes).toFixed(1) })]);
    }));
  }

  function crewName(c) {
    var name = c.crew_name || (c.crew && c.crew.name) || "";
    var code = c.crew_code || (c.crew && c.crew.code) || "";
    return name + (code ? " (" + code + ")" : "");
  }

  function decisionBlock(d) {
    var decisions = d.decisions || [];
    var section = el("section", { className: "detail-section why" }, [el("h3", { text: gettext("派单说明：为什么是这个班组") })]);
    if (!decisions.length) {
      section.appendChild(el("p", { className: "muted small", text: gettext("还没有派单决策。") }));
      return section;
    }
    var latest = decisions[0];
    section.appendChild(decisionSummary(latest));
    section.appendChild(decisionTable(latest));
    var filtered = Array.isArray(latest.filtered_out) ? latest.filtered_out : [];
    if (filtered.length || (latest.filtered_counts || []).length) {
      var box = el("details", { className: "filtered-out" }, [
        el("summary", { text: interpolate(gettext("被排除的班组（%(n)s）"), { n: filtered.length || latest.filtered_counts.reduce(function (t, c) { return t + c.crews; }, 0) }, true) })
      ]);
      if ((latest.filtered_counts || []).length) {
        box.appendChild(el("p", { className: "small muted", text: latest.filtered_counts.map(function (c) {
          return c.label + " × " + c.crews;
        }).join("；") }));
      }
      if (filtered.length) {
        box.appendChild(el("ul", null, filtered.map(function (f) {
          return el("li", null, [
            el("strong", { text: crewName(f) }),
            f.distance_km !== null && f.distance_km !== undefined ? el("span", { className: "muted", text: " " + f.distance_km.toFixed(1) + " km" }) : null,
            el("span", { text: " — " + (f.reason_labels || f.reasons || []).join("、") })
          ]);
        })));
      }
      section.appendChild(box);
    }
    if (decisions.length > 1) {
      var older = el("details", { className: "older-decisions" }, [
        el("summary", { text: interpolate(gettext("更早的派单决策（%(n)s）"), { n: decisions.length - 1 }, true) })
      ]);
      decisions.slice(1).forEach(function (x) { older.appendChild(decisionSummary(x)); });
      section.appendChild(older);
    }
    return section;
  }

  function decisionSummary(x) {
    var who = x.crew ? interpolate(gettext("派给 %(crew)s"), { crew: x.crew }, true) : (x.outcome_label || gettext("未派出"));
    return el("p", { className: "decision-summary" }, [
      DC.chip(K.label("decisionMode", x.mode), "chip-kind"),
      el("strong", { text: " " + who }),
      el("span", { className: "muted", text: " · " + K.fmtTime(x.at) + (x.actor ? " · " + x.actor : "") }),
      x.data && x.data.over_capacity ? DC.chip(gettext("超出班组容量"), "chip-urgent") : null
    ]);
  }

  function decisionTable(x) {
    var candidates = x.candidates || [];
    if (!candidates.length) return el("p", { className: "muted small", text: gettext("没有候选班组。") });
    var table = el("table", { className: "rank-table" }, [
      el("thead", null, [el("tr", null, [
        el("th", { scope: "col", text: "#" }),
        el("th", { scope: "col", text: gettext("班组") }),
        el("th", { scope: "col", className: "num", text: gettext("距离") }),
        el("th", { scope: "col", text: gettext("代价构成（分钟）") }),
        el("th", { scope: "col", className: "num", text: gettext("综合") })
      ])])
    ]);
    var body = el("tbody");
    candidates.forEach(function (c, i) {
      body.appendChild(el("tr", { className: c.chosen ? "chosen" : "" }, [
        el("td", { text: String(i + 1) }),
        el("td", null, [el("span", { text: crewName(c) }), c.chosen ? DC.chip(gettext("选中"), "chip-chosen") : null]),
        el("td", { className: "num", text: Number(c.distance_km).toFixed(1) + " km" }),
        el("td", null, [componentList(c.explanation)]),
        el("td", { className: "num", text: Number(c.cost).toFixed(1) })
      ]));
    });
    table.appendChild(body);
    return table;
  }

  return { componentList: componentList, crewName: crewName, decisionBlock: decisionBlock, decisionSummary: decisionSummary, decisionTable: decisionTable };
});
