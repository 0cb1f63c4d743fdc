// The outbox: every action is queued in IndexedDB with its Idempotency-Key and the time it
// was taken, then sent strictly in order. A network failure stops the run (the rest wait);
// a refusal (409, 422, 400...) is kept as a conflict for the crew member to see.
import { ApiError, request } from "./api.js";

const DB_NAME = "crew-outbox";
const STORE = "actions";
const listeners = new Set();
let running = null;

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () =>
      req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => {
      db.close();
      resolve(req ? req.result : undefined);
    };
    tx.onerror = () => reject(tx.error);
  });
}

export const entries = () => withStore("readonly", (s) => s.getAll());
export const drop = (seq) => withStore("readwrite", (s) => s.delete(seq)).then(() => emit({}));
const save = (entry) => withStore("readwrite", (s) => s.put(entry));

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function onChange(fn) {
  listeners.add(fn);
}

function emit(event) {
  listeners.forEach((fn) => fn(event));
}

// entry: {method, path, json | parts: [[name, string | {blob, name}]], label, orderId}
export async function enqueue(entry) {
  const at = new Date().toISOString();
  const item = { ...entry, key: newKey(), queuedAt: at, state: "waiting" };
  if (item.json && item.json.at === undefined && item.stamp !== false) item.json.at = at;
  item.seq = await withStore("readwrite", (s) => s.add(item));
  emit({ queued: item });
  return flush();
}

export function flush() {
  if (!running) running = run().finally(() => (running = null));
  return running;
}

function formOf(parts) {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (value && value.blob) form.append(name, value.blob, value.name);
    else form.append(name, value);
  }
  return form;
}

async function run() {
  const waiting = (await entries()).filter((e) => e.state === "waiting");
  const results = [];
  for (const entry of waiting) {
    try {
      const form = entry.parts ? formOf(entry.parts) : undefined;
      const answer = await request(entry.method, entry.path, { json: entry.json, form, key: entry.key });
      await withStore("readwrite", (s) => s.delete(entry.seq));
      results.push({ entry, ok: true, data: answer.data });
      emit({ sent: entry, data: answer.data });
    } catch (error) {
      const refused = error instanceof ApiError && error.status < 500 && error.status !== 429;
      if (!refused || error.code === "not_authenticated") {
        emit({ offline: true });
        return results; // keep the order: the rest waits for the next run
      }
      await save({ ...entry, state: "conflict", status: error.status, code: error.code, error: error.message });
      results.push({ entry, ok: false, error });
      emit({ conflict: entry, error });
    }
  }
  emit({ done: true });
  return results;
}
