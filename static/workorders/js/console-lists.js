/*
 * The console's lists: orders, outages, crews and the attention queue, and the tabs.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  function chip(text, cls) { return text ? el("span", { className: "chip " + (cls || ""), text: text }) : null; }

  function renderOrders(feed) {
    var list = $("order-list");
    var scroll = list.parentNode.scrollTop;
    K.clear(list);
    var items = feed.orders.items || [];
    items.forEach(function (o) {
      var selected = o.id === state.selectedId;
      var button = el("button", {
        type: "button", className: "order-button", "aria-pressed": selected ? "true" : "false",
        on: { click: function () { DC.selectOrder(o.id, { pan: true }); } }
      }, [
        el("span", { className: "order-line" }, [
          el("span", { className: "order-id", text: "#" + o.id }),
          chip(K.label("kind", o.kind), "chip-kind"),
          o.urgent ? chip(gettext("紧急"), "chip-urgent") : null,
          el("span", { className: "spacer" }),
          chip(K.label("status", o.status), "chip-status status-" + o.status)
        ]),
        el("span", { className: "order-title", text: o.title }),
        el("span", { className: "order-line order-meta" }, [
          el("span", { className: "order-where", text: o.grid || o.address || "" }),
          el("span", { className: "order-crew" + (o.crew ? "" : " none"), text: o.crew || gettext("未派单") }),
          el("span", { className: "spacer" }),
          DC.dueNode(o)
        ])
      ]);
      list.appendChild(el("li", {
        className: "order-item sla-" + o.sla_state + (o.urgent ? " urgent" : "") + (selected ? " selected" : ""),
        dataset: { orderId: String(o.id) }
      }, [button]));
    });
    list.parentNode.scrollTop = scroll;
    $("orders-empty").hidden = items.length > 0;
    var meta = $("orders-meta");
    meta.textContent = feed.orders.total > items.length
      ? interpolate(gettext("共 %(total)s 条，显示最紧急的 %(shown)s 条"), { total: K.fmtNumber(feed.orders.total), shown: K.fmtNumber(items.length) }, true)
      : interpolate(gettext("共 %(total)s 条"), { total: K.fmtNumber(feed.orders.total) }, true);
  }

  function renderOutages(feed) {
    var list = $("outage-list");
    K.clear(list);
    var outages = feed.outages || [];
    outages.forEach(function (o) {
      var planned = o.category === "planned" || o.category === "temporary";
      list.appendChild(el("li", { className: "outage-item status-" + o.status + (planned ? " planned" : ""), dataset: { outageId: String(o.id) } }, [
        el("div", { className: "order-line" }, [
          el("span", { className: "order-id", text: interpolate(gettext("停电 #%(id)s"), { id: o.id }, true) }),
          chip(K.label("category", o.category), "chip-kind"),
          el("span", { className: "spacer" }),
          chip(K.label("outageStatus", o.repair_status || o.status), "chip-status outage-" + (o.repair_status || o.status))
        ]),
        el("button", {
          type: "button", className: "link-button order-title", text: o.type + (o.device ? " · " + o.device : ""),
          title: gettext("在地图上定位"), on: { click: function () { panTo(o, 15); } }
        }),
        el("div", { className: "order-line order-meta" }, [
          el("span", { text: interpolate(gettext("停电 %(out)s / %(all)s 户"), { out: K.fmtNumber(o.customers_out), all: K.fmtNumber(o.customers_affected) }, true) }),
          el("span", { text: o.etr ? interpolate(gettext("预计 %(t)s 恢复"), { t: K.fmtTime(o.etr) }, true) : gettext("未设预计恢复时间") }),
          el("span", { className: "spacer" }),
          window.ConsoleHands ? window.ConsoleHands.outageButtons(o) : null,
          o.order_id ? el("button", {
            type: "button", className: "btn btn-small btn-outline", text: interpolate(gettext("工单 #%(id)s"), { id: o.order_id }, true),
            on: { click: function () { DC.selectOrder(o.order_id, { pan: true }); } }
          }) : el("span", { className: "muted", text: gettext("无抢修工单") })
        ])
      ]));
    });
    $("outages-empty").hidden = outages.length > 0;
  }

  function renderCrews(feed) {
    var list = $("crew-list");
    K.clear(list);
    var wanted = $("crew-status-filter").value;
    var crews = (feed.crews || []).filter(function (c) { return !wanted || c.status === wanted; });
    crews.forEach(function (c) {
      var full = c.open_orders >= c.capacity;
      list.appendChild(el("li", { className: "crew-item crew-" + c.status, dataset: { crewId: String(c.id) } }, [
        el("button", {
          type: "button", className: "crew-button",
          on: { click: function () { panTo(c, 14); } }
        }, [
          el("span", { className: "order-line" }, [
            el("span", { className: "swatch swatch-crew crew-" + c.status, "aria-hidden": "true" }),
            el("strong", { text: c.name }),
            el("span", { className: "muted", text: c.code }),
            el("span", { className: "spacer" }),
            chip(K.label("crewStatus", c.status), "chip-status crew-status-" + c.status)
          ]),
          el("span", { className: "order-line order-meta" }, [
            el("span", { text: c.station }),
            el("span", { className: full ? "load full" : "load", text: interpolate(gettext("在手 %(open)s / %(capacity)s"), { open: c.open_orders, capacity: c.capacity }, true) }),
            el("span", { className: "spacer" }),
            el("span", { className: "muted", text: c.located_at ? K.fmtAge(c.located_at) : gettext("位置未知") })
          ])
        ])
      ]));
    });
    $("crews-empty").hidden = crews.length > 0;
  }

  // The orders a dispatcher should look at first: breached, warning, urgent or waiting.
  function attentionRank(o) {
    if (o.sla_state === "breached") return 0;
    if (o.sla_state === "warning") return 1;
    if (o.urgent && !o.crew_id) return 2;
    if (DC.WAITING_STATUSES.indexOf(o.status) !== -1) return 3;
    return null;
  }

  var ATTENTION_REASON = {
    0: gettext("已超时"), 1: gettext("时限预警"), 2: gettext("紧急未派"), 3: gettext("等待派单")
  };

  function renderAttention(feed) {
    var list = K.clear($("attention"));
    var items = (feed.orders.items || []).map(function (o) { return { o: o, rank: attentionRank(o) }; })
      .filter(function (x) { return x.rank !== null; })
      .sort(function (a, b) { return a.rank - b.rank; })
      .slice(0, 8);
    items.forEach(function (x) {
      var o = x.o;
      list.appendChild(el("li", { className: "attention-item rank-" + x.rank }, [
        el("button", { type: "button", on: { click: function () { DC.selectOrder(o.id, { pan: true }); } } }, [
          el("span", { className: "order-line" }, [
            el("span", { className: "order-id", text: "#" + o.id }),
            chip(ATTENTION_REASON[x.rank], "chip-attention"),
            el("span", { className: "spacer" }),
            DC.dueNode(o)
          ]),
          el("span", { className: "order-title", text: o.title })
        ])
      ]));
    });
    $("attention-empty").hidden = items.length > 0;
  }

  function panTo(thing, zoom) {
    if (typeof thing.lat !== "number" || typeof thing.lng !== "number") return;
    M.panTo(thing.lat, thing.lng, zoom);
  }

  // --- tabs ----------------------------------------------------------------------------------------------

  function bindTabs() {
    var tabs = document.querySelectorAll('.tabs [role="tab"]');
    function activate(tab) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        $(t.getAttribute("aria-controls")).hidden = !on;
      });
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { activate(tab); });
      tab.addEventListener("keydown", function (e) {
        if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
        var next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        activate(next);
        next.focus();
      });
    });
    $("crew-status-filter").addEventListener("change", function () { if (state.feed) renderCrews(state.feed); });
  }

  return { chip: chip, renderOrders: renderOrders, renderOutages: renderOutages, renderCrews: renderCrews, attentionRank: attentionRank, ATTENTION_REASON: ATTENTION_REASON, renderAttention: renderAttention, panTo: panTo, bindTabs: bindTabs };
});
