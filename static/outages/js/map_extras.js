/*
 * The public map's lists and tools around the map (map.js draws the map itself):
 *
 * - the list of current outages (area, cause, ETR, crew status), each opening its area;
 * - a share link per outage: /map/?outage=ID opens the map on that outage;
 * - future planned outages (planned.geojson of the snapshot) as a layer of their own, with a
 *   switch; <html data-planned-layer> is "shown" or "hidden";
 * - "locate me" (navigator.geolocation, WGS-84) with <html data-located> once drawn;
 * - tracking a report by its reference (GET /api/v1/public/reports/{reference}).
 *
 * <html data-open-outage> holds the id of the outage whose popup is open; tests wait on it.
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var interpolate = P.interpolate;
  var el = P.el;
  var root = document.documentElement;

  var map = null;
  var plannedLayer = null;
  var locateLayer = null;

  function M() { return global.OutageMap; }

  // --- share links ----------------------------------------------------------------------------

  function shareUrl(id) {
    return new URL("/map/?outage=" + encodeURIComponent(id), global.location.href).href;
  }

  function shareNode(id) {
    var url = shareUrl(id);
    var input = el("input", { type: "text", readOnly: true, value: url, className: "share-url",
      "aria-label": gettext("分享链接") });
    var button = el("button", { type: "button", className: "btn btn-outline btn-small share-copy",
      text: gettext("复制链接") });
    button.addEventListener("click", function () {
      input.select();
      var done = function () { button.textContent = gettext("已复制"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(done, done);
      } else {
        done();
      }
    });
    return el("div", { className: "share" }, [
      el("a", { href: url, className: "share-link", text: gettext("分享此停电") }), input, button
    ]);
  }

  // --- opening one outage ---------------------------------------------------------------------

  function featureOf(id) {
    var wanted = String(id);
    return M().state.features.filter(function (f) { return String(f.properties.id) === wanted; })[0];
  }

  function boundsOf(feature) {
    var layer = L.geoJSON(feature, { coordsToLatLng: M().geoJsonToDisplay });
    return layer.getBounds();
  }

  function openOutage(id) {
    var feature = featureOf(id);
    if (!feature) return false;
    var zoom = Math.max(global.OutagePublic.config.clusterBelowZoom, 15);
    var bounds = boundsOf(feature);
    M().whenIdle(function () {
      var target = bounds.isValid() ? Math.max(zoom, Math.min(map.getBoundsZoom(bounds.pad(0.5)), 17)) : zoom;
      var centre = bounds.isValid() ? bounds.getCenter() : M().toDisplay(feature.properties.lat, feature.properties.lng);
      var same = map.getZoom() === target && map.getCenter().distanceTo(centre) < 1;
      if (!same) map.setView(centre, target, { animate: false });
      M().whenIdle(function () {
        if (map.getZoom() < global.OutagePublic.config.clusterBelowZoom) M().renderOutages();
        var layer = M().state.outageLayers[feature.properties.id];
        if (layer) layer.openPopup(typeof layer.getCenter === "function" ? layer.getCenter() : undefined);
      });
    });
    return true;
  }

  // --- the list of current outages ------------------------------------------------------------

  function outageRow(f) {
    var p = f.properties;
    var area = [M().districtName(p.district), P.label("type", p.type)].filter(Boolean).join(" · ");
    var item = el("li", { className: "outage-item cat-" + p.category }, [
      el("button", { type: "button", className: "outage-open", text: area }),
      el("dl", { className: "kvs" }, [
        row(gettext("停电原因"), P.label("cause", p.cause) || gettext("正在查明")),
        row(gettext("预计恢复"), P.fmtTime(p.etr) || gettext("正在评估")),
        row(gettext("抢修队伍"), p.crew_status ? P.label("crewStatus", p.crew_status) : gettext("暂无信息")),
        row(gettext("影响户数"), P.fmtNumber(p.customers_affected))
      ])
    ]);
    item.dataset.outageId = String(p.id);
    item.querySelector(".outage-open").addEventListener("click", function () { openOutage(p.id); });
    return item;
  }

  function row(term, value) {
    return el("div", { className: "kv" }, [el("dt", { text: term }), el("dd", { text: value || "–" })]);
  }

  function renderList() {
    var list = document.getElementById("outage-list");
    if (!list) return;
    list.textContent = "";
    var features = M().state.features.slice().sort(function (a, b) {
      return (b.properties.customers_affected || 0) - (a.properties.customers_affected || 0);
    });
    features.forEach(function (f) { list.appendChild(outageRow(f)); });
    document.getElementById("outage-list-empty").hidden = features.length > 0;
  }

  // --- planned outages ------------------------------------------------------------------------

  function plannedPopup(p) {
    var name = P.isEnglish ? p.type_name_en : p.type_name;
    return el("div", { className: "outage-popup planned-popup" }, [
      el("p", { className: "popup-title" }, [
        el("span", { className: "badge cat-planned", text: gettext("计划停电") }), " ",
        el("strong", { text: name || "" })
      ]),
      el("dl", { className: "kvs" }, [
        row(gettext("计划时间"), (P.fmtTime(p.starts_at) || "") + " – " + (P.fmtTime(p.ends_at) || "")),
        row(gettext("停电原因"), p.reason),
        row(gettext("所在区"), M().districtName(p.district)),
        row(gettext("影响户数"), P.fmtNumber(p.customers_affected))
      ])
    ]);
  }

  function drawPlanned() {
    if (!map) return;
    if (plannedLayer) map.removeLayer(plannedLayer);
    var features = M().state.planned || [];
    var toggle = document.getElementById("planned-toggle");
    document.getElementById("planned-count").textContent = P.fmtNumber(features.length);
    plannedLayer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: "planned",
      coordsToLatLng: M().geoJsonToDisplay,
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 9 }); },
      style: function () {
        var color = M().categoryColor("planned");
        return { className: "planned-area", color: color, weight: 2, dashArray: "6 4",
          fillColor: color, fillOpacity: 0.12 };
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () { return plannedPopup(feature.properties); }, { maxWidth: 280 });
      }
    });
    var shown = !toggle || toggle.checked;
    if (shown) plannedLayer.addTo(map);
    root.dataset.plannedLayer = shown ? "shown" : "hidden";
  }

  // --- locate me -----------------------------------------------------------------------------

  function locate(button) {
    var notice = document.getElementById("locate-status");
    notice.textContent = gettext("正在获取位置…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      // The Geolocation API gives WGS-84, like everything the map holds.
      var here = M().toDisplay(pos.coords.latitude, pos.coords.longitude);
      if (locateLayer) map.removeLayer(locateLayer);
      locateLayer = L.featureGroup([
        L.circle(here, { pane: "markers", radius: Math.min(pos.coords.accuracy || 50, 2000),
          className: "locate-accuracy", weight: 1, fillOpacity: 0.1, interactive: false }),
        L.circleMarker(here, { pane: "markers", radius: 7, className: "locate-marker", color: "#fff",
          weight: 3, fillColor: "#1565c0", fillOpacity: 1 }).bindTooltip(gettext("您的位置"))
      ]).addTo(map);
      notice.textContent = "";
      M().whenIdle(function () {
        map.setView(here, Math.max(map.getZoom(), 15));
        M().whenIdle(function () { root.dataset.located = "1"; });
      });
    }, function () {
      notice.textContent = gettext("无法获取您的位置，请检查浏览器的定位权限。");
      root.dataset.located = "error";
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    button.blur();
  }

  function addLocateControl() {
    var Control = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var button = L.DomUtil.create("button", "locate-btn leaflet-bar");
        button.type = "button";
        button.title = gettext("定位到我的位置");
        button.setAttribute("aria-label", gettext("定位到我的位置"));
        button.textContent = "◎";
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, "click", function () { locate(button); });
        return button;
      }
    });
    if (navigator.geolocation) map.addControl(new Control());
  }

  // --- report tracking -----------------------------------------------------------------------

  function bindTracking() {
    var form = document.getElementById("track-inline-form");
    if (!form) return;
    var out = document.getElementById("track-inline-result");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var ref = document.getElementById("track-inline-input").value.trim().toUpperCase();
      out.textContent = "";
      if (!/^[A-Z0-9-]{4,24}$/.test(ref)) {
        out.appendChild(el("p", { className: "answer", text: gettext("请输入报修编号，例如 R20260701-0042。") }));
        out.hidden = false;
        return;
      }
      root.dataset.tracking = "busy";
      P.api.getReport(ref).then(function (res) {
        out.textContent = "";
        if (!res.ok) {
          out.appendChild(el("p", { className: "answer", text: res.status === 404
            ? gettext("没有找到这个报修编号，请核对后重试。") : res.error.message }));
        } else {
          var data = res.data || {};
          out.appendChild(el("p", { className: "status-line" }, [
            el("span", { className: "muted", text: gettext("当前状态") + " " }),
            el("strong", { text: P.label("reportStatus", data.status) || "" })
          ]));
          if (data.message) out.appendChild(el("p", { text: data.message }));
          if (data.outage) out.appendChild(P.renderOutage(data.outage));
          out.appendChild(el("a", { href: P.config.trackUrl + encodeURIComponent(ref),
            text: gettext("查看完整进度") }));
        }
        out.hidden = false;
        root.dataset.tracking = "done";
      });
    });
  }

  // --- wiring --------------------------------------------------------------------------------

  function attach(leafletMap) {
    map = leafletMap;
    addLocateControl();
    map.on("popupopen", function (e) {
      var source = e.popup && e.popup._source;
      var props = source && source.feature && source.feature.properties;
      root.dataset.openOutage = props && props.id !== undefined ? String(props.id) : "";
    });
    map.on("popupclose", function () { root.dataset.openOutage = ""; });
    var toggle = document.getElementById("planned-toggle");
    if (toggle) toggle.addEventListener("change", drawPlanned);
  }

  function onSnapshot() {
    renderList();
    drawPlanned();
  }

  function onReady() {
    var wanted = new URLSearchParams(global.location.search).get("outage");
    if (!wanted) return;
    if (!openOutage(wanted)) {
      var status = document.getElementById("search-status");
      status.textContent = gettext("没有找到这次停电，它可能已经恢复。");
      status.classList.add("error");
    }
  }

  bindTracking();

  global.OutageMapExtras = {
    attach: attach, onSnapshot: onSnapshot, onReady: onReady, shareNode: shareNode,
    drawPlanned: drawPlanned, openOutage: openOutage
  };
})(window);
