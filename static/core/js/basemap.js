/*
 * The Leaflet base every map page shares (public outage map, dispatcher console): district
 * outlines from the page (json_script "districts-data"), so the map stays readable without
 * tiles; detecting that tiles cannot load (the container gets "tiles-offline", #map-notice
 * shows, the districts are filled like land); and the coordinate edge.
 *
 * Coordinates are WGS-84 everywhere; when the active tile layer is GCJ-02 (Amap, Tencent: its
 * options carry datum: "gcj02") every drawn point is converted here (OutageCoords).
 *
 * BaseMap.create(state, options) works on the page's own state object: it keeps
 * state.map, state.datum, state.tileLoads, state.tileErrors and state.layers.districts there,
 * so the page (and its tests) read them where they always were. Options:
 *   isEnglish        district labels in English
 *   weight, fill, fillOpacity   the outline's look (fill colour of --district-fill fallback)
 *   onDatumChange()  the base layer changed datum: redraw what the page drew
 *   onDistricts(data) the district GeoJSON was drawn (the page may index it)
 */
(function (global) {
  "use strict";

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (v && v.trim()) || fallback;
  }

  // Each district's name as a permanent tooltip at the district's own label point.
  function labelDistrict(opts, toDisplay) {
    return function (feature, layer) {
      var p = feature.properties;
      layer.bindTooltip(opts.isEnglish ? p.name_en : p.name, {
        permanent: true, direction: "center", className: "district-label", interactive: false,
        pane: "districtLabels"
      });
      // Place the label at the district's own label point, not the bbox centre.
      layer.on("add", function () {
        var t = layer.getTooltip();
        if (t) t.setLatLng(toDisplay(p.lat, p.lng));
      });
    };
  }

  // Tiles that load put the map online; tiles that fail (or never answer) put it offline.
  function watchTiles(state, opts, setOffline, map) {
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      if (layer.options.datum) state.datum = layer.options.datum;
      layer.on("tileload", function () {
        state.tileLoads++;
        setOffline(false);
      });
      layer.on("tileerror", function () {
        state.tileErrors++;
        if (state.tileLoads === 0 && state.tileErrors >= 2) setOffline(true);
      });
    });
    // No answer at all (a black-holed network) counts as unavailable too.
    setTimeout(function () { if (state.tileLoads === 0) setOffline(true); }, 6000);
    map.on("baselayerchange", function (e) {
      state.datum = (e.layer && e.layer.options.datum) || "wgs84";
      if (opts.onDatumChange) opts.onDatumChange();
    });
  }

  function create(state, options) {
    var opts = options || {};

    function toDisplay(lat, lng) {
      if (state.datum === "gcj02" && global.OutageCoords) {
        var g = global.OutageCoords.wgs84ToGcj02(lat, lng);
        return L.latLng(g[0], g[1]);
      }
      return L.latLng(lat, lng);
    }

    function geoJsonToDisplay(coords) { return toDisplay(coords[1], coords[0]); }

    function isOffline() {
      return !!state.map && state.map.getContainer().classList.contains("tiles-offline");
    }

    function districtStyle() {
      return {
        className: "district-outline",
        color: cssVar("--district-line", "#0b3d6e"),
        weight: opts.weight || 1.5,
        dashArray: "4 3",
        fillColor: cssVar("--district-fill", opts.fill || "#fbfaf6"),
        // Without tiles the districts are the map: fill them like land.
        fillOpacity: isOffline() ? 1 : (opts.fillOpacity || 0.06),
        interactive: false
      };
    }

    function setOffline(offline) {
      var container = state.map.getContainer();
      if (container.classList.contains("tiles-offline") === offline) return;
      container.classList.toggle("tiles-offline", offline);
      document.getElementById("map-notice").hidden = !offline;
      if (state.layers.districts) state.layers.districts.setStyle(districtStyle);
    }

    function drawDistricts() {
      var node = document.getElementById("districts-data");
      var data = node ? JSON.parse(node.textContent) : null;
      if (!data) return;
      if (state.layers.districts) state.map.removeLayer(state.layers.districts);
      state.layers.districts = L.geoJSON(data, {
        pane: "districts",
        style: districtStyle,
        coordsToLatLng: geoJsonToDisplay,
        onEachFeature: labelDistrict(opts, toDisplay)
      }).addTo(state.map);
      if (opts.onDistricts) opts.onDistricts(data);
    }

    // The map is ready: panes for the districts and their labels, tiles watched, districts
    // drawn, and the map fitted to them (fractional zoom lets the city fill a phone screen).
    function attach(map, padding) {
      state.map = map;
      map.createPane("districts").style.zIndex = 350;
      // Labels sit under everything else so a marker is never hidden by a district name.
      map.createPane("districtLabels").style.zIndex = 380;
      map.options.zoomSnap = 0.25;
      watchTiles(state, opts, setOffline, map);
      drawDistricts();
      if (state.layers.districts) {
        map.fitBounds(state.layers.districts.getBounds(), { padding: [padding, padding] });
      }
    }

    return {
      attach: attach,
      drawDistricts: drawDistricts,
      toDisplay: toDisplay,
      geoJsonToDisplay: geoJsonToDisplay,
      cssVar: cssVar
    };
  }

  global.BaseMap = { create: create, cssVar: cssVar };
})(window);
