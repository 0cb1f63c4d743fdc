/*
 * The dispatcher console's map: district outlines (from the page, so it stays readable without
 * tiles), active outage areas, work orders coloured by SLA state, crews by status, the selected
 * order and, while the dispatch dialog is open, the ranked candidate crews.
 *
 * Coordinates are WGS-84 everywhere; on a GCJ-02 tile layer (Amap, Tencent: options.datum)
 * every drawn point is converted at this edge (OutageCoords, shared with the public map).
 */
(function (global) {
  "use strict";

  var K = global.ConsoleKit;
  var gettext = K.gettext;
  var interpolate = K.interpolate;

  var state = {
    map: null,
    datum: "wgs84",
    tileLoads: 0,
    tileErrors: 0,
    layers: {},
    feed: null,
    selectedId: null,
    onSelect: function () {},
    districtsFitted: false
  };

  // The base map: districts, tiles, coordinates at the edge (static/core/js/basemap.js).
  var base = global.BaseMap.create(state, {
    isEnglish: K.isEnglish,
    weight: 1.2,
    fill: "#f7f6f1",
    fillOpacity: 0.05,
    onDatumChange: function () { drawDistricts(); render(); }
  });
  var toDisplay = base.toDisplay;
  var geoJsonToDisplay = base.geoJsonToDisplay;
  var cssVar = base.cssVar;
  var drawDistricts = base.drawDistricts;

  function located(o) { return typeof o.lat === "number" && typeof o.lng === "number"; }

  // --- outages ----------------------------------------------------------------------------------

  function outageClass(o) {
    if (o.category === "planned" || o.category === "temporary") return "area-planned";
    return o.status === "predicted" ? "area-predicted" : "area-active";
  }

  function outageTooltip(o) {
    return el("div", { className: "map-tip" }, [
      el("strong", { text: interpolate(gettext("停电 #%(id)s"), { id: o.id }, true) + " · " + K.label("outageStatus", o.status) }),
      el("div", { text: o.type }),
      el("div", { text: interpolate(gettext("影响 %(n)s 户"), { n: K.fmtNumber(o.customers_affected) }, true) })
    ]);
  }

  function drawOutages(feed) {
    var group = L.featureGroup();
    (feed.outages || []).forEach(function (o) {
      var cls = "outage-area " + outageClass(o);
      var layer;
      if (o.area && o.area.type) {
        layer = L.geoJSON(o.area, {
          pane: "outages",
          coordsToLatLng: geoJsonToDisplay,
          style: function () { return { className: cls, weight: 2 }; }
        });
      } else if (located(o)) {
        layer = L.circleMarker(toDisplay(o.lat, o.lng), { pane: "outages", className: cls, radius: 18, weight: 2 });
      }
      if (!layer) return;
      layer.bindTooltip(outageTooltip(o), { sticky: true });
      layer.on("click", function () { if (o.order_id) state.onSelect(o.order_id); });
      group.addLayer(layer);
    });
    return group;
  }

  // --- orders and crews ---------------------------------------------------------------------------

  function el(tag, attrs, children) { return K.el(tag, attrs, children); }

  function orderTooltip(o) {
    return el("div", { className: "map-tip" }, [
      el("strong", { text: "#" + o.id + " " + o.title }),
      el("div", { text: K.label("status", o.status) + " · " + K.label("sla", o.sla_state) }),
      o.crew ? el("div", { text: interpolate(gettext("班组：%(crew)s"), { crew: o.crew }, true) }) : null
    ]);
  }

  function drawOrders(feed) {
    var group = L.featureGroup();
    var items = (feed.orders && feed.orders.items) || [];
    // Draw the calm ones first so breached and urgent orders end up on top.
    var rank = { ok: 0, warning: 1, breached: 2 };
    items.slice().sort(function (a, b) {
      return (rank[a.sla_state] || 0) - (rank[b.sla_state] || 0) || (a.urgent ? 1 : 0) - (b.urgent ? 1 : 0);
    }).forEach(function (o) {
      if (!located(o)) return;
      var marker = L.circleMarker(toDisplay(o.lat, o.lng), {
        pane: "orders",
        radius: o.urgent ? 9 : 7,
        weight: o.urgent ? 3 : 2,
        className: "order-marker sla-" + o.sla_state + (o.urgent ? " urgent" : "") +
          (o.crew_id ? "" : " unassigned"),
        bubblingMouseEvents: false
      });
      marker.bindTooltip(orderTooltip(o), { direction: "top", offset: [0, -6] });
      marker.on("click", function () { state.onSelect(o.id); });
      group.addLayer(marker);
    });
    return group;
  }

  function crewIcon(c, extraClass, text) {
    return L.divIcon({
      className: "crew-marker crew-" + c.status + (c.on_duty ? "" : " off") + (extraClass ? " " + extraClass : ""),
      iconSize: text ? [22, 22] : [14, 14],
      html: text ? "<span>" + String(text).replace(/[^0-9]/g, "") + "</span>" : ""
    });
  }

  function crewTooltip(c) {
    return el("div", { className: "map-tip" }, [
      el("strong", { text: c.name + " (" + c.code + ")" }),
      el("div", { text: K.label("crewStatus", c.status) + " · " +
        interpolate(gettext("在手 %(open)s / %(capacity)s"), { open: c.open_orders, capacity: c.capacity }, true) }),
      el("div", { text: c.station }),
      c.located_at ? el("div", { className: "muted", text: interpolate(gettext("位置更新于%(age)s"), { age: K.fmtAge(c.located_at) }, true) }) : null
    ]);
  }

  // Crews at city zoom are a thousand squares over the outage areas: clustered (vendored
  // Leaflet.markercluster) until street zoom, where each crew is drawn on its own.
  var CLUSTER_UNTIL_ZOOM = 14;
  // A few crews never hide anything: clustering starts with a city's worth.
  var CLUSTER_FROM_CREWS = 40;

  function crewGroup(count) {
    if (typeof L.markerClusterGroup !== "function" || count < CLUSTER_FROM_CREWS) return L.featureGroup();
    return L.markerClusterGroup({
      clusterPane: "crews",
      disableClusteringAtZoom: CLUSTER_UNTIL_ZOOM,
      maxClusterRadius: 60,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: false,
      chunkedLoading: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        return L.divIcon({
          className: "crew-cluster",
          html: "<span>" + n + "</span>",
          iconSize: L.point(30, 30)
        });
      }
    });
  }

  function drawCrews(feed) {
    var markers = [];
    (feed.crews || []).forEach(function (c) {
      if (!located(c)) return;
      var marker = L.marker(toDisplay(c.lat, c.lng), {
        pane: "crews", icon: crewIcon(c), keyboard: false, title: c.name
      });
      marker.bindTooltip(crewTooltip(c), { direction: "top", offset: [0, -6] });
      markers.push(marker);
    });
    var group = crewGroup(markers.length);
    if (group.addLayers) group.addLayers(markers);
    else markers.forEach(function (m) { group.addLayer(m); });
    return group;
  }

  // --- picking a point (placing an order, finding devices) ---------------------------------------

  function toWgs(latlng) {
    if (state.datum === "gcj02" && global.OutageCoords) {
      var w = global.OutageCoords.gcj02ToWgs84(latlng.lat, latlng.lng);
      return { lat: w[0], lng: w[1] };
    }
    return { lat: latlng.lat, lng: latlng.lng };
  }

  // The next click on the map calls onPick({lat, lng}) in WGS-84; cancelPick() forgets it.
  function pickPoint(onPick) {
    cancelPick();
    state.pick = function (e) {
      var at = toWgs(e.latlng);
      showPicked(at.lat, at.lng);
      onPick(at);
    };
    state.map.on("click", state.pick);
    state.map.getContainer().classList.add("picking");
  }

  function cancelPick() {
    if (state.pick && state.map) state.map.off("click", state.pick);
    state.pick = null;
    if (state.map) state.map.getContainer().classList.remove("picking");
  }

  function showPicked(lat, lng) {
    if (state.layers.picked) state.map.removeLayer(state.layers.picked);
    state.layers.picked = null;
    if (lat === null || lat === undefined) return;
    state.layers.picked = L.circleMarker(toDisplay(lat, lng), {
      pane: "selection", radius: 9, className: "picked-point", interactive: false
    }).addTo(state.map);
  }

  function findOrder(id) {
    var items = (state.feed && state.feed.orders && state.feed.orders.items) || [];
    for (var i = 0; i < items.length; i++) if (items[i].id === id) return items[i];
    return null;
  }

  function findCrew(id) {
    var crews = (state.feed && state.feed.crews) || [];
    for (var i = 0; i < crews.length; i++) if (crews[i].id === id) return crews[i];
    return null;
  }

  // The selected order: a halo, and a line to its crew when both have a position.
  function drawSelection() {
    var group = L.featureGroup();
    var o = state.selected;
    if (!o || !located(o)) return group;
    var here = toDisplay(o.lat, o.lng);
    group.addLayer(L.circleMarker(here, { pane: "selection", radius: 15, className: "order-halo", interactive: false }));
    var crew = o.crew_id ? findCrew(o.crew_id) : null;
    if (crew && located(crew)) {
      group.addLayer(L.polyline([here, toDisplay(crew.lat, crew.lng)], {
        pane: "selection", className: "crew-link", interactive: false
      }));
    }
    return group;
  }

  function replace(name, layer) {
    if (state.layers[name]) state.map.removeLayer(state.layers[name]);
    state.layers[name] = layer.addTo(state.map);
  }

  function render() {
    if (!state.map || !state.feed) return;
    replace("outages", drawOutages(state.feed));
    replace("orders", drawOrders(state.feed));
    replace("crews", drawCrews(state.feed));
    replace("selection", drawSelection());
  }

  // --- public --------------------------------------------------------------------------------------

  function update(feed) {
    state.feed = feed;
    if (state.selectedId) state.selected = findOrder(state.selectedId) || state.selected;
    render();
  }

  function select(order, options) {
    state.selectedId = order ? order.id : null;
    state.selected = order;
    if (!state.map) return;
    replace("selection", drawSelection());
    if (order && located(order) && options && options.pan) {
      // Chosen from a list: bring it into view, close enough to tell the crews apart.
      var here = toDisplay(order.lat, order.lng);
      if (state.map.getZoom() < 13 || !state.map.getBounds().pad(-0.1).contains(here)) {
        state.map.setView(here, Math.max(state.map.getZoom(), 13));
      }
    }
  }

  // The part of the map a docked dialog covers on the right (px), to keep candidates visible.
  function coveredRight() {
    var dialog = document.querySelector("dialog[open].dialog-docked");
    if (!dialog || !state.map) return 0;
    var map = state.map.getContainer().getBoundingClientRect();
    var box = dialog.getBoundingClientRect();
    return Math.max(0, Math.min(map.right, box.right) - Math.max(map.left, box.left));
  }

  // While choosing a crew: the ranked candidates numbered on the map, lines to the order.
  function showCandidates(order, candidates) {
    var group = L.featureGroup();
    if (state.map && !state.savedView) {
      state.savedView = { center: state.map.getCenter(), zoom: state.map.getZoom() };
    }
    if (state.map && order && located(order)) {
      var here = toDisplay(order.lat, order.lng);
      var bounds = L.latLngBounds([here]);
      candidates.forEach(function (c, i) {
        var crew = c.crew || {};
        if (typeof crew.lat !== "number" || typeof crew.lng !== "number") return;
        var at = toDisplay(crew.lat, crew.lng);
        bounds.extend(at);
        group.addLayer(L.polyline([here, at], { pane: "selection", className: "candidate-link", interactive: false }));
        group.addLayer(L.marker(at, {
          pane: "candidates",
          icon: crewIcon({ status: crew.status, on_duty: crew.on_duty }, "candidate", i + 1),
          title: crew.name,
          keyboard: false
        }));
      });
      replace("candidates", group);
      if (candidates.length) {
        state.map.fitBounds(bounds, {
          maxZoom: 15, paddingTopLeft: [40, 40], paddingBottomRight: [coveredRight() + 40, 40]
        });
      }
      return;
    }
    replace("candidates", group);
  }

  // Back to where the dispatcher was before the candidates were shown.
  function clearCandidates() {
    if (!state.map) return;
    if (state.layers.candidates) state.map.removeLayer(state.layers.candidates);
    state.layers.candidates = null;
    if (state.savedView) state.map.setView(state.savedView.center, state.savedView.zoom);
    state.savedView = null;
  }

  function initMap(map) {
    base.attach(map, 8);
    map.createPane("outages").style.zIndex = 410;
    map.createPane("selection").style.zIndex = 440;
    map.createPane("orders").style.zIndex = 450;
    map.createPane("crews").style.zIndex = 620;
    map.createPane("candidates").style.zIndex = 630;
    render();
  }

  // Centre a WGS-84 point, at least at ``zoom``.
  function panTo(lat, lng, zoom) {
    if (!state.map) return;
    state.map.setView(toDisplay(lat, lng), Math.max(state.map.getZoom(), zoom || 14));
  }

  global.ConsoleMap = {
    initMap: initMap,
    panTo: panTo,
    update: update,
    select: select,
    showCandidates: showCandidates,
    clearCandidates: clearCandidates,
    pickPoint: pickPoint,
    cancelPick: cancelPick,
    showPicked: showPicked,
    setSelectHandler: function (fn) { state.onSelect = fn; },
    state: state
  };
})(window);
