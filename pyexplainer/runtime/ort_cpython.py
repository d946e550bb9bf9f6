"""Inference in CPython with onnxruntime (tests, CLI, benchmark, export checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OrtRunner:
    """A `RunModel` (see core.generation) backed by an onnxruntime InferenceSession."""

    def __init__(
        self,
        model: bytes | Path,
        *,
        external: dict[str, bytes] | None = None,
        threads: int | None = None,
    ):
        """model: the ONNX graph; external: the bytes of each file its external data name
        (pyexplainer/weights_file.py), handed to onnxruntime from memory as the page hands
        them to onnxruntime-web."""
        import onnxruntime as ort  # imported here: the package itself needs only numpy

        options = ort.SessionOptions()
        # Basic optimisations only (constant folding, no kernel fusion), as on the page
        # (web/bridge.mjs): at higher levels onnxruntime fuses operators into kernels of its own
        # that round differently.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        if external:
            names = list(external)
            buffers = [np.frombuffer(external[name], dtype=np.uint8) for name in names]
            options.add_external_initializers_from_files_in_memory(
                names, buffers, [b.size for b in buffers]
            )
        data = model.read_bytes() if isinstance(model, Path) else model
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds), strict=True))
