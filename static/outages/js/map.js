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
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var interpolate = P.interpolate;
  var config = P.config;
  var el = P.el;

  var CLUSTER_CELL_PX = 64;
  var SEARCH_DEBOUNCE_MS = 300;
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

  // --- search -----------------------------------------------------------------------------------
  // A look-up answers customers' addresses ("matches") or, when none matched, gazetteer places
  // ("places": 街道, 社区, roads, landmarks) with the outages around each. Typing suggests both;
  // 查询 (click, tap or Enter) shows the best one at once and lists the others in the panel,
  // so it never depends on the suggestion list surviving the input's blur.

  var search = {
    controller: null,
    timer: null,
    blurTimer: null,
    items: [],
    active: -1
  };

  function setSearchStatus(text, isError) {
    var node = document.getElementById("search-status");
    node.textContent = text || "";
    node.classList.toggle("error", !!isError);
  }

  function hideSuggestions() {
    clearTimeout(search.blurTimer);
    var list = document.getElementById("search-suggestions");
    list.hidden = true;
    list.textContent = "";
    document.getElementById("search-input").setAttribute("aria-expanded", "false");
    search.active = -1;
  }

  function itemsOf(data) {
    var matches = (data && data.matches) || [];
    var places = (data && data.places) || [];
    return matches.map(function (m) { return { kind: "match", value: m }; })
      .concat(places.map(function (p) { return { kind: "place", value: p }; }));
  }

  function nearbyText(place) {
    return interpolate(gettext("%(name)s：附近 %(count)s 处停电"),
      { name: place.name, count: P.fmtNumber(place.outages_nearby) }, true);
  }

  function itemChip(item) {
    if (item.kind === "place") {
      return item.value.outages_nearby
        ? el("span", { className: "chip chip-out", text: interpolate(gettext("附近 %(count)s 处停电"), { count: item.value.outages_nearby }, true) })
        : el("span", { className: "chip chip-ok", text: gettext("附近无已知停电") });
    }
    return item.value.outage ? el("span", { className: "chip chip-out", text: gettext("停电中") })
      : el("span", { className: "chip chip-ok", text: gettext("无已知停电") });
  }

  function itemLabel(item) {
    return item.kind === "place" ? item.value.name : item.value.address;
  }

  function itemMeta(item) {
    var v = item.value;
    var meta = item.kind === "place" ? [P.label("placeKind", v.kind), v.district] : [v.district];
    return meta.filter(Boolean).join(" · ");
  }

  function itemNode(tag, item, attrs) {
    var node = el(tag, attrs, [
      el("span", { className: "s-address", text: itemLabel(item) }),
      el("span", { className: "s-meta" }, [itemMeta(item), " ", itemChip(item)])
    ]);
    node.dataset.kind = item.kind;
    // mousedown would blur the input first; keep the focus and choose on click (or tap).
    node.addEventListener("mousedown", function (e) { e.preventDefault(); });
    node.addEventListener("click", function () { chooseItem(item); });
    return node;
  }

  function showSuggestions(items) {
    clearTimeout(search.blurTimer);
    var list = document.getElementById("search-suggestions");
    list.textContent = "";
    items.slice(0, 8).forEach(function (item, i) {
      list.appendChild(itemNode("li", item, { role: "option", id: "suggestion-" + i, "aria-selected": "false" }));
    });
    list.hidden = items.length === 0;
    document.getElementById("search-input").setAttribute("aria-expanded", String(items.length > 0));
  }

  function runLookup(q, showAll) {
    if (search.controller) search.controller.abort();
    search.controller = new AbortController();
    setSearchStatus(gettext("正在查询…"));
    document.documentElement.dataset.search = "busy";
    return P.api.lookup(q, search.controller.signal, config.lookupLimit).then(function (res) {
      document.documentElement.dataset.search = "done";
      if (!res.ok) {
        hideSuggestions();
        setSearchStatus(res.error.message, true);
        return;
      }
      var items = search.items = itemsOf(res.data);
      if (!items.length) {
        hideSuggestions();
        setSearchStatus(gettext("没有找到这个地址或户号，请换个写法，或直接报修。"), true);
        renderNoMatch(q);
        return;
      }
      if (!showAll) {
        setSearchStatus("");
        showSuggestions(items);
        return;
      }
      hideSuggestions();
      setSearchStatus(items.length > 1 ? interpolate(gettext("找到 %(count)s 处匹配，已显示最接近的一处。"),
        { count: items.length }, true) : "");
      chooseItem(items[0], items);
    }).catch(function (err) {
      if (!err || err.name !== "AbortError") {
        document.documentElement.dataset.search = "done";
        setSearchStatus(gettext("查询失败，请稍后重试。"), true);
      }
    });
  }

  function chooseItem(item, all) {
    hideSuggestions();
    if (item.kind === "place") choosePlace(item.value); else chooseMatch(item.value);
    var others = (all || []).filter(function (other) { return other !== item; });
    if (others.length) {
      var box = document.getElementById("result");
      box.appendChild(el("h3", { className: "others-title", text: gettext("其他匹配") }));
      var list = el("ul", { className: "other-matches", id: "other-matches" });
      others.forEach(function (other) {
        list.appendChild(itemNode("li", other, {}));
      });
      box.appendChild(list);
    }
  }

  function chooseMatch(match) {
    state.selected = match;
    document.getElementById("search-input").value = match.address || "";
    renderResult(match);
    showMatchOnMap(match);
  }

  function choosePlace(place) {
    // A report from here starts from the place's address, which the caller can complete.
    state.selected = { address: place.address || place.name, lat: place.lat, lng: place.lng, place: place };
    document.getElementById("search-input").value = place.name;
    renderPlace(place);
    showMatchOnMap(state.selected);
  }

  var PLACE_ZOOM = { sub_district: 14, community: 15, road: 15, place: 16 };

  function showMatchOnMap(match) {
    if (state.layers.match) state.map.removeLayer(state.layers.match);
    var group = L.featureGroup();
    if (typeof match.lat === "number" && typeof match.lng === "number") {
      var here = toDisplay(match.lat, match.lng);
      if (match.place) {
        group.addLayer(L.circle(here, {
          pane: "markers", radius: match.place.radius, color: cssVar("--brand", "#0b5cad"),
          weight: 1, dashArray: "4 4", fillOpacity: 0.04, className: "place-radius", interactive: false
        }));
      }
      group.addLayer(L.circleMarker(here, {
        pane: "markers", radius: 8, color: "#fff", weight: 3, fillColor: cssVar("--brand", "#0b5cad"),
        fillOpacity: 1, className: "match-marker"
      }).bindTooltip(match.place ? match.place.name : match.address || ""));
      var crew = match.outage && match.outage.crew;
      if (crew && typeof crew.lat === "number" && typeof crew.lng === "number") {
        group.addLayer(L.marker(toDisplay(crew.lat, crew.lng), {
          pane: "markers",
          icon: L.divIcon({ className: "crew-marker", iconSize: [26, 26], html: "<span></span>" }),
          title: gettext("抢修队伍（近似位置）")
        }));
      }
      var zoom = match.place ? PLACE_ZOOM[match.place.kind] || 15 : 15;
      state.map.setView(here, Math.max(state.map.getZoom(), zoom));
    }
    state.layers.match = group.addTo(state.map);
  }

  function renderPlace(place) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("div", { className: "result-head" }, [
      el("h2", { text: place.name }),
      el("p", { className: "muted", text: [P.label("placeKind", place.kind), place.district, place.address]
        .filter(Boolean).join(" · ") })
    ]));
    box.appendChild(el("p", {
      className: "answer " + (place.outages_nearby ? "answer-out" : "answer-ok"),
      id: "place-nearby",
      text: nearbyText(place)
    }));
    (place.outages || []).forEach(function (outage) {
      box.appendChild(P.renderOutage(outage));
    });
    box.appendChild(el("p", { className: "muted small", text: gettext("地点查询只显示附近的停电；输入门牌地址或户号可查询您家的情况。") }));
    box.appendChild(reportButton(gettext("我要报修"), "btn-outline"));
    box.hidden = false;
  }

  function renderResult(match) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("div", { className: "result-head" }, [
      el("h2", { text: match.address || "" }),
      match.district ? el("p", { className: "muted", text: String(match.district) }) : null
    ]));
    if (match.outage) {
      box.appendChild(el("p", { className: "answer answer-out", text: gettext("该地址目前处于停电中。") }));
      box.appendChild(P.renderOutage(match.outage));
      box.appendChild(P.renderSubscribe({ outage_id: match.outage.id }));
      box.appendChild(el("p", { className: "muted small", text: gettext("已知停电无需重复报修；如有其他异常仍可报修。") }));
      box.appendChild(reportButton(gettext("报告其他问题"), "btn-outline"));
    } else {
      box.appendChild(el("p", { className: "answer answer-ok", text: gettext("此地址暂无已知停电。") }));
      box.appendChild(el("p", { className: "muted", text: gettext("如果您家中停电，请报修，我们会尽快处理。") }));
      box.appendChild(reportButton(gettext("我要报修"), "btn-primary"));
      box.appendChild(P.renderSubscribe({ address: match.address }, gettext("订阅该地址的停电通知")));
    }
    box.appendChild(P.renderPlanned(match.planned));
    box.hidden = false;
  }

  function renderNoMatch(q) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("p", { className: "answer", id: "no-match", text: gettext("未找到匹配的地址。") }));
    box.appendChild(el("p", { className: "muted", text: gettext("您仍可填写地址报修。") }));
    var btn = reportButton(gettext("我要报修"), "btn-primary");
    btn.dataset.location = q;
    box.appendChild(btn);
    box.hidden = false;
  }

  function openReport(location) { global.OutageMapReport.open(location, state.selected); }

  function reportButton(text, cls) {
    var btn = el("button", { type: "button", className: "btn " + cls, text: text });
    btn.addEventListener("click", function () { openReport(btn.dataset.location); });
    return btn;
  }

  function bindSearch() {
    var form = document.getElementById("search-form");
    var input = document.getElementById("search-input");
    input.addEventListener("input", function () {
      clearTimeout(search.timer);
      var q = input.value.trim();
      if (q.length < 2) { hideSuggestions(); setSearchStatus(""); return; }
      search.timer = setTimeout(function () { runLookup(q, false); }, SEARCH_DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (e) {
      var list = document.getElementById("search-suggestions");
      var items = list.querySelectorAll("li");
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        search.active = (search.active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        items.forEach(function (li, i) { li.setAttribute("aria-selected", String(i === search.active)); });
        input.setAttribute("aria-activedescendant", items[search.active].id);
      } else if (e.key === "Enter" && search.active >= 0) {
        e.preventDefault();
        chooseItem(search.items[search.active]);
      } else if (e.key === "Escape") {
        hideSuggestions();
      }
    });
    input.addEventListener("blur", function () {
      clearTimeout(search.blurTimer);
      search.blurTimer = setTimeout(hideSuggestions, 150);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      clearTimeout(search.timer);
      var q = input.value.trim();
      if (q.length < 2) { setSearchStatus(gettext("请至少输入 2 个字。"), true); return; }
      runLookup(q, true);
    });
  }

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
    if (state.selected) showMatchOnMap(state.selected);
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

  bindSearch();

  global.OutageMap = {
    init: init, state: state, poll: poll, whenIdle: whenIdle, toDisplay: toDisplay,
    geoJsonToDisplay: geoJsonToDisplay, categoryColor: categoryColor, districtName: districtName,
    renderOutages: renderOutages
  };
})(window);
