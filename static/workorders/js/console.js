/*
 * The dispatcher console page: live lists and counters, the selected order's detail (timeline,
 * "why this crew"), and the dispatcher's actions.
 *
 * Live data: /console/feed.json polled every config.pollSeconds (≤ 5 s) with If-None-Match,
 * so an unchanged picture is a bodiless 304; polling pauses while the tab is hidden and runs
 * at once when it comes back. The selected order's detail is re-read from the staff API when
 * the feed shows that the order (or its outage) changed. Actions post to the staff API with the
 * order's version: a change by somebody else in between answers 409 instead of overwriting.
 */
(function (global) {
  "use strict";

  var K = global.ConsoleKit;
  var M = global.ConsoleMap;
  var gettext = K.gettext;
  var interpolate = K.interpolate;
  var config = K.config;
  var el = K.el;

  var SEARCH_DEBOUNCE_MS = 350;
  var STALE_AFTER_FAILURES = 2;
  var HOLD_STATUSES = ["dispatched", "claimed", "accepted", "en_route"];
  var WAITING_STATUSES = ["created", "rejected", "published"];
  var ENDED_OUTAGE = ["restored", "closed", "cancelled"];

  var state = {
    feed: null,
    etag: null,
    query: null,
    timer: null,
    inFlight: null,
    lastChanged: null,
    failures: 0,
    loginExpired: false,
    selectedId: null,
    seenVersion: null,
    detail: null,
    detailKey: null,
    detailController: null,
    suggestions: null,
    chosenCrew: null,
    action: null,
    busy: false,
    tab: "orders",
    searchTimer: null,
    toastTimer: null
  };

  function $(id) { return document.getElementById(id); }

  // --- filters ------------------------------------------------------------------------------------

  var filters = $("filters");

  function filterQuery() {
    var params = new URLSearchParams();
    var status = filters.elements.status.value;
    if (status.indexOf("group:") === 0) {
      (config.statusGroups[status.slice(6)] || []).forEach(function (s) { params.append("status", s); });
    } else if (status) {
      params.append("status", status);
    }
    ["kind", "sla_state", "district", "grid"].forEach(function (name) {
      var v = filters.elements[name].value;
      if (v) params.append(name, v);
    });
    if (filters.elements.urgent.checked) params.append("urgent", "1");
    var q = filters.elements.q.value.trim();
    if (q) params.append("q", q);
    return params.toString();
  }

  // The filters live in the address bar too, so a reload or a shared link keeps them.
  function saveFilters() {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(filters.elements, function (f) {
      if (!f.name) return;
      if (f.type === "checkbox") { if (f.checked) params.set(f.name, f.value); } else if (f.value) params.set(f.name, f.value);
    });
    var query = params.toString();
    var url = global.location.pathname + (query ? "?" + query : "") + global.location.hash;
    global.history.replaceState(null, "", url);
  }

  function restoreFilters() {
    var params = new URLSearchParams(global.location.search);
    if (params.get("district")) filters.elements.district.value = params.get("district");
    fillGrids();
    Array.prototype.forEach.call(filters.elements, function (f) {
      if (!f.name || !params.has(f.name)) return;
      if (f.type === "checkbox") f.checked = params.get(f.name) === f.value;
      else f.value = params.get(f.name);
    });
  }

  function fillGrids() {
    var select = filters.elements.grid;
    var district = filters.elements.district.value;
    var current = select.value;
    while (select.options.length > 1) select.remove(1);
    (config.grids || []).forEach(function (g) {
      if (district && String(g.district) !== district) return;
      select.appendChild(el("option", { value: String(g.id), text: g.name + " · " + g.code }));
    });
    select.value = current;
    if (select.value !== current) select.value = "";
  }

  function onFiltersChanged() {
    saveFilters();
    poll();
  }

  function bindFilters() {
    filters.addEventListener("submit", function (e) { e.preventDefault(); onFiltersChanged(); });
    filters.addEventListener("change", function (e) {
      if (e.target === filters.elements.district) fillGrids();
      if (e.target !== filters.elements.q) onFiltersChanged();
    });
    filters.elements.q.addEventListener("input", function () {
      clearTimeout(state.searchTimer);
      state.searchTimer = setTimeout(onFiltersChanged, SEARCH_DEBOUNCE_MS);
    });
    filters.addEventListener("reset", function () {
      setTimeout(function () { fillGrids(); onFiltersChanged(); }, 0);
    });
  }

  // --- polling --------------------------------------------------------------------------------------

  function setLive(kind, text) {
    var box = $("live");
    box.className = "live live-" + kind;
    var node = $("live-text");
    K.clear(node);
    if (kind === "login") {
      node.appendChild(document.createTextNode(gettext("登录已过期。") + " "));
      node.appendChild(el("a", { href: config.loginUrl, text: gettext("重新登录") }));
      return;
    }
    node.textContent = text;
  }

  function renderLive() {
    if (state.loginExpired) { setLive("login"); return; }
    if (document.visibilityState === "hidden") { setLive("paused", gettext("已暂停（页面在后台）")); return; }
    var changed = state.lastChanged ? K.fmtClock(state.lastChanged) : "";
    if (state.failures >= STALE_AFTER_FAILURES) {
      setLive("error", interpolate(gettext("连接中断，正在重试… 数据更新于 %(time)s"), { time: changed || "–" }, true));
      return;
    }
    setLive("ok", interpolate(gettext("实时 · 数据更新于 %(time)s"), { time: changed || "–" }, true));
  }

  function poll() {
    var query = filterQuery();
    if (state.inFlight) {
      // A newer question (filters changed) waits for the answer in flight, then asks again.
      return state.inFlight.then(function () { if (query !== state.query) return poll(); });
    }
    var etag = query === state.query ? state.etag : null;
    state.inFlight = K.api.feed(query, etag).then(function (res) {
      state.inFlight = null;
      if (res.ok) {
        state.failures = 0;
        state.loginExpired = false;
        if (res.status !== 304 && res.data) {
          state.etag = res.headers.get("ETag");
          state.query = query;
          state.lastChanged = new Date();
          applyFeed(res.data);
        }
      } else if (res.error.code === "not_authenticated") {
        state.loginExpired = true;
      } else {
        state.failures++;
        if (res.status === 400) showToast(K.errorText(res.error), "error");
      }
      renderLive();
    }, function () {
      state.inFlight = null;
      state.failures++;
      renderLive();
    });
    return state.inFlight;
  }

  function schedule() {
    clearTimeout(state.timer);
    // An expired session cannot poll; the indicator links to the login page instead.
    if (state.loginExpired) return;
    state.timer = setTimeout(function () {
      // A hidden tab stops asking; visibilitychange starts again at once.
      if (document.visibilityState === "hidden") { renderLive(); return; }
      poll().then(schedule, schedule);
    }, config.pollSeconds * 1000);
  }

  document.addEventListener("visibilitychange", function () {
    renderLive();
    if (document.visibilityState === "visible" && state.feed) poll().then(schedule, schedule);
  });

  // --- the feed on the page ---------------------------------------------------------------------------

  function applyFeed(feed) {
    state.feed = feed;
    renderCounters(feed);
    renderOrders(feed);
    renderOutages(feed);
    renderCrews(feed);
    renderAttention(feed);
    M.update(feed);
    refreshDetailIfChanged();
    tick();
    document.documentElement.dataset.feedVersion = feed.version;
  }

  function sum(counts, names) {
    return names.reduce(function (total, n) { return total + (counts[n] || 0); }, 0);
  }

  function setCounter(name, text, hot) {
    var li = document.querySelector('[data-counter="' + name + '"]');
    if (!li) return;
    li.querySelector(".counter-value").textContent = text;
    li.classList.toggle("hot", !!hot);
  }

  function renderCounters(feed) {
    var c = feed.counts || {};
    var groups = config.statusGroups;
    setCounter("waiting", K.fmtNumber(sum(c, groups.waiting)), sum(c, groups.waiting) > 0);
    setCounter("pool", K.fmtNumber(sum(c, groups.pool)));
    setCounter("offered", K.fmtNumber(sum(c, groups.offered)));
    setCounter("working", K.fmtNumber(sum(c, groups.working)));
    setCounter("sla_warning", K.fmtNumber(c.sla_warning || 0), c.sla_warning > 0);
    setCounter("sla_breached", K.fmtNumber(c.sla_breached || 0), c.sla_breached > 0);
    var outages = feed.outages || [];
    var customers = outages.reduce(function (t, o) { return t + (o.customers_out || 0); }, 0);
    setCounter("outages", K.fmtNumber(outages.length), outages.length > 0);
    setCounter("customers", K.fmtNumber(customers), customers > 0);
    var crews = feed.crews || [];
    var onDuty = crews.filter(function (x) { return x.on_duty; }).length;
    var free = crews.filter(function (x) { return x.on_duty && x.status === "available"; }).length;
    setCounter("crews", K.fmtNumber(onDuty) + " / " + K.fmtNumber(free));
    $("count-orders").textContent = K.fmtNumber(feed.orders.total);
    $("count-outages").textContent = K.fmtNumber(outages.length);
    $("count-crews").textContent = K.fmtNumber(onDuty);
  }

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
        on: { click: function () { selectOrder(o.id, { pan: true }); } }
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
          dueNode(o)
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
          global.ConsoleHands ? global.ConsoleHands.outageButtons(o) : null,
          o.order_id ? el("button", {
            type: "button", className: "btn btn-small btn-outline", text: interpolate(gettext("工单 #%(id)s"), { id: o.order_id }, true),
            on: { click: function () { selectOrder(o.order_id, { pan: true }); } }
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
    if (WAITING_STATUSES.indexOf(o.status) !== -1) return 3;
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
        el("button", { type: "button", on: { click: function () { selectOrder(o.id, { pan: true }); } } }, [
          el("span", { className: "order-line" }, [
            el("span", { className: "order-id", text: "#" + o.id }),
            chip(ATTENTION_REASON[x.rank], "chip-attention"),
            el("span", { className: "spacer" }),
            dueNode(o)
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
    if (global.location.hash !== "#order-" + id) global.history.replaceState(null, "", "#order-" + id);
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
        dataset: { action: action }, on: { click: function () { startAction(action); } }
      }));
    }
    var unplaced = typeof d.lat !== "number" || typeof d.lng !== "number";
    if (unplaced && (WAITING_STATUSES.indexOf(d.status) !== -1 || HOLD_STATUSES.indexOf(d.status) !== -1)) {
      add("place", gettext("在地图上定位"), "btn-primary");
    }
    if (outage && outage.status === "predicted") add("confirm", gettext("确认停电"), "btn-primary");
    if (WAITING_STATUSES.indexOf(d.status) !== -1) add("dispatch", gettext("派单"), "btn-primary");
    else if (HOLD_STATUSES.indexOf(d.status) !== -1) add("dispatch", gettext("改派"), "btn-primary");
    if ((d.status === "created" || d.status === "rejected") && !d.urgent) add("publish", gettext("发布抢单"));
    if (outage && ENDED_OUTAGE.indexOf(outage.status) === -1) add("etr", gettext("预计恢复时间"));
    if (allowed.indexOf("merged") !== -1) add("merge", gettext("合并"));
    if (allowed.indexOf("cancelled") !== -1) add("cancel", gettext("取消工单"), "btn-danger");
    if (!buttons.length) return el("p", { className: "muted small", text: gettext("当前状态下没有可执行的调度操作。") });
    return el("div", { className: "detail-actions" }, buttons);
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
      chip(K.label("decisionMode", x.mode), "chip-kind"),
      el("strong", { text: " " + who }),
      el("span", { className: "muted", text: " · " + K.fmtTime(x.at) + (x.actor ? " · " + x.actor : "") }),
      x.data && x.data.over_capacity ? chip(gettext("超出班组容量"), "chip-urgent") : null
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
        el("td", null, [el("span", { text: crewName(c) }), c.chosen ? chip(gettext("选中"), "chip-chosen") : null]),
        el("td", { className: "num", text: Number(c.distance_km).toFixed(1) + " km" }),
        el("td", null, [componentList(c.explanation)]),
        el("td", { className: "num", text: Number(c.cost).toFixed(1) })
      ]));
    });
    table.appendChild(body);
    return table;
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
        chip(K.label("kind", d.kind), "chip-kind"),
        d.urgent ? chip(gettext("紧急"), "chip-urgent") : null,
        el("span", { className: "spacer" }),
        chip(K.label("status", d.status), "chip-status status-" + d.status)
      ]),
      el("h2", { id: "detail-title", text: d.title }),
      d.address ? el("p", { className: "muted small", text: d.address }) : null
    ]));
    var sla = slaBlock(d);
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
    body.appendChild(decisionBlock(d));
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
    tick();
  }

  // --- actions ---------------------------------------------------------------------------------------

  function showToast(text, kind) {
    var toast = $("toast");
    toast.textContent = text;
    toast.className = "toast toast-" + (kind || "ok");
    toast.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { toast.hidden = true; }, 5000);
  }

  // A refusal, said plainly: 409s (a conflict with the order's state or a concurrent change)
  // are marked as such, and a concurrent change tells the dispatcher the detail was reloaded.
  function showFormError(node, error) {
    var text = error.code === "network" ? error.message : K.errorText(error);
    if (error.code === "concurrent_update") {
      text = gettext("工单刚被其他人修改。") + " " + gettext("已载入最新状态，请确认后重试。");
    }
    if (error.status === 409) text = interpolate(gettext("操作被拒绝（冲突）：%(reason)s"), { reason: text }, true);
    node.textContent = text;
    node.hidden = false;
    node.dataset.code = error.code || "";
  }

  function setBusy(button, busy) {
    state.busy = busy;
    button.disabled = busy;
    button.classList.toggle("busy", busy);
  }

  // The answer of an action: the new detail on success; the reason in the dialog on refusal.
  function handleResult(res, dialog, errorNode, successText) {
    if (res.ok) {
      K.closeDialog(dialog);
      renderDetail(res.data);
      state.detailKey = null;
      showToast(successText, "ok");
      poll();
      return Promise.resolve(false);
    }
    res.error.status = res.status;
    showFormError(errorNode, res.error);
    if (res.status === 409 || res.status === 404) {
      // Show what changed; a retry from the same dialog is made on the fresh version.
      return loadDetail(state.selectedId, false).then(function () {
        if (state.detail) state.seenVersion = state.detail.version;
        return true;
      });
    }
    return Promise.resolve(false);
  }

  function startAction(action) {
    if (!state.detail) return;
    if (action === "dispatch") openDispatch();
    else if (action === "place") global.ConsoleHands.startPlacing(state.detail);
    else openAction(action);
  }

  // Dispatch / re-dispatch with the ranked suggestions.
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
        showFormError($("dispatch-error"), res.error);
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
    M.showCandidates(feedOrder(d.id) || d, candidates);
    if (!candidates.length) {
      box.appendChild(el("p", { className: "form-error", id: "dispatch-none" }, [
        data.outcome === "no_location"
          ? gettext("工单没有位置，无法按距离推荐班组。请先在地图上定位，或在下方手工指定在班班组并填写原因。")
          : interpolate(gettext("没有符合条件的班组（%(why)s）。被排除的班组及原因见下方，可手工指定并填写原因。"), { why: data.outcome_label || gettext("没有符合条件的班组") }, true),
        data.outcome === "no_location" ? el("button", {
          type: "button", className: "btn btn-small btn-outline", id: "dispatch-place", text: gettext("在地图上定位"),
          on: { click: function () { K.closeDialog(dispatchDialog); global.ConsoleHands.startPlacing(state.detail); } }
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
            current ? chip(gettext("当前班组"), "chip-kind") : null
          ]),
          el("td", { className: "num", text: Number(c.distance_km).toFixed(1) + " km" }),
          el("td", { className: "num", text: interpolate(gettext("%(m)s 分"), { m: Math.round(c.travel_min) }, true) }),
          el("td", { className: "num" + (c.open_orders >= c.capacity ? " full" : ""), text: c.open_orders + "/" + c.capacity }),
          el("td", null, [componentList(c.explanation)]),
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
        el("strong", { text: crewName(f) }),
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
    setBusy(button, true);
    var body = { version: state.seenVersion, reason: $("dispatch-reason").value.trim() };
    if (crew) body.crew = crew.crew_id;
    if (crew && crew.override) {
      body.override = true;
      if (!body.reason) {
        setBusy(button, false);
        showFormError($("dispatch-error"), { code: "invalid", message: gettext("越过筛选条件派单须填写原因。"), fields: {} });
        $("dispatch-reason").focus();
        return;
      }
    }
    K.api.post(d.id, "dispatch", body).then(function (res) {
      setBusy(button, false);
      var text = crew ? interpolate(gettext("工单 #%(id)s 已派给 %(crew)s"), { id: d.id, crew: crew.crew.name }, true)
        : interpolate(gettext("工单 #%(id)s 已交回自动派单"), { id: d.id }, true);
      handleResult(res, dispatchDialog, $("dispatch-error"), text).then(function (reloaded) {
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

  // The other actions share one small dialog.
  var actionDialog = $("action-dialog");

  var ACTIONS = {
    confirm: {
      title: gettext("确认停电"), submit: gettext("确认停电"), path: "outage/confirm", fields: [],
      text: function (d) { return interpolate(gettext("将停电 #%(id)s 从“研判中”改为“已确认”，并通知相关用户。"), { id: d.outage.id }, true); },
      done: gettext("停电已确认")
    },
    publish: {
      title: gettext("发布到抢单池"), submit: gettext("发布抢单"), path: "publish", fields: ["ttl"],
      text: function () { return gettext("范围内的班组可以抢单；有效期内无人抢单时自动转为派单。"); },
      done: gettext("已发布到抢单池")
    },
    etr: {
      title: gettext("设置预计恢复时间"), submit: gettext("保存"), path: "outage/etr", fields: ["etr"],
      text: function (d) { return interpolate(gettext("停电 #%(id)s 的预计恢复时间会显示在停电地图上，并通知订阅用户。留空表示清除。"), { id: d.outage.id }, true); },
      done: gettext("预计恢复时间已更新")
    },
    merge: {
      title: gettext("合并工单"), submit: gettext("合并"), path: "merge", fields: ["into"],
      text: function () { return gettext("本工单将并入目标工单，报修记录随之转入，本工单结束。"); },
      done: gettext("工单已合并")
    },
    cancel: {
      title: gettext("取消工单"), submit: gettext("取消工单"), path: "cancel", fields: [], reasonRequired: true,
      text: function () { return gettext("取消后工单结束，班组不再处理。请填写取消原因。"); },
      done: gettext("工单已取消")
    }
  };

  function openAction(action) {
    var d = state.detail;
    var spec = ACTIONS[action];
    state.action = action;
    state.seenVersion = d.version;
    $("action-title").textContent = spec.title;
    $("action-order").textContent = "#" + d.id + " " + d.title;
    $("action-text").textContent = spec.text(d);
    var submit = $("action-submit");
    submit.textContent = spec.submit;
    submit.className = "btn " + (action === "cancel" ? "btn-danger" : "btn-primary");
    document.querySelectorAll("#action-form [data-field]").forEach(function (f) {
      var name = f.dataset.field;
      f.hidden = name !== "reason" && spec.fields.indexOf(name) === -1;
    });
    $("action-reason-label").textContent = spec.reasonRequired ? gettext("原因（必填）") : gettext("说明（可选）");
    $("action-reason").required = !!spec.reasonRequired;
    $("action-reason").value = "";
    $("action-error").hidden = true;
    $("action-ttl").value = "";
    $("action-into").value = "";
    if (action === "etr") {
      var current = d.outage && d.outage.etr;
      $("action-etr").value = K.toLocalInput(current || new Date(Date.now() + 2 * 3600 * 1000).toISOString());
    }
    if (action === "merge") fillMergeTargets(d);
    K.openDialog(actionDialog);
    var first = actionDialog.querySelector("[data-field]:not([hidden]) input, [data-field]:not([hidden]) select");
    if (first) first.focus();
  }

  // Other open orders, those of the same outage and the nearest first.
  function fillMergeTargets(d) {
    var list = K.clear($("merge-targets"));
    var items = ((state.feed && state.feed.orders.items) || []).filter(function (o) { return o.id !== d.id; });
    function dist(o) {
      if (typeof o.lat !== "number" || typeof d.lat !== "number") return 1e9;
      return Math.pow(o.lat - d.lat, 2) + Math.pow(o.lng - d.lng, 2);
    }
    items.sort(function (a, b) {
      var sa = d.outage && a.outage_id === d.outage.id ? 0 : 1;
      var sb = d.outage && b.outage_id === d.outage.id ? 0 : 1;
      return sa - sb || dist(a) - dist(b);
    }).slice(0, 30).forEach(function (o) {
      list.appendChild(el("option", { value: String(o.id), label: "#" + o.id + " " + o.title + " · " + K.label("status", o.status) }));
    });
  }

  function actionBody(action, d) {
    var reason = $("action-reason").value.trim();
    var body = { reason: reason };
    if (action !== "etr") body.version = state.seenVersion;
    if (action === "publish" && $("action-ttl").value) body.ttl_seconds = Number($("action-ttl").value);
    if (action === "etr") body.etr = K.fromLocalInput($("action-etr").value);
    if (action === "merge") body.into = Number($("action-into").value) || null;
    return body;
  }

  function validateAction(action, body) {
    if (ACTIONS[action].reasonRequired && !body.reason) return { code: "invalid", message: gettext("请填写原因。"), fields: {} };
    if (action === "merge" && !body.into) return { code: "invalid", message: gettext("请填写要合并到的工单号。"), fields: {} };
    return null;
  }

  function bindActions() {
    $("action-form").addEventListener("submit", function (e) {
      e.preventDefault();
      if (state.busy || !state.detail) return;
      var d = state.detail;
      var action = state.action;
      var body = actionBody(action, d);
      var invalid = validateAction(action, body);
      if (invalid) { showFormError($("action-error"), invalid); return; }
      $("action-error").hidden = true;
      var button = $("action-submit");
      setBusy(button, true);
      K.api.post(d.id, ACTIONS[action].path, body).then(function (res) {
        setBusy(button, false);
        handleResult(res, actionDialog, $("action-error"), ACTIONS[action].done);
      });
    });
    document.querySelectorAll("dialog [data-close]").forEach(function (b) {
      b.addEventListener("click", function () { K.closeDialog(b.closest("dialog")); });
    });
  }

  // --- start ---------------------------------------------------------------------------------------------

  function start() {
    restoreFilters();
    bindFilters();
    bindTabs();
    bindDispatch();
    bindActions();
    M.setSelectHandler(function (id) { selectOrder(id, { pan: false }); });
    setInterval(tick, 1000);
    var match = /^#order-(\d+)$/.exec(global.location.hash);
    if (match) selectOrder(Number(match[1]), { pan: true });
    poll().then(function () {
      document.documentElement.dataset.consoleReady = "1";
      schedule();
    });
  }

  function initMap(map) {
    M.initMap(map);
    document.documentElement.dataset.mapReady = "1";
  }

  global.DispatchConsole = {
    initMap: initMap, poll: poll, state: state, selectOrder: selectOrder, loadDetail: loadDetail,
    showToast: showToast, showFormError: showFormError, setBusy: setBusy, feedOutage: feedOutage,
    renderDetail: renderDetail, rerenderOutages: function () { if (state.feed) renderOutages(state.feed); }
  };
  start();
})(window);
