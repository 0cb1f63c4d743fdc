// The complaint page: the radius slider shows its value as it moves and re-queries on release.
(function () {
  "use strict";
  var slider = document.getElementById("radius");
  var out = document.getElementById("radius-out");
  if (!slider || !out) return;
  slider.addEventListener("input", function () { out.textContent = slider.value; });
  slider.addEventListener("change", function () { slider.form.submit(); });
})();
