"""What the browser benchmark measures, and what each figure is held to: the targets of the
site's own model and of the GPT-2-small-sized one, and MEASURED, the report's own account of how
each figure was taken (it goes into the JSON)."""

from bench.interactions import DRAG_TEMPERATURES
from bench.page import GENERATED_TOKENS

PROMPT_LENGTHS = (16, 64, 65)  # T = 65: the full recompute a cached step after T = 64 replaces
INTERACTION_PROMPT_LENGTH = 32

MB, GB, MIB = 10**6, 10**9, 2**20
SITE_MODEL_TARGETS = {
    "first_visit_bytes": 45 * MB,
    "cold_start_ms": 8_000,
    "warm_start_ms": 2_500,
    "peak_renderer_bytes": 600 * MB,
    "decompose_over_inference_T64": 0.5,
    "cached_step_over_recompute": 0.25,
    "interaction_ms": 100,
    "slider_update_ms": 100,
    "all_views_after_run_ms": 1_500,
}
GPT2_SMALL_TARGETS = {
    "first_visit_bytes": 100 * MB,
    "model_file_bytes": 88 * MIB,  # the graphs and weights.bin
    "cold_start_ms": 6_000,
    "warm_start_ms": 3_000,
    "explained_forward_T64_ms": 330,
    "cached_step_ms": 80,
    "cached_step_over_recompute": 0.2,
    "generate_ms_per_token": 100,  # beyond the pause the page makes on purpose
    "interaction_ms": 100,
    "slider_update_ms": 100,  # issue 15: the bars follow the slider while it is dragged
    "logit_lens_T64_ms": 1_500,  # the whole grid
    "logit_lens_first_part_T64_ms": 300,  # its first columns on screen
    "attribution_T64_ms": 100,  # the stage open after a run: one pass of the last token
    "peak_renderer_bytes": 1_000 * MB,
    "peak_js_heap_bytes": 300 * MB,
}
WASM_ONLY_TARGETS = {
    "explained_forward_T64_ms",
    "interaction_ms",
    "slider_update_ms",
    "all_views_after_run_ms",
    "logit_lens_T64_ms",
    "logit_lens_first_part_T64_ms",
}

MEASURED = {
    "bytes": "bytes the local server sent (status line, headers, body as encoded on the wire, "
    "gzip for text and WebAssembly) while a fresh browser context loaded the page to its first "
    "prediction; runtime = the site's third-party folders (pyodide/, pyscript/, ort/), model = "
    "models/, app = everything else",
    "cold_start_ms": "navigation in a fresh context (empty HTTP cache, no service worker) until "
    "the status reads 'ready' after the page's automatic first run (performance.now())",
    "warm_start_ms": "the same, for a second navigation in the same context (service worker "
    "and HTTP cache)",
    "start_timeline": "cold_start_timeline and warm_start_timeline: each visit's start as the "
    "page saw it, in ms since the navigation of the page that showed the prediction (a cold "
    "visit's isolation reload comes after the page before it ran for reload_ms), medians over "
    "the visits: html_first_byte (navigation timing), first_script (web/boot.mjs runs), "
    "pyodide_start (PyScript starts), packages_requested/fetched (the numpy wheel's request "
    "and last byte), pyodide_ready (the first request of the app's files, which PyScript makes "
    "once Pyodide has booted with numpy), python_ready (web/main.py runs), app_imported, "
    "model_requested/downloaded (the model's files, first request to last byte, whoever asked: "
    "web/prefetch.mjs as the page loads), model_bytes_in (Python has them all, checked), "
    "session_start/made (onnxruntime-web's session), first_run_start (the status reads "
    "running), first_render (ready, the prediction drawn); phases_ms, the spans between them, "
    "and overlapping, each pair of phases that ran at the same time and for how long",
    "actions": "the page's data-timings of one click: inference_ms = onnxruntime-web "
    "session.run with tensor transfer, decompose_ms = numpy attention decomposition of every "
    "layer, total_ms = the whole action with rendering; forward_T64 = run a 64-token prompt, "
    "cached_step_after_T64 = generate one token after it (key/value cache), recompute_T65 = run "
    "the 65-token prompt from scratch",
    "explained_forward_T64_ms": "total_ms of forward_T64",
    "generate_N_after_T64": f"after running the 64-token prompt, one click of 'Generate N "
    f"tokens' with N = {GENERATED_TOKENS}: wall_ms = from the click (Playwright) until the "
    "status' data-actions counter moved and it reads ready with N more token chips, ms_per_token "
    "= wall_ms / N, page_total_ms = the page's total_ms of that action; both include the pause the "
    "page makes on purpose before appending each token, its bar marked meanwhile "
    "(pyexplainer/views/predictions.py SHOW_DRAWN_S); ms_per_token_beyond_pause = ms_per_token "
    "less that pause, held to the target (compare "
    "cached_step_after_T64's total_ms, one token without the pause)",
    "logit_lens_T64": "opening the logit lens tab after forward_T64: inference_ms = the model "
    "once more over the 64 tokens with the lens on all (L+1) x 64 rows (ln_f, the tied output "
    "layer, softmax and top 5 in the graph), in spans of positions each run after the cache of "
    "those before it (core.lens.lens_spans: at most LENS_CALL_BYTES per (rows, V) array), all "
    "calls together; lens_view_ms = the page's own time outside them (the grid's view models "
    "and the columns drawn as each span arrives), lens_first_part_ms = from the first call's "
    "start until the first span's columns are drawn, total_ms = the whole action with "
    "rendering",
    "attribution_T64": "opening the attribution tab after the logit lens at T = 64: "
    "inference_ms = the model once more over the last token after the cache of the others, "
    "returning the parts it wrote and the output layer's rows of the top predictions; total_ms "
    "= the whole action with the stage drawn",
    "head_roles_T64": "opening the head roles tab after forward_T64: head_roles_ms = scoring "
    "every head (previous token, first token, self, entropy on the prompt; induction scores "
    "kept from the pass over a repeated random sequence, which the first opening starts as an "
    "action and the benchmark waits for: the first sample has no induction scores yet), page_ms "
    "= the whole redraw",
    "decompose_over_inference_T64": "decompose_ms / inference_ms of forward_T64",
    "cached_step_over_recompute": "inference_ms of cached_step_after_T64 / inference_ms of "
    "recompute_T65 (total_ms: the same ratio of whole actions)",
    "peak_js_heap_bytes": "largest performance.memory.usedJSHeapSize seen by a 50 ms timer on "
    "the page (JS objects only: WebAssembly memories of Pyodide and onnxruntime are not in it)",
    "peak_process_bytes": "largest peak resident set (VmHWM in /proc) of any one Chromium "
    "process of each type (renderer = the page with Pyodide and onnxruntime-web's WebAssembly; "
    "gpu-process = WebGPU buffers) during the whole run on that backend",
    "interaction": "on WebAssembly only (a redraw runs the page's Python on the trace it "
    "holds, never the model), on a 32-token prompt, medians over max(repeats, 5) interactions: "
    "page_ms = the page's own data-redraw ms (the event handler: view models and DOM writes, not "
    "the style, layout and paint that follow), wall_ms = from the Playwright call (fill, "
    "select_option or click, with its actionability checks and round trips), made once the "
    "previous redraw's CSS animations have ended, until the status' data-redraws counter moved "
    "(polled every animation frame); temperature = typing a new value (into the number box "
    "beside the slider, where the page has one) "
    "with the attention stage open, layer_switch_in_attention = picking another block there, "
    "head_switch = clicking another head's button under its heatmap, open_stage = clicking each "
    "stage tab in turn; temperature_drag = the temperature slider dragged from 1.0 down to 0.3 "
    f"and up to 1.8, 0.1 a step ({len(DRAG_TEMPERATURES)} updates a drag, one drag per repeat), "
    "each update set in the page as a drag sets it (the range's value, then an input event) and "
    "its wall_ms measured there (performance.now(), no round trip to Playwright) until the "
    "animation frame after data-redraws moved, median and max over every update of every drag; "
    "all_views_after_run_ms = total_ms of running the prompt (tokens, "
    "predictions, overview and the open stage) + page_ms of opening every other stage tab once",
    "running_on": "the backend, as the page's model line names it",
    "wasm_memories": "every WebAssembly memory of the page and its size after the last visit's "
    "actions (it never shrinks: its peak): Pyodide's by its .wasm file, onnxruntime-web's the "
    "shared memory of its threads (an init script wraps WebAssembly.Memory and instantiate)",
    "cached_step_ms": "total_ms of cached_step_after_T64",
    "weights": "what the model line says of the weights (pyexplainer/runtime/weights.py: the same "
    "on every device, so a 4 GB device runs what this one runs)",
    "values": "medians over the repeats (runs lists each)",
}
