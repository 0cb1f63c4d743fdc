/*
 * The selected order: choosing it, loading its detail from the staff API when the feed shows
 * it changed, and rendering it (facts, actions, timeline).
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  // --- the selected order ----------------------------------------------------------------------------

  function feedOrder(id) {
    var items = (state.feed && state.feed.orders.items) || [];
    for (var i = 0; i < items.length; i++) if (items[i].id === id) return items[i];
    return null;
  }

  function feedOutage(id) {
    var outages = (state.feed && state.feed.outages) || [];
    for (var i = 0; i < outages.length; i++) if (outages[i].id === id) return outages[i];
    return null;
  }

  // What the detail was built from; a different key means "read it again".
  function detailKeyFor(id) {
    var o = feedOrder(id);
    if (!o) return null;
    var outage = o.outage_id ? feedOutage(o.outage_id) : null;
    return o.version + ":" + (outage ? outage.version : "-");
  }

  function selectOrder(id, options) {
    state.selectedId = id;
    document.querySelectorAll("#order-list .order-item").forEach(function (li) {
      var on = li.dataset.orderId === String(id);
      li.classList.toggle("selected", on);
      li.querySelector(".order-button").setAttribute("aria-pressed", on ? "true" : "false");
    });
    M.select(feedOrder(id) || (state.detail && state.detail.id === id ? state.detail : null), options);
    if (window.location.hash !== "#order-" + id) window.history.replaceState(null, "", "#order-" + id);
    loadDetail(id, true);
  }

  function loadDetail(id, fresh) {
    if (state.detailController) state.detailController.abort();
    state.detailController = new AbortController();
    var key = detailKeyFor(id);
    if (fresh) showDetailLoading();
    return K.api.order(id, state.detailController.signal).then(function (res) {
      if (id !== state.selectedId) return;
      if (!res.ok) {
        showDetailError(K.errorText(res.error));
        return;
      }
      state.detailKey = key;
      renderDetail(res.data);
    }, function () { /* aborted by a newer selection */ });
  }

  function refreshDetailIfChanged() {
    if (!state.selectedId) return;
    var key = detailKeyFor(state.selectedId);
    // Not in the filtered feed: re-read on every change of the picture.
    if (key === null || key !== state.detailKey) loadDetail(state.selectedId, false);
  }

  function showDetailLoading() {
    $("detail-empty").hidden = true;
    var body = $("detail-body");
    body.hidden = false;
    if (!state.detail || state.detail.id !== state.selectedId) {
      K.clear(body).appendChild(el("p", { className: "muted loading", text: gettext("正在加载工单…") }));
    }
  }

  function showDetailError(message) {
    state.detail = null;
    $("detail-empty").hidden = true;
    var body = K.clear($("detail-body"));
    body.hidden = false;
    body.appendChild(el("p", { className: "form-error", role: "alert", text: message }));
  }

  function kv(term, value, cls) {
    if (value === null || value === undefined || value === "") return null;
    return el("div", { className: "kv " + (cls || "") }, [el("dt", { text: term }), el("dd", null, [value])]);
  }

  function actionButtons(d) {
    var allowed = d.allowed_transitions || [];
    var outage = d.outage;
    var buttons = [];
    function add(action, text, cls) {
      buttons.push(el("button", {
        type: "button", className: "btn " + (cls || "btn-outline"), text: text,
        dataset: { action: action }, on: { click: function () { DC.startAction(action); } }
      }));
    }
    var unplaced = typeof d.lat !== "number" || typeof d.lng !== "number";
    if (unplaced && (DC.WAITING_STATUSES.indexOf(d.status) !== -1 || DC.HOLD_STATUSES.indexOf(d.status) !== -1)) {
      add("place", gettext("在地图上定位"), "btn-primary");
    }
    if (outage && outage.status === "predicted") add("confirm", gettext("确认停电"), "btn-primary");
    if (DC.WAITING_STATUSES.indexOf(d.status) !== -1) add("dispatch", gettext("派单"), "btn-primary");
    else if (DC.HOLD_STATUSES.indexOf(d.status) !== -1) add("dispatch", gettext("改派"), "btn-primary");
    if ((d.status === "created" || d.status === "rejected") && !d.urgent) add("publish", gettext("发布抢单"));
    if (outage && DC.ENDED_OUTAGE.indexOf(outage.status) === -1) add("etr", gettext("预计恢复时间"));
    if (allowed.indexOf("merged") !== -1) add("merge", gettext("合并"));
    if (allowed.indexOf("cancelled") !== -1) add("cancel", gettext("取消工单"), "btn-danger");
    if (!buttons.length) return el("p", { className: "muted small", text: gettext("当前状态下没有可执行的调度操作。") });
    return el("div", { className: "detail-actions" }, buttons);
  }

  function timelineBlock(d) {
    var section = el("section", { className: "detail-section" }, [el("h3", { text: gettext("时间线") })]);
    var list = el("ol", { className: "timeline" });
    (d.timeline || []).slice().reverse().forEach(function (t) {
      var move = t.to_status ? (t.from_status ? K.label("status", t.from_status) + " → " : "") + K.label("status", t.to_status) : "";
      var what = t.kind === "status_changed" ? move : K.label("eventKind", t.kind) + (move ? " · " + move : "");
      var cause = t.data && t.data.cause;
      list.appendChild(el("li", { className: "tl-" + t.kind + (cause ? " tl-cause-" + cause : ""), dataset: { kind: t.kind } }, [
        el("time", { datetime: t.at, text: K.fmtTime(t.at) }),
        el("div", { className: "tl-body" }, [
          el("strong", { text: what }),
          t.crew ? el("span", { className: "tl-crew", text: " · " + t.crew }) : null,
          t.actor ? el("span", { className: "muted", text: " · " + (t.actor_display || t.actor) }) : null,
          t.reason ? el("div", { className: "tl-reason", text: t.reason }) : null
        ])
      ]));
    });
    section.appendChild(list);
    return section;
  }

  function renderDetail(d) {
    state.detail = d;
    $("detail-empty").hidden = true;
    var body = K.clear($("detail-body"));
    body.hidden = false;
    body.dataset.orderId = String(d.id);
    body.dataset.version = String(d.version);
    var outage = d.outage;
    body.appendChild(el("header", { className: "detail-head" }, [
      el("p", { className: "order-line" }, [
        el("span", { className: "order-id", text: "#" + d.id }),
        DC.chip(K.label("kind", d.kind), "chip-kind"),
        d.urgent ? DC.chip(gettext("紧急"), "chip-urgent") : null,
        el("span", { className: "spacer" }),
        DC.chip(K.label("status", d.status), "chip-status status-" + d.status)
      ]),
      el("h2", { id: "detail-title", text: d.title }),
      d.address ? el("p", { className: "muted small", text: d.address }) : null
    ]));
    var sla = DC.slaBlock(d);
    if (sla) body.appendChild(sla);
    body.appendChild(actionButtons(d));
    var dl = el("dl", { className: "kvs" }, [
      kv(gettext("班组"), d.crew ? d.crew.name + " (" + d.crew.code + ")" : gettext("未派单"), "crew"),
      kv(gettext("网格"), [d.district && d.district.name, d.grid && d.grid.name].filter(Boolean).join(" · ")),
      kv(gettext("优先级"), K.label("priority", d.priority)),
      kv(gettext("创建"), K.fmtTime(d.created_at)),
      kv(gettext("派单"), K.fmtTime(d.dispatched_at)),
      kv(gettext("接单"), K.fmtTime(d.accepted_at)),
      kv(gettext("到达"), K.fmtTime(d.arrived_at)),
      kv(gettext("抢单截止"), d.status === "published" ? K.fmtTime(d.pool_expires_at) : null),
      kv(gettext("报修"), d.reports && d.reports.length ? interpolate(gettext("%(n)s 个来电"), { n: d.reports.length }, true) : null),
      d.merged_into_id ? kv(gettext("已合并到"), "#" + d.merged_into_id) : null
    ]);
    body.appendChild(dl);
    if (outage) {
      body.appendChild(el("section", { className: "detail-section outage-box outage-" + outage.status }, [
        el("h3", { text: interpolate(gettext("关联停电 #%(id)s"), { id: outage.id }, true) }),
        el("dl", { className: "kvs" }, [
          kv(gettext("状态"), K.label("outageStatus", outage.status)),
          kv(gettext("类型"), outage.type),
          kv(gettext("停电户数"), interpolate(gettext("%(out)s 户未恢复 / 共 %(all)s 户"), {
            out: K.fmtNumber(outage.customers_affected - outage.customers_restored), all: K.fmtNumber(outage.customers_affected)
          }, true)),
          kv(gettext("预计恢复"), outage.etr ? K.fmtTime(outage.etr) : gettext("未设置"))
        ])
      ]));
    }
    if (d.description) body.appendChild(el("p", { className: "detail-description", text: d.description }));
    body.appendChild(DC.decisionBlock(d));
    if ((d.refusals || []).length) {
      body.appendChild(el("section", { className: "detail-section" }, [
        el("h3", { text: gettext("不再派给") }),
        el("ul", { className: "refusals" }, d.refusals.map(function (r) {
          return el("li", null, [el("strong", { text: r.crew.name }), " · " + K.label("refusal", r.reason) + " · " + K.fmtTime(r.at)]);
        }))
      ]));
    }
    body.appendChild(timelineBlock(d));
    M.select(feedOrder(d.id) || d);
    DC.tick();
  }

  return { feedOrder: feedOrder, feedOutage: feedOutage, detailKeyFor: detailKeyFor, selectOrder: selectOrder, loadDetail: loadDetail, refreshDetailIfChanged: refreshDetailIfChanged, showDetailLoading: showDetailLoading, showDetailError: showDetailError, kv: kv, actionButtons: actionButtons, timelineBlock: timelineBlock, renderDetail: renderDetail };
});
