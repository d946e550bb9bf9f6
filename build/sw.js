// The site's service worker; build/make_site.py writes it to DIR/sw.js with BUILD_ID filled in
// (unless web/ has its own sw.js). Two jobs, for hosts that send no custom headers (GitHub Pages)
// and for classrooms without network:
// 1. Cross-origin isolation: every response it hands the page carries COOP/COEP/CORP, so
//    SharedArrayBuffer (onnxruntime-web threads) works after the page has reloaded once under it.
// 2. Offline: the shell and every same-origin file the page fetched are kept in a cache named
//    after the build, so the next visit works with the server gone. Every tab hears how each
//    put ended (report()): a browser that refuses to store (quota, private window) is said on
//    the page, and a body that broke off is never kept.
// One build per tab, whatever is redeployed while it is open. A page is always asked of the
// server first (the cache answers only offline), so a new deploy is what the next visit opens;
// its build id (index.html's <meta name="pyexplainer-build">) says which build that tab runs,
// and every worker, of any build, keeps that in the shared record TABS (a worker is stopped when
// idle and forgets what it held in memory). A tab's files come from its build's cache; one not
// there comes from the server, and is the tab's only when it is its build's: a newer build's
// tab takes what the server has (this worker fills that build's cache, which the newer worker
// keeps), an older build's tab only a file whose sha256 its build-info.json gives (stored at
// install); for anything else that tab is told to reload (into the new build, whole), and never
// gets the file. A build's cache is deleted once no open tab runs it. Nothing is read from the
// browser's HTTP cache, which may hold files of an earlier deploy.
const BUILD_ID = "__BUILD_ID__";
const CACHE = cacheOf(BUILD_ID);
const BUILD_META = /<meta name="pyexplainer-build" content="([0-9a-f]+)">/;
const INFO = "build-info.json"; // sha256 and bytes of every file of the build (make_site.py)
const TABS = "pyexplainer-tabs"; // the cache of the record, shared by every build's worker
const TABS_KEY = "./tabs.json"; // {tabs: [[client id, build], ...], newer: [build, ...]}
let record = null; // a promise of {tabs: Map, newer: Set}, read once per worker start
const lately = new Map(); // tab -> when this worker recorded it: a page still loading is no client yet
const LATELY_MS = 60_000;

function cacheOf(build) {
  return `pyexplainer-${build}`;
}

function known() {
  record ??= (async () => {
    const saved = await (await caches.open(TABS)).match(TABS_KEY);
    const { tabs = [], newer = [] } = saved ? await saved.json() : {};
    return { tabs: new Map(tabs), newer: new Set(newer) };
  })().catch(() => ({ tabs: new Map(), newer: new Set() }));
  return record;
}

/** Record that tab `id` runs `build` (a newer deploy than this worker's when `isNewer`). */
async function remember(id, build, isNewer = false) {
  const { tabs, newer } = await known();
  if (tabs.get(id) === build && (!isNewer || newer.has(build))) return;
  tabs.set(id, build);
  lately.set(id, Date.now());
  if (isNewer) newer.add(build);
  await save();
}

async function save() {
  const { tabs, newer } = await known();
  const body = JSON.stringify({ tabs: [...tabs], newer: [...newer] });
  try {
    await (await caches.open(TABS)).put(TABS_KEY, new Response(body));
  } catch (error) {
    console.warn("the record of tabs was not stored:", error); // a full quota: memory only
  }
}

/** Forget closed tabs, and delete the cache of every build that no open tab runs. */
async function prune() {
  const { tabs, newer } = await known();
  const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ids = new Set(open.map((tab) => tab.id));
  for (const id of tabs.keys()) {
    if (!ids.has(id) && !(Date.now() - (lately.get(id) ?? 0) < LATELY_MS)) tabs.delete(id);
  }
  const running = new Set([BUILD_ID, ...tabs.values()]);
  for (const build of newer) if (!running.has(build)) newer.delete(build);
  await save();
  for (const name of await caches.keys()) {
    const build = name.slice("pyexplainer-".length);
    if (name.startsWith("pyexplainer-") && name !== TABS && !running.has(build) &&
        !newer.has(build)) {
      await caches.delete(name);
    }
  }
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
      const cache = await caches.open(CACHE);
      const urls = [...SHELL, `./${INFO}`];
      const fresh = await Promise.all(urls.map((url) => fetch(url, { cache: "reload" })));
      const failed = fresh.find((response) => !response.ok);
      if (failed) throw new Error(`${failed.url}: HTTP ${failed.status}`);
      // the server's files must be this worker's build (a deploy under way: install later)
      const info = await fresh.at(-1).clone().json();
      if (info.build !== BUILD_ID) throw new Error(`the server has build ${info.build} now`);
      await Promise.all(fresh.map((response, i) => cache.put(urls[i], isolated(response))));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      record = null; // what the older worker recorded until now
      await prune();
      await self.clients.claim();
    })(),
  );
});

// A tab says which build it runs (web/boot.mjs, when it starts and when a new worker takes it
// over); the answer is this worker's build: a tab of an older build then offers a reload.
self.addEventListener("message", (event) => {
  const build = event.data?.pyexplainerBuild;
  if (typeof build !== "string" || !event.source) return;
  event.source.postMessage({ pyexplainerWorkerBuild: BUILD_ID });
  event.waitUntil(remember(event.source.id, build));
});

// A response that already carries the isolation headers is handed on as it is: wrapping a body in
// a new Response pipes it through this worker's JavaScript, which made weights.bin take 5.7-7.8 s
// out of the cache on a warm revisit instead of 0.4-0.8 s (numpy's wheel 3.2 s, not 0.08 s).
// What is stored carries them (store() puts the wrapped copy), so the cache's answers never
// need wrapping; only a host that sends no such headers (GitHub Pages) has its downloads
// wrapped, once, as they arrive.
function isolated(response) {
  if (response.type === "opaque" || response.type === "opaqueredirect" || response.status === 0) {
    return response;
  }
  const carried = Object.entries(ISOLATION).every(([name, v]) => response.headers.get(name) === v);
  if (carried) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

// Past the browser's HTTP cache: "no-cache" revalidates a copy there, and a server whose only
// validator is Last-Modified (whole seconds; a deploy that keeps its files' times) answers 304
// for the new build's file, so the old build's body came back (a redeploy test's returning tab
// got build A's model.onnx beside build B's manifest).
function fromServer(request) {
  return fetch(request, { cache: "reload" });
}

function store(event, cacheName, request, response) {
  if (response.status === 200 && response.type === "basic") {
    // In the background: the page reads the body as it arrives (its progress bar), and a full
    // quota only costs the offline copy, never this download. A body that breaks off (short
    // of its Content-Length) makes the put fail: nothing half-downloaded is kept.
    const copy = response.clone();
    const sized = response.headers.has("Content-Length");
    event.waitUntil(
      caches
        .open(cacheName)
        .then(async (cache) => {
          await cache.put(request, isolated(copy));
          if (!sized) await keepIfWhole(cache, cacheName, request);
        })
        .then(() => "", (error) => `${error?.name ?? "Error"}: ${error?.message ?? error}`)
        .then((error) => report(request.url, error)),
    );
  }
}

// A body sent without Content-Length that ends early looks whole to the browser: its size is
// checked against its build's build-info.json, and the copy deleted when it differs (a
// NetworkError, as for a body that broke off: the download's failure, not the storage's).
async function keepIfWhole(cache, cacheName, request) {
  const built = await builtFile(cacheName.slice("pyexplainer-".length), request.url);
  const kept = await cache.match(request);
  const size = kept ? (await kept.blob()).size : 0;
  if (built && built.bytes === size) return;
  await cache.delete(request);
  const expected = built ? `${built.bytes} bytes` : "no size";
  throw new DOMException(`the body ended at ${size} bytes, build-info.json says ${expected}`,
    "NetworkError");
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
  event.waitUntil(prune()); // a tab closed since may have been the last of its build
  try {
    response = await fromServer(request);
  } catch (offline) {
    const cached = await (await caches.open(CACHE)).match(request, { ignoreSearch: true });
    if (cached) return isolated(cached);
    throw offline;
  }
  const build = response.ok ? (await response.clone().text()).match(BUILD_META)?.[1] : undefined;
  if (build && event.resultingClientId) {
    await remember(event.resultingClientId, build, build !== BUILD_ID);
  }
  store(event, cacheOf(build || BUILD_ID), request, response);
  return isolated(response);
}

/** The entry of build-info.json of `build` for `url` ({sha256, bytes}), or undefined when that
 *  build's cache or its build-info is gone, or it has no such file. */
async function builtFile(build, url) {
  if (!(await caches.has(cacheOf(build)))) return undefined;
  const info = await (await caches.open(cacheOf(build))).match(`./${INFO}`);
  if (!info) return undefined;
  const path = new URL(url).pathname.slice(new URL(self.registration.scope).pathname.length);
  return (await info.json()).files[path || "index.html"];
}

async function sha256(response) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await response.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Tell tab `id` to reload: it runs an older build, and the server no longer has its file. */
async function reloadInto(id) {
  (await self.clients.get(id))?.postMessage({ pyexplainerReload: BUILD_ID });
  return new Response("", { status: 503, statusText: "a newer version replaced this one" });
}

async function file(event) {
  const request = event.request;
  const { tabs, newer } = await known();
  // a tab's own requests; a worker's (onnxruntime's threads) count as this worker's build
  const build = tabs.get(event.clientId) ?? BUILD_ID;
  const name = cacheOf(build);
  if (build === BUILD_ID || (await caches.has(name))) {
    const cached = await (await caches.open(name)).match(request);
    if (cached) return isolated(cached);
  }
  const response = await fromServer(request);
  if (build !== BUILD_ID && !newer.has(build) && response.ok) {
    // an older build's tab: the server's file only if it is that build's, byte for byte
    const built = await builtFile(build, request.url);
    if (!built || built.sha256 !== (await sha256(response.clone()))) {
      return reloadInto(event.clientId);
    }
  }
  store(event, name, request, response);
  return isolated(response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.headers.has("range")) return; // partial responses cannot be cached
  event.respondWith(request.mode === "navigate" ? page(event) : file(event));
});
