/*
 * Dispatch and re-dispatch: the dialog with the ranked suggestions, the manual pick and the
 * override.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  var dispatchDialog = $("dispatch-dialog");

  function dispatchHeader(d) {
    $("dispatch-title").textContent = d.crew ? gettext("改派") : gettext("派单");
    $("dispatch-order").textContent = "#" + d.id + " " + d.title +
      (d.crew ? " · " + interpolate(gettext("当前班组：%(crew)s"), { crew: d.crew.name }, true) : "");
    $("dispatch-auto").hidden = !(d.crew || d.status === "published" || d.status === "created" || d.status === "rejected");
  }

  // The live ranking for the order as it is now (state.detail).
  function loadSuggestions() {
    var d = state.detail;
    state.suggestions = null;
    state.chosenCrew = null;
    $("dispatch-submit").disabled = true;
    $("dispatch-submit").textContent = gettext("派给所选班组");
    $("dispatch-filtered").hidden = true;
    K.clear($("dispatch-suggestions")).appendChild(el("p", { className: "muted", text: gettext("正在计算推荐班组…") }));
    return K.api.suggestions(d.id).then(function (res) {
      if (!dispatchDialog.open) return;
      if (!res.ok) {
        K.clear($("dispatch-suggestions"));
        DC.showFormError($("dispatch-error"), res.error);
        return;
      }
      state.suggestions = res.data;
      renderSuggestions(res.data);
    });
  }

  function openDispatch() {
    var d = state.detail;
    // The choice is made on what is shown now: a change meanwhile must answer 409.
    state.seenVersion = d.version;
    dispatchHeader(d);
    $("dispatch-reason").value = "";
    $("dispatch-error").hidden = true;
    K.openDialog(dispatchDialog);
    loadSuggestions();
  }

  function chooseCrew(candidate) {
    state.chosenCrew = candidate;
    setOverride(!!(candidate && candidate.override), candidate && candidate.reasons);
    if (candidate && !candidate.override && $("dispatch-manual-crew")) $("dispatch-manual-crew").value = "";
    var submit = $("dispatch-submit");
    submit.disabled = !candidate;
    submit.textContent = candidate
      ? interpolate(gettext("派给 %(crew)s"), { crew: candidate.crew.name }, true)
      : gettext("派给所选班组");
    document.querySelectorAll("#dispatch-suggestions tbody tr").forEach(function (tr) {
      tr.classList.toggle("picked", !!candidate && tr.dataset.crewId === String(candidate.crew_id));
    });
  }

  function renderSuggestions(data) {
    var d = state.detail;
    var box = K.clear($("dispatch-suggestions"));
    var candidates = data.candidates || [];
    M.showCandidates(DC.feedOrder(d.id) || d, candidates);
    if (!candidates.length) {
      box.appendChild(el("p", { className: "form-error", id: "dispatch-none" }, [
        data.outcome === "no_location"
          ? gettext("工单没有位置，无法按距离推荐班组。请先在地图上定位，或在下方手工指定在班班组并填写原因。")
          : interpolate(gettext("没有符合条件的班组（%(why)s）。被排除的班组及原因见下方，可手工指定并填写原因。"), { why: data.outcome_label || gettext("没有符合条件的班组") }, true),
        data.outcome === "no_location" ? el("button", {
          type: "button", className: "btn btn-small btn-outline", id: "dispatch-place", text: gettext("在地图上定位"),
          on: { click: function () { K.closeDialog(dispatchDialog); window.ConsoleHands.startPlacing(state.detail); } }
        }) : null
      ]));
    } else {
      var table = el("table", { className: "rank-table suggestions-table" }, [
        el("thead", null, [el("tr", null, [
          el("th", { scope: "col", className: "pick" }, [el("span", { className: "visually-hidden", text: gettext("选择") })]),
          el("th", { scope: "col", text: gettext("排名") }),
          el("th", { scope: "col", text: gettext("班组") }),
          el("th", { scope: "col", className: "num", text: gettext("距离") }),
          el("th", { scope: "col", className: "num", text: gettext("路程") }),
          el("th", { scope: "col", className: "num", text: gettext("在手") }),
          el("th", { scope: "col", text: gettext("代价构成（分钟）") }),
          el("th", { scope: "col", className: "num", text: gettext("综合") })
        ])])
      ]);
      var body = el("tbody");
      var first = null;
      candidates.forEach(function (c, i) {
        var current = d.crew && d.crew.id === c.crew_id;
        var radio = el("input", {
          type: "radio", name: "crew", value: String(c.crew_id), id: "pick-" + c.crew_id,
          disabled: current, "aria-label": c.crew.name
        });
        radio.addEventListener("change", function () { if (radio.checked) chooseCrew(c); });
        if (!current && !first) first = { radio: radio, candidate: c };
        var row = el("tr", { className: current ? "current" : "", dataset: { crewId: String(c.crew_id), rank: String(i + 1) } }, [
          el("td", { className: "pick" }, [radio]),
          el("td", { text: String(i + 1) }),
          el("td", null, [
            el("label", { "for": "pick-" + c.crew_id, className: "crew-cell" }, [
              el("strong", { text: c.crew.name }),
              el("span", { className: "muted", text: " " + c.crew.code + " · " + c.crew.station })
            ]),
            current ? DC.chip(gettext("当前班组"), "chip-kind") : null
          ]),
          el("td", { className: "num", text: Number(c.distance_km).toFixed(1) + " km" }),
          el("td", { className: "num", text: interpolate(gettext("%(m)s 分"), { m: Math.round(c.travel_min) }, true) }),
          el("td", { className: "num" + (c.open_orders >= c.capacity ? " full" : ""), text: c.open_orders + "/" + c.capacity }),
          el("td", null, [DC.componentList(c.explanation)]),
          el("td", { className: "num", text: Number(c.cost).toFixed(1) })
        ]);
        row.addEventListener("click", function (e) {
          if (current || e.target === radio) return;
          radio.checked = true;
          chooseCrew(c);
        });
        body.appendChild(row);
      });
      table.appendChild(body);
      box.appendChild(table);
      // The best crew that is not already on it is preselected: one click to confirm.
      if (first) { first.radio.checked = true; chooseCrew(first.candidate); }
    }
    renderManualPick(data.on_duty || []);
    var filtered = data.filtered_out || [];
    var details = $("dispatch-filtered");
    details.hidden = filtered.length === 0;
    $("dispatch-filtered-summary").textContent = interpolate(gettext("附近被排除的班组（%(n)s）"), { n: filtered.length }, true);
    var list = K.clear($("dispatch-filtered-list"));
    filtered.forEach(function (f) {
      list.appendChild(el("li", null, [
        el("strong", { text: DC.crewName(f) }),
        f.distance_km !== null && f.distance_km !== undefined ? el("span", { className: "muted", text: " " + f.distance_km.toFixed(1) + " km" }) : null,
        el("span", { text: " — " + (f.reason_labels || []).join("、") })
      ]));
    });
  }

  // Any on-duty crew by hand: an excluded one overrides the filters and needs a reason.
  function renderManualPick(crews) {
    var select = $("dispatch-manual-crew");
    K.clear(select).appendChild(el("option", { value: "", text: interpolate(gettext("选择在班班组（%(n)s）"), { n: crews.length }, true) }));
    crews.forEach(function (c) {
      var why = c.eligible ? gettext("符合条件") : (c.reason_labels || []).join("、");
      var far = typeof c.distance_km === "number" ? " · " + c.distance_km.toFixed(1) + " km" : "";
      select.appendChild(el("option", { value: String(c.crew_id), text: c.crew.name + " (" + c.crew.code + ")" + far + " — " + why }));
    });
    select.onchange = function () {
      var c = crews.filter(function (x) { return String(x.crew_id) === select.value; })[0] || null;
      document.querySelectorAll("#dispatch-suggestions input[type=radio]").forEach(function (r) { r.checked = false; });
      chooseCrew(c ? { crew_id: c.crew_id, crew: c.crew, override: !c.eligible, reasons: c.reason_labels } : null);
    };
    $("dispatch-manual").hidden = crews.length === 0;
  }

  function setOverride(on, reasons) {
    $("dispatch-reason-label").textContent = on ? gettext("越过筛选条件的原因（必填）") : gettext("说明（可选）");
    $("dispatch-reason").setAttribute("aria-required", on ? "true" : "false");
    $("dispatch-manual-why").textContent = on
      ? interpolate(gettext("该班组被筛选排除：%(why)s。派给它将记录为越过筛选，须填写原因。"), { why: (reasons || []).join("、") || gettext("工单位置未知") }, true)
      : "";
  }

  function submitDispatch(crew) {
    var d = state.detail;
    var button = crew ? $("dispatch-submit") : $("dispatch-auto");
    if (state.busy) return;
    $("dispatch-error").hidden = true;
    DC.setBusy(button, true);
    var body = { version: state.seenVersion, reason: $("dispatch-reason").value.trim() };
    if (crew) body.crew = crew.crew_id;
    if (crew && crew.override) {
      body.override = true;
      if (!body.reason) {
        DC.setBusy(button, false);
        DC.showFormError($("dispatch-error"), { code: "invalid", message: gettext("越过筛选条件派单须填写原因。"), fields: {} });
        $("dispatch-reason").focus();
        return;
      }
    }
    K.api.post(d.id, "dispatch", body).then(function (res) {
      DC.setBusy(button, false);
      var text = crew ? interpolate(gettext("工单 #%(id)s 已派给 %(crew)s"), { id: d.id, crew: crew.crew.name }, true)
        : interpolate(gettext("工单 #%(id)s 已交回自动派单"), { id: d.id }, true);
      DC.handleResult(res, dispatchDialog, $("dispatch-error"), text).then(function (reloaded) {
        // The ranking was made for the old state: rank again for the fresh one.
        if (reloaded && dispatchDialog.open && state.detail) {
          dispatchHeader(state.detail);
          loadSuggestions();
        }
      });
    });
  }

  function bindDispatch() {
    $("dispatch-form").addEventListener("submit", function (e) {
      e.preventDefault();
      if (state.chosenCrew) submitDispatch(state.chosenCrew);
    });
    $("dispatch-auto").addEventListener("click", function () { submitDispatch(null); });
    dispatchDialog.addEventListener("close", function () { M.clearCandidates(); });
  }

  return { dispatchDialog: dispatchDialog, dispatchHeader: dispatchHeader, loadSuggestions: loadSuggestions, openDispatch: openDispatch, chooseCrew: chooseCrew, renderSuggestions: renderSuggestions, renderManualPick: renderManualPick, setOverride: setOverride, submitDispatch: submitDispatch, bindDispatch: bindDispatch };
});
