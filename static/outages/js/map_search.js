/*
 * The public map's search (split from map.js, which it uses through window.OutageMap).
 *
 * A look-up answers customers' addresses ("matches") or, when none matched, gazetteer places
 * ("places": 街道, 社区, roads, landmarks) with the outages around each. Typing suggests both;
 * 查询 (click, tap or Enter) shows the best one at once and lists the others in the panel,
 * so it never depends on the suggestion list surviving the input's blur.
 * <html data-search> is "busy" while a look-up runs, then "done".
 */
(function (global) {
  "use strict";

  var P = global.OutagePublic;
  var gettext = P.gettext;
  var interpolate = P.interpolate;
  var config = P.config;
  var el = P.el;
  var M = global.OutageMap;
  var state = M.state;
  var toDisplay = M.toDisplay;
  var cssVar = M.cssVar;
  var SEARCH_DEBOUNCE_MS = 300;
  var OTHERS_SHOWN = 4;

  var search = {
    controller: null,
    timer: null,
    blurTimer: null,
    items: [],
    active: -1
  };

  function setSearchStatus(text, isError) {
    var node = document.getElementById("search-status");
    node.textContent = text || "";
    node.classList.toggle("error", !!isError);
  }

  function hideSuggestions() {
    clearTimeout(search.blurTimer);
    var list = document.getElementById("search-suggestions");
    list.hidden = true;
    list.textContent = "";
    document.getElementById("search-input").setAttribute("aria-expanded", "false");
    search.active = -1;
  }

  function itemsOf(data) {
    var matches = (data && data.matches) || [];
    var places = (data && data.places) || [];
    // Places come with customers only when the text named one outright: show it first.
    return places.map(function (p) { return { kind: "place", value: p }; })
      .concat(matches.map(function (m) { return { kind: "match", value: m }; }));
  }

  var ngettext = global.ngettext || function (one, many, n) { return n === 1 ? one : many; };

  function nearbyText(place) {
    var n = place.outages_nearby;
    return interpolate(ngettext("%(name)s：附近 %(count)s 处停电", "%(name)s：附近 %(count)s 处停电", n),
      { name: place.name, count: P.fmtNumber(n) }, true);
  }

  function itemChip(item) {
    if (item.kind === "place") {
      return item.value.outages_nearby
        ? el("span", { className: "chip chip-out", text: interpolate(ngettext("附近 %(count)s 处停电", "附近 %(count)s 处停电", item.value.outages_nearby),
            { count: item.value.outages_nearby }, true) })
        : el("span", { className: "chip chip-ok", text: gettext("附近无已知停电") });
    }
    return item.value.outage ? el("span", { className: "chip chip-out", text: gettext("停电中") })
      : el("span", { className: "chip chip-ok", text: gettext("无已知停电") });
  }

  function itemLabel(item) {
    return item.kind === "place" ? item.value.name : item.value.address;
  }

  function itemMeta(item) {
    var v = item.value;
    var meta = item.kind === "place" ? [P.label("placeKind", v.kind), v.district] : [v.district];
    return meta.filter(Boolean).join(" · ");
  }

  function itemNode(tag, item, attrs) {
    var node = el(tag, attrs, [
      el("span", { className: "s-address", text: itemLabel(item) }),
      el("span", { className: "s-meta" }, [itemMeta(item), " ", itemChip(item)])
    ]);
    node.dataset.kind = item.kind;
    // mousedown would blur the input first; keep the focus and choose on click (or tap).
    node.addEventListener("mousedown", function (e) { e.preventDefault(); });
    node.addEventListener("click", function () { chooseItem(item); });
    return node;
  }

  function showSuggestions(items) {
    clearTimeout(search.blurTimer);
    var list = document.getElementById("search-suggestions");
    list.textContent = "";
    items.slice(0, 8).forEach(function (item, i) {
      list.appendChild(itemNode("li", item, { role: "option", id: "suggestion-" + i, "aria-selected": "false" }));
    });
    list.hidden = items.length === 0;
    document.getElementById("search-input").setAttribute("aria-expanded", String(items.length > 0));
  }

  function runLookup(q, showAll) {
    if (search.controller) search.controller.abort();
    search.controller = new AbortController();
    setSearchStatus(gettext("正在查询…"));
    document.documentElement.dataset.search = "busy";
    return P.api.lookup(q, search.controller.signal, config.lookupLimit).then(function (res) {
      document.documentElement.dataset.search = "done";
      if (!res.ok) {
        hideSuggestions();
        setSearchStatus(res.error.message, true);
        return;
      }
      var items = search.items = itemsOf(res.data);
      if (!items.length) {
        hideSuggestions();
        setSearchStatus(gettext("没有找到这个地址或户号，请换个写法，或直接报修。"), true);
        renderNoMatch(q);
        return;
      }
      if (!showAll) {
        setSearchStatus("");
        showSuggestions(items);
        return;
      }
      hideSuggestions();
      setSearchStatus(items.length > 1 ? interpolate(gettext("找到 %(count)s 处匹配，已显示最接近的一处。"),
        { count: items.length }, true) : "");
      chooseItem(items[0], items);
    }).catch(function (err) {
      if (!err || err.name !== "AbortError") {
        document.documentElement.dataset.search = "done";
        setSearchStatus(gettext("查询失败，请稍后重试。"), true);
      }
    });
  }

  function chooseItem(item, all) {
    hideSuggestions();
    if (item.kind === "place") choosePlace(item.value); else chooseMatch(item.value);
    // A few alternatives are enough (and keep the map in view on a phone).
    var others = (all || []).filter(function (other) { return other !== item; }).slice(0, OTHERS_SHOWN);
    if (others.length) {
      var box = document.getElementById("result");
      box.appendChild(el("h3", { className: "others-title", text: gettext("其他匹配") }));
      var list = el("ul", { className: "other-matches", id: "other-matches" });
      others.forEach(function (other) {
        list.appendChild(itemNode("li", other, {}));
      });
      box.appendChild(list);
    }
  }

  function chooseMatch(match) {
    state.selected = match;
    document.getElementById("search-input").value = match.address || "";
    renderResult(match);
    showMatchOnMap(match);
  }

  function choosePlace(place) {
    // A report from here starts from the place's address, which the caller can complete.
    state.selected = { address: place.address || place.name, lat: place.lat, lng: place.lng, place: place };
    document.getElementById("search-input").value = place.name;
    renderPlace(place);
    showMatchOnMap(state.selected);
  }

  var PLACE_ZOOM = { sub_district: 14, community: 15, road: 15, place: 16 };

  function showMatchOnMap(match) {
    if (state.layers.match) state.map.removeLayer(state.layers.match);
    var group = L.featureGroup();
    if (typeof match.lat === "number" && typeof match.lng === "number") {
      var here = toDisplay(match.lat, match.lng);
      if (match.place) {
        group.addLayer(L.circle(here, {
          pane: "markers", radius: match.place.radius, color: cssVar("--brand", "#0b5cad"),
          weight: 1, dashArray: "4 4", fillOpacity: 0.04, className: "place-radius", interactive: false
        }));
      }
      group.addLayer(L.circleMarker(here, {
        pane: "markers", radius: 8, color: "#fff", weight: 3, fillColor: cssVar("--brand", "#0b5cad"),
        fillOpacity: 1, className: "match-marker"
      }).bindTooltip(match.place ? match.place.name : match.address || ""));
      var crew = match.outage && match.outage.crew;
      if (crew && typeof crew.lat === "number" && typeof crew.lng === "number") {
        group.addLayer(L.marker(toDisplay(crew.lat, crew.lng), {
          pane: "markers",
          icon: L.divIcon({ className: "crew-marker", iconSize: [26, 26], html: "<span></span>" }),
          title: gettext("抢修队伍（近似位置）")
        }));
      }
      var zoom = match.place ? PLACE_ZOOM[match.place.kind] || 15 : 15;
      state.map.setView(here, Math.max(state.map.getZoom(), zoom));
    }
    state.layers.match = group.addTo(state.map);
  }

  function renderPlace(place) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("div", { className: "result-head" }, [
      el("h2", { text: place.name }),
      el("p", { className: "muted", text: [P.label("placeKind", place.kind), place.district, place.address]
        .filter(Boolean).join(" · ") })
    ]));
    box.appendChild(el("p", {
      className: "answer " + (place.outages_nearby ? "answer-out" : "answer-ok"),
      id: "place-nearby",
      text: nearbyText(place)
    }));
    (place.outages || []).forEach(function (outage) {
      box.appendChild(P.renderOutage(outage));
    });
    box.appendChild(el("p", { className: "muted small", text: gettext("地点查询只显示附近的停电；输入门牌地址或户号可查询您家的情况。") }));
    box.appendChild(reportButton(gettext("我要报修"), "btn-outline"));
    box.hidden = false;
  }

  function renderResult(match) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("div", { className: "result-head" }, [
      el("h2", { text: match.address || "" }),
      match.district ? el("p", { className: "muted", text: String(match.district) }) : null
    ]));
    if (match.outage) {
      box.appendChild(el("p", { className: "answer answer-out", text: gettext("该地址目前处于停电中。") }));
      box.appendChild(P.renderOutage(match.outage));
      box.appendChild(P.renderSubscribe({ outage_id: match.outage.id }));
      box.appendChild(el("p", { className: "muted small", text: gettext("已知停电无需重复报修；如有其他异常仍可报修。") }));
      box.appendChild(reportButton(gettext("报告其他问题"), "btn-outline"));
    } else {
      box.appendChild(el("p", { className: "answer answer-ok", text: gettext("此地址暂无已知停电。") }));
      box.appendChild(el("p", { className: "muted", text: gettext("如果您家中停电，请报修，我们会尽快处理。") }));
      box.appendChild(reportButton(gettext("我要报修"), "btn-primary"));
      box.appendChild(P.renderSubscribe({ address: match.address }, gettext("订阅该地址的停电通知")));
    }
    box.appendChild(P.renderPlanned(match.planned));
    box.hidden = false;
  }

  function renderNoMatch(q) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.appendChild(el("p", { className: "answer", id: "no-match", text: gettext("未找到匹配的地址。") }));
    box.appendChild(el("p", { className: "muted", text: gettext("您仍可填写地址报修。") }));
    var btn = reportButton(gettext("我要报修"), "btn-primary");
    btn.dataset.location = q;
    box.appendChild(btn);
    box.hidden = false;
  }

  function openReport(location) { global.OutageMapReport.open(location, state.selected); }

  function reportButton(text, cls) {
    var btn = el("button", { type: "button", className: "btn " + cls, text: text });
    btn.addEventListener("click", function () { openReport(btn.dataset.location); });
    return btn;
  }

  function bindSearch() {
    var form = document.getElementById("search-form");
    var input = document.getElementById("search-input");
    input.addEventListener("input", function () {
      clearTimeout(search.timer);
      var q = input.value.trim();
      if (q.length < 2) { hideSuggestions(); setSearchStatus(""); return; }
      search.timer = setTimeout(function () { runLookup(q, false); }, SEARCH_DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (e) {
      var list = document.getElementById("search-suggestions");
      var items = list.querySelectorAll("li");
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        search.active = (search.active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        items.forEach(function (li, i) { li.setAttribute("aria-selected", String(i === search.active)); });
        input.setAttribute("aria-activedescendant", items[search.active].id);
      } else if (e.key === "Enter" && search.active >= 0) {
        e.preventDefault();
        chooseItem(search.items[search.active]);
      } else if (e.key === "Escape") {
        hideSuggestions();
      }
    });
    input.addEventListener("blur", function () {
      clearTimeout(search.blurTimer);
      search.blurTimer = setTimeout(hideSuggestions, 150);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      clearTimeout(search.timer);
      var q = input.value.trim();
      if (q.length < 2) { setSearchStatus(gettext("请至少输入 2 个字。"), true); return; }
      runLookup(q, true);
    });
  }

  bindSearch();

  global.OutageMapSearch = {
    redraw: function () { if (state.selected) showMatchOnMap(state.selected); }
  };
})(window);
