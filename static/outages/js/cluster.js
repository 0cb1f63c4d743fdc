/*
 * Grid clustering of outage label points for low zoom levels (no plugin, no CDN).
 * Points are bucketed by cell in absolute world pixels at the current zoom, so clusters do not
 * jump when the map is panned; a cluster sits at the customer-weighted mean of its members.
 */
(function (global) {
  "use strict";

  /**
   * @param {Array<{lat:number,lng:number,weight?:number}>} points  items (extra fields kept)
   * @param {function(number, number): {x:number, y:number}} project  lat,lng -> world pixels
   * @param {number} cellSize  cell edge in pixels
   * @returns {Array<{lat:number,lng:number,members:Array,weight:number}>}
   */
  function cluster(points, project, cellSize) {
    var cells = new Map();
    for (var i = 0; i < points.length; i++) {
      var p = points[i];
      var px = project(p.lat, p.lng);
      var key = Math.floor(px.x / cellSize) + ":" + Math.floor(px.y / cellSize);
      var cell = cells.get(key);
      if (!cell) {
        cell = { members: [], weight: 0, sumLat: 0, sumLng: 0, count: 0 };
        cells.set(key, cell);
      }
      // Weight by customers so a big outage pulls the marker towards itself; min 1.
      var w = Math.max(1, p.weight || 0);
      cell.members.push(p);
      cell.weight += p.weight || 0;
      cell.sumLat += p.lat * w;
      cell.sumLng += p.lng * w;
      cell.count += w;
    }
    var out = [];
    cells.forEach(function (cell) {
      out.push({
        lat: cell.sumLat / cell.count,
        lng: cell.sumLng / cell.count,
        members: cell.members,
        weight: cell.weight
      });
    });
    // Largest first, so small clusters are drawn on top and stay clickable.
    out.sort(function (a, b) { return b.weight - a.weight; });
    return out;
  }

  global.OutageCluster = { cluster: cluster };
})(window);
