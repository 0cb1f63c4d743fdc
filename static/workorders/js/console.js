/*
 * The dispatcher console page: live lists and counters, the selected order's detail (timeline,
 * "why this crew"), and the dispatcher's actions.
 *
 * Live data: /console/feed.json polled every config.pollSeconds (≤ 5 s) with If-None-Match,
 * so an unchanged picture is a bodiless 304; polling pauses while the tab is hidden and runs
 * at once when it comes back. The selected order's detail is re-read from the staff API when
 * the feed shows that the order (or its outage) changed. Actions post to the staff API with the
 * order's version: a change by somebody else in between answers 409 instead of overwriting.
 *
 * The parts live in console-{feed,sla,lists,decisions,detail,actions,dispatch}.js, loaded in
 * that order after console-api.js (ConsoleKit) and console-map.js (ConsoleMap); each adds its
 * functions to the one namespace window.DispatchConsole. This file starts the page:
 *   feed       filters, polling, live indicator, counters (creates the namespace and its state)
 *   sla        due times and their count-down, the SLA block of the detail
 *   lists      orders, outages, crews, the attention queue, tabs
 *   decisions  "why this crew"
 *   detail     the selected order
 *   actions    toasts, errors, the shared action dialog
 *   dispatch   the dispatch dialog with the ranked suggestions
 */
(function (global) {
  "use strict";

  var DC = global.DispatchConsole;
  var M = global.ConsoleMap;

  function start() {
    DC.restoreFilters();
    DC.bindFilters();
    DC.bindTabs();
    DC.bindDispatch();
    DC.bindActions();
    M.setSelectHandler(function (id) { DC.selectOrder(id, { pan: false }); });
    setInterval(DC.tick, 1000);
    var match = /^#order-(\d+)$/.exec(global.location.hash);
    if (match) DC.selectOrder(Number(match[1]), { pan: true });
    DC.poll().then(function () {
      document.documentElement.dataset.consoleReady = "1";
      DC.schedule();
    });
  }

  function initMap(map) {
    M.initMap(map);
    document.documentElement.dataset.mapReady = "1";
  }

  DC.initMap = initMap;
  DC.rerenderOutages = function () { if (DC.state.feed) DC.renderOutages(DC.state.feed); };
  start();
})(window);
