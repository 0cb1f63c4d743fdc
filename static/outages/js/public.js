/*
 * Shared by the public pages: the client of the public API (integration contract v1 only:
 * /api/v1/public/lookup, /api/v1/public/reports, /api/v1/public/reports/{reference}) and the
 * rendering of an outage answer. Strings come from Django's JavaScript catalog (gettext) and
 * from the page's json_script config (translated labels of statuses, categories, symptoms).
 */
(function (global) {
  "use strict";

  var P = global.PageKit, gettext = P.gettext, interpolate = P.interpolate;
  var config = P.readJsonScript("map-config") || { labels: {}, api: {} };
  var isEnglish = P.isEnglishPage(config);

  // --- formatting ----------------------------------------------------------------------------

  var formats = P.formats(isEnglish);

  function fmtNumber(n) { return n === null || n === undefined ? "–" : formats.number.format(n); }

  function fmtTime(iso) {
    if (!iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : formats.time.format(d);
  }

  function fmtClock(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? "" : formats.clock.format(d);
  }

  // A label from the page's translated choices; codes we do not know are shown as sent.
  function label(kind, code) {
    if (code === null || code === undefined || code === "") return null;
    if (typeof code === "object") {
      // The API may send {code, name, name_en}.
      return (isEnglish && code.name_en) || code.name || code.code || null;
    }
    var table = (config.labels || {})[kind] || {};
    return table[code] || String(code);
  }

  // --- DOM helpers ---------------------------------------------------------------------------

  var el = P.el;

  function row(term, value) {
    if (value === null || value === undefined || value === "") return null;
    return el("div", { className: "kv" }, [el("dt", { text: term }), el("dd", { text: value })]);
  }

  // --- rendering an outage (lookup answer, report answer, tracking page) --------------------

  function renderOutage(outage) {
    var category = typeof outage.category === "object" && outage.category
      ? outage.category.code : outage.category;
    var box = el("div", { className: "outage-card cat-" + (category || "other") });
    box.appendChild(el("p", { className: "outage-headline" }, [
      el("span", { className: "badge cat-" + (category || "other"), text: label("category", outage.category) || gettext("停电") }),
      " ",
      el("strong", { text: label("status", outage.status) || "" })
    ]));
    var dl = el("dl", { className: "kvs" }, [
      row(gettext("停电类型"), label("type", outage.type)),
      row(gettext("停电原因"), label("cause", outage.cause) || gettext("正在查明")),
      row(gettext("停电开始"), fmtTime(outage.started_at)),
      row(gettext("预计恢复"), fmtTime(outage.etr) || gettext("正在评估")),
      row(gettext("影响户数"), outage.customers_affected !== undefined && outage.customers_affected !== null
        ? fmtNumber(outage.customers_affected) : null)
    ]);
    box.appendChild(dl);
    if (outage.crew) {
      box.appendChild(el("p", { className: "crew-line" }, [
        el("span", { className: "swatch swatch-crew", "aria-hidden": "true" }),
        interpolate(gettext("抢修队伍：%(status)s"), { status: label("crewStatus", outage.crew.status) || "" }, true)
      ]));
    }
    if (outage.progress && outage.progress.length) {
      var steps = el("ol", { className: "progress-steps", "aria-label": gettext("处理进度") });
      outage.progress.forEach(function (step, i) {
        steps.appendChild(el("li", { className: i === outage.progress.length - 1 ? "current" : "" }, [
          el("span", { className: "step-status", text: label("status", step.status) }),
          el("time", { datetime: step.at || "", text: fmtTime(step.at) || "" })
        ]));
      });
      box.appendChild(steps);
    }
    return box;
  }

  function renderPlanned(planned) {
    var section = el("div", { className: "planned" }, [el("h3", { text: gettext("未来 7 天计划停电") })]);
    if (!planned || !planned.length) {
      section.appendChild(el("p", { className: "muted", text: gettext("未来 7 天没有计划停电。") }));
      return section;
    }
    var list = el("ul", { className: "planned-list" });
    planned.forEach(function (p) {
      list.appendChild(el("li", null, [
        el("strong", { text: (fmtTime(p.starts_at) || "") + " – " + (fmtTime(p.ends_at) || "") }),
        p.reason ? el("span", { text: String(p.reason) }) : null
      ]));
    });
    section.appendChild(list);
    return section;
  }

  // --- the API client ------------------------------------------------------------------------

  // Normalises every outcome to {ok, status, data, error: {code, message, fields}}.
  function request(url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return P.requestJson(url, {
      method: options.method || "GET",
      headers: headers,
      body: options.body,
      signal: options.signal,
      credentials: "same-origin"
    }, { httpMessage: httpMessage, drfDetail: false });
  }

  function httpMessage(status) {
    if (status === 429) return gettext("请求太频繁，请稍后再试。");
    if (status === 404 || status === 405 || status === 501) return gettext("该服务暂不可用，请稍后再试或拨打 95598。");
    if (status >= 500) return gettext("系统繁忙，请稍后重试。");
    return gettext("请求未能完成，请检查输入。");
  }

  // A v4 UUID; crypto.randomUUID exists only in secure contexts (https, localhost).
  function newKey() {
    if (global.crypto && typeof global.crypto.randomUUID === "function") return global.crypto.randomUUID();
    var b = new Uint8Array(16);
    global.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var api = {
    lookup: function (q, signal, limit) {
      var url = config.api.lookup + "?q=" + encodeURIComponent(q) + (limit ? "&limit=" + limit : "");
      return request(url, { signal: signal });
    },
    createReport: function (body, idempotencyKey, csrfToken) {
      return request(config.api.reports, {
        method: "POST",
        body: JSON.stringify(body),
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": idempotencyKey,
          "X-CSRFToken": csrfToken || ""
        }
      });
    },
    getReport: function (reference) {
      return request(config.api.report + encodeURIComponent(reference));
    }
  };

  // --- subscribing to updates (POST /api/v1/public/subscriptions) ----------------------------

  var SUBSCRIBE_URL = (config.api && config.api.subscribe) || "/api/v1/public/subscriptions";
  var subscribeCount = 0;

  // A collapsed form that subscribes a phone (SMS) or an e-mail address to target, which is
  // {outage_id: id} or {address: text}. The answer shows the contact masked, never in full.
  function renderSubscribe(target, title) {
    var n = ++subscribeCount;
    var box = el("details", { className: "subscribe" });
    box.appendChild(el("summary", { text: title || gettext("订阅停电进展通知") }));
    var form = el("form", { className: "subscribe-form", novalidate: "novalidate" });
    var channels = el("div", { className: "subscribe-channels", role: "radiogroup", "aria-label": gettext("通知方式") });
    [["sms", gettext("短信")], ["email", gettext("电子邮件")]].forEach(function (c, i) {
      var input = el("input", { type: "radio", name: "channel", value: c[0] });
      if (i === 0) input.checked = true;
      channels.appendChild(el("label", { className: "subscribe-channel" }, [input, el("span", { text: c[1] })]));
    });
    form.appendChild(channels);
    var inputId = "subscribe-contact-" + n;
    var contact = el("input", {
      id: inputId, name: "contact", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: "254",
      placeholder: gettext("手机号码")
    });
    var row = el("div", { className: "subscribe-row" }, [
      el("label", { className: "visually-hidden", "for": inputId, text: gettext("手机号码或电子邮件") }),
      contact,
      el("button", { type: "submit", className: "btn btn-small subscribe-submit", text: gettext("订阅") })
    ]);
    form.appendChild(row);
    var status = el("p", { className: "subscribe-status", role: "status", "aria-live": "polite" });
    form.appendChild(status);
    form.appendChild(el("p", { className: "muted small", text: gettext("预计恢复时间变化和恢复供电时通知您；可随时退订。") }));
    box.appendChild(form);

    function channel() { return form.querySelector('input[name="channel"]:checked').value; }
    form.querySelectorAll('input[name="channel"]').forEach(function (r) {
      r.addEventListener("change", function () {
        var email = channel() === "email";
        contact.type = email ? "email" : "tel";
        contact.setAttribute("inputmode", email ? "email" : "tel");
        contact.setAttribute("autocomplete", email ? "email" : "tel");
        contact.placeholder = email ? gettext("电子邮件地址") : gettext("手机号码");
      });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var value = contact.value.trim();
      status.classList.remove("error");
      if (!value) {
        status.textContent = gettext("请填写接收通知的号码或邮箱。");
        status.classList.add("error");
        return;
      }
      var body = Object.assign({ channel: channel(), language: isEnglish ? "en" : "zh-hans" }, target);
      body[channel() === "email" ? "email" : "phone"] = value.replace(channel() === "email" ? /^\s+|\s+$/g : /\s+/g, "");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      request(SUBSCRIBE_URL, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "Content-Type": "application/json" }
      }).then(function (res) {
        button.disabled = false;
        if (res.ok) {
          status.textContent = (res.data && res.data.message) || gettext("订阅成功。");
          contact.value = "";
          return;
        }
        var fields = res.error.fields || {};
        var messages = Object.keys(fields).map(function (k) { return [].concat(fields[k]).join(" "); });
        status.textContent = messages.length ? messages.join(" ") : res.error.message;
        status.classList.add("error");
      });
    });
    return box;
  }

  function isValidPhone(value) {
    return new RegExp(config.phonePattern || "^1[3-9]\\d{9}$").test(String(value).replace(/\s+/g, ""));
  }

  global.OutagePublic = {
    config: config,
    isEnglish: isEnglish,
    gettext: gettext,
    interpolate: interpolate,
    readJsonScript: P.readJsonScript,
    fmtNumber: fmtNumber,
    fmtTime: fmtTime,
    fmtClock: fmtClock,
    label: label,
    el: el,
    renderOutage: renderOutage,
    renderPlanned: renderPlanned,
    renderSubscribe: renderSubscribe,
    api: api,
    newKey: newKey,
    isValidPhone: isValidPhone
  };
})(window);
