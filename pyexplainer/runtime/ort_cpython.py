"""Inference in CPython with onnxruntime (tests, CLI, benchmark, export checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pyexplainer.runtime.weights import FOLD_OPTION


class OrtRunner:
    """A `RunModel` (see core.generation) backed by an onnxruntime InferenceSession."""

    def __init__(
        self, model: bytes | Path, *, threads: int | None = None, fold_weights: bool = True
    ):
        """fold_weights: turn each DequantizeLinear of the weights into its float32 matrix once
        at load (runtime/weights.py: the same numbers, at float speed); False unpacks them on
        every pass, as the page does on a small device."""
        import onnxruntime as ort  # imported here: the package itself needs only numpy

        options = ort.SessionOptions()
        # Basic optimisations only (constant folding, no kernel fusion), as on the page
        # (web/bridge.mjs): at higher levels onnxruntime fuses operators into kernels of its own
        # that round differently.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        if fold_weights:
            options.add_session_config_entry(*FOLD_OPTION)
        data = model.read_bytes() if isinstance(model, Path) else model
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds), strict=True))
