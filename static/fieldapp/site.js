// One order at the site: navigation, the device history, the steps (depart, arrive with the
// phone's position, findings with compressed photos, restore, complete), spare parts and the
// customer's sign-off drawn on the screen. Every write goes through the outbox.
import { esc, get, t } from "./api.js";
import { navBlock } from "./nav.js";
import * as outbox from "./outbox.js";
import { clock, queueAction } from "./screens.js";

// Set while an action is being queued and the screen redrawn (tests wait for it to clear).
const busy = () => (document.documentElement.dataset.busy = "1");

const LABELS = { depart: "出发", arrive: "到达现场", restore: "恢复送电", complete: "完工" };

async function findOrder(ctx, id) {
  let order = ctx.state.orders.find((o) => o.id === id);
  if (!order) {
    const page = await get("/orders?status=all&page_size=200");
    order = page.results.find((o) => o.id === id);
  }
  return order;
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve({});
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude }),
      () => resolve({}),
      { enableHighAccuracy: true, timeout: 5000, maximumAge: 60000 }
    );
  });
}

// Photos are shrunk on the phone (longest side 1600 px, JPEG) before they are queued.
export async function compress(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const g = canvas.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.7));
    return { blob, name: "photo.jpg" };
  } catch (e) {
    return { blob: file, name: file.name };
  }
}

function signaturePad(canvas) {
  const g = canvas.getContext("2d");
  let drawing = false;
  let strokes = 0;
  const point = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) * canvas.width) / r.width, ((ev.clientY - r.top) * canvas.height) / r.height];
  };
  g.lineWidth = 3;
  g.lineCap = "round";
  g.strokeStyle = "#111";
  canvas.addEventListener("pointerdown", (ev) => {
    drawing = true;
    canvas.setPointerCapture(ev.pointerId);
    g.beginPath();
    g.moveTo(...point(ev));
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!drawing) return;
    g.lineTo(...point(ev));
    g.stroke();
    strokes += 1;
  });
  const stop = () => (drawing = false);
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  return {
    empty: () => strokes < 3,
    clear: () => {
      g.clearRect(0, 0, canvas.width, canvas.height);
      strokes = 0;
    },
    png: () => new Promise((r) => canvas.toBlob(r, "image/png")),
  };
}

function stepsBlock(order, causes) {
  const steps = order.actions.filter((a) => LABELS[a]);
  let html = `<section class="steps"><div class="row">${steps
    .map((a) => `<button class="btn primary" data-step="${a}">${t(LABELS[a])}</button>`)
    .join("")}</div>`;
  if (order.actions.includes("restore"))
    html += `<input name="device" placeholder="${esc(t("恢复的设备编号（全部恢复可不填）"))}">`;
  if (order.actions.includes("complete"))
    html += `<input name="complete_note" placeholder="${esc(t("完工说明"))}">`;
  if (order.actions.includes("findings"))
    html += `<form class="findings"><h3>${t("现场勘查")}</h3>
      <select name="cause"><option value="">${t("故障原因")}</option>${causes
        .map((c) => `<option value="${esc(c.code)}">${esc(c.name)}</option>`)
        .join("")}</select>
      <textarea name="note" placeholder="${esc(t("勘查说明"))}"></textarea>
      <input type="file" name="photos" accept="image/*" capture="environment" multiple>
      <button class="btn primary">${t("提交勘查")}</button></form>`;
  return html + "</section>";
}

function signoffBlock(order) {
  if (!order.arrived_at) return "";
  return `<form class="signoff"><h3>${t("客户签字")}</h3>
    <input name="signer_name" placeholder="${esc(t("签字人"))}">
    <canvas width="600" height="240" class="pad"></canvas>
    <div class="row"><button type="button" class="btn" data-clear>${t("重写")}</button>
    <label><input type="checkbox" name="customer_absent"> ${t("客户不在场（拍照代替）")}</label></div>
    <input type="file" name="absent_photo" accept="image/*" capture="environment" hidden>
    <button class="btn primary">${t("提交签字")}</button></form>`;
}

// Per part, what the crew still holds for the order and the station's stock (the newest
// move's figures are the current ones).
function heldSummary(moves) {
  const last = new Map(moves.map((m) => [m.part, m]));
  return [...last.values()]
    .map((m) => `<div class="held" data-held="${esc(m.part)}">${esc(m.part_name)}：${t("持有")} ${esc(m.held)} · ${t("本站库存")} ${esc(m.station_stock)}</div>`)
    .join("");
}

function partsBlock(parts, moves) {
  if (!parts) return "";
  return `<form class="parts-form"><h3>${t("备件")}</h3>
    <select name="part">${parts.results
      .map((p) => `<option value="${esc(p.code)}">${esc(p.name)}（${t("本站")} ${esc(p.my_station)}）</option>`)
      .join("")}</select>
    <input name="quantity" type="number" min="1" value="1">
    <div class="row"><button class="btn" data-move="request">${t("领用")}</button>
    <button class="btn" data-move="use">${t("消耗")}</button></div>
    <ul class="moves">${(moves || [])
      .map((m) => `<li>${esc(m.kind_display)} ${esc(m.part_name)} × ${esc(m.quantity)}</li>`)
      .join("")}</ul>${heldSummary(moves || [])}</form>`;
}

function historyBlock(h) {
  if (!h) return "";
  const dev = (d, label) => (d ? `<div>${label}：${esc(d.name || d.code)}（${esc(d.kind)}）</div>` : "");
  const list = (orders) =>
    orders.map((o) => `<li>${esc(o.created_at.slice(0, 10))} ${esc(o.title)} · ${esc(o.status_display)}${o.cause ? ` · ${esc(o.cause)}` : ""}${o.findings ? `<br><small>${esc(o.findings)}</small>` : ""}</li>`).join("");
  return `<section class="history"><h3>${t("设备历史")}</h3>${dev(h.device, t("设备"))}${dev(h.transformer, t("配变"))}
    ${h.open_orders.length ? `<h4>${t("未结缺陷")}</h4><ul>${list(h.open_orders)}</ul>` : ""}
    ${h.previous.length ? `<h4>${t("以往工单")}</h4><ul>${list(h.previous)}</ul>` : `<p class="muted">${t("无历史工单")}</p>`}</section>`;
}

export async function orderScreen(ctx, id) {
  const { screen, state } = ctx;
  const order = await findOrder(ctx, id);
  if (!order) {
    screen.innerHTML = `<p class="muted">${t("工单不存在或已转派。")}</p>`;
    return;
  }
  const [history, parts, moves] = await Promise.all([
    get(`/orders/${id}/history`).catch(() => null),
    get("/parts").catch(() => null),
    get(`/orders/${id}/parts`).catch(() => null),
  ]);
  const pending = (await outbox.entries()).filter((e) => e.orderId === id);
  const phones = history ? history.contact_phones : [];
  screen.innerHTML = `<article class="order" data-status="${esc(order.status)}">
    <h2>${esc(order.title)}</h2>
    <div class="meta"><span class="status">${esc(order.status_display)}</span> ${clock(order.arrived_at ? order.restore_due_at : order.arrive_due_at)}</div>
    <div class="addr">${esc(order.address)}</div>
    ${order.description ? `<div class="desc">${esc(order.description)}</div>` : ""}
    ${history && history.symptoms.length ? `<div>${t("现象")}：${esc(history.symptoms.join("、"))}</div>` : ""}
    ${phones.map((p) => `<a class="btn call" href="tel:${esc(p)}">${t("致电")} ${esc(p)}</a>`).join("")}
    ${pending.length ? `<div class="pending">${pending.map((e) => `<div class="${e.state}">${e.state === "waiting" ? t("等待发送") : t("冲突")}：${esc(e.label)}${e.error ? ` — ${esc(e.error)}` : ""}</div>`).join("")}</div>` : ""}
    ${navBlock(order)}
    ${stepsBlock(order, (state.me && state.me.causes) || [])}
    ${partsBlock(parts, moves)}
    ${signoffBlock(order)}
    ${historyBlock(history)}
  </article>`;
  const rerender = async () => {
    await ctx.reload().catch(() => null);
    if (location.hash === `#/order/${id}`) await orderScreen(ctx, id);
    document.documentElement.dataset.busy = "0";
  };

  bindSteps(ctx, order, rerender);
  bindParts(ctx, order, rerender);
  bindSignoff(ctx, order, rerender);
}

function bindSteps(ctx, order, rerender) {
  const { screen } = ctx;
  screen.querySelectorAll("[data-step]").forEach((b) =>
    b.addEventListener("click", async () => {
      const step = b.dataset.step;
      busy();
      screen.querySelectorAll("[data-step]").forEach((x) => (x.disabled = true));
      const extra = {};
      if (step === "arrive") Object.assign(extra, await position());
      if (step === "restore") {
        const device = screen.querySelector("[name=device]").value.trim();
        if (device) extra.device = device;
      }
      if (step === "complete") extra.note = screen.querySelector("[name=complete_note]").value.trim();
      await queueAction(ctx, order, step, extra, t(LABELS[step]));
      await rerender();
    })
  );
  const findings = screen.querySelector("form.findings");
  if (!findings) return;
  findings.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy();
    findings.querySelector("button").disabled = true;
    const parts = [["action", "findings"], ["at", new Date().toISOString()], ["note", findings.note.value.trim()]];
    if (findings.cause.value) parts.push(["cause", findings.cause.value]);
    for (const file of findings.photos.files) parts.push(["photos", await compress(file)]);
    await outbox.enqueue({ method: "POST", path: `/orders/${order.id}/actions`, parts, label: `${t("现场勘查")} · ${order.title}`, orderId: order.id });
    await rerender();
  });
}

function bindParts(ctx, order, rerender) {
  const form = ctx.screen.querySelector("form.parts-form");
  if (!form) return;
  form.addEventListener("submit", (ev) => ev.preventDefault());
  form.querySelectorAll("[data-move]").forEach((b) =>
    b.addEventListener("click", async (ev) => {
      ev.preventDefault();
      busy();
      const json = { action: b.dataset.move, part: form.part.value, quantity: Number(form.quantity.value) };
      const label = `${b.textContent} ${form.part.selectedOptions[0].textContent} × ${json.quantity}`;
      await outbox.enqueue({ method: "POST", path: `/orders/${order.id}/parts`, json, label, orderId: order.id });
      await rerender();
    })
  );
}

function bindSignoff(ctx, order, rerender) {
  const form = ctx.screen.querySelector("form.signoff");
  if (!form) return;
  const pad = signaturePad(form.querySelector("canvas"));
  form.querySelector("[data-clear]").addEventListener("click", () => pad.clear());
  form.customer_absent.addEventListener("change", () => (form.absent_photo.hidden = !form.customer_absent.checked));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const absent = form.customer_absent.checked;
    let image;
    if (absent) {
      if (!form.absent_photo.files.length) return ctx.flash(t("请拍摄现场照片。"), "error");
      image = await compress(form.absent_photo.files[0]);
    } else {
      if (pad.empty()) return ctx.flash(t("请客户在框内签字。"), "error");
      if (!form.signer_name.value.trim()) return ctx.flash(t("请填写签字人。"), "error");
      image = { blob: await pad.png(), name: "signature.png" };
    }
    busy();
    const parts = [["image", image], ["customer_absent", absent ? "true" : "false"], ["signer_name", form.signer_name.value.trim()], ["at", new Date().toISOString()]];
    const done = await outbox.enqueue({ method: "POST", path: `/orders/${order.id}/signoff`, parts, label: `${t("客户签字")} · ${order.title}`, orderId: order.id });
    if (done.some((r) => r.ok && r.entry.path.endsWith("/signoff"))) ctx.flash(t("签字已提交"), "ok");
    await rerender();
  });
}
