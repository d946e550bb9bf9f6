"""Inference in CPython with onnxruntime (tests, CLI, benchmark, export checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OrtRunner:
    """A `RunModel` (see core.generation) backed by an onnxruntime InferenceSession."""

    def __init__(self, model: bytes | str | Path, *, threads: int | None = None):
        import onnxruntime as ort  # imported here: the package itself needs only numpy

        options = ort.SessionOptions()
        # Basic optimisations only (constant folding, no kernel fusion): at higher levels
        # onnxruntime fuses DequantizeLinear + MatMul into kernels of its own that round
        # differently, and onnxruntime-web does not, so the page and CPython would disagree.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        # Fold each weight's DequantizeLinear into a float32 constant once, at load: otherwise
        # every run dequantizes every weight, a cost that does not shrink with the number of
        # tokens and made a cached one-token step almost as slow as a full pass. The page
        # (web/bridge.mjs) sets the same, so both compute with the same weights.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        source = str(model) if isinstance(model, Path) else model
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds), strict=True))
