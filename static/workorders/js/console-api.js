/*
 * The dispatcher console's plumbing: page config, translations, formatting, DOM helpers and
 * the client of the staff API and the live feed.
 *
 * Strings come from Django's JavaScript catalog (gettext) and from the page's json_script
 * config (translated labels of statuses, kinds, SLA states...). Writes go to the staff REST API
 * (/api/v1/work-orders/...) with the session's CSRF token; every answer is normalised to
 * {ok, status, data, error: {code, message, fields}} so callers show errors one way.
 */
(function (global) {
  "use strict";

  var P = global.PageKit, gettext = P.gettext, interpolate = P.interpolate;
  var config = P.readJsonScript("console-config") || { labels: {}, statusGroups: {} };
  var isEnglish = P.isEnglishPage(config);

  // --- formatting ------------------------------------------------------------------------------

  var formats = P.formats(isEnglish);

  function parse(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtNumber(n) { return n === null || n === undefined ? "–" : formats.number.format(n); }
  function fmtTime(iso) { var d = parse(iso); return d ? formats.time.format(d) : ""; }
  function fmtClock(date) { return date ? formats.clock.format(date) : ""; }
  function fmtHm(iso) { var d = parse(iso); return d ? formats.hm.format(d) : ""; }

  // "12 分" / "1 小时 05 分" for a duration in milliseconds (sign ignored).
  function fmtDuration(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 60) return interpolate(gettext("%(m)s 分钟"), { m: minutes }, true);
    var h = Math.floor(minutes / 60);
    var m = minutes % 60;
    return interpolate(gettext("%(h)s 小时 %(m)s 分"), { h: h, m: (m < 10 ? "0" : "") + m }, true);
  }

  // "3 分钟前" for a past time.
  function fmtAge(iso) {
    var d = parse(iso);
    if (!d) return "";
    var ms = Date.now() - d.getTime();
    if (ms < 60000) return gettext("刚刚");
    return interpolate(gettext("%(duration)s前"), { duration: fmtDuration(ms) }, true);
  }

  // A label from the page's translated choices; codes we do not know are shown as sent.
  function label(kind, code) {
    if (code === null || code === undefined || code === "") return "";
    var table = (config.labels || {})[kind] || {};
    return table[code] || String(code);
  }

  // datetime-local <-> ISO, in Beijing time whatever the browser's zone.
  function toLocalInput(iso) {
    var d = parse(iso);
    if (!d) return "";
    var shifted = new Date(d.getTime() + 8 * 3600 * 1000);
    return shifted.toISOString().slice(0, 16);
  }

  function fromLocalInput(value) {
    if (!value) return null;
    return value.length === 16 ? value + ":00+08:00" : value + "+08:00";
  }

  // --- HTTP --------------------------------------------------------------------------------------

  function httpMessage(status) {
    if (status === 401 || status === 403) return gettext("没有权限执行此操作，或登录已过期。");
    if (status === 404) return gettext("记录不存在，可能已被删除。");
    if (status === 409) return gettext("操作与当前状态冲突，请刷新后重试。");
    if (status === 429) return gettext("请求太频繁，请稍后再试。");
    if (status >= 500) return gettext("系统繁忙，请稍后重试。");
    return gettext("请求未能完成，请检查输入。");
  }

  function request(url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = config.csrfToken || "";
    }
    return P.requestJson(url, {
      method: options.method || "GET",
      headers: headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
      credentials: "same-origin",
      cache: options.cache || "no-store",
      signal: options.signal
    }, { httpMessage: httpMessage, drfDetail: true });
  }

  function orderUrl(id, suffix) {
    return config.ordersApi + "/" + encodeURIComponent(id) + (suffix ? "/" + suffix : "");
  }

  var api = {
    feed: function (query, etag) {
      var headers = etag ? { "If-None-Match": etag } : {};
      return request(config.feedUrl + (query ? "?" + query : ""), { headers: headers });
    },
    order: function (id, signal) { return request(orderUrl(id), { signal: signal }); },
    suggestions: function (id) { return request(orderUrl(id, "suggestions") + "?limit=10"); },
    post: function (id, action, body) {
      return request(orderUrl(id, action), { method: "POST", json: body || {} });
    }
  };

  // A refusal in words: the message, then the per-field messages that are not repeats of it.
  function errorText(error) {
    var parts = [error.message];
    Object.keys(error.fields || {}).forEach(function (name) {
      [].concat(error.fields[name]).forEach(function (m) {
        if (m && parts.indexOf(m) === -1) parts.push(m);
      });
    });
    return parts.join(" ");
  }

  global.ConsoleKit = {
    config: config,
    isEnglish: isEnglish,
    gettext: gettext,
    interpolate: interpolate,
    readJsonScript: P.readJsonScript,
    parse: parse,
    fmtNumber: fmtNumber,
    fmtTime: fmtTime,
    fmtClock: fmtClock,
    fmtHm: fmtHm,
    fmtDuration: fmtDuration,
    fmtAge: fmtAge,
    label: label,
    toLocalInput: toLocalInput,
    fromLocalInput: fromLocalInput,
    el: P.el,
    clear: P.clear,
    openDialog: P.openDialog,
    closeDialog: P.closeDialog,
    api: api,
    errorText: errorText
  };
})(window);
