/*
 * SLA clocks: the due time that matters now, its count-down text (ticked every second) and
 * the SLA block of the selected order.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  // The SLA clock that matters now: arrival before the crew is on site, restoration after.
  function dueOf(o) {
    if (!o.arrived_at && o.arrive_due_at) return { at: o.arrive_due_at, clock: "arrive" };
    if (o.restore_due_at) return { at: o.restore_due_at, clock: "restore" };
    return null;
  }

  function dueNode(o, cls) {
    var due = dueOf(o);
    if (!due || ["completed", "return_visit", "closed", "cancelled", "merged"].indexOf(o.status) !== -1) return null;
    return el("span", { className: "due " + (cls || ""), dataset: { due: due.at, clock: due.clock } });
  }

  function dueText(node) {
    var at = K.parse(node.dataset.due);
    if (!at) return "";
    var ms = at.getTime() - Date.now();
    var arrive = node.dataset.clock === "arrive";
    if (ms >= 0) {
      return interpolate(arrive ? gettext("到场剩 %(d)s") : gettext("修复剩 %(d)s"), { d: K.fmtDuration(ms) }, true);
    }
    return interpolate(arrive ? gettext("到场超时 %(d)s") : gettext("修复超时 %(d)s"), { d: K.fmtDuration(ms) }, true);
  }

  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (node) {
      node.textContent = dueText(node);
      var at = K.parse(node.dataset.due);
      node.classList.toggle("overdue", !!at && at.getTime() < Date.now());
    });
  }



  function slaBlock(d) {
    var rows = [];
    function clock(title, due, doneAt, marks) {
      if (!due) return;
      var done = doneAt ? K.parse(doneAt) : null;
      var late = done ? done.getTime() > K.parse(due).getTime() : false;
      var live = done ? el("span", { className: "due " + (late ? "overdue" : "met"), text: late ? gettext("超时完成") : gettext("按时完成") })
        : el("span", { className: "due", dataset: { due: due, clock: title === "arrive" ? "arrive" : "restore" } });
      rows.push(el("div", { className: "sla-row" + (marks ? " " + marks : "") }, [
        el("span", { className: "sla-name", text: title === "arrive" ? gettext("到场时限") : gettext("修复时限") }),
        el("time", { datetime: due, text: K.fmtTime(due) }),
        live
      ]));
    }
    clock("arrive", d.arrive_due_at, d.arrived_at);
    clock("restore", d.restore_due_at, d.restored_at || d.completed_at);
    if (!rows.length) return null;
    return el("div", { className: "sla-box sla-" + d.sla_state }, [
      el("div", { className: "sla-state" }, [
        el("span", { className: "swatch swatch-order sla-" + d.sla_state, "aria-hidden": "true" }),
        K.label("sla", d.sla_state)
      ])
    ].concat(rows));
  }

  return { dueOf: dueOf, dueNode: dueNode, dueText: dueText, tick: tick, slaBlock: slaBlock };
});
