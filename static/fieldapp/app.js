// The crews' app: boot, the hash router, the poll that brings new offers, duty, position
// pings and the outbox's badge. Screens are in screens.js (lists) and site.js (one order).
import { fmt, get, request, t } from "./api.js";
import * as outbox from "./outbox.js";
import * as screens from "./screens.js";
import { orderScreen } from "./site.js";

const root = document.getElementById("app");
const screen = document.getElementById("screen");
const alertBox = document.getElementById("alert");
const net = document.getElementById("net");
const state = { me: null, orders: [], seenOffers: null, points: [], watch: null };

export function flash(message, kind = "info") {
  alertBox.textContent = message;
  alertBox.className = `alert ${kind}`;
  alertBox.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => (alertBox.hidden = true), kind === "error" ? 12000 : 6000);
}

function beep() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch (e) {
    /* no audio before a user gesture: the banner still shows */
  }
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
}

async function loadOrders() {
  const page = await get("/orders?page_size=100");
  state.orders = page.results;
  localStorage.setItem("crew-orders", JSON.stringify(state.orders));
  const offers = state.orders.filter((o) => o.actions.includes("accept")).map((o) => o.id);
  if (state.seenOffers !== null && offers.some((id) => !state.seenOffers.has(id))) {
    beep();
    flash(t("新工单到达，请尽快接单！"), "offer");
  }
  state.seenOffers = new Set(offers);
  document.documentElement.dataset.ordersLoaded = String(Date.now());
}

async function refreshOutboxBadge() {
  const all = await outbox.entries();
  const badge = document.getElementById("outbox-count");
  const waiting = all.filter((e) => e.state === "waiting").length;
  const conflicts = all.length - waiting;
  badge.textContent = String(all.length);
  badge.hidden = all.length === 0;
  badge.classList.toggle("bad", conflicts > 0);
  net.hidden = waiting === 0 && navigator.onLine;
  net.textContent = navigator.onLine
    ? fmt("%s 项等待发送", [waiting])
    : fmt("离线：%s 项等待发送", [waiting]);
  root.dataset.waiting = String(waiting);
  root.dataset.conflicts = String(conflicts);
}

function renderDuty() {
  const button = document.getElementById("duty");
  button.hidden = false;
  button.textContent = state.me.on_duty ? t("在岗") : t("下班");
  button.classList.toggle("off", !state.me.on_duty);
  document.getElementById("crew-name").textContent = state.me.crew_name;
  trackPosition();
}

async function toggleDuty() {
  const { data } = await request("POST", "/duty", { json: { on_duty: !state.me.on_duty } });
  state.me = data;
  renderDuty();
  flash(data.on_duty ? t("已上岗") : t("已下班"));
}

// While on duty and allowed, pings are collected and sent in batches.
async function trackPosition() {
  if (!navigator.geolocation || !navigator.permissions) return;
  const allowed = await navigator.permissions.query({ name: "geolocation" }).catch(() => null);
  if (state.me.on_duty && allowed && allowed.state === "granted" && state.watch === null) {
    state.watch = navigator.geolocation.watchPosition((p) =>
      state.points.push({ at: new Date(p.timestamp).toISOString(), lat: p.coords.latitude, lng: p.coords.longitude })
    );
  } else if (!state.me.on_duty && state.watch !== null) {
    navigator.geolocation.clearWatch(state.watch);
    state.watch = null;
  }
}

async function sendPoints() {
  if (!state.points.length) return;
  const points = state.points.splice(0, 500);
  try {
    await request("POST", "/locations", { json: { points } });
  } catch (e) {
    state.points.unshift(...points); // the next batch takes them along
  }
}

export async function route() {
  const hash = location.hash || "#/orders";
  const [, name, id] = hash.split("/");
  document.querySelectorAll(".tabs a").forEach((a) => a.classList.toggle("on", a.dataset.tab === name));
  const ctx = { state, screen, flash, route, reload: loadOrders };
  try {
    if (name === "order") await orderScreen(ctx, Number(id));
    else if (name === "pool") await screens.poolScreen(ctx);
    else if (name === "parts") await screens.partsScreen(ctx);
    else if (name === "outbox") await screens.outboxScreen(ctx);
    else screens.ordersScreen(ctx);
  } catch (e) {
    if (e instanceof TypeError) screen.innerHTML = `<p class="muted">${t("离线：显示的是上次的数据。")}</p>`;
    else flash(e.message, "error");
  }
  screen.dataset.screen = name || "orders";
}

async function tick() {
  await outbox.flush().catch(() => null);
  try {
    await loadOrders();
    const name = (location.hash || "#/orders").split("/")[1];
    if (name === "orders" || !name) screens.ordersScreen({ state, screen, flash, route, reload: loadOrders });
  } catch (e) {
    /* offline: the next tick tries again */
  }
  await refreshOutboxBadge();
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope }).catch(() => null);
  }
  outbox.onChange(async (event) => {
    if (event.conflict) flash(`${t("未能送达")}：${event.conflict.label} — ${event.error.message}`, "error");
    await refreshOutboxBadge();
  });
  document.getElementById("duty").addEventListener("click", () => toggleDuty().catch((e) => flash(e.message, "error")));
  window.addEventListener("hashchange", route);
  window.addEventListener("online", tick);
  window.addEventListener("offline", refreshOutboxBadge);
  try {
    state.me = await get("/me");
    localStorage.setItem("crew-me", JSON.stringify(state.me));
    await loadOrders();
  } catch (e) {
    // Offline start: the last known crew and orders (actions still go to the outbox).
    state.me = JSON.parse(localStorage.getItem("crew-me") || "null");
    state.orders = JSON.parse(localStorage.getItem("crew-orders") || "[]");
  }
  if (state.me) renderDuty();
  await route();
  await refreshOutboxBadge();
  outbox.flush().catch(() => null);
  setInterval(tick, Number(root.dataset.pollMs) || 10000);
  setInterval(sendPoints, Number(root.dataset.pingMs) || 60000);
  document.documentElement.dataset.appReady = "1";
  if (navigator.serviceWorker) {
    navigator.serviceWorker.ready.then(() => (document.documentElement.dataset.swReady = "1"));
  }
}

boot();
