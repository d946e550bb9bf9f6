"""The page: events -> core -> views -> DOM. Runs in Pyodide on the page's main thread.

Python lives on the main thread because every view writes the DOM, and DOM calls from a worker
are each a synchronous round trip; the heavy part, inference, runs inside onnxruntime-web (its
WebAssembly threads, or the GPU), so the page stays responsive. Tokenizing, the numpy attention
decomposition and sampling take milliseconds.

One module per concern, the state in one place:
- session.py: `Page`, everything the page knows (the model, the text, the trace, the view).
- start.py: what happens when the page opens (the link, the first model, the first run).
- loading.py: opening a model: its files checked as they arrive, the session, the model line.
- events.py: where each click, key and change goes.
- queue.py: one action at a time, in the order asked, each failure said on the status line.
- actions.py: what runs the model: a run, a generation step, the lens, the what-if, the check.
- generating.py: "Generate N tokens", one token at a time, and its Stop.
- render.py: the tokens, the prediction bars, the overview, the notes under them.
- detail.py: the open stage (embeddings ... what if?) and its pickers.
- status.py: the status line, and the redraw timings the benchmark reads.
- links.py: the address bar's link to what is on screen, and a link's state restored.
- language.py: the language switch.
- guided_tour.py: the tour's cards and keys.
"""
