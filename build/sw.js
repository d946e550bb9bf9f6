// The site's service worker; build/make_site.py writes it to DIR/sw.js with BUILD_ID filled in
// (unless web/ has its own sw.js). Two jobs, for hosts that send no custom headers (GitHub Pages)
// and for classrooms without network:
// 1. Cross-origin isolation: every response it hands the page carries COOP/COEP/CORP, so
//    SharedArrayBuffer (onnxruntime-web threads) works after the page has reloaded once under it.
// 2. Offline: the shell and every same-origin file the page fetched are kept in a cache named
//    after the build, so the next visit works with the server gone. A new build is a new sw.js,
//    hence a new cache; the old one is deleted when the new worker activates.
const BUILD_ID = "__BUILD_ID__";
const CACHE = `pyexplainer-${BUILD_ID}`;
const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

// The page's shell, fetched before this worker controls the page: stored at install, so that the
// next visit opens with no network at all (everything else is stored as the page fetches it).
const SHELL = ["./", "./index.html", "./boot.mjs", "./style.css", "./pyscript/core.js",
  "./pyscript/core.css", "./manifest.webmanifest", "./icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      await (await caches.open(CACHE)).addAll(SHELL);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("pyexplainer-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function isolated(response) {
  if (response.type === "opaque" || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

async function cacheFirst(event) {
  const request = event.request;
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
  if (cached) return isolated(cached);
  const response = await fetch(request);
  if (response.status === 200 && response.type === "basic") {
    // Cache in the background: the page reads the body as it arrives (its progress bar), and a
    // full quota only costs the offline copy, never this download.
    event.waitUntil(cache.put(request, response.clone()).catch(() => {}));
  }
  return isolated(response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.headers.has("range")) return; // partial responses cannot be cached
  event.respondWith(cacheFirst(event));
});
