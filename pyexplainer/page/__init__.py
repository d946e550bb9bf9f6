"""The page: event -> the next state (views.state, one pure function per kind of event) -> the
panels whose inputs changed redrawn (render.py, detail.py). Runs in Pyodide on the page's main
thread.

Python lives on the main thread because every view writes the DOM, and DOM calls from a worker
are each a synchronous round trip; the heavy part, inference, runs inside onnxruntime-web (its
WebAssembly threads, or the GPU), so the page stays responsive. Tokenizing, the numpy attention
decomposition and sampling take milliseconds.

One module per concern, the state in one place, each importing only those listed before it
(no import circle: tests/test_imports.py):
- status.py: the status line, and the redraw timings the benchmark reads.
- queue.py: one action at a time, in the order asked, each failure said on the status line.
- controls.py: the sampling settings as typed, and the state's written back to their boxes.
- links.py: the address bar's link to what is on screen, and Copy link.
- actions.py: passes of the model: one run, timed; the lens and the induction scores.
- detail.py: the open stage (embeddings ... what if?), its registry of panels, and the pickers.
- render.py: the renderer, and the panels outside the open stage (tokens, bars, overview, notes).
- runs.py: what changes the text or its trace: a run, a generation step, the check, the what-if.
- restore.py: a link's state brought back.
- generating.py: "Generate N tokens", one token at a time, and its Stop.
- guided_tour.py: the tour's cards and keys.
- model_info.py: the model line and the model's example prompts.
- loading.py: opening a model: its files checked as they arrive, the session.
- language.py: the language switch.
- model_picker.py: the model picker: the first model, another one, a folder from disk.
- session.py: `Page`: its state, the model, the renderer and the trace memo; `show(state)`.
- events.py: where each click, key and change goes.
- start.py: what happens when the page opens (the link, the first model, the first run).
"""
