// The site's service worker; build/make_site.py writes it to DIR/sw.js with BUILD_ID filled in
// (unless web/ has its own sw.js). Two jobs, for hosts that send no custom headers (GitHub Pages)
// and for classrooms without network:
// 1. Cross-origin isolation: every response it hands the page carries COOP/COEP/CORP, so
//    SharedArrayBuffer (onnxruntime-web threads) works after the page has reloaded once under it.
// 2. Offline: the shell and every same-origin file the page fetched are kept in a cache named
//    after the build, so the next visit works with the server gone. Every tab hears how each
//    put ended (report()): a browser that refuses to store (quota, private window) is said on
//    the page, and a body that broke off is never kept.
// Redeploys never mix two builds. A page is always asked of the server first (the cache answers
// only offline), so a new deploy is what the next visit opens; its build id (index.html's
// <meta name="pyexplainer-build">) tells every worker which build that tab runs, and each tab's
// files come from that build's cache or from the server, never from another build's cache. What
// this worker fetches for a newer build's tab goes into that build's cache, which the newer
// worker keeps when it activates; it deletes every other build's cache. Nothing is read from the
// browser's HTTP cache, which may hold files of an earlier deploy.
const BUILD_ID = "__BUILD_ID__";
const CACHE = cacheOf(BUILD_ID);
const BUILD_META = /<meta name="pyexplainer-build" content="([0-9a-f]+)">/;
const builds = new Map(); // tab (client id) -> the build it runs, when not this worker's
const deployed = new Set(); // builds the server sent a page of: a newer deploy, not an older tab

function cacheOf(build) {
  return `pyexplainer-${build}`;
}

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
      const fresh = SHELL.map((url) => new Request(url, { cache: "reload" }));
      await (await caches.open(CACHE)).addAll(fresh);
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

// A tab says which build it runs (web/boot.mjs, when it starts and when a new worker takes it
// over); the answer is this worker's build: a tab of an older build then offers a reload.
self.addEventListener("message", (event) => {
  const build = event.data?.pyexplainerBuild;
  if (typeof build !== "string" || !event.source) return;
  if (build === BUILD_ID) builds.delete(event.source.id);
  else builds.set(event.source.id, build);
  event.source.postMessage({ pyexplainerWorkerBuild: BUILD_ID });
});

function isolated(response) {
  if (response.type === "opaque" || response.type === "opaqueredirect" || response.status === 0) {
    return response;
  }
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

function fromServer(request) {
  return fetch(request, { cache: "no-cache" }); // revalidated: never an earlier deploy's copy
}

function store(event, cacheName, request, response) {
  if (response.status === 200 && response.type === "basic") {
    // In the background: the page reads the body as it arrives (its progress bar), and a full
    // quota only costs the offline copy, never this download. A body that breaks off (short
    // of its Content-Length) makes the put fail: nothing half-downloaded is kept.
    const copy = response.clone();
    event.waitUntil(
      caches
        .open(cacheName)
        .then((cache) => cache.put(request, copy))
        .then(() => "", (error) => `${error?.name ?? "Error"}: ${error?.message ?? error}`)
        .then((error) => report(request.url, error)),
    );
  }
}

// How each put ended goes to every tab of the site ({pyexplainerStored: {url, error}}, error ""
// once stored; web/boot.mjs keeps them for the page's Python, pyexplainer/ui/storage.py): a
// browser that refuses to store (a full quota, a private window) is said, not swallowed.
async function report(url, error) {
  for (const tab of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    tab.postMessage({ pyexplainerStored: { url, error } });
  }
}

async function page(event) {
  const request = event.request;
  let response;
  try {
    response = await fromServer(request);
  } catch (offline) {
    const cached = await (await caches.open(CACHE)).match(request, { ignoreSearch: true });
    if (cached) return isolated(cached);
    throw offline;
  }
  const build = response.ok ? (await response.clone().text()).match(BUILD_META)?.[1] : undefined;
  if (build && build !== BUILD_ID) deployed.add(build);
  if (build && event.resultingClientId) {
    if (build === BUILD_ID) builds.delete(event.resultingClientId);
    else builds.set(event.resultingClientId, build);
  }
  store(event, cacheOf(build || BUILD_ID), request, response);
  return isolated(response);
}

async function file(event) {
  const request = event.request;
  const build = builds.get(event.clientId) || BUILD_ID;
  const name = cacheOf(build);
  if (build === BUILD_ID || (await caches.has(name))) {
    const cached = await (await caches.open(name)).match(request);
    if (cached) return isolated(cached);
  }
  const response = await fromServer(request);
  // a tab of an older build whose cache is gone gets the server's file but keeps no copy (it
  // was offered a reload); the rest is kept in the cache of the build that asked
  if (build === BUILD_ID || deployed.has(build)) store(event, name, request, response);
  return isolated(response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.headers.has("range")) return; // partial responses cannot be cached
  event.respondWith(request.mode === "navigate" ? page(event) : file(event));
});
