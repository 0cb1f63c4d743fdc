/*
 * The dispatcher's hands beyond one order: placing an order that has no position (a click on
 * the map, a nearby device or a known customer), declaring a fault outage at a device,
 * restoring part of an outage device by device, and publishing a planned / temporary outage
 * (devices from the map, the customers it cuts off shown before publishing, its notice sent to
 * them through the outbox). Every write goes to the staff REST API; the console (console.js,
 * window.DispatchConsole) is asked to refresh afterwards.
 */
(function (global) {
  "use strict";

  var K = global.ConsoleKit;
  var M = global.ConsoleMap;
  var gettext = K.gettext;
  var interpolate = K.interpolate;
  var el = K.el;
  var api = K.config.api || {};

  function $(id) { return document.getElementById(id); }
  function C() { return global.DispatchConsole; }

  function requestJson(url, method, body) {
    return fetch(url, {
      method: method,
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": K.config.csrfToken || "" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin", cache: "no-store"
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (resp.ok) return { ok: true, status: resp.status, data: data };
        var error = (data && data.error) || { message: data && data.detail };
        return {
          ok: false, status: resp.status, data: data,
          error: { code: error.code || "http_" + resp.status, message: error.message || gettext("请求未能完成，请检查输入。"), fields: error.fields || {} }
        };
      });
    }, function () {
      return { ok: false, status: 0, error: { code: "network", message: gettext("网络连接异常，请检查网络后重试。"), fields: {} } };
    });
  }

  function getJson(url) { return requestJson(url, "GET"); }

  function showError(node, error) { C().showFormError(node, error); }

  function outageUrl(id, suffix) { return api.outages + "/" + encodeURIComponent(id) + (suffix ? "/" + suffix : ""); }

  function typeOptions(select, categories) {
    K.clear(select);
    (K.config.outageTypes || []).filter(function (t) { return categories.indexOf(t.category) !== -1; })
      .forEach(function (t) { select.appendChild(el("option", { value: t.code, text: t.name })); });
  }

  // --- picking on the map: a point, then a nearby device or a customer -------------------------

  var pick = { onConfirm: null, choice: null, searchTimer: null, wantDevice: false };

  function deviceItem(d) {
    return el("li", null, [el("button", {
      type: "button", className: "pick-option", dataset: { device: d.code },
      text: d.code + (d.name ? " " + d.name : "") + " · " + d.kind_display + " · " + Math.round(d.distance_m) + " m",
      on: { click: function () { choose({ device: d, lat: d.lat, lng: d.lng, label: d.code }); } }
    })]);
  }

  function choose(choice) {
    pick.choice = choice;
    if (typeof choice.lat === "number") M.showPicked(choice.lat, choice.lng);
    document.querySelectorAll("#pick-bar .pick-option").forEach(function (b) {
      b.classList.toggle("picked", !!choice.device && b.dataset.device === choice.device.code ||
        !!choice.servicePoint && b.dataset.sp === String(choice.servicePoint.id));
    });
    $("pick-text").textContent = interpolate(gettext("已选择：%(what)s"), { what: choice.label }, true);
    $("pick-confirm").disabled = false;
  }

  function onMapPoint(at) {
    var point = { lat: at.lat, lng: at.lng, label: at.lat.toFixed(5) + ", " + at.lng.toFixed(5) };
    if (!pick.wantDevice) choose(point);
    var list = K.clear($("pick-devices"));
    list.appendChild(el("li", { className: "muted small", text: gettext("正在查找附近设备…") }));
    getJson(api.devicesNear + "?lat=" + at.lat + "&lng=" + at.lng + "&radius=1500&limit=8").then(function (res) {
      K.clear(list);
      var rows = (res.ok && res.data.results) || [];
      if (!rows.length) list.appendChild(el("li", { className: "muted small", text: gettext("附近没有设备。") }));
      rows.forEach(function (d) { list.appendChild(deviceItem(d)); });
    });
  }

  function searchCustomers() {
    var q = $("pick-q").value.trim();
    var list = K.clear($("pick-results"));
    if (q.length < 2) return;
    getJson(api.servicePointSearch + "?q=" + encodeURIComponent(q)).then(function (res) {
      K.clear(list);
      ((res.ok && res.data.results) || []).slice(0, 6).forEach(function (sp) {
        list.appendChild(el("li", null, [el("button", {
          type: "button", className: "pick-option", dataset: { sp: String(sp.id) }, text: sp.address + " · " + sp.account_no,
          on: { click: function () {
            choose({ servicePoint: sp, lat: sp.lat, lng: sp.lng, label: sp.address });
            M.panTo(sp.lat, sp.lng, 16);
          } }
        })]));
      });
    });
  }

  function openPicker(text, options, onConfirm) {
    pick.onConfirm = onConfirm;
    pick.choice = null;
    pick.wantDevice = !!options.device;
    $("pick-text").textContent = text;
    $("pick-search").hidden = !options.customers;
    $("pick-q").value = "";
    K.clear($("pick-results"));
    K.clear($("pick-devices"));
    $("pick-error").hidden = true;
    $("pick-confirm").disabled = true;
    $("pick-bar").hidden = false;
    M.pickPoint(onMapPoint);
  }

  function closePicker() {
    $("pick-bar").hidden = true;
    M.cancelPick();
    M.showPicked(null);
    pick.onConfirm = null;
  }

  // --- placing an order --------------------------------------------------------------------------

  function startPlacing(order) {
    openPicker(interpolate(gettext("点击地图放置工单 #%(id)s，或选择附近设备、搜索用户。"), { id: order.id }, true),
      { customers: true }, function (choice) {
        var body = { version: order.version, reason: gettext("调度员在地图上定位") };
        if (choice.device) body.device = choice.device.id;
        else if (choice.servicePoint) body.service_point = choice.servicePoint.id;
        else { body.lat = choice.lat; body.lng = choice.lng; }
        return requestJson(api.place.replace("{id}", encodeURIComponent(order.id)), "POST", body).then(function (res) {
          if (!res.ok) return res;
          C().renderDetail(res.data);
          C().showToast(interpolate(gettext("工单 #%(id)s 已定位"), { id: order.id }, true), "ok");
          C().poll();
          return res;
        });
      });
  }

  // --- outages: partial restoration, declaring a fault, planned outages ---------------------------

  var restoreFor = null;

  function openRestore(o) {
    restoreFor = o;
    $("restore-outage").textContent = interpolate(gettext("停电 #%(id)s · %(type)s · 停电 %(out)s / %(all)s 户"), {
      id: o.id, type: o.type, out: K.fmtNumber(o.customers_out), all: K.fmtNumber(o.customers_affected)
    }, true);
    $("restore-error").hidden = true;
    $("restore-reason").value = "";
    var select = K.clear($("restore-device"));
    select.appendChild(el("option", { value: "", text: gettext("正在载入设备…") }));
    K.openDialog($("restore-dialog"));
    var here = typeof o.lat === "number" ? "?lat=" + o.lat + "&lng=" + o.lng + "&radius=3000&limit=30" : null;
    var devices = here ? getJson(api.devicesNear + here) : Promise.resolve({ ok: true, data: { results: [] } });
    devices.then(function (res) {
      K.clear(select);
      var rows = (res.ok && res.data.results) || [];
      var codes = {};
      if (o.device) { codes[o.device] = true; select.appendChild(el("option", { value: o.device, text: o.device + " · " + gettext("停电设备") })); }
      rows.forEach(function (d) {
        if (codes[d.code]) return;
        codes[d.code] = true;
        select.appendChild(el("option", { value: d.code, text: d.code + " · " + d.kind_display + " · " + Math.round(d.distance_m) + " m" }));
      });
    });
  }

  function submitRestore(e) {
    e.preventDefault();
    var o = restoreFor;
    var device = $("restore-device").value;
    if (!o || !device) return;
    var button = $("restore-submit");
    C().setBusy(button, true);
    requestJson(outageUrl(o.id, "restorations"), "POST", { device: device, reason: $("restore-reason").value.trim() }).then(function (res) {
      C().setBusy(button, false);
      if (!res.ok) { showError($("restore-error"), res.error); return; }
      K.closeDialog($("restore-dialog"));
      C().showToast(interpolate(gettext("停电 #%(id)s：%(device)s 已恢复送电，仍停电 %(out)s 户"), {
        id: o.id, device: device, out: K.fmtNumber(res.data.customers_affected - res.data.customers_restored)
      }, true), "ok");
      C().poll();
    });
  }

  var declared = { device: null };

  function openDeclare() {
    declared.device = null;
    typeOptions($("declare-type"), ["fault"]);
    $("declare-device-name").textContent = gettext("尚未选择设备");
    $("declare-description").value = "";
    $("declare-error").hidden = true;
    K.openDialog($("declare-dialog"));
  }

  function pickDeclareDevice() {
    K.closeDialog($("declare-dialog"));
    openPicker(gettext("点击地图上的故障位置，再选择停电设备。"), { device: true }, function (choice) {
      if (!choice.device) return Promise.resolve({ ok: false, error: { code: "invalid", message: gettext("请选择一个设备。"), fields: {} } });
      declared.device = choice.device;
      $("declare-device-name").textContent = choice.device.code + " · " + choice.device.kind_display;
      K.openDialog($("declare-dialog"));
      return Promise.resolve({ ok: true });
    });
  }

  function submitDeclare(e) {
    e.preventDefault();
    if (!declared.device) { showError($("declare-error"), { code: "invalid", message: gettext("请先在地图上选择设备。"), fields: {} }); return; }
    var button = $("declare-submit");
    C().setBusy(button, true);
    requestJson(api.declare, "POST", {
      type: $("declare-type").value, device: declared.device.code, description: $("declare-description").value.trim()
    }).then(function (res) {
      C().setBusy(button, false);
      if (!res.ok) { showError($("declare-error"), res.error); return; }
      K.closeDialog($("declare-dialog"));
      C().showToast(interpolate(gettext("已录入停电 #%(id)s，影响 %(n)s 户"), { id: res.data.id, n: K.fmtNumber(res.data.customers_affected) }, true), "ok");
      C().poll();
    });
  }

  var planned = { devices: [], previewSeq: 0, preview: null };

  function openPlanned() {
    planned.devices = [];
    planned.preview = null;
    typeOptions($("planned-type"), ["planned", "temporary", "other"]);
    var start = new Date(Date.now() + 8 * 24 * 3600 * 1000);
    start.setUTCMinutes(0, 0, 0);
    $("planned-start").value = K.toLocalInput(start.toISOString());
    $("planned-end").value = K.toLocalInput(new Date(start.getTime() + 6 * 3600 * 1000).toISOString());
    $("planned-description").value = "";
    $("planned-override").value = "";
    $("planned-error").hidden = true;
    renderPlannedDevices();
    K.openDialog($("planned-dialog"));
  }

  function renderPlannedDevices() {
    var list = K.clear($("planned-devices"));
    planned.devices.forEach(function (d, i) {
      list.appendChild(el("li", null, [
        el("span", { text: d.code + " · " + d.kind_display }),
        el("button", { type: "button", className: "link-button", text: gettext("移除"), on: { click: function () {
          planned.devices.splice(i, 1); renderPlannedDevices();
        } } })
      ]));
    });
    previewPlanned();
  }

  function pickPlannedDevice() {
    K.closeDialog($("planned-dialog"));
    openPicker(gettext("点击地图，选择要停电的设备。"), { device: true }, function (choice) {
      if (!choice.device) return Promise.resolve({ ok: false, error: { code: "invalid", message: gettext("请选择一个设备。"), fields: {} } });
      if (!planned.devices.some(function (d) { return d.code === choice.device.code; })) planned.devices.push(choice.device);
      K.openDialog($("planned-dialog"));
      renderPlannedDevices();
      return Promise.resolve({ ok: true });
    });
  }

  function previewPlanned() {
    var box = $("planned-preview");
    planned.preview = null;
    if (!planned.devices.length) { box.textContent = gettext("请在地图上添加至少一个设备。"); return; }
    var seq = ++planned.previewSeq;
    box.textContent = gettext("正在计算受影响用户…");
    requestJson(api.plannedPreview, "POST", {
      type: $("planned-type").value, devices: planned.devices.map(function (d) { return d.code; }),
      planned_start_at: K.fromLocalInput($("planned-start").value) || undefined
    }).then(function (res) {
      if (seq !== planned.previewSeq) return;
      if (!res.ok) { box.textContent = K.errorText(res.error); return; }
      var p = res.data;
      planned.preview = p;
      box.dataset.customers = String(p.customers);
      box.textContent = interpolate(gettext("影响 %(n)s 户（重要用户 %(important)s 户，可短信通知 %(phone)s 户）。"), {
        n: K.fmtNumber(p.customers), important: K.fmtNumber(p.important), phone: K.fmtNumber(p.with_phone)
      }, true) + (p.notice_required ? " " + interpolate(gettext("须至少提前 %(h)s 小时公告。"), { h: p.notice_period_hours }, true) : "");
      $("planned-override-field").hidden = !p.short_notice;
    });
  }

  function submitPlanned(e) {
    e.preventDefault();
    var button = $("planned-submit");
    var override = $("planned-override").value.trim();
    var body = {
      type: $("planned-type").value, devices: planned.devices.map(function (d) { return d.code; }),
      planned_start_at: K.fromLocalInput($("planned-start").value), planned_end_at: K.fromLocalInput($("planned-end").value),
      description: $("planned-description").value.trim(), override_reason: override
    };
    C().setBusy(button, true);
    requestJson(api.plannedCreate, "POST", body).then(function (res) {
      if (!res.ok) return res;
      return requestJson(outageUrl(res.data.id, "notice"), "POST", { override_reason: override });
    }).then(function (res) {
      C().setBusy(button, false);
      if (!res.ok) { showError($("planned-error"), res.error); return; }
      K.closeDialog($("planned-dialog"));
      C().showToast(interpolate(gettext("计划停电 #%(id)s 已公告，正在通知 %(n)s 户"), {
        id: res.data.id, n: K.fmtNumber(planned.preview ? planned.preview.with_phone : res.data.customers_affected)
      }, true), "ok");
      C().poll();
    });
  }

  // Buttons on an outage of the list.
  function outageButtons(o) {
    var planned = o.category === "planned" || o.category === "temporary" || o.category === "other";
    if (planned || !o.customers_out) return null;
    return el("button", {
      type: "button", className: "btn btn-small btn-outline", dataset: { restore: String(o.id) }, text: gettext("部分恢复"),
      on: { click: function () { openRestore(o); } }
    });
  }

  function bind() {
    $("pick-cancel").addEventListener("click", closePicker);
    $("pick-confirm").addEventListener("click", function () {
      if (!pick.choice || !pick.onConfirm) return;
      var button = $("pick-confirm");
      var confirm = pick.onConfirm;
      C().setBusy(button, true);
      confirm(pick.choice).then(function (res) {
        C().setBusy(button, false);
        if (res && !res.ok) { showError($("pick-error"), res.error); return; }
        closePicker();
      });
    });
    $("pick-q").addEventListener("input", function () {
      clearTimeout(pick.searchTimer);
      pick.searchTimer = setTimeout(searchCustomers, 300);
    });
    $("restore-form").addEventListener("submit", submitRestore);
    $("declare-open").addEventListener("click", openDeclare);
    $("declare-pick").addEventListener("click", pickDeclareDevice);
    $("declare-form").addEventListener("submit", submitDeclare);
    $("planned-open").addEventListener("click", openPlanned);
    $("planned-pick").addEventListener("click", pickPlannedDevice);
    $("planned-form").addEventListener("submit", submitPlanned);
    ["planned-type", "planned-start"].forEach(function (id) { $(id).addEventListener("change", previewPlanned); });
  }

  global.ConsoleHands = { startPlacing: startPlacing, outageButtons: outageButtons, openRestore: openRestore };
  bind();
})(window);
