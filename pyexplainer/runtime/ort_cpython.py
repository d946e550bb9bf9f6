"""Inference in CPython with onnxruntime (tests, CLI, benchmark, export checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pyexplainer.runtime.float_weights import with_float_8bit_matmuls


class OrtRunner:
    """A `RunModel` (see core.generation) backed by an onnxruntime InferenceSession."""

    def __init__(
        self, model: bytes | Path, *, threads: int | None = None, float_weights: bool = True
    ):
        """float_weights: run each 8-bit MatMulNBits as a float MatMul on its weight dequantized
        once at load (runtime/float_weights.py: the same numbers, at float speed); False runs
        every quantized kernel as the page does."""
        import onnxruntime as ort  # imported here: the package itself needs only numpy

        options = ort.SessionOptions()
        # Basic optimisations only (constant folding, no kernel fusion), as on the page
        # (web/bridge.mjs): at higher levels onnxruntime fuses operators into kernels of its own
        # that round differently.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        data = model.read_bytes() if isinstance(model, Path) else model
        if float_weights:
            data = with_float_8bit_matmuls(data)
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds), strict=True))
