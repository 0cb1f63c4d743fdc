// Navigation links to the phone's map apps. Our coordinates are WGS-84; Amap and Tencent
// expect GCJ-02 and Baidu BD-09, so they are converted here, at the edge (the WGS-84 to
// GCJ-02 step is the public map's own, static/outages/js/coords.js).
import { esc, t } from "./api.js";

const X_PI = (Math.PI * 3000.0) / 180.0;

export function gcj02ToBd09(lat, lng) {
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * X_PI);
  return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
}

export function mapLinks(lat, lng, name) {
  const [glat, glng] = window.OutageCoords.wgs84ToGcj02(lat, lng);
  const [blat, blng] = gcj02ToBd09(glat, glng);
  const q = encodeURIComponent(name || "");
  const f = (x) => x.toFixed(6);
  return {
    amap: `https://uri.amap.com/marker?position=${f(glng)},${f(glat)}&name=${q}&coordinate=gaode&callnative=1`,
    baidu: `https://api.map.baidu.com/marker?location=${f(blat)},${f(blng)}&title=${q}&content=${q}&output=html&coord_type=bd09ll&src=webapp.dispatch.crew`,
    tencent: `https://apis.map.qq.com/uri/v1/marker?marker=coord:${f(glat)},${f(glng)};title:${q}&referer=crew`,
    system: `geo:${f(lat)},${f(lng)}?q=${f(lat)},${f(lng)}(${q})`,
  };
}

export function navBlock(order) {
  if (order.lat == null || order.lng == null) return "";
  const links = mapLinks(order.lat, order.lng, order.address || order.title);
  const a = (key, label) => `<a class="btn map" data-map="${key}" href="${esc(links[key])}">${esc(label)}</a>`;
  return `<div class="maps">${a("amap", t("高德地图"))}${a("baidu", t("百度地图"))}${a("tencent", t("腾讯地图"))}${a("system", t("系统地图"))}</div>`;
}
