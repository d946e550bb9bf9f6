"""Pure numpy: runs unchanged in CPython and in Pyodide. No I/O, no onnxruntime, no DOM."""
