// The crew API as the app calls it: session cookie + CSRF header, the contract's error body.
const root = document.getElementById("app");
export const API = root.dataset.api;

export const t = (text) => (window.gettext ? window.gettext(text) : text);
// "%s" placeholders filled in order (the catalogue's interpolate, or the same by hand).
export const fmt = (text, values) => {
  if (window.interpolate) return window.interpolate(t(text), values);
  let i = 0;
  return t(text).replace(/%s/g, () => String(values[i++]));
};

function csrf() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.error && body.error.code) || "";
    this.fields = (body && body.error && body.error.fields) || {};
  }
}

// Throws a TypeError when the network is down (the outbox keeps the action then).
export async function request(method, path, { json, form, key } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrf();
  if (key) headers["Idempotency-Key"] = key;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(API + path, { method, headers, body, credentials: "same-origin" });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (response.status === 401 || (data && data.error && data.error.code === "not_authenticated")) {
    location.href = `${root.dataset.login}?next=${encodeURIComponent(root.dataset.scope)}`;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return {
    data,
    status: response.status,
    replayed: response.headers.get("Idempotent-Replayed") === "true",
  };
}

export const get = (path) => request("GET", path).then((r) => r.data);

export function esc(value) {
  return String(value == null ? "" : value).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
  );
}
