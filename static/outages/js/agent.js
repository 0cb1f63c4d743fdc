/*
 * The hotline agent's page: conveniences over a server-rendered page that works without JS.
 * "/" focuses the search box (never typing "/" into it); the handling time is measured and
 * sent with the call; the symptom field shows only for fault reports; the caller
 * sentence can be copied; the call form cannot be submitted twice by a double click.
 */
(function (global) {
  "use strict";

  var gettext = global.gettext || function (s) { return s; };

  // Boxes where "/" is text (a note may say "1/F"); the search box itself is not one of them:
  // there "/" only selects what is typed, so the shortcut never writes "/" into it.
  var TEXT_INPUTS = { text: 1, search: 1, tel: 1, email: 1, number: 1, password: 1, url: 1 };
  function isTextBox(node) {
    if (!node) return false;
    if (node.isContentEditable || node.tagName === "TEXTAREA") return true;
    return node.tagName === "INPUT" && !!TEXT_INPUTS[(node.type || "text").toLowerCase()];
  }

  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var q = document.getElementById("agent-q");
    if (!q || (e.target !== q && isTextBox(e.target))) return;
    e.preventDefault();
    q.focus();
    q.select();
  });

  // Handling time: from the caller being found (their premise first shown) to the call
  // being recorded, sent with the call. Kept per premise across a re-shown form.
  var customer = document.getElementById("customer");
  var foundKey = customer ? "agent-found-" + customer.dataset.sp : null;
  if (foundKey) {
    try {
      if (!sessionStorage.getItem(foundKey)) sessionStorage.setItem(foundKey, String(Date.now()));
    } catch (err) { /* storage refused: measure from this page */ }
  }
  var shownAt = Date.now();
  function handlingSeconds(forget) {
    var start = shownAt;
    try {
      var kept = Number(sessionStorage.getItem(foundKey));
      if (kept > 0 && kept <= Date.now()) start = kept;
      if (forget) sessionStorage.removeItem(foundKey);
    } catch (err) { /* storage refused */ }
    return Math.max(0, Math.round((Date.now() - start) / 1000));
  }
  global.agentHandlingSeconds = handlingSeconds;

  var form = document.getElementById("call-form");
  if (form) {
    var symptom = form.querySelector('[data-for="symptom"]');
    var syncKind = function () {
      var checked = form.querySelector('input[name="kind"]:checked');
      if (symptom) symptom.hidden = !!checked && checked.value !== "fault";
    };
    form.querySelectorAll('input[name="kind"]').forEach(function (r) { r.addEventListener("change", syncKind); });
    syncKind();
    form.addEventListener("submit", function () {
      var field = form.querySelector('input[name="handling_seconds"]');
      if (field) field.value = String(handlingSeconds(true));
      var button = document.getElementById("call-submit");
      // Let this submission through, then stop a second click from filing the call twice.
      setTimeout(function () { button.disabled = true; button.textContent = gettext("正在记录…"); }, 0);
    });
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.dataset.copy);
      if (!source) return;
      var text = source.textContent.trim();
      var done = function () {
        var original = button.textContent;
        button.textContent = gettext("已复制");
        setTimeout(function () { button.textContent = original; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else {
        selectText(source);
      }
    });
  });

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = global.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})(window);
