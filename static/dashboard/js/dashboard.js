// The supervisors' dashboard: draws one ECharts chart per table from the JSON the page
// carries (the same rows as the table beside it), and keeps the grid filter to the chosen
// district. Sets data-charts-ready on <html> once every chart has rendered (tests wait on it).
(function () {
  "use strict";
  const tables = JSON.parse(document.getElementById("dashboard-tables").textContent);
  const byKey = Object.fromEntries(tables.map((t) => [t.key, t]));
  const charts = [];

  function numeric(t) {
    // The value columns: every column after the first, except a rank column.
    return t.columns.map((c, i) => i).filter((i) => i > 0 && t.kinds[i] !== "text");
  }

  function option(t) {
    const labels = t.rows.map((r) => String(r[0]));
    const cols = t.series || numeric(t).filter((i) => !(t.key.startsWith("points_") && i === 0));
    if (t.chart === "pie") {
      return {
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{
          type: "pie", radius: ["35%", "65%"],
          data: t.rows.map((r) => ({ name: String(r[0]), value: r[1] || 0 })),
        }],
      };
    }
    if (t.key.startsWith("points_")) {
      return {
        tooltip: { trigger: "axis" }, grid: { left: 90, right: 20, top: 20, bottom: 30 },
        xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, data: t.rows.map((r) => String(r[1])) },
        series: [{ type: "bar", name: t.columns[2], data: t.rows.map((r) => r[2]) }],
      };
    }
    const [first, ...rest] = cols;
    const series = [{ type: t.chart, name: t.columns[first], data: t.rows.map((r) => r[first]) }];
    rest.forEach((i) => series.push({
      type: t.chart === "bar" ? "bar" : "line", name: t.columns[i], yAxisIndex: 1,
      data: t.rows.map((r) => r[i]), connectNulls: true,
    }));
    return {
      tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" },
      grid: { left: 50, right: 50, top: 40, bottom: 60 },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 8 ? 40 : 0 } },
      yAxis: rest.length ? [{ type: "value" }, { type: "value" }] : [{ type: "value" }],
      series: series,
    };
  }

  const boxes = Array.from(document.querySelectorAll(".chart[data-table]"));
  let pending = boxes.length;
  function done() {
    pending -= 1;
    if (pending <= 0) document.documentElement.dataset.chartsReady = "1";
  }
  boxes.forEach((box) => {
    const t = byKey[box.dataset.table];
    const chart = echarts.init(box, null, { renderer: "canvas" });
    chart.on("finished", function once() { chart.off("finished", once); box.dataset.drawn = "1"; done(); });
    chart.setOption(option(t));
    charts.push(chart);
  });
  if (boxes.length === 0) document.documentElement.dataset.chartsReady = "1";
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  // The grid list follows the district chosen.
  const district = document.getElementById("f-district");
  const grid = document.getElementById("f-grid");
  function filterGrids() {
    Array.from(grid.options).forEach((o) => {
      o.hidden = Boolean(o.value) && Boolean(district.value) && o.dataset.district !== district.value;
    });
    if (grid.selectedOptions[0] && grid.selectedOptions[0].hidden) grid.value = "";
  }
  district.addEventListener("change", filterGrids);
  filterGrids();
})();
