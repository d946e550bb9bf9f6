// The bytes of the model the page will open, fetched from the moment the page loads, while
// Pyodide boots and the app imports (web/boot.mjs starts it). Python still decides everything:
// it takes a file's bytes here when it gets to that file (pyexplainer/ui/sources.py), checks
// them against the manifest, and creates the session itself. The guess is the model the link
// names (?model=NAME), else the site's default; a wrong guess costs only bytes, which Python
// drops (keepOnly), as it drops whatever it did not take once its model is open (drop).
// Nothing is kept once taken: the promise goes to Python and leaves this module.
// Each file goes through the service worker like any fetch of the page (offline copy, reports).

// url -> {done: Promise<{bytes, sha256} | undefined>, received, onProgress, stop}
const files = new Map();
let kept = null; // the one model folder (absolute URL) Python opens, once it said
let planned = Promise.resolve(); // until the files to fetch are known

function mark(name) {
  performance.mark(`pyexplainer:${name}`);
}

async function json(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** The hex sha256 of `bytes`, or "" where the browser has no WebCrypto (not a secure context):
 *  Python hashes them then. */
async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return "";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// One file's body into one Uint8Array of the manifest's size as it arrives (a reader that
// brings its own buffer: no second copy of the body). undefined for a body that is not what
// the manifest says: Python then fetches it itself and names what is wrong, as without this
// module. (undefined, not null: Python reads it as None.)
async function read(entry, url, size, signal) {
  const response = await fetch(url, { signal });
  if (!response.ok) return undefined;
  const reader = response.body.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(size);
  while (entry.received < size) {
    const part = await reader.read(new Uint8Array(buffer, entry.received, size - entry.received));
    if (part.done) return undefined;
    buffer = part.value.buffer;
    entry.received += part.value.byteLength;
    entry.onProgress?.(entry.received);
  }
  if (!(await reader.read(new Uint8Array(1))).done) return undefined; // longer than the manifest
  const bytes = new Uint8Array(buffer);
  return { bytes, sha256: await sha256(bytes) };
}

function start(url, size) {
  const controller = new AbortController();
  const entry = { received: 0, onProgress: null, stop: () => controller.abort() };
  // a failed prefetch is no error of the page's: Python fetches the file again and says
  entry.done = read(entry, url, size, controller.signal).catch(() => undefined);
  files.set(url, entry);
  return entry.done;
}

async function plan(search) {
  const index = await json("models/index.json");
  const asked = new URLSearchParams(search).getAll("model").at(-1)?.trim(); // the last, as Python
  const entry =
    index.models.find((m) => m.name === asked) ??
    index.models.find((m) => m.name === index.default);
  const base = new URL(entry.path, location.href).href;
  const manifest = await json(`${base}manifest.json`);
  if (kept !== null && kept !== base) return []; // Python already opens another model
  const names = entry.files.filter((name) => name !== "manifest.json" && manifest.files[name]);
  return names.map((name) => start(new URL(name, base).href, manifest.files[name].bytes));
}

/** Start fetching every file of the model the page will open (its index entry's files but the
 *  manifest). Not on a browser that asks to save data: there Python may first ask the student
 *  which model to download (pyexplainer/ui/models.py). */
export async function prefetchModel(search = location.search) {
  if (navigator.connection?.saveData) return;
  mark("prefetch-start");
  const started = plan(search);
  // what was planned, not the files: a promise of them here would keep every body alive
  planned = started.then(
    () => undefined,
    () => undefined,
  );
  try {
    await Promise.all(await started);
    mark("prefetch-done");
  } catch (error) {
    console.warn("the model's files were not prefetched:", error);
  }
}

/** The prefetched file at `url` (absolute), for Python: {bytes: Uint8Array, sha256: hex or ""}
 *  once it has arrived, or undefined (None) if it was never prefetched or its prefetch failed.
 *  onProgress(received) is called now and for every piece still to come. */
export async function take(url, onProgress) {
  await planned;
  const entry = files.get(url);
  if (!entry) return undefined;
  files.delete(url);
  entry.onProgress = onProgress;
  onProgress?.(entry.received);
  try {
    return await entry.done;
  } finally {
    entry.onProgress = null;
  }
}

/** Drop every file not under `base` (the model folder Python opens, absolute URL): a wrong
 *  guess is stopped and forgotten before Python fetches the right model. */
export function keepOnly(base) {
  kept = base;
  for (const [url, entry] of files) {
    if (!url.startsWith(base)) {
      entry.stop();
      files.delete(url);
    }
  }
}

/** Stop every prefetch Python has not taken and forget its bytes. */
export function drop() {
  keepOnly("\0"); // no URL starts so
}
