"""What each runtime runs of an export (the manifest's quantization.runs, export/export.py).

Weights stay quantized in memory in the form each backend's fast kernels take (export/graph.py):
on WebAssembly int8 codes times activations quantized row by row, in onnxruntime's SIMD int8
GEMM (MatMulInteger); on WebGPU MatMulNBits on an int4 export's 4-bit codes as they arrive.
No runtime keeps a float32 copy of a weight matrix, so one rule serves every device.
"""

from __future__ import annotations

RUNTIMES = {
    "cpython": "the WebAssembly graph (model.onnx) on onnxruntime's CPU kernels: the same "
    "integer arithmetic as the page on WebAssembly",
    "browser_webassembly": "model.onnx: int8 weight codes (an int4 export's made from "
    "weights.bin at load: 4-bit code * multiplier, exact) times the activations quantized to "
    "uint8 row by row (MatMulInteger, an exact integer sum, then the row's and the column's "
    "scales); no float32 copy of a weight matrix",
    "browser_webgpu": "model-webgpu.onnx: MatMulNBits on the 4-bit codes of weights.bin as they "
    "are, DequantizeLinear + MatMul on 8-bit codes, float32 activations; no float32 copy of a "
    "weight matrix is kept",
}
