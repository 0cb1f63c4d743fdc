/*
 * The public outage map page.
 *
 * Data: the published snapshot only (current.json names the versioned files), polled every
 * config.pollSeconds; district outlines from the page (json_script), so the map stays readable
 * when tiles cannot load. Search and reports use the public API through OutagePublic.api,
 * which knows nothing but the integration contract.
 *
 * Coordinates are WGS-84 everywhere; when the active tile layer is GCJ-02 (Amap, Tencent:
 * its options carry datum: "gcj02") every drawn point is converted at this edge (OutageCoords).
 *
 * Modules: map_report.js (the report dialog), map_search.js (search: addresses and places),
 * map_extras.js (outage list, share links, planned layer, locate-me, report tracking).
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var interpolate = P.interpolate;
  var config = P.config;
  var el = P.el;

  var CLUSTER_CELL_PX = 64;
  var STALE_AFTER_MS = 10 * 60 * 1000;

  var state = {
    map: null,
    datum: "wgs84",
    version: null,
    generatedAt: null,
    features: [],
    summary: null,
    pollTimer: null,
    moving: false,
    tileLoads: 0,
    tileErrors: 0,
    layers: {},
    outageLayers: {},     // outage id -> its drawn area, while areas are drawn
    planned: [],          // planned.geojson features (future planned outages)
    selected: null        // the lookup match shown in the result panel
  };

  // --- the base map: districts, tiles, coordinates at the edge (static/core/js/basemap.js) ---

  var base = global.BaseMap.create(state, {
    isEnglish: P.isEnglish,
    weight: 1.5,
    fill: "#fbfaf6",
    fillOpacity: 0.06,
    onDatumChange: function () { redrawAll(); },
    onDistricts: function (data) {
      state.districtsByCode = {};
      data.features.forEach(function (f) { state.districtsByCode[f.properties.code] = f.properties; });
    }
  });
  var toDisplay = base.toDisplay;
  var geoJsonToDisplay = base.geoJsonToDisplay;
  var cssVar = base.cssVar;
  var drawDistricts = base.drawDistricts;

  function categoryColor(category) {
    return cssVar("--cat-" + (category || "other"), "#6a1b9a");
  }

  function districtName(code) {
    var d = state.districtsByCode && state.districtsByCode[code];
    if (!d) return code || "";
    return P.isEnglish ? d.name_en : d.name;
  }

  // --- outages --------------------------------------------------------------------------------

  function outagePopup(props) {
    var box = el("div", { className: "outage-popup" });
    box.appendChild(el("p", { className: "popup-title" }, [
      el("span", { className: "badge cat-" + props.category, text: P.label("category", props.category) }),
      " ",
      el("strong", { text: P.label("status", props.status) })
    ]));
    var dl = el("dl", { className: "kvs" });
    [
      [gettext("停电类型"), P.label("type", props.type)],
      [gettext("停电原因"), P.label("cause", props.cause) || gettext("正在查明")],
      [gettext("所在区"), districtName(props.district)],
      [gettext("停电开始"), P.fmtTime(props.started_at)],
      [gettext("预计恢复"), P.fmtTime(props.etr) || gettext("正在评估")],
      [gettext("影响户数"), P.fmtNumber(props.customers_affected)],
      [gettext("抢修队伍"), props.crew_status ? P.label("crewStatus", props.crew_status) : null]
    ].forEach(function (kv) {
      if (kv[1]) dl.appendChild(el("div", { className: "kv" }, [el("dt", { text: kv[0] }), el("dd", { text: kv[1] })]));
    });
    box.appendChild(dl);
    box.appendChild(global.OutageMapExtras.shareNode(props.id));
    box.appendChild(P.renderSubscribe({ outage_id: props.id }));
    return box;
  }

  // A cluster takes the colour of its most serious member.
  var SEVERITY = { fault: 4, temporary: 3, other: 2, planned: 1 };

  function clusterCategory(members) {
    var best = "planned";
    members.forEach(function (m) {
      var c = m.feature.properties.category;
      if ((SEVERITY[c] || 0) > (SEVERITY[best] || 0)) best = c;
    });
    return best;
  }

  function clusterIcon(count, customers, category) {
    // Area grows with the customers out, so a big outage stands out at city zoom.
    var size = Math.round(Math.min(52, (count === 1 ? 14 : 24) + Math.log10(Math.max(1, customers)) * 6));
    return L.divIcon({
      className: "outage-cluster cat-" + category + (count === 1 ? " single" : ""),
      iconSize: [size, size],
      html: count === 1 ? "" : "<span>" + count + "</span>"
    });
  }

  // Outage areas; at city zoom (clustered markers on top) only real areas, not points, so a
  // large outage still shows its extent under its marker.
  function areaLayer(features) {
    return L.geoJSON({ type: "FeatureCollection", features: features }, {
      pane: "outages",
      coordsToLatLng: geoJsonToDisplay,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 10 });
      },
      style: function (feature) {
        var color = categoryColor(feature.properties.category);
        return {
          className: "outage-area cat-" + feature.properties.category,
          color: color, weight: 2, fillColor: color, fillOpacity: 0.35
        };
      },
      onEachFeature: function (feature, layer) {
        state.outageLayers[feature.properties.id] = layer;
        layer.bindPopup(function () { return outagePopup(feature.properties); }, { maxWidth: 280 });
      }
    });
  }

  function renderOutages() {
    if (!state.map) return;
    if (state.layers.outages) state.map.removeLayer(state.layers.outages);
    var group = L.featureGroup();
    var zoom = state.map.getZoom();
    state.outageLayers = {};
    if (zoom < config.clusterBelowZoom) {
      areaLayer(state.features.filter(function (f) { return f.geometry && f.geometry.type !== "Point"; }))
        .eachLayer(function (layer) { group.addLayer(layer); });
      var points = state.features.map(function (f) {
        var p = f.properties;
        return { lat: p.lat, lng: p.lng, weight: p.customers_affected, feature: f };
      });
      var clusters = global.OutageCluster.cluster(points, function (lat, lng) {
        return state.map.project(toDisplay(lat, lng), zoom);
      }, CLUSTER_CELL_PX);
      clusters.forEach(function (c) {
        var marker = L.marker(toDisplay(c.lat, c.lng), {
          pane: "outageMarkers",
          icon: clusterIcon(c.members.length, c.weight, clusterCategory(c.members)),
          title: interpolate(gettext("%(count)s 处停电，影响 %(customers)s 户"),
            { count: c.members.length, customers: P.fmtNumber(c.weight) }, true),
          keyboard: true
        });
        marker.on("click", function () {
          var bounds = L.latLngBounds(c.members.map(function (m) { return toDisplay(m.lat, m.lng); }));
          var target = Math.max(config.clusterBelowZoom, Math.min(state.map.getBoundsZoom(bounds.pad(0.5)), 16));
          // Leaflet drops a setView asked for during a zoom animation: zoom in once it ends.
          whenIdle(function () { state.map.setView(bounds.getCenter(), target); });
        });
        group.addLayer(marker);
      });
    } else {
      areaLayer(state.features).eachLayer(function (layer) { group.addLayer(layer); });
    }
    state.layers.outages = group.addTo(state.map);
    document.documentElement.dataset.outageLayer = zoom < config.clusterBelowZoom ? "markers" : "areas";
  }

  // --- summary --------------------------------------------------------------------------------

  function renderSummary() {
    var s = state.summary;
    if (!s) return;
    document.getElementById("stat-outages").textContent = P.fmtNumber(s.active_outages);
    document.getElementById("stat-customers").textContent = P.fmtNumber(s.customers_affected);
    var rows = document.getElementById("district-rows");
    rows.textContent = "";
    var affected = (s.by_district || []).filter(function (d) { return d.outages > 0; });
    affected.forEach(function (d) {
      rows.appendChild(el("tr", null, [
        el("th", { scope: "row", text: P.isEnglish ? d.name_en : d.name }),
        el("td", { className: "num", text: P.fmtNumber(d.outages) }),
        el("td", { className: "num", text: P.fmtNumber(d.customers_affected) })
      ]));
    });
    document.getElementById("district-table").hidden = affected.length === 0;
    document.getElementById("no-outages").hidden = s.active_outages > 0;
  }

  function renderFreshness(problem) {
    var node = document.getElementById("updated");
    node.classList.remove("warn");
    if (!state.generatedAt) {
      node.textContent = problem || gettext("暂无停电数据。");
      if (problem) node.classList.add("warn");
      return;
    }
    var text = interpolate(gettext("数据更新于 %(time)s"), { time: P.fmtClock(state.generatedAt) }, true);
    var age = Date.now() - new Date(state.generatedAt).getTime();
    if (problem || age > STALE_AFTER_MS) {
      node.classList.add("warn");
      text += " · " + (problem || gettext("数据可能不是最新"));
    }
    node.textContent = text;
  }

  // --- snapshot polling ---------------------------------------------------------------------------

  function absolute(url, base) { return new URL(url, new URL(base, global.location.href)).href; }

  function fetchJson(url, options) {
    return fetch(url, options).then(function (resp) {
      if (!resp.ok) {
        var err = new Error("HTTP " + resp.status);
        err.status = resp.status;
        throw err;
      }
      return resp.json();
    });
  }

  function applyLabels(labels) {
    var lang = P.isEnglish ? "en" : "zh-hans";
    ["type", "cause"].forEach(function (kind) {
      var table = config.labels[kind] = config.labels[kind] || {};
      var given = (labels && labels[kind]) || {};
      Object.keys(given).forEach(function (code) {
        table[code] = given[code][lang] || given[code]["zh-hans"] || code;
      });
    });
  }

  function poll() {
    // "no-cache" revalidates with If-None-Match: an unchanged current.json costs a 304.
    return fetchJson(config.snapshotUrl, { cache: "no-cache" }).then(function (current) {
      if (current.version === state.version) {
        state.generatedAt = current.generated_at;
        renderFreshness();
        return;
      }
      var files = current.files || {};
      // Versioned files are immutable: the browser cache may answer them.
      var loads = ["summary.json", "outages.geojson", "planned.geojson"].map(function (name) {
        return files[name] ? fetchJson(absolute(files[name], config.snapshotUrl)) : Promise.resolve(null);
      });
      return Promise.all(loads).then(function (results) {
        state.version = current.version;
        state.generatedAt = current.generated_at;
        state.summary = results[0];
        var collection = results[1] || { features: [] };
        applyLabels(collection.labels);
        state.features = collection.features || [];
        state.planned = (results[2] && results[2].features) || [];
        renderSummary();
        renderOutages();
        renderFreshness();
        global.OutageMapExtras.onSnapshot();
        document.documentElement.dataset.snapshotVersion = String(current.version);
      });
    }).catch(function (err) {
      renderFreshness(err && err.status === 404 ? gettext("停电数据正在生成，请稍后刷新。")
        : gettext("暂时无法更新停电数据，正在重试。"));
    });
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    // Jitter spreads a crowd's requests instead of having them arrive in lockstep.
    var delay = config.pollSeconds * 1000 * (0.9 + Math.random() * 0.2);
    state.pollTimer = setTimeout(function () {
      if (document.visibilityState === "hidden") return; // resumed on visibilitychange
      poll().then(schedulePoll);
    }, delay);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && state.map) poll().then(schedulePoll);
  });

  // --- map motion ---------------------------------------------------------------------------------
  // <html data-map-state> is "moving" from Leaflet's movestart (zoom animations included) to its
  // moveend, then "idle"; <html data-outage-layer> says whether the outages are drawn as
  // "markers" or "areas". Pages and tests wait on these instead of on time.

  function setMoving(moving) {
    state.moving = moving;
    document.documentElement.dataset.mapState = moving ? "moving" : "idle";
  }

  function whenIdle(fn) {
    if (state.moving) state.map.once("moveend", function () { whenIdle(fn); });
    else fn();
  }

  // --- page ---------------------------------------------------------------------------------------

  function redrawAll() {
    drawDistricts();
    renderOutages();
    global.OutageMapExtras.drawPlanned();
    if (global.OutageMapSearch) global.OutageMapSearch.redraw();
  }

  function init(map) {
    // Watch motion before the base map's first fit, so that fit's zoom is seen as "moving".
    state.map = map;
    setMoving(false);
    map.on("movestart", function () { setMoving(true); });
    map.on("moveend", function () { setMoving(false); });
    base.attach(map, 6);
    map.createPane("outages").style.zIndex = 420;
    map.createPane("outageMarkers").style.zIndex = 610;
    map.createPane("markers").style.zIndex = 640;
    map.on("zoomend", renderOutages);
    map.createPane("planned").style.zIndex = 415;
    global.OutageMapExtras.attach(map);
    poll().then(function () {
      // Ready once the snapshot is drawn and the first fit to the city has finished.
      whenIdle(function () {
        document.documentElement.dataset.mapReady = "1";
        global.OutageMapExtras.onReady();
      });
      schedulePoll();
    });
  }


  global.OutageMap = {
    init: init, state: state, poll: poll, whenIdle: whenIdle, toDisplay: toDisplay,
    geoJsonToDisplay: geoJsonToDisplay, categoryColor: categoryColor, districtName: districtName,
    renderOutages: renderOutages, cssVar: cssVar
  };
})(window);
