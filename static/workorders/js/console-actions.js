/*
 * The dispatcher's actions: toasts, form errors, busy buttons, handling an answer, and the
 * small dialog shared by the actions other than dispatch.
 *
 * Part of the dispatcher console (window.DispatchConsole, wired in console.js).
 */
window.DispatchConsole.part(function (DC, K, M, $, state, gettext, interpolate, config, el) {
  "use strict";

  // --- actions ---------------------------------------------------------------------------------------

  function showToast(text, kind) {
    var toast = $("toast");
    toast.textContent = text;
    toast.className = "toast toast-" + (kind || "ok");
    toast.hidden = false;
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { toast.hidden = true; }, 5000);
  }

  // A refusal, said plainly: 409s (a conflict with the order's state or a concurrent change)
  // are marked as such, and a concurrent change tells the dispatcher the detail was reloaded.
  function showFormError(node, error) {
    var text = error.code === "network" ? error.message : K.errorText(error);
    if (error.code === "concurrent_update") {
      text = gettext("工单刚被其他人修改。") + " " + gettext("已载入最新状态，请确认后重试。");
    }
    if (error.status === 409) text = interpolate(gettext("操作被拒绝（冲突）：%(reason)s"), { reason: text }, true);
    node.textContent = text;
    node.hidden = false;
    node.dataset.code = error.code || "";
  }

  function setBusy(button, busy) {
    state.busy = busy;
    button.disabled = busy;
    button.classList.toggle("busy", busy);
  }

  // The answer of an action: the new detail on success; the reason in the dialog on refusal.
  function handleResult(res, dialog, errorNode, successText) {
    if (res.ok) {
      K.closeDialog(dialog);
      DC.renderDetail(res.data);
      state.detailKey = null;
      showToast(successText, "ok");
      DC.poll();
      return Promise.resolve(false);
    }
    res.error.status = res.status;
    showFormError(errorNode, res.error);
    if (res.status === 409 || res.status === 404) {
      // Show what changed; a retry from the same dialog is made on the fresh version.
      return DC.loadDetail(state.selectedId, false).then(function () {
        if (state.detail) state.seenVersion = state.detail.version;
        return true;
      });
    }
    return Promise.resolve(false);
  }

  function startAction(action) {
    if (!state.detail) return;
    if (action === "dispatch") DC.openDispatch();
    else if (action === "place") window.ConsoleHands.startPlacing(state.detail);
    else openAction(action);
  }

  // Dispatch / re-dispatch with the ranked suggestions.

  // The other actions share one small dialog.
  var actionDialog = $("action-dialog");

  var ACTIONS = {
    confirm: {
      title: gettext("确认停电"), submit: gettext("确认停电"), path: "outage/confirm", fields: [],
      text: function (d) { return interpolate(gettext("将停电 #%(id)s 从“研判中”改为“已确认”，并通知相关用户。"), { id: d.outage.id }, true); },
      done: gettext("停电已确认")
    },
    publish: {
      title: gettext("发布到抢单池"), submit: gettext("发布抢单"), path: "publish", fields: ["ttl"],
      text: function () { return gettext("范围内的班组可以抢单；有效期内无人抢单时自动转为派单。"); },
      done: gettext("已发布到抢单池")
    },
    etr: {
      title: gettext("设置预计恢复时间"), submit: gettext("保存"), path: "outage/etr", fields: ["etr"],
      text: function (d) { return interpolate(gettext("停电 #%(id)s 的预计恢复时间会显示在停电地图上，并通知订阅用户。留空表示清除。"), { id: d.outage.id }, true); },
      done: gettext("预计恢复时间已更新")
    },
    merge: {
      title: gettext("合并工单"), submit: gettext("合并"), path: "merge", fields: ["into"],
      text: function () { return gettext("本工单将并入目标工单，报修记录随之转入，本工单结束。"); },
      done: gettext("工单已合并")
    },
    cancel: {
      title: gettext("取消工单"), submit: gettext("取消工单"), path: "cancel", fields: [], reasonRequired: true,
      text: function () { return gettext("取消后工单结束，班组不再处理。请填写取消原因。"); },
      done: gettext("工单已取消")
    }
  };

  function openAction(action) {
    var d = state.detail;
    var spec = ACTIONS[action];
    state.action = action;
    state.seenVersion = d.version;
    $("action-title").textContent = spec.title;
    $("action-order").textContent = "#" + d.id + " " + d.title;
    $("action-text").textContent = spec.text(d);
    var submit = $("action-submit");
    submit.textContent = spec.submit;
    submit.className = "btn " + (action === "cancel" ? "btn-danger" : "btn-primary");
    document.querySelectorAll("#action-form [data-field]").forEach(function (f) {
      var name = f.dataset.field;
      f.hidden = name !== "reason" && spec.fields.indexOf(name) === -1;
    });
    $("action-reason-label").textContent = spec.reasonRequired ? gettext("原因（必填）") : gettext("说明（可选）");
    $("action-reason").required = !!spec.reasonRequired;
    $("action-reason").value = "";
    $("action-error").hidden = true;
    $("action-ttl").value = "";
    $("action-into").value = "";
    if (action === "etr") {
      var current = d.outage && d.outage.etr;
      $("action-etr").value = K.toLocalInput(current || new Date(Date.now() + 2 * 3600 * 1000).toISOString());
    }
    if (action === "merge") fillMergeTargets(d);
    K.openDialog(actionDialog);
    var first = actionDialog.querySelector("[data-field]:not([hidden]) input, [data-field]:not([hidden]) select");
    if (first) first.focus();
  }

  // Other open orders, those of the same outage and the nearest first.
  function fillMergeTargets(d) {
    var list = K.clear($("merge-targets"));
    var items = ((state.feed && state.feed.orders.items) || []).filter(function (o) { return o.id !== d.id; });
    function dist(o) {
      if (typeof o.lat !== "number" || typeof d.lat !== "number") return 1e9;
      return Math.pow(o.lat - d.lat, 2) + Math.pow(o.lng - d.lng, 2);
    }
    items.sort(function (a, b) {
      var sa = d.outage && a.outage_id === d.outage.id ? 0 : 1;
      var sb = d.outage && b.outage_id === d.outage.id ? 0 : 1;
      return sa - sb || dist(a) - dist(b);
    }).slice(0, 30).forEach(function (o) {
      list.appendChild(el("option", { value: String(o.id), label: "#" + o.id + " " + o.title + " · " + K.label("status", o.status) }));
    });
  }

  function actionBody(action, d) {
    var reason = $("action-reason").value.trim();
    var body = { reason: reason };
    if (action !== "etr") body.version = state.seenVersion;
    if (action === "publish" && $("action-ttl").value) body.ttl_seconds = Number($("action-ttl").value);
    if (action === "etr") body.etr = K.fromLocalInput($("action-etr").value);
    if (action === "merge") body.into = Number($("action-into").value) || null;
    return body;
  }

  function validateAction(action, body) {
    if (ACTIONS[action].reasonRequired && !body.reason) return { code: "invalid", message: gettext("请填写原因。"), fields: {} };
    if (action === "merge" && !body.into) return { code: "invalid", message: gettext("请填写要合并到的工单号。"), fields: {} };
    return null;
  }

  function bindActions() {
    $("action-form").addEventListener("submit", function (e) {
      e.preventDefault();
      if (state.busy || !state.detail) return;
      var d = state.detail;
      var action = state.action;
      var body = actionBody(action, d);
      var invalid = validateAction(action, body);
      if (invalid) { showFormError($("action-error"), invalid); return; }
      $("action-error").hidden = true;
      var button = $("action-submit");
      setBusy(button, true);
      K.api.post(d.id, ACTIONS[action].path, body).then(function (res) {
        setBusy(button, false);
        handleResult(res, actionDialog, $("action-error"), ACTIONS[action].done);
      });
    });
    document.querySelectorAll("dialog [data-close]").forEach(function (b) {
      b.addEventListener("click", function () { K.closeDialog(b.closest("dialog")); });
    });
  }

  return { showToast: showToast, showFormError: showFormError, setBusy: setBusy, handleResult: handleResult, startAction: startAction, actionDialog: actionDialog, ACTIONS: ACTIONS, openAction: openAction, fillMergeTargets: fillMergeTargets, actionBody: actionBody, validateAction: validateAction, bindActions: bindActions };
});
