/*
 * The console's live feed: the filters, polling /console/feed.json (If-None-Match, paused
 * while the tab is hidden), the live indicator and the counters.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
(function (global) {
  "use strict";

  // The console's one namespace: every console-*.js file adds its functions to it.
  var DC = global.DispatchConsole = global.DispatchConsole || {};

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

  // A part of the console: define(DC, K, M, $, state, gettext, interpolate, config, el)
  // returns its functions, which join the namespace (other parts call them as DC.name).
  function part(define) {
    var K = global.ConsoleKit;
    Object.assign(DC, define(DC, K, global.ConsoleMap, $, state, K.gettext, K.interpolate, K.config, K.el));
  }

  Object.assign(DC, {
    SEARCH_DEBOUNCE_MS: SEARCH_DEBOUNCE_MS, STALE_AFTER_FAILURES: STALE_AFTER_FAILURES,
    HOLD_STATUSES: HOLD_STATUSES, WAITING_STATUSES: WAITING_STATUSES, ENDED_OUTAGE: ENDED_OUTAGE,
    state: state, $: $, part: part
  });

  var K = global.ConsoleKit, M = global.ConsoleMap;
  var gettext = K.gettext, interpolate = K.interpolate, config = K.config, el = K.el;

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
        if (res.status === 400) DC.showToast(K.errorText(res.error), "error");
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
    DC.renderOrders(feed);
    DC.renderOutages(feed);
    DC.renderCrews(feed);
    DC.renderAttention(feed);
    M.update(feed);
    DC.refreshDetailIfChanged();
    DC.tick();
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

  Object.assign(DC, { filters: filters, filterQuery: filterQuery, saveFilters: saveFilters, restoreFilters: restoreFilters, fillGrids: fillGrids, onFiltersChanged: onFiltersChanged, bindFilters: bindFilters, setLive: setLive, renderLive: renderLive, poll: poll, schedule: schedule, applyFeed: applyFeed, sum: sum, setCounter: setCounter, renderCounters: renderCounters });
})(window);
