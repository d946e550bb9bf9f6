"""The only code that knows where inference runs (onnxruntime in CPython, onnxruntime-web)."""
