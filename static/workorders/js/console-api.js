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

  var gettext = global.gettext || function (s) { return s; };
  var interpolate = global.interpolate || function (fmt, obj) {
    return fmt.replace(/%\((\w+)\)s/g, function (_m, k) { return String(obj[k]); });
  };

  function readJsonScript(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var config = readJsonScript("console-config") || { labels: {}, statusGroups: {} };
  var isEnglish = (config.language || document.documentElement.lang || "").indexOf("en") === 0;
  var locale = isEnglish ? "en-GB" : "zh-CN";

  // --- formatting ------------------------------------------------------------------------------

  var numberFormat = new Intl.NumberFormat(locale);
  var timeFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
    hour12: false
  });
  var clockFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  var hmFormat = new Intl.DateTimeFormat(locale, {
    timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false
  });

  function parse(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtNumber(n) { return n === null || n === undefined ? "–" : numberFormat.format(n); }
  function fmtTime(iso) { var d = parse(iso); return d ? timeFormat.format(d) : ""; }
  function fmtClock(date) { return date ? clockFormat.format(date) : ""; }
  function fmtHm(iso) { var d = parse(iso); return d ? hmFormat.format(d) : ""; }

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

  // --- DOM helpers -----------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "className") node.className = v;
        else if (k === "dataset") Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
        else if (k === "on") Object.keys(v).forEach(function (e) { node.addEventListener(e, v[e]); });
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function openDialog(d) { if (typeof d.showModal === "function") d.showModal(); else d.setAttribute("open", ""); }
  function closeDialog(d) { if (typeof d.close === "function") d.close(); else d.removeAttribute("open"); }

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
    return fetch(url, {
      method: options.method || "GET",
      headers: headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
      credentials: "same-origin",
      cache: options.cache || "no-store",
      signal: options.signal
    }).then(function (resp) {
      if (resp.status === 304) {
        return { ok: true, status: 304, data: null, error: null, headers: resp.headers };
      }
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (resp.ok) return { ok: true, status: resp.status, data: data, error: null, headers: resp.headers };
        var error = (data && data.error) || {};
        if (!data || !data.error) {
          // DRF's own refusals ({"detail": "..."}) and plain HTML error pages.
          error = { message: data && data.detail };
        }
        return {
          ok: false,
          status: resp.status,
          data: data,
          headers: resp.headers,
          error: {
            code: error.code || "http_" + resp.status,
            message: error.message || httpMessage(resp.status),
            fields: error.fields || {}
          }
        };
      });
    }, function (err) {
      if (err && err.name === "AbortError") throw err;
      return {
        ok: false, status: 0, data: null, headers: null,
        error: { code: "network", message: gettext("网络连接异常，请检查网络后重试。"), fields: {} }
      };
    });
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
    readJsonScript: readJsonScript,
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
    el: el,
    clear: clear,
    openDialog: openDialog,
    closeDialog: closeDialog,
    api: api,
    errorText: errorText
  };
})(window);
