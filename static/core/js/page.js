/*
 * What every page script shares (the public outage pages, the dispatcher console): the
 * translation functions of Django's JavaScript catalog (gettext, interpolate) with a fallback,
 * the page's json_script config, the Beijing-time formatters, building DOM nodes, dialogs, and
 * the JSON request every API client normalises to {ok, status, data, error: {code, message,
 * fields}} so callers show errors one way.
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

  // True where the page is shown in English (the config's language, else the <html lang>).
  function isEnglishPage(config) {
    return ((config && config.language) || document.documentElement.lang || "").indexOf("en") === 0;
  }

  // The number and Beijing-time formats of the page's language.
  function formats(isEnglish) {
    var locale = isEnglish ? "en-GB" : "zh-CN";
    return {
      number: new Intl.NumberFormat(locale),
      time: new Intl.DateTimeFormat(locale, {
        timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
        hour12: false
      }),
      clock: new Intl.DateTimeFormat(locale, {
        timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
      }),
      hm: new Intl.DateTimeFormat(locale, {
        timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false
      })
    };
  }

  // --- DOM helpers -----------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (k === "text") { node.textContent = v === null || v === undefined ? "" : v; return; }
        if (v === null || v === undefined || v === false) return;
        if (k === "className") node.className = v;
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

  function failure(resp, data, error, httpMessage) {
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
  }

  /*
   * fetch() of a JSON API. init goes to fetch as it is; how.httpMessage(status) words a refusal
   * that carries no message of its own; how.drfDetail also reads DRF's {"detail": "..."}.
   */
  function requestJson(url, init, how) {
    return fetch(url, init).then(function (resp) {
      if (resp.status === 304) {
        return { ok: true, status: 304, data: null, error: null, headers: resp.headers };
      }
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (resp.ok) return { ok: true, status: resp.status, data: data, error: null, headers: resp.headers };
        var error = (data && data.error) || {};
        if (how.drfDetail && (!data || !data.error)) error = { message: data && data.detail };
        return failure(resp, data, error, how.httpMessage);
      });
    }, function (err) {
      if (err && err.name === "AbortError") throw err;
      return {
        ok: false, status: 0, data: null, headers: null,
        error: { code: "network", message: gettext("网络连接异常，请检查网络后重试。"), fields: {} }
      };
    });
  }

  global.PageKit = {
    gettext: gettext,
    interpolate: interpolate,
    readJsonScript: readJsonScript,
    isEnglishPage: isEnglishPage,
    formats: formats,
    el: el,
    clear: clear,
    openDialog: openDialog,
    closeDialog: closeDialog,
    requestJson: requestJson
  };
})(window);
