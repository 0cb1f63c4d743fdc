/*
 * The hotline agent's page: conveniences over a server-rendered page that works without JS.
 * "/" focuses the search box; the symptom field shows only for fault reports; the caller
 * sentence can be copied; the call form cannot be submitted twice by a double click.
 */
(function (global) {
  "use strict";

  var gettext = global.gettext || function (s) { return s; };

  document.addEventListener("keydown", function (e) {
    var target = e.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
    if (e.key === "/" && !typing) {
      e.preventDefault();
      var q = document.getElementById("agent-q");
      q.focus();
      q.select();
    }
  });

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
