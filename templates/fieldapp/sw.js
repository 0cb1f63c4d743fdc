// The crews' app service worker (scope /crew/): keeps the app shell for offline start.
// API calls are never cached: actions made offline wait in the page's outbox instead.
const CACHE = "crew-shell-{{ version }}";
const ASSETS = {{ assets|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("crew-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/media/")) return;
  if (request.mode === "navigate") {
    // The page: fresh when the network answers, the cached shell otherwise.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(ASSETS[0], copy));
          }
          return response;
        })
        .catch(() => caches.match(ASSETS[0], { ignoreVary: true }))
    );
    return;
  }
  // Scripts, styles, catalogues: the network's copy (kept for later), the cached one when
  // the network fails or takes too long (a weak signal must not hold the app up).
  event.respondWith(
    new Promise((resolve) => {
      let settled = false;
      const fallback = () =>
        caches.match(request, { ignoreVary: true }).then((hit) => {
          if (hit && !settled) {
            settled = true;
            resolve(hit);
          }
          return hit;
        });
      const timer = setTimeout(fallback, 4000);
      fetch(request)
        .then((response) => {
          clearTimeout(timer);
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          if (!settled) {
            settled = true;
            resolve(response);
          }
        })
        .catch(() => {
          clearTimeout(timer);
          fallback().then((hit) => {
            if (!hit && !settled) resolve(Response.error());
          });
        });
    })
  );
});
