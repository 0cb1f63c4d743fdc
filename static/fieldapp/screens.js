// The list screens: my orders (offers with accept / reject), the grab pool, parts, outbox.
import { ApiError, esc, fmt, get, request, t } from "./api.js";
import * as outbox from "./outbox.js";

const root = document.getElementById("app");

export function clock(due) {
  if (!due) return "";
  const minutes = Math.round((new Date(due) - Date.now()) / 60000);
  const text =
    minutes >= 0
      ? fmt("剩 %s 分钟", [minutes])
      : fmt("超时 %s 分钟", [-minutes]);
  return `<span class="sla ${minutes < 0 ? "late" : minutes < 10 ? "warn" : ""}">${esc(text)}</span>`;
}

export function queueAction(ctx, order, action, extra = {}, label = "") {
  return outbox.enqueue({
    method: "POST",
    path: `/orders/${order.id}/actions`,
    json: { action, ...extra },
    label: `${label || action} · ${order.title}`,
    orderId: order.id,
  });
}

function orderCard(order) {
  const offer = order.actions.includes("accept");
  return `<article class="card ${offer ? "offer" : ""}" data-order="${order.id}">
    <a href="#/order/${order.id}" class="title">${esc(order.title)}</a>
    <div class="meta"><span class="status">${esc(order.status_display)}</span>
      ${clock(order.arrived_at ? order.restore_due_at : order.arrive_due_at)}</div>
    <div class="addr">${esc(order.address)}</div>
    ${order.description ? `<div class="desc">${esc(order.description)}</div>` : ""}
    ${
      offer
        ? `<div class="row"><button class="btn primary" data-act="accept">${t("接单")}</button>
           <button class="btn" data-act="reject">${t("拒单")}</button></div>
           <form class="reject" hidden><textarea name="reason" required placeholder="${esc(t("拒单原因"))}"></textarea>
           <button class="btn danger">${t("确认拒单")}</button></form>`
        : ""
    }
  </article>`;
}

export function ordersScreen(ctx) {
  const { state, screen } = ctx;
  if (screen.querySelector("form.reject:not([hidden])")) return; // do not wipe a reason being typed
  const orders = state.orders || [];
  screen.innerHTML =
    (orders.length ? orders.map(orderCard).join("") : `<p class="muted">${t("暂无工单")}</p>`) +
    `<p class="lang"><button class="link" data-lang="zh-hans">中文</button> · <button class="link" data-lang="en">English</button></p>`;
  screen.querySelectorAll("article.card").forEach((card) => {
    const order = orders.find((o) => o.id === Number(card.dataset.order));
    const form = card.querySelector("form.reject");
    card.querySelectorAll("[data-act]").forEach((b) =>
      b.addEventListener("click", async () => {
        if (b.dataset.act === "reject") {
          form.hidden = false;
          form.querySelector("textarea").focus();
          return;
        }
        b.disabled = true;
        const done = await queueAction(ctx, order, "accept", {}, t("接单"));
        if (done.some((r) => r.ok)) ctx.flash(t("已接单"));
        await ctx.reload().catch(() => null);
        ordersScreen(ctx);
      })
    );
    if (form)
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const reason = form.reason.value.trim();
        form.hidden = true;
        await queueAction(ctx, order, "reject", { note: reason }, t("拒单"));
        await ctx.reload().catch(() => null);
        ordersScreen(ctx);
      });
  });
  screen.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => setLanguage(b.dataset.lang)));
}

function setLanguage(code) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = root.dataset.setlang;
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  form.innerHTML = `<input name="language" value="${esc(code)}"><input name="next" value="${esc(root.dataset.scope)}">
    <input name="csrfmiddlewaretoken" value="${esc(decodeURIComponent(csrf))}">`;
  document.body.appendChild(form);
  form.submit();
}

export async function poolScreen(ctx) {
  const { screen } = ctx;
  const pool = await get("/pool");
  const s = pool.stats;
  screen.innerHTML =
    `<p class="muted">${esc(fmt("抢单 %s · 积分 %s · 错失 %s", [s.claims, s.bonus_points, s.lost_races]))}</p>` +
    (pool.results.length
      ? pool.results
          .map(
            (e) => `<article class="card" data-pool="${e.id}"><div class="title">${esc(e.title)}</div>
        <div class="meta">${esc(e.distance_km)} km · ${esc(fmt("积分 %s", [e.bonus_points]))} ${clock(e.arrive_due_at)}</div>
        <div class="addr">${esc(e.address)}</div>
        <button class="btn primary" data-claim="${e.id}">${t("抢单")}</button></article>`
          )
          .join("")
      : `<p class="muted">${t("附近暂无可抢工单")}</p>`);
  screen.querySelectorAll("[data-claim]").forEach((b) =>
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await request("POST", `/pool/${b.dataset.claim}/claim`);
        ctx.flash(t("抢单成功！请在“我的工单”中接单。"), "ok");
        await ctx.reload();
        location.hash = `#/order/${b.dataset.claim}`;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          ctx.flash(t("晚了一步：这张工单已被其他班组抢到，下次加油！"), "lost");
          await poolScreen(ctx);
        } else if (e instanceof TypeError) {
          ctx.flash(t("离线时无法抢单，请稍后再试。"), "error");
          b.disabled = false;
        } else throw e;
      }
    })
  );
}

export async function partsScreen(ctx) {
  const parts = await get("/parts");
  ctx.screen.innerHTML = `<h2>${t("备件库存")}</h2><table class="parts"><tr><th>${t("备件")}</th><th>${t("本站")}</th><th>${t("其他站")}</th></tr>
    ${parts.results
      .map(
        (p) => `<tr data-part="${esc(p.code)}"><td>${esc(p.name)}<br><small>${esc(p.code)}</small></td>
        <td class="mine">${esc(p.my_station)} ${esc(p.unit)}</td>
        <td><small>${p.stock.filter((s) => s.station_id !== parts.station_id).map((s) => `${esc(s.station)} ${esc(s.quantity)}`).join("<br>")}</small></td></tr>`
      )
      .join("")}</table>`;
}

export async function outboxScreen(ctx) {
  const all = await outbox.entries();
  ctx.screen.innerHTML = `<h2>${t("待发送")}</h2>` +
    (all.length
      ? all
          .map(
            (e) => `<article class="card ${e.state}" data-seq="${e.seq}"><div class="title">${esc(e.label)}</div>
          <div class="meta">${esc(new Date(e.queuedAt).toLocaleString())} · ${e.state === "waiting" ? t("等待发送") : `<b>${t("冲突")}</b> ${esc(e.error)}`}</div>
          ${e.state === "conflict" ? `<button class="btn" data-drop="${e.seq}">${t("知道了")}</button>` : ""}</article>`
          )
          .join("")
      : `<p class="muted">${t("全部已发送")}</p>`);
  ctx.screen.querySelectorAll("[data-drop]").forEach((b) =>
    b.addEventListener("click", async () => {
      await outbox.drop(Number(b.dataset.drop));
      await outboxScreen(ctx);
    })
  );
}
