"""Inference in the browser: onnxruntime-web through the page's one JS module, web/bridge.mjs.

The backend is chosen here: WebGPU when the browser has an adapter (the graph of its kernels,
weights.bin as it arrived), else WebAssembly (its graph, and for an int4 export the int8
weights made from weights.bin once, pyexplainer/weights_file.py). Tensors cross the boundary as
whole typed arrays (one copy each way, never element by element). Unlike onnxruntime in
CPython the call is asynchronous: the page awaits `BrowserRunner.run` between
`core.generation.model_feeds` and `Trace.from_outputs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import js  # Pyodide only
import numpy as np
from pyodide.ffi import JsException, to_js

from pyexplainer.core.trace import dtype_of
from pyexplainer.manifest import Manifest
from pyexplainer.weights_file import make_wasm_weights


@dataclasses.dataclass
class BrowserRunner:
    bridge: object  # the web/bridge.mjs module
    handle: object  # what bridge.createSession returned
    backend: str  # "webgpu" or "wasm": what really runs
    threads: int
    note: str  # why not WebGPU, when it is not: "", "no_webgpu" or "webgpu_failed" (ui.* keys)
    note_detail: str  # the browser's own words for why WebGPU failed

    @classmethod
    async def create(
        cls, bridge, manifest: Manifest, files: dict, *, webgpu: bool, webgpu_error: str = ""
    ):
        """A session for the model of `manifest`, its files_to_read (downloaded and checked) in
        `files` as JS Uint8Arrays by name; on WebGPU if `webgpu` (the browser has an adapter)
        and it works there, else on WebAssembly (webgpu_error: the browser's words for why
        its WebGPU gave no device, if it did not). Takes the files out of `files`: once
        onnxruntime-web has copied them, no second copy stays."""
        wire_name = manifest.weights["file"]
        wire = files.pop(wire_name)
        graphs = {backend: files.pop(name, None) for backend, name in manifest.graphs.items()}
        note, detail = ("webgpu_failed", webgpu_error) if webgpu_error else ("", "")
        if not webgpu and not webgpu_error:
            note = "no_webgpu"
        if webgpu:
            try:
                external = _files({wire_name: wire})
                handle = await bridge.createSession("webgpu", graphs["webgpu"], external)
                return cls(bridge, handle, "webgpu", int(handle.threads), "", "")
            except JsException as e:  # no kernel, no memory, a lost device: WebAssembly then
                note, detail = "webgpu_failed", str(e)
        if manifest.weights["wasm"]:
            external = {manifest.weights["wasm"]["file"]: wasm_weights_js(manifest.weights, wire)}
        else:
            external = {wire_name: wire}
        del wire
        handle = await bridge.createSession("wasm", graphs["wasm"], _files(external))
        return cls(bridge, handle, "wasm", int(handle.threads), note, detail)

    async def close(self) -> None:
        """Free the session: the model's memory inside onnxruntime-web."""
        await self.bridge.release(self.handle)

    async def run(
        self, feeds: dict[str, np.ndarray], fetch: Sequence[str] = ()
    ) -> dict[str, np.ndarray]:
        """The model's named inputs (int64 or float32 arrays) -> its named outputs: all of them,
        or only those named in `fetch` (the rest never cross into JS or Python)."""
        inputs = js.Object.new()
        for name, array in feeds.items():
            setattr(inputs, name, _js_tensor(array, dtype_of(name)))
        fetches = to_js(list(fetch)) if fetch else None
        results = await self.bridge.run(self.handle, inputs, fetches)
        outputs = {}
        for name in js.Object.keys(results):
            tensor = getattr(results, name)
            dtype = np.int64 if str(tensor.type) == "int64" else np.float32
            array = np.empty([int(n) for n in tensor.dims], dtype=dtype)
            if array.size:
                tensor.data.assign_to(array)
            outputs[str(name)] = array
        return outputs


def files_to_read(manifest: Manifest) -> list[str]:
    """The model files BrowserRunner.create takes: every backend's graph, then the weights. The
    WebGPU graph is read on every device (a graph holds no weight matrix: about 1% of the
    download), so that a model stored for offline use is stored whole."""
    return [*dict.fromkeys(manifest.graphs.values()), manifest.weights["file"]]


def wasm_weights_js(section: dict, wire):
    """The WebAssembly weights as one JS Uint8Array, made from weights.bin's (a JS Uint8Array):
    an int4 matrix at a time passes through Python (its codes, then its int8 codes and their
    column sums), every other tensor is copied inside JS."""
    out = js.Uint8Array.new(section["wasm"]["bytes"])

    def write(offset: int, array: np.ndarray) -> None:  # uint8 codes or int32 column sums
        out.subarray(offset, offset + array.nbytes).assign(array.view(np.uint8))

    def copy(source: int, size: int, offset: int) -> None:
        out.set(wire.subarray(source, source + size), offset)

    make_wasm_weights(
        section, lambda offset, size: wire.subarray(offset, offset + size).to_bytes(), write, copy
    )
    return out


def _files(arrays: dict) -> object:
    """{file name: JS Uint8Array} as a JS object, for bridge.createSession's external data."""
    return to_js(arrays, dict_converter=js.Object.fromEntries)


def _js_tensor(a: np.ndarray, dtype: str):
    """{type, data, dims} for web/bridge.mjs: the array copied once into a JS typed array of the
    input's element type ("int64" or "float32", as core.trace.dtype_of says)."""
    int64 = dtype == "int64"
    data = (js.BigInt64Array if int64 else js.Float32Array).new(a.size)
    if a.size:
        data.assign(np.ascontiguousarray(a, dtype=np.int64 if int64 else np.float32))
    return to_js(
        {"type": dtype, "data": data, "dims": list(a.shape)}, dict_converter=js.Object.fromEntries
    )
