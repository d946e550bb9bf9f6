// What Python cannot do before Python exists: tell a browser without WebAssembly so, turn off
// JSPI for Pyodide, register the service worker (cross-origin isolation where the host sends no
// headers, and offline use), start what Python will need once it runs (the model's bytes,
// web/prefetch.mjs; onnxruntime-web, web/bridge.mjs), then start PyScript, which boots Pyodide
// and runs main.py. Each step is marked (performance.mark "pyexplainer:...") for the benchmark.
import { warm } from "./bridge.mjs";
import { prefetchModel } from "./prefetch.mjs";

performance.mark("pyexplainer:boot");
const status = () => document.querySelector('[data-testid="status"]');

function fail(message) {
  document.addEventListener("DOMContentLoaded", () => {
    status().textContent = message;
    status().classList.add("error");
  });
  if (document.readyState !== "loading") status().textContent = message;
}

// This page's build (make_site.py writes it into index.html): the service worker serves each
// tab its own build's files (build/sw.js), and a tab that a newer build's worker takes over
// shows the "new version" notice with a reload button. A file of this build that the server no
// longer has (a model not opened before the redeploy) cannot be had: the worker then says to
// reload, and the tab does, into the new build whole.
function followBuilds() {
  const build = document.querySelector('meta[name="pyexplainer-build"]')?.content;
  const worker = navigator.serviceWorker;
  let takenOver = false;
  const tell = () => worker.controller?.postMessage({ pyexplainerBuild: build });
  worker.addEventListener("message", (event) => {
    const theirs = event.data?.pyexplainerWorkerBuild;
    if (takenOver && theirs && theirs !== build) showNewVersion();
    if (event.data?.pyexplainerReload) location.reload();
  });
  worker.addEventListener("controllerchange", () => {
    takenOver = true;
    tell();
  });
  tell();
}

function showNewVersion() {
  const notice = document.querySelector('[data-testid="new-version"]');
  notice.querySelector("button").addEventListener("click", () => location.reload());
  notice.hidden = false;
}

// What the service worker stored, or could not (build/sw.js reports every put to every tab),
// kept from the start for the page's Python, which listens only once it runs
// (pyexplainer/ui/storage.py words it).
function keepStoreReports() {
  const reports = (globalThis.pyexplainerStoreReports = []);
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.pyexplainerStored) reports.push(event.data.pyexplainerStored);
  });
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || location.protocol === "file:") return;
  try {
    keepStoreReports();
    followBuilds();
    const registration = await navigator.serviceWorker.register("./sw.js");
    // A returning visit: look for a new deploy's worker now. register() alone looks for none
    // when the worker is known, and the browser's own check after a navigation waits while
    // the worker is busy serving this page's downloads (a redeploy test waited past a minute).
    if (navigator.serviceWorker.controller) registration.update().catch(() => {});
    // a worker that fails to activate must not keep the page waiting
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 5000));
    await Promise.race([navigator.serviceWorker.ready, timeout]);
    // Under the worker, responses carry COOP/COEP: one reload makes the page isolated. When
    // this page began is kept (performance.timeOrigin): the benchmark counts the reload in.
    if (!self.crossOriginIsolated && !sessionStorage.getItem("pyexplainer-reloaded")) {
      sessionStorage.setItem("pyexplainer-reloaded", String(performance.timeOrigin));
      location.reload();
      return new Promise(() => {}); // the reload replaces this page
    }
  } catch (error) {
    console.warn("service worker not available:", error);
  }
}

if (typeof WebAssembly !== "object") {
  fail("This browser cannot run WebAssembly, which the model and Python need. " +
       "Please open the page in a current Chrome, Edge, Firefox or Safari.");
} else {
  // Pyodide 0.28 with JavaScript Promise Integration (JSPI: stack switching, on by default since
  // Chrome 137) now and then crashes the tab, a segfault in the renderer's main thread (3 times in
  // one day of test runs here; pyodide#5702, #6106). The page needs no stack switching (its Python
  // awaits JS through asyncio, and onnxruntime-web's WebGPU build uses Asyncify): without these two
  // globals Pyodide keeps to its scheduler from before JSPI.
  delete WebAssembly.Suspending;
  delete WebAssembly.promising;
  await registerServiceWorker();
  prefetchModel();
  warm();
  performance.mark("pyexplainer:pyscript-start");
  await import("./pyscript/core.js");
}
