/* The hotline agent page: the caller's frequent-outage status and count this year, from
   /api/v1/reliability/customers/<id>, in a line the agent can read out. */
(function () {
  "use strict";
  var t = window.gettext || function (s) { return s; };
  var fmt = window.interpolate || function (s, args, named) {
    return s.replace(/%\((\w+)\)s/g, function (_, k) { return args[k]; });
  };
  var line = document.getElementById("reliability-line");
  if (!line || !line.dataset.url) { return; }
  var LEVELS = { normal: t("正常"), warning: t("频繁停电预警"), frequent: t("频繁停电") };

  fetch(line.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(function (s) {
      var text = fmt(t("本年度已停电 %(count)s 次（计划 %(planned)s 次）· %(level)s"), {
        count: s.count, planned: s.planned, level: LEVELS[s.level] || s.level
      }, true);
      if (s.reasons && s.reasons.length) { text += t("：") + s.reasons.join(t("；")); }
      line.textContent = text;
      line.dataset.level = s.level;
      line.classList.add("level-" + s.level);
      line.hidden = false;
    })
    .catch(function () { line.hidden = true; });
})();
