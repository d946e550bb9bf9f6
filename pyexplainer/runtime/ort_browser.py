"""Inference in the browser: onnxruntime-web through the page's one JS module, web/bridge.mjs.

Tensors cross the boundary as whole typed arrays (one copy each way, never element by element).
Unlike onnxruntime in CPython the call is asynchronous: the page awaits `BrowserRunner.run`
between `core.generation.checked_ids` and `Trace.from_outputs`.
"""

from __future__ import annotations

import dataclasses

import js  # Pyodide only
import numpy as np
from pyodide.ffi import to_js


@dataclasses.dataclass
class BrowserRunner:
    bridge: object  # the web/bridge.mjs module
    handle: object  # what bridge.createSession returned
    backend: str  # "webgpu" or "wasm": what really runs
    threads: int
    note: str  # why not WebGPU, when it is not

    @classmethod
    async def create(cls, bridge, model, *, prefer_webgpu: bool = True):
        """model: the ONNX file as a JS Uint8Array (the page streams it there, see app.py)."""
        handle = await bridge.createSession(model, prefer_webgpu)
        return cls(bridge, handle, str(handle.backend), int(handle.threads), str(handle.note))

    async def run(
        self, input_ids: np.ndarray, past_keys: np.ndarray, past_values: np.ndarray
    ) -> dict[str, np.ndarray]:
        ids = js.BigInt64Array.new(input_ids.size)
        ids.assign(np.ascontiguousarray(input_ids, dtype=np.int64))
        keys, values = (_float32_array(a) for a in (past_keys, past_values))
        dims = to_js([int(n) for n in past_keys.shape])
        results = await self.bridge.run(self.handle, ids, keys, values, dims)
        outputs = {}
        for name in js.Object.keys(results):
            tensor = getattr(results, name)
            array = np.empty([int(n) for n in tensor.dims], dtype=np.float32)
            tensor.data.assign_to(array)
            outputs[str(name)] = array
        return outputs


def _float32_array(a: np.ndarray):
    out = js.Float32Array.new(a.size)
    if a.size:
        out.assign(np.ascontiguousarray(a, dtype=np.float32))
    return out
