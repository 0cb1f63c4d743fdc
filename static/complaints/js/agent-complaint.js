/*
 * The agent page's third call type: a complaint on the caller already found, and the
 * caller's escalation risk. Adds "投诉" beside fault report and enquiry in the call form;
 * choosing it shows the complaint form, which posts to POST /api/v1/complaints and shows the
 * reference, the deadlines and the risk flags to read to the caller.
 */
(function (global) {
  "use strict";

  var gettext = global.gettext || function (s) { return s; };
  var panel = document.getElementById("complaint-panel");
  if (!panel) return;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function when(iso) {
    var d = new Date(iso);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // --- escalation risk -------------------------------------------------------------------
  var riskBox = el("div", { "class": "risk-box", id: "complaint-risk" });
  panel.appendChild(riskBox);

  function showRisk() {
    fetch(panel.dataset.risk + "?service_point=" + encodeURIComponent(panel.dataset.sp), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (risk) {
      riskBox.textContent = "";
      if (!risk) return;
      riskBox.appendChild(el("strong", {}, gettext("投诉升级风险") + gettext("：")));
      riskBox.appendChild(el("span", { "class": "risk-chip risk-" + risk.risk, id: "complaint-risk-level", "data-risk": risk.risk }, risk.risk_label));
      risk.flags.forEach(function (f) { riskBox.appendChild(el("span", { "class": "risk-chip" }, f.label)); });
      if (risk.open_complaints.length) {
        riskBox.appendChild(el("span", { "class": "muted" }, " " + gettext("在办投诉") + " " + risk.open_complaints.map(function (c) { return c.reference; }).join("、")));
      }
    });
  }
  showRisk();

  // --- the complaint form ----------------------------------------------------------------
  var form = el("form", { id: "complaint-form", hidden: "" });
  form.appendChild(el("h3", {}, gettext("登记投诉")));
  var catField = el("div", { "class": "field" });
  catField.appendChild(el("label", { "for": "complaint-category" }, gettext("投诉分类")));
  var category = el("select", { id: "complaint-category", name: "category", required: "" });
  catField.appendChild(category);
  form.appendChild(catField);
  var phoneField = el("div", { "class": "field" });
  phoneField.appendChild(el("label", { "for": "complaint-phone" }, gettext("联系电话")));
  var phone = el("input", { id: "complaint-phone", name: "phone", type: "text", maxlength: "20" });
  phone.value = panel.dataset.phone || "";
  phoneField.appendChild(phone);
  form.appendChild(phoneField);
  var textField = el("div", { "class": "field" });
  textField.appendChild(el("label", { "for": "complaint-text" }, gettext("投诉内容")));
  var text = el("textarea", { id: "complaint-text", name: "text", rows: "3", maxlength: "4000", required: "" });
  textField.appendChild(text);
  form.appendChild(textField);
  var error = el("p", { "class": "form-error", role: "alert", hidden: "" });
  form.appendChild(error);
  var submit = el("button", { type: "submit", "class": "btn btn-primary", id: "complaint-submit" }, gettext("登记投诉"));
  form.appendChild(submit);
  panel.appendChild(form);
  var result = el("div", { "class": "complaint-result", id: "complaint-result", hidden: "" });
  panel.appendChild(result);

  fetch(panel.dataset.categories, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var parents = {};
      data.results.forEach(function (c) { if (!c.parent) parents[c.code] = c.name; });
      data.results.forEach(function (c) {
        if (!c.parent) return;
        var option = el("option", { value: c.code }, parents[c.parent] + " / " + c.name);
        category.appendChild(option);
      });
    });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    fetch(panel.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({
        service_point: Number(panel.dataset.sp), category: category.value, channel: "hotline",
        text: text.value, phone: phone.value
      })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (answer) {
      submit.disabled = false;
      if (!answer.ok) {
        var fields = (answer.body.error && answer.body.error.fields) || {};
        var first = Object.keys(fields)[0];
        error.textContent = first ? fields[first].join(" ") : (answer.body.error ? answer.body.error.message : gettext("登记失败"));
        error.hidden = false;
        return;
      }
      var c = answer.body;
      form.hidden = true;
      result.textContent = "";
      result.appendChild(el("p", {}, gettext("已登记投诉，请告知用户编号：")));
      result.appendChild(el("p", { "class": "script mono", id: "complaint-reference" }, c.reference));
      result.appendChild(el("p", {}, gettext("我们将在 %s 前联系您，%s 前答复处理结果。").replace("%s", when(c.contact_due)).replace("%s", when(c.reply_due))));
      var desk = el("a", { href: panel.dataset.desk + c.id + "/" }, gettext("在投诉工作台打开"));
      result.appendChild(desk);
      result.hidden = false;
      showRisk();
      logCall(c.reference);
    }).catch(function () {
      submit.disabled = false;
      error.textContent = gettext("网络异常，请重试。");
      error.hidden = false;
    });
  });

  // The complaint's call goes into the call log too (kind "complaint", with the handling
  // time agent.js measured), so the premise's call history and the agent's figures see it.
  function logCall(reference) {
    var seconds = global.agentHandlingSeconds ? global.agentHandlingSeconds(true) : null;
    fetch(panel.dataset.calls, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({
        service_point: Number(panel.dataset.sp), kind: "complaint", phone: phone.value,
        note: reference, handling_seconds: seconds
      })
    }).then(function (r) {
      if (r.ok) result.dataset.callLogged = "1";
    });
  }

  // --- the third call type in the call form ------------------------------------------------
  var callForm = document.getElementById("call-form");
  var kinds = callForm && callForm.querySelector("fieldset.kinds");
  if (kinds) {
    var label = el("label", { "class": "kind" });
    var radio = el("input", { type: "radio", name: "kind", value: "complaint", id: "kind-complaint" });
    label.appendChild(radio);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(el("span", {}, gettext("投诉")));
    kinds.appendChild(label);
    var sync = function () {
      var isComplaint = radio.checked;
      form.hidden = !isComplaint;
      // The call form's own fields and button give way to the complaint form (style, not
      // the hidden attribute: the page's CSS sets their display).
      callForm.querySelectorAll(".field, .actions").forEach(function (node) {
        node.style.display = isComplaint ? "none" : "";
      });
      if (isComplaint) { result.hidden = true; text.focus(); }
    };
    callForm.querySelectorAll('input[name="kind"]').forEach(function (r) { r.addEventListener("change", sync); });
  } else {
    form.hidden = false;
  }
})(window);
