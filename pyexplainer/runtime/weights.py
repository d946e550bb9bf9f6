"""Whether a quantized model's weights stay quantized while it runs: one graph, two ways.

The exported graph multiplies by DequantizeLinear(codes, scales) (export/graph.py). Run as it is,
each DequantizeLinear turns one matrix's codes into floats for the one product that needs them,
and no float32 copy of the model is kept: the memory of the codes, at the cost of unpacking
every matrix on every pass (onnxruntime-web has no WebAssembly kernel that multiplies by 4- or
8-bit codes directly; its MatMulNBits unpacks the whole matrix per call too, and was slower).
With onnxruntime's session option session.disable_quant_qdq, constant folding turns each
DequantizeLinear into its float32 matrix once, when the session is created: the speed of float
weights, and their memory. Both compute the same numbers (tests/test_quantize.py).

The page folds when the float32 weights fit comfortably in the device's memory, keeps them
quantized otherwise; CPython always folds.
"""

from __future__ import annotations

FOLD_OPTION = ("session.disable_quant_qdq", "1")
# The float32 weights may take this share of the device's memory (navigator.deviceMemory, GiB):
# GPT-2 small's 498 MB fold on an 8 GB laptop, stay quantized on a 4 GB Chromebook or phone.
FLOAT_WEIGHTS_SHARE = 1 / 16
UNKNOWN_DEVICE_MEMORY_GB = 4  # browsers that do not say (Firefox, Safari): as a small device

# What each runtime runs, for the manifest (export/export.py writes it there)
RUNTIMES = {
    "cpython": "every DequantizeLinear folded into its float32 matrix at load "
    "(session.disable_quant_qdq)",
    "browser_webassembly": "kept quantized (each DequantizeLinear unpacks one matrix for its "
    f"product) unless the float32 weights fit in 1/{round(1 / FLOAT_WEIGHTS_SHARE)} of "
    f"navigator.deviceMemory ({UNKNOWN_DEVICE_MEMORY_GB} GB when the browser does not say); "
    "then folded at load",
    "browser_webgpu": "folded at load (WebGPU has no int4 DequantizeLinear kernel)",
}


def folds_weights(parameters: int, device_memory_gb: float | None, backend: str) -> bool:
    """Whether the page turns the weights into float32 at load, on `backend` ("wasm" or
    "webgpu") of a device with `device_memory_gb` (None when the browser does not say)."""
    if backend == "webgpu":
        return True
    memory = (device_memory_gb or UNKNOWN_DEVICE_MEMORY_GB) * 2**30
    return 4 * parameters <= memory * FLOAT_WEIGHTS_SHARE
