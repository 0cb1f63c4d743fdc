/*
 * Tracking page of one fault report: reads GET /api/v1/public/reports/{reference} (integration
 * contract) and shows the report's status and, once linked, its outage's progress.
 * Refreshes every minute while the page is visible.
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var el = P.el;
  var REFRESH_MS = 60 * 1000;

  var card = document.getElementById("track");
  var body = document.getElementById("track-body");
  var reference = card.dataset.reference;

  function render(res) {
    body.textContent = "";
    if (!res.ok) {
      var text = res.status === 404 && res.error.code !== "http_404"
        ? gettext("没有找到这个报修编号，请核对后重试。") : res.error.message;
      body.appendChild(el("p", { className: "answer", text: text }));
      return;
    }
    var data = res.data || {};
    body.appendChild(el("p", { className: "status-line" }, [
      el("span", { className: "muted", text: gettext("当前状态") + " " }),
      el("strong", { text: P.label("reportStatus", data.status) || "" })
    ]));
    if (data.message) body.appendChild(el("p", { text: data.message }));
    if (data.outage) {
      body.appendChild(el("p", { className: "answer answer-out", text: gettext("您的报修已并入以下停电事件：") }));
      body.appendChild(P.renderOutage(data.outage));
    }
    document.getElementById("track-updated").textContent = P.interpolate(
      gettext("查询于 %(time)s"), { time: P.fmtClock(new Date().toISOString()) }, true);
  }

  function refresh() {
    return P.api.getReport(reference).then(render);
  }

  document.getElementById("track-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var ref = document.getElementById("track-input").value.trim();
    if (ref) global.location.href = P.config.trackUrl + encodeURIComponent(ref);
  });

  refresh();
  setInterval(function () { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
})(window);
