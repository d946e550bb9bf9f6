"""Inference in the browser: onnxruntime-web through the page's one JS module, web/bridge.mjs.

Tensors cross the boundary as whole typed arrays (one copy each way, never element by element).
Unlike onnxruntime in CPython the call is asynchronous: the page awaits `BrowserRunner.run`
between `core.generation.model_feeds` and `Trace.from_outputs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import js  # Pyodide only
import numpy as np
from pyodide.ffi import to_js

from pyexplainer.core.trace import dtype_of
from pyexplainer.runtime.weights import folds_weights

BACKENDS = ("wasm", "webgpu")


@dataclasses.dataclass
class BrowserRunner:
    bridge: object  # the web/bridge.mjs module
    handle: object  # what bridge.createSession returned
    backend: str  # "webgpu" or "wasm": what really runs
    threads: int
    folded: bool  # the quantized weights turned into float32 at load (runtime/weights.py)
    note: str  # why not WebGPU, when it is not: "", "no_webgpu" or "webgpu_failed" (ui.* keys)
    note_detail: str  # the browser's own words for why WebGPU failed

    @classmethod
    async def create(cls, bridge, model, parameters: int, *, prefer_webgpu: bool = True):
        """model: the ONNX file as a JS Uint8Array (the page streams it there, see app.py), of a
        model with `parameters` weights."""
        memory = getattr(js.navigator, "deviceMemory", None)  # GiB; Chromium only
        memory = float(memory) if isinstance(memory, int | float) else None
        fold = {backend: folds_weights(parameters, memory, backend) for backend in BACKENDS}
        handle = await bridge.createSession(
            model, prefer_webgpu, to_js(fold, dict_converter=js.Object.fromEntries)
        )
        return cls(
            bridge,
            handle,
            str(handle.backend),
            int(handle.threads),
            bool(handle.folded),
            str(handle.note),
            str(handle.noteDetail),
        )

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
