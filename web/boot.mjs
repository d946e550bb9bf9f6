// What Python cannot do before Python exists: tell a browser without WebAssembly so, register
// the service worker (cross-origin isolation where the host sends no headers, and offline use),
// then start PyScript, which boots Pyodide and runs main.py.
const status = () => document.querySelector('[data-testid="status"]');

function fail(message) {
  document.addEventListener("DOMContentLoaded", () => {
    status().textContent = message;
    status().classList.add("error");
  });
  if (document.readyState !== "loading") status().textContent = message;
}

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || location.protocol === "file:") return;
  try {
    await navigator.serviceWorker.register("./sw.js");
    // a worker that fails to activate must not keep the page waiting
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 5000));
    await Promise.race([navigator.serviceWorker.ready, timeout]);
    // Under the worker, responses carry COOP/COEP: one reload makes the page isolated.
    if (!self.crossOriginIsolated && !sessionStorage.getItem("pyexplainer-reloaded")) {
      sessionStorage.setItem("pyexplainer-reloaded", "1");
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
  await registerServiceWorker();
  await import("./pyscript/core.js");
}
