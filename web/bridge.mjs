// The one JavaScript module between Python and onnxruntime-web. Python (pyexplainer/runtime/
// ort_browser.py) chooses the backend and hands it the graph and its weights as typed arrays,
// and gets typed arrays back; nothing here knows GPT-2. Only the bundle of the backend Python
// will choose is fetched, as the page loads (warm()); another only if that one fails.

const ORT_DIR = new URL("./ort/", import.meta.url).href;

// Whether WebGPU gives a device: {webgpu, webgpuError}. A device is asked for here, before
// onnxruntime-web is, which waits forever on an adapter that gives none; the error is the
// browser's own words.
async function webGPU() {
  if (!("gpu" in navigator)) return { webgpu: false, webgpuError: "" };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (adapter === null) return { webgpu: false, webgpuError: "" };
    (await adapter.requestDevice()).destroy();
    return { webgpu: true, webgpuError: "" };
  } catch (error) {
    return { webgpu: false, webgpuError: String(error?.message ?? error) };
  }
}

let offered = null; // capabilities(), asked once: first by warm(), as the page loads

/** What this browser offers: the page shows it and the runtime chooses by it. */
export function capabilities() {
  offered ??= webGPU().then((gpu) => ({
    webassembly: typeof WebAssembly === "object",
    threads: self.crossOriginIsolated === true && typeof SharedArrayBuffer === "function",
    cores: navigator.hardwareConcurrency || 1,
    ...gpu,
  }));
  return offered;
}

// onnxruntime-web's build for a backend, set up for this browser (imported once).
async function runtime(backend) {
  const caps = await capabilities();
  const bundle = backend === "webgpu" ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs";
  const ort = await import(ORT_DIR + bundle);
  ort.env.wasm.wasmPaths = ORT_DIR;
  ort.env.wasm.numThreads = caps.threads ? Math.min(4, caps.cores) : 1;
  return ort;
}

/** Get onnxruntime-web ready while Python boots (web/boot.mjs starts it): the build of the
 *  backend Python will choose (WebGPU where the browser gives a device), and on WebAssembly
 *  its runtime fetched, compiled and started, threads included. Its first session would do that;
 *  an empty model makes it happen now (onnxruntime-web starts the runtime before it reads the
 *  model, then refuses it). Python still creates every session (createSession). */
export async function warm() {
  try {
    const backend = (await capabilities()).webgpu ? "webgpu" : "wasm";
    const ort = await runtime(backend);
    if (backend === "wasm") {
      const options = { executionProviders: ["wasm"] };
      const empty = ort.InferenceSession.create(new Uint8Array(0), options);
      await empty.then((session) => session.release(), () => null);
    }
  } catch (error) {
    console.warn("onnxruntime-web was not warmed up:", error); // the session will say
  }
}

/** An inference session on `backend` ("webgpu" or "wasm", threads when the page is
 *  cross-origin isolated) for the graph's bytes (Uint8Array) and its external data: {file name:
 *  Uint8Array}, which onnxruntime-web copies into its own memory. Returns {session, ort,
 *  backend, threads}; throws what onnxruntime-web threw. */
export async function createSession(backend, graph, external) {
  const ort = await runtime(backend);
  const session = await ort.InferenceSession.create(graph, {
    executionProviders: [backend],
    // no kernel fusion: the same arithmetic as pyexplainer's CPython runtime
    graphOptimizationLevel: "basic",
    externalData: Object.entries(external).map(([path, data]) => ({ path, data })),
  });
  return { session, ort, backend, threads: ort.env.wasm.numThreads };
}

/** Run one pass. inputs: {name: {type: "int64" | "float32", data: BigInt64Array |
 *  Float32Array, dims: number[]}} for every model input (pyexplainer/core/trace.py).
 *  Returns {name: {type, data, dims}} for every model output (lens_ids are int64), or only for
 *  those named in `fetches` (an array of names): the others are never copied out of the
 *  WebAssembly memory. */
export async function run(handle, inputs, fetches) {
  const { ort, session } = handle;
  const feeds = {};
  for (const [name, { type, data, dims }] of Object.entries(inputs)) {
    feeds[name] = new ort.Tensor(type, data, dims);
  }
  const results = await (fetches ? session.run(feeds, fetches) : session.run(feeds));
  const out = {};
  for (const [name, tensor] of Object.entries(results)) {
    out[name] = { type: tensor.type, data: tensor.data, dims: Array.from(tensor.dims) };
  }
  return out;
}

/** Free a session the page no longer runs (its weights live in onnxruntime-web's memory until
 *  then). */
export async function release(handle) {
  await handle.session.release();
}
