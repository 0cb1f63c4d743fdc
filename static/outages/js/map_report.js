/*
 * The public map's report dialog: validates, posts POST /api/v1/public/reports with one
 * Idempotency-Key per submission, shows field errors and the reference. Split from map.js.
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var interpolate = P.interpolate;
  var config = P.config;
  var el = P.el;

  var state = {
    selected: null,
    reportKey: null,      // Idempotency-Key of the submission in progress
    reportPoint: null     // {lat, lng} from the browser's geolocation (WGS-84)
  };

  // --- report form --------------------------------------------------------------------------------

  var FIELD_FOR = {
    phone: "phone", symptom: "symptom", description: "description",
    address: "location", account_no: "location", lat: "location", lng: "location", location: "location"
  };

  function dialog() { return document.getElementById("report-dialog"); }

  function openReport(location, selected) {
    state.selected = selected || null;
    var d = dialog();
    resetReport();
    var input = document.getElementById("report-location");
    if (location) input.value = location;
    else if (state.selected) input.value = state.selected.address || "";
    if (typeof d.showModal === "function") d.showModal(); else d.setAttribute("open", "");
    document.getElementById("report-phone").focus();
  }

  function closeReport() {
    var d = dialog();
    if (typeof d.close === "function") d.close(); else d.removeAttribute("open");
  }

  function resetReport() {
    state.reportKey = null;
    state.reportPoint = null;
    document.getElementById("report-form").hidden = false;
    document.getElementById("report-done").hidden = true;
    document.getElementById("report-location-note").hidden = true;
    clearErrors();
  }

  function clearErrors() {
    document.querySelectorAll("#report-form .field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    document.querySelectorAll("#report-form [aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    document.querySelectorAll("#report-form .field.has-error").forEach(function (n) { n.classList.remove("has-error"); });
    var top = document.getElementById("report-form-error");
    top.hidden = true;
    top.textContent = "";
  }

  function showFieldError(field, message) {
    var p = document.getElementById("report-" + field + "-error");
    if (!p) { showFormError(message); return; }
    p.textContent = message;
    p.hidden = false;
    var wrap = document.querySelector('#report-form [data-field="' + field + '"]');
    if (wrap) wrap.classList.add("has-error");
    var input = document.getElementById("report-" + field);
    if (input) input.setAttribute("aria-invalid", "true");
  }

  function showFormError(message) {
    var top = document.getElementById("report-form-error");
    top.textContent = message;
    top.hidden = false;
  }

  function validateReport(body) {
    var ok = true;
    if (!body.phone) {
      showFieldError("phone", gettext("请填写联系电话。"));
      ok = false;
    } else if (!P.isValidPhone(body.phone)) {
      showFieldError("phone", gettext("请输入有效的手机号码（11 位）或带区号的固定电话。"));
      ok = false;
    }
    if (!body.symptom) {
      showFieldError("symptom", gettext("请选择故障现象。"));
      ok = false;
    }
    if (!body.address && !body.account_no && body.lat === undefined) {
      showFieldError("location", gettext("请填写地址或户号，或使用当前位置。"));
      ok = false;
    }
    return ok;
  }

  function reportBody() {
    var form = document.getElementById("report-form");
    var symptom = form.querySelector('input[name="symptom"]:checked');
    var body = {
      symptom: symptom ? symptom.value : "",
      phone: document.getElementById("report-phone").value.replace(/\s+/g, ""),
      channel: "web"
    };
    var description = document.getElementById("report-description").value.trim();
    if (description) body.description = description;
    // The contract takes exactly one way to locate the premise.
    var location = document.getElementById("report-location").value.trim();
    if (state.reportPoint) {
      body.lat = state.reportPoint.lat;
      body.lng = state.reportPoint.lng;
    } else if (/^\d{6,20}$/.test(location)) {
      body.account_no = location;
    } else if (location) {
      body.address = location;
    }
    return body;
  }

  function submitReport(e) {
    e.preventDefault();
    clearErrors();
    var body = reportBody();
    if (!validateReport(body)) return;
    // One key per submission: a retry after a lost answer reuses it and cannot file twice.
    state.reportKey = state.reportKey || P.newKey();
    var button = document.getElementById("report-submit");
    button.disabled = true;
    button.classList.add("busy");
    var csrf = document.querySelector('#report-form input[name="csrfmiddlewaretoken"]');
    P.api.createReport(body, state.reportKey, csrf ? csrf.value : "").then(function (res) {
      button.disabled = false;
      button.classList.remove("busy");
      if (res.ok) {
        showReportDone(res.data || {});
        return;
      }
      if (res.status === 400 || res.status === 422) {
        // The answer was a refusal: a corrected form is a new submission with a new key.
        state.reportKey = null;
        var fields = res.error.fields || {};
        var shown = false;
        Object.keys(fields).forEach(function (name) {
          var messages = [].concat(fields[name]).join(" ");
          var target = FIELD_FOR[name];
          if (target) { showFieldError(target, messages); shown = true; }
          else { showFormError(messages); shown = true; }
        });
        if (!shown) showFormError(res.error.message);
      } else {
        showFormError(res.error.message);
      }
    });
  }

  function showReportDone(data) {
    state.reportKey = null;
    document.getElementById("report-form").hidden = true;
    document.getElementById("report-done").hidden = false;
    document.getElementById("report-reference").textContent = data.reference || "";
    document.getElementById("report-message").textContent = data.message || P.label("reportStatus", data.status) || "";
    var outageBox = document.getElementById("report-outage");
    outageBox.textContent = "";
    if (data.outage) {
      outageBox.appendChild(el("p", { className: "answer answer-out", text: gettext("您所在区域的停电已在处理中：") }));
      outageBox.appendChild(P.renderOutage(data.outage));
    }
    document.getElementById("report-track-link").href = config.trackUrl + encodeURIComponent(data.reference || "");
    document.getElementById("report-done").querySelector("button[data-close-report]").focus();
  }

  function bindReport() {
    document.querySelectorAll("[data-open-report]").forEach(function (b) {
      b.addEventListener("click", function () { openReport(null, global.OutageMap && global.OutageMap.state.selected); });
    });
    document.querySelectorAll("[data-close-report]").forEach(function (b) {
      b.addEventListener("click", closeReport);
    });
    document.getElementById("report-form").addEventListener("submit", submitReport);
    var phone = document.getElementById("report-phone");
    phone.addEventListener("blur", function () {
      var v = phone.value.replace(/\s+/g, "");
      var err = document.getElementById("report-phone-error");
      if (v && !P.isValidPhone(v)) showFieldError("phone", gettext("请输入有效的手机号码（11 位）或带区号的固定电话。"));
      else if (!err.hidden && P.isValidPhone(v)) {
        err.hidden = true;
        phone.removeAttribute("aria-invalid");
        document.querySelector('#report-form [data-field="phone"]').classList.remove("has-error");
      }
    });
    document.querySelectorAll('#report-form input[name="symptom"]').forEach(function (r) {
      r.addEventListener("change", function () {
        document.getElementById("danger-note").hidden = !(r.checked && (r.value === "sparks" || r.value === "wire_down"));
      });
    });
    document.getElementById("report-location").addEventListener("input", function () {
      state.reportPoint = null;
      document.getElementById("report-location-note").hidden = true;
    });
    var geo = document.getElementById("report-geolocate");
    if (!navigator.geolocation) geo.hidden = true;
    geo.addEventListener("click", function () {
      var note = document.getElementById("report-location-note");
      note.hidden = false;
      note.textContent = gettext("正在获取位置…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        // The Geolocation API gives WGS-84, as the API expects.
        state.reportPoint = {
          lat: Math.round(pos.coords.latitude * 1e6) / 1e6,
          lng: Math.round(pos.coords.longitude * 1e6) / 1e6
        };
        note.textContent = interpolate(gettext("将使用当前位置（%(lat)s, %(lng)s）"),
          { lat: state.reportPoint.lat.toFixed(5), lng: state.reportPoint.lng.toFixed(5) }, true);
      }, function () {
        note.textContent = gettext("无法获取位置，请填写地址。");
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  bindReport();

  global.OutageMapReport = { open: openReport };
})(window);
