/* Dispatcher console: the frequent-outage alert panel (new, unacknowledged first; acknowledge;
   raise an inspection order) and the preview of planned outages not yet published.
   Data from /api/v1/reliability/...; refreshed every 30 seconds. */
(function () {
  "use strict";
  var t = window.gettext || function (s) { return s; };
  var fmt = window.interpolate || function (s, args) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return args[k]; });
  };
  var panel = document.getElementById("reliability-panel");
  if (!panel) { return; }
  var alertsUrl = panel.dataset.alertsUrl;
  var previewsUrl = panel.dataset.previewsUrl;
  var list = document.getElementById("rel-alerts");
  var empty = document.getElementById("rel-alerts-empty");
  var badge = document.getElementById("rel-unack");
  var previews = document.getElementById("rel-previews");
  var previewsEmpty = document.getElementById("rel-previews-empty");
  var LEVELS = { warning: t("预警"), frequent: t("频繁停电") };

  function csrfToken() {
    var cfg = document.getElementById("console-config");
    try {
      var token = cfg && JSON.parse(cfg.textContent).csrfToken;
      if (token) { return token; }
    } catch (e) { /* fall back to the cookie */ }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "dataset") { Object.assign(node.dataset, props[k]); } else { node[k] = props[k]; }
    });
    (children || []).forEach(function (c) {
      if (c != null) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { throw new Error((data.error && data.error.message) || String(r.status)); }
        return data;
      });
    });
  }

  function renderAlert(a) {
    var acked = !!a.acknowledged_at;
    var sp = a.service_point;
    var actions = el("div", { className: "rel-actions" }, []);
    if (!acked) {
      actions.appendChild(el("button", {
        type: "button", className: "btn btn-small rel-ack", textContent: t("确认")
      }));
    }
    if (a.work_order_id) {
      actions.appendChild(el("span", {
        className: "rel-order", textContent: fmt(t("巡视工单 %(id)s"), { id: a.work_order_id }, true)
      }));
    } else {
      actions.appendChild(el("button", {
        type: "button", className: "btn btn-small btn-outline rel-inspect", textContent: t("派巡视工单")
      }));
    }
    var item = el("li", {
      className: "rel-alert level-" + a.level + (acked ? " acknowledged" : ""),
      dataset: { alertId: String(a.id), level: a.level }
    }, [
      el("div", { className: "rel-alert-head" }, [
        acked ? null : el("span", { className: "rel-new", textContent: t("新") }),
        el("span", { className: "rel-level", textContent: LEVELS[a.level] || a.level }),
        el("span", { className: "rel-count", textContent: fmt(t("本期 %(n)s 次"), { n: a.counts.period }, true) }),
        el("span", { className: "muted small", textContent: sp.account_no + " " + sp.address })
      ]),
      el("ul", { className: "rel-reasons" }, a.reasons.map(function (r) { return el("li", { textContent: r }); })),
      el("p", { className: "muted small", textContent: [sp.feeder, sp.transformer, sp.grid].filter(Boolean).join(" · ") }),
      actions
    ]);
    return item;
  }

  function loadAlerts() {
    return getJson(alertsUrl).then(function (body) {
      list.replaceChildren.apply(list, body.results.map(renderAlert));
      empty.hidden = body.results.length > 0;
      badge.textContent = String(body.unacknowledged);
      badge.hidden = !body.unacknowledged;
      panel.dataset.loaded = "1";
    }).catch(function () { panel.dataset.loaded = "error"; });
  }

  function renderPreview(p) {
    var feeders = p.feeders.map(function (f) {
      return el("li", {}, [fmt(t("%(name)s：转为频繁 %(f)s 户，转为预警 %(w)s 户"), {
        name: f.name || "—", f: f.frequent.length, w: f.warning.length
      }, true)]);
    });
    return el("li", { className: "rel-preview", dataset: { outageId: String(p.outage) } }, [
      el("strong", { textContent: p.description || p.type || ("#" + p.outage) }),
      el("p", { className: "rel-preview-summary", textContent: fmt(
        t("影响 %(n)s 户；发布后将有 %(f)s 户转为频繁停电、%(w)s 户转为预警"),
        { n: p.customers, f: p.into_frequent, w: p.into_warning }, true) }),
      feeders.length ? el("ul", { className: "rel-feeders" }, feeders) : null
    ]);
  }

  function loadPreviews() {
    return getJson(previewsUrl).then(function (body) {
      previews.replaceChildren.apply(previews, body.results.map(renderPreview));
      previewsEmpty.hidden = body.results.length > 0;
      previews.dataset.loaded = "1";
    }).catch(function () { previews.dataset.loaded = "error"; });
  }

  list.addEventListener("click", function (ev) {
    var button = ev.target.closest("button");
    var item = ev.target.closest(".rel-alert");
    if (!button || !item) { return; }
    var id = item.dataset.alertId;
    var url = button.classList.contains("rel-ack")
      ? alertsUrl + "/" + id + "/acknowledge"
      : alertsUrl + "/" + id + "/inspection-order";
    button.disabled = true;
    post(url, {}).then(loadAlerts).catch(function (err) {
      button.disabled = false;
      item.appendChild(el("p", { className: "form-error", role: "alert", textContent: err.message }));
    });
  });

  loadAlerts();
  loadPreviews();
  window.setInterval(function () { loadAlerts(); loadPreviews(); }, 30000);
})();
