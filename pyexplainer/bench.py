"""The browser benchmark: python -m pyexplainer bench --site DIR [--out-json FILE] [...]

Serves a built site on 127.0.0.1, drives it in headless Chromium (Debian's, through Playwright)
on WebAssembly and on WebGPU, and prints one JSON object: bytes of the first visit (runtime, app,
model), cold and warm start to the first prediction, the explained forward pass at T = 16 and 64,
a cached generation step against a full recompute, the numpy decomposition relative to inference,
peak JS heap and peak process memory, and on WebAssembly the redraw after each interaction
(settings, block, head, stage tabs) and all views of a new 32-token prompt, each beside its
target. The same figures follow for a GPT-2-small-sized model (random weights, int8), exported
and built here unless skipped.

Times come from the page itself (the `data-timings` and `data-redraw` of the status element, and
performance.now() when the status first reads `ready`), and for interactions also from here, as
wall time around the browser call; bytes from the local server, which counts what it sends;
memory from /proc. CPython only: the site does not ship this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pyexplainer.config import ModelConfig
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.manifest import MODEL_FILE, ModelFileError, load_tokenizer, tokenizer_files
from pyexplainer.model_dir import read_checked, read_manifest
from pyexplainer.runtime.weights import folds_weights
from pyexplainer.serve import SiteHandler, make_server, url_of

ROOT = Path(__file__).resolve().parent.parent
MAKE_SITE = ROOT / "build" / "make_site.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BACKEND_FLAGS = {
    "wasm": ["--disable-gpu"],
    "webgpu": ["--enable-unsafe-webgpu", "--enable-features=Vulkan"],
}
BENCH_FLAGS = ["--enable-precise-memory-info"]  # performance.memory unrounded
READY_OR_ERROR = """() => {
  const s = document.querySelector('[data-testid=status]');
  if (s && s.classList.contains('error')) return {error: s.textContent};
  if (s && s.dataset.actions && s.dataset.state === 'ready') return {at: performance.now()};
  return false;
}"""
ACTION_FINISHED = "n => document.querySelector('[data-testid=status]').dataset.actions !== n"
REDRAW_FINISHED = """n => {
  const s = document.querySelector('[data-testid=status]');
  return (s.dataset.redraws || '0') !== n || s.classList.contains('error');
}"""
STAGE_TABS = "[data-testid=stage-tabs] button[data-kind]"
HEAD_ROLES_READY = "[data-testid=head-roles]:not([data-state=computing])"  # induction scores in
# Resolves when every finite CSS animation has ended: a redrawn panel unfolds (it moves), and
# Playwright waits for a moving target to stand still before it clicks.
ANIMATIONS_ENDED = """() => Promise.all(
  document.getAnimations()
    .filter(a => a.effect.getComputedTiming().endTime !== Infinity)
    .map(a => a.finished.catch(() => null))
).then(() => true)"""
# Peak of performance.memory.usedJSHeapSize, sampled every 50 ms on the page's main thread.
JS_HEAP_SAMPLER = """(() => {
  let peak = 0;
  const sample = () => (peak = Math.max(peak, performance.memory.usedJSHeapSize));
  setInterval(sample, 50);
  window.pyexplainerBenchPeakHeap = sample;
})();"""
GPU_ADAPTER = """async () => {
  const adapter = navigator.gpu && (await navigator.gpu.requestAdapter());
  return adapter ? `${adapter.info.vendor} ${adapter.info.architecture}`.trim() : null;
}"""
LOAD_TIMEOUT_MS = 600_000
ACTION_TIMEOUT_MS = 300_000
REDRAW_TIMEOUT_MS = 60_000  # a redraw that never reports is a Python error on the page
BUILD_TIMEOUT_S = 1_800

GPT2_SMALL = ModelConfig(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257)
GPT2_SMALL_NAME = "gpt2-small-random"
PROMPT_LENGTHS = (16, 64, 65)  # T = 65: the full recompute a cached step after T = 64 replaces
INTERACTION_PROMPT_LENGTH = 32
MIN_INTERACTION_REPEATS = 5
INTERACTION_BACKENDS = {"wasm"}  # no redraw runs the model: elsewhere the same Python, slower
TEMPERATURES = ("0.7", "1.3")  # typed in turn, so every input changes the value

MB, GB = 10**6, 10**9
SITE_MODEL_TARGETS = {
    "first_visit_bytes": 45 * MB,
    "cold_start_ms": 8_000,
    "warm_start_ms": 2_500,
    "peak_renderer_bytes": 600 * MB,
    "decompose_over_inference_T64": 0.5,
    "cached_step_over_recompute": 0.25,
    "interaction_ms": 100,
    "all_views_after_run_ms": 1_500,
}
GPT2_SMALL_TARGETS = {
    "first_visit_bytes": 100 * MB,
    "model_file_bytes": 88 * MB,
    "cold_start_ms": 6_000,
    "warm_start_ms": 3_000,
    "explained_forward_T64_ms": 330,
    "cached_step_over_recompute": 0.2,
    "interaction_ms": 100,
    "logit_lens_T64_ms": 500,
    "peak_renderer_bytes": 1_200 * MB,
    "peak_js_heap_bytes": 300 * MB,
}
GPT2_SMALL_QUANTIZATIONS = ("int4", "int8")  # each shipped one, as its own site
WASM_ONLY_TARGETS = {
    "explained_forward_T64_ms",
    "interaction_ms",
    "all_views_after_run_ms",
    "logit_lens_T64_ms",
}
# A device the size of a school Chromebook or a phone, where GPT-2 small's weights stay quantized
SMALL_DEVICE_GB = 4
SMALL_DEVICE = "wasm_4gb_device"  # the report's key
SMALL_DEVICE_SCRIPT = (
    f"Object.defineProperty(Navigator.prototype, 'deviceMemory', {{get: () => {SMALL_DEVICE_GB}}})"
)

MEASURED = {
    "bytes": "bytes the local server sent (status line, headers, body as encoded on the wire, "
    "gzip for text and WebAssembly) while a fresh browser context loaded the page to its first "
    "prediction; runtime = the site's third-party folders (pyodide/, pyscript/, ort/), model = "
    "models/, app = everything else",
    "cold_start_ms": "navigation in a fresh context (empty HTTP cache, no service worker) until "
    "the status reads 'ready' after the page's automatic first run (performance.now())",
    "warm_start_ms": "the same, for a second navigation in the same context (service worker "
    "and HTTP cache)",
    "actions": "the page's data-timings of one click: inference_ms = onnxruntime-web "
    "session.run with tensor transfer, decompose_ms = numpy attention decomposition of every "
    "layer, total_ms = the whole action with rendering; forward_T64 = run a 64-token prompt, "
    "cached_step_after_T64 = generate one token after it (key/value cache), recompute_T65 = run "
    "the 65-token prompt from scratch",
    "explained_forward_T64_ms": "total_ms of forward_T64",
    "logit_lens_T64": "opening the logit lens tab after forward_T64: inference_ms = the model "
    "once more over the 64 tokens with the lens on all (L+1) x 64 rows (ln_f, the tied output "
    "layer, softmax and top 5 in the graph), in spans of positions each run after the cache of "
    "those before it (core.lens.lens_spans: at most LENS_CALL_BYTES per (rows, V) array), all "
    "calls together; lens_view_ms = the page's grid view model, total_ms = the whole action with "
    "rendering",
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
    "(polled every animation frame); temperature = typing a new value "
    "with the attention stage open, layer_switch_in_attention = picking another block there, "
    "head_switch = clicking another head's button under its heatmap, open_stage = clicking each "
    "stage tab in turn; all_views_after_run_ms = total_ms of running the prompt (tokens, "
    "predictions, overview and the open stage) + page_ms of opening every other stage tab once",
    "running_on": "the backend, as the page's model line names it",
    "weights": "what the model line says of the weights: kept quantized, or folded into float32 "
    "at load (pyexplainer/runtime/weights.py decides by navigator.deviceMemory, which headless "
    "Chromium gives as 8)",
    SMALL_DEVICE: "the same on WebAssembly with navigator.deviceMemory reported as "
    f"{SMALL_DEVICE_GB} (GB), measured where that changes the page's choice: the weights stay "
    "quantized instead of being folded at load",
    "values": "medians over the repeats (runs lists each)",
}


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# --- figures -------------------------------------------------------------------------------------


def figure(value: float, target: float | None = None) -> dict:
    """{"value": v}, with "target" and "met" (value <= target) when there is a target."""
    if target is None:
        return {"value": value}
    return {"value": value, "target": target, "met": value <= target}


def sampled(runs: list[float], target: float | None = None) -> dict:
    """The median of `runs` as a figure, with the runs themselves."""
    return {**figure(round(statistics.median(runs), 1), target), "runs": runs}


def ratio(numerator: float, denominator: float) -> float:
    """To three significant digits: a small ratio stays readable and never rounds to 0."""
    return float(f"{numerator / denominator:.3g}")


def byte_group(path: str, runtime_folders: set[str]) -> str:
    """'model', 'runtime' or 'app' for a path relative to the site (no leading slash)."""
    if path.startswith("models/"):
        return "model"
    return "runtime" if path.split("/", 1)[0] in runtime_folders else "app"


def bytes_by_group(sent: dict[str, int], runtime_folders: set[str], target=None) -> dict:
    groups = {"runtime": 0, "app": 0, "model": 0}
    for path, n in sent.items():
        groups[byte_group(path, runtime_folders)] += n
    return {**groups, "total": figure(sum(groups.values()), target)}


def action_summary(timings: list[dict]) -> dict:
    """Each timing every one of the page's data-timings has, as a median over the actions."""
    shared = [key for key in timings[0] if all(key in t for t in timings)]
    return {key: sampled([round(t[key], 1) for t in timings]) for key in shared}


def latency(redraws: list[dict], target: float | None) -> dict:
    """page_ms and wall_ms of some redraws, each as a median figure."""
    return {key: sampled([r[key] for r in redraws], target) for key in ("page_ms", "wall_ms")}


def interaction_report(samples: Interactions, targets: dict) -> dict:
    target = targets.get("interaction_ms")
    runs = [v["run_total_ms"] for v in samples.all_views]
    others = [v["other_stages_ms"] for v in samples.all_views]
    return {
        "prompt_tokens": INTERACTION_PROMPT_LENGTH,
        "repeats": len(samples.all_views),
        "temperature": latency(samples.temperature, target),
        "layer_switch_in_attention": latency(samples.layer, target),
        "head_switch": latency(samples.head, target),
        "open_stage": {kind: latency(r, target) for kind, r in samples.open_stage.items()},
        "all_views_after_run_ms": {
            **sampled(
                [round(r + o, 1) for r, o in zip(runs, others, strict=True)],
                targets.get("all_views_after_run_ms"),
            ),
            "run_total_ms": sampled(runs),
            "other_stages_ms": sampled(others),
        },
    }


def backend_targets(targets: dict, backend: str) -> dict:
    if backend == "wasm":
        return targets
    return {k: v for k, v in targets.items() if k not in WASM_ONLY_TARGETS}


def prompt_of_length(tokenizer: Tokenizer, n: int) -> str:
    """A prompt of exactly n tokens ('word word ...'), checked with the model's tokenizer."""
    text = "word" + " word" * (n - 1)
    found = len(tokenizer.encode(text))
    if found != n:
        raise BenchError(f"the prompt meant to be {n} tokens long is {found} tokens")
    return text


# --- the site and its server ---------------------------------------------------------------------


def default_model_dir(site: Path) -> Path:
    try:
        index = json.loads((site / "models" / "index.json").read_text(encoding="utf-8"))
        entry = next(m for m in index["models"] if m["name"] == index["default"])
    except (OSError, ValueError, KeyError, StopIteration) as e:
        raise BenchError(f"{site} is not a built site (models/index.json: {e!r})") from e
    return site / entry["path"]


def site_tokenizer(model_dir: Path) -> Tokenizer:
    manifest = read_manifest(model_dir)
    files = {n: read_checked(model_dir, manifest, n) for n in tokenizer_files(manifest)}
    return load_tokenizer(manifest, files)


def runtime_folders(site: Path) -> set[str]:
    """The site's third-party folders, as build-info.json names them."""
    try:
        info = json.loads((site / "build-info.json").read_text(encoding="utf-8"))
        return {entry["folder"] for entry in info["third_party"].values()}
    except (OSError, ValueError, KeyError) as e:
        raise BenchError(f"{site}/build-info.json is missing or unreadable ({e!r})") from e


class Traffic:
    """Bytes sent per path, added up by the server's threads."""

    def __init__(self):
        self._sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, path: str, n: int) -> None:
        with self._lock:
            self._sent[path] += n

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._sent)

    def since(self, snapshot: Counter[str]) -> dict[str, int]:
        return dict(self.snapshot() - snapshot)


class _CountingWriter:
    def __init__(self, raw):
        self.raw, self.written = raw, 0

    def write(self, data) -> int:
        self.written += len(data)
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


class CountingHandler(SiteHandler):
    """The site's own handler, adding the bytes of each response to server.traffic."""

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile)
        self.path = ""

    def handle_one_request(self) -> None:
        before = self.wfile.written
        super().handle_one_request()
        if self.wfile.written > before:
            path = unquote(urlsplit(self.path).path).lstrip("/")
            self.server.traffic.add(path, self.wfile.written - before)


def start_server(site: Path):
    """A counting server of the site on 127.0.0.1 (any free port), running in a thread."""
    server = make_server(site, host="127.0.0.1", port=0, handler=CountingHandler)
    server.traffic = Traffic()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- process memory ------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Parent pid -> its child pids, for every process now."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # after "pid (name) state"
            children[parent].append(int(entry.name))
    return children


def descendants(root: int) -> set[int]:
    children, found, todo = _children(), set(), [root]
    while todo:
        new = children.get(todo.pop(), [])
        found.update(new)
        todo.extend(new)
    return found


def chromium_process_type(cmdline: str) -> str | None:
    """'browser', 'renderer', 'gpu-process', ... for a /proc/PID/cmdline text, else None.

    Chromium's child processes rewrite their command line into one space-separated string.
    """
    args = cmdline.replace("\0", " ").split()
    if not args or Path(args[0]).name != "chromium":
        return None
    return next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")


def peak_resident_bytes(status_text: str) -> int:
    """VmHWM of a /proc/PID/status text, in bytes (0 when absent: a zombie)."""
    for line in status_text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class MemoryMonitor:
    """Peak resident memory of the Chromium processes under this one, read from /proc."""

    def __init__(self, interval_s: float = 0.5):
        self.interval_s = interval_s
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (process type, VmHWM)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemoryMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        """Read every process now (VmHWM only grows, so a last read before a close suffices)."""
        for pid in descendants(os.getpid()):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                kind = chromium_process_type(cmdline)
                if kind:
                    peak = peak_resident_bytes(Path(f"/proc/{pid}/status").read_text())
                    self.peaks[pid] = (kind, max(peak, self.peaks.get(pid, ("", 0))[1]))
            except OSError:
                continue  # gone meanwhile

    def peak_by_type(self) -> dict[str, int]:
        peaks: dict[str, int] = {}
        for kind, peak in self.peaks.values():
            peaks[kind] = max(peak, peaks.get(kind, 0))
        return dict(sorted(peaks.items()))


# --- one browser on the page ---------------------------------------------------------------------


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def visit(page, url: str) -> float:
    """Navigate to the site; ms from navigation start until the first prediction is shown."""
    page.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    state = page.wait_for_function(READY_OR_ERROR, timeout=LOAD_TIMEOUT_MS).json_value()
    if "error" in state:
        raise BenchError(f"the page failed to load: {state['error']}")
    return round(float(state["at"]), 1)


def act(page, testid: str) -> dict:
    """Click a button, wait until the page has finished, return that action's timings (ms)."""
    return act_on(page, f"[data-testid={testid}]")


def act_on(page, selector: str) -> dict:
    """act() for anything that starts an action: a button, or the logit lens' stage tab."""
    status = page.locator("[data-testid=status]")
    before = status.get_attribute("data-actions") or "0"
    page.click(selector)
    page.wait_for_function(ACTION_FINISHED, arg=before, timeout=ACTION_TIMEOUT_MS)
    if "error" in (status.get_attribute("class") or ""):
        raise BenchError(f"{selector}: the page says {status.text_content()!r}")
    return json.loads(status.get_attribute("data-timings"))


def run_prompt(page, text: str) -> dict:
    page.fill("[data-testid=prompt-input]", text)
    return act(page, "run-button")


def redraw_after(page, what: str, interact) -> dict[str, float]:
    """Call interact() (a Playwright call on the page) and wait for the redraw it causes, which
    the page must report as `what`; its page_ms and wall_ms (see MEASURED)."""
    status = page.locator("[data-testid=status]")
    before = status.get_attribute("data-redraws") or "0"
    page.evaluate(ANIMATIONS_ENDED)
    started = time.perf_counter()
    interact()
    page.wait_for_function(REDRAW_FINISHED, arg=before, timeout=REDRAW_TIMEOUT_MS)
    wall_ms = 1000 * (time.perf_counter() - started)
    if "error" in (status.get_attribute("class") or ""):
        raise BenchError(f"{what}: the page says {status.text_content()!r}")
    redraw = json.loads(status.get_attribute("data-redraw"))
    if redraw["what"] != what:
        raise BenchError(f"expected a {what!r} redraw, the page reported {redraw['what']!r}")
    parts = {k: round(v, 1) for k, v in redraw.items() if k.endswith("_ms")}  # e.g. head_roles
    return {**parts, "page_ms": round(redraw["ms"], 1), "wall_ms": round(wall_ms, 1)}


def open_tab(page, kind: str) -> dict[str, float]:
    tab = f"{STAGE_TABS}[data-kind={kind}]"
    return redraw_after(page, "open-stage", partial(page.click, tab))


def all_views_after_run(page, prompt: str, kinds: list[str]) -> dict[str, float]:
    """Run the prompt, then open every stage tab but the one the run drew."""
    run = run_prompt(page, prompt)
    shown = page.get_attribute(f"{STAGE_TABS}[aria-pressed=true]", "data-kind")
    others = [open_tab(page, kind)["page_ms"] for kind in kinds if kind != shown]
    return {"run_total_ms": round(run["total_ms"], 1), "other_stages_ms": round(sum(others), 1)}


@dataclasses.dataclass
class Interactions:
    """Samples of redraws ({"page_ms", "wall_ms"}) and of all views after a run."""

    all_views: list[dict] = dataclasses.field(default_factory=list)
    temperature: list[dict] = dataclasses.field(default_factory=list)
    layer: list[dict] = dataclasses.field(default_factory=list)
    head: list[dict] = dataclasses.field(default_factory=list)
    open_stage: dict[str, list[dict]] = dataclasses.field(default_factory=dict)


def repeated_interactions(page, prompt: str, config: ModelConfig, repeat: int) -> Interactions:
    """Each interaction `repeat` times on `prompt`; every block or head picked differs from the
    one before (the attention stage opens at block 0 after the output or residual tab, head 0)."""
    kinds = page.eval_on_selector_all(STAGE_TABS, "tabs => tabs.map(t => t.dataset.kind)")
    kinds = [kind for kind in kinds if kind not in EXPERIMENT_STAGES]
    samples = Interactions(open_stage={kind: [] for kind in kinds})
    for _ in range(repeat):
        samples.all_views.append(all_views_after_run(page, prompt, kinds))
    open_tab(page, "attention")
    for i in range(1, repeat + 1):
        layer = str(i % config.n_layer)
        picked = partial(page.select_option, "[data-testid=layer-select]", layer)
        samples.layer.append(redraw_after(page, "selection", picked))
    for i in range(1, repeat + 1):
        head = f"[data-action=select-head][data-head='{i % config.n_head}']"
        samples.head.append(redraw_after(page, "select-head", partial(page.click, head)))
    for i in range(repeat):
        value = TEMPERATURES[i % len(TEMPERATURES)]
        typed = partial(page.fill, "[data-testid=temperature]", value)
        samples.temperature.append(redraw_after(page, "settings", typed))
    for _ in range(repeat):
        for kind in kinds:
            samples.open_stage[kind].append(open_tab(page, kind))
    return samples


EXPERIMENT_STAGES = ("lens", "whatif")  # the lens runs the model on opening (an action),
# the what-if on its button: neither is a redraw


def repeated_actions(page, prompts: dict[int, str], repeat: int) -> dict[str, list[dict]]:
    timings = defaultdict(list)
    for _ in range(repeat):
        timings["forward_T16"].append(run_prompt(page, prompts[16]))
        timings["forward_T64"].append(run_prompt(page, prompts[64]))
        timings["logit_lens_T64"].append(act_on(page, f"{STAGE_TABS}[data-kind=lens]"))
        roles = open_tab(page, "heads")
        page.wait_for_selector(HEAD_ROLES_READY)  # the first opening runs the induction pass
        timings["head_roles_T64"].append({k: roles[k] for k in ("head_roles_ms", "page_ms")})
        open_tab(page, "embedding")  # a run with the lens open would run the lens again
        timings["cached_step_after_T64"].append(act(page, "generate-button"))
        timings["recompute_T65"].append(run_prompt(page, prompts[65]))
    return dict(timings)


def running_on(page) -> tuple[str, str]:
    """What the page says runs the model ('WebGPU' or 'WebAssembly, N thread(s) ...'), and what
    it says of the weights (kept quantized, or unpacked to float32 at load)."""
    said = page.text_content("[data-testid=model-info]").rsplit("running on ", 1)[-1]
    backend, separator, weights = said.partition("; weights ")
    return backend, (separator + weights).removeprefix("; ")


def peak_js_heap(page) -> int:
    return int(page.evaluate("window.pyexplainerBenchPeakHeap()"))


@dataclasses.dataclass(frozen=True)
class ServedSite:
    url: str
    traffic: Traffic
    runtime_folders: set[str]
    prompts: dict[int, str]  # tokens -> a prompt of that many tokens
    config: ModelConfig


@dataclasses.dataclass(frozen=True)
class Settings:
    repeat: int
    backends: tuple[str, ...]
    chromium: Path
    gpt2_small_quantizations: tuple[str, ...] = GPT2_SMALL_QUANTIZATIONS


class Visits:
    """Cold and warm starts, each pair in a fresh context, and the bytes they took."""

    def __init__(self):
        self.cold_ms: list[float] = []
        self.warm_ms: list[float] = []
        self.first_visit_bytes: dict[str, int] = {}
        self.warm_visit_bytes: dict[str, int] = {}
        self.peak_js_heap = 0
        self.running_on = ""
        self.weights = ""

    def cold_then_warm(self, page, site: ServedSite) -> None:
        before = site.traffic.snapshot()
        self.cold_ms.append(visit(page, site.url))
        self.first_visit_bytes = self.first_visit_bytes or site.traffic.since(before)
        if not self.running_on:
            self.running_on, self.weights = running_on(page)
        self.peak_js_heap = max(self.peak_js_heap, peak_js_heap(page))
        before = site.traffic.snapshot()
        self.warm_ms.append(visit(page, site.url))
        self.warm_visit_bytes = self.warm_visit_bytes or site.traffic.since(before)
        self.peak_js_heap = max(self.peak_js_heap, peak_js_heap(page))


def device_runs(backend: str, parameters: int) -> list[tuple[str, str]]:
    """(report key, init script) of each run on `backend`: as Chromium is (it says 8 GB), and on
    WebAssembly as a 4 GB device too where that changes whether the weights fold at load."""
    runs = [(backend, "")]
    if backend == "wasm" and folds_weights(parameters, 8, "wasm") != folds_weights(
        parameters, SMALL_DEVICE_GB, "wasm"
    ):
        runs.append((SMALL_DEVICE, SMALL_DEVICE_SCRIPT))
    return runs


def measure_backend(
    playwright, backend: str, site: ServedSite, settings: Settings, targets, init_script: str = ""
):
    """Every figure of one model on one backend, from a browser launched for that backend
    (init_script, if any, runs in every page before its own scripts)."""
    browser = playwright.chromium.launch(
        executable_path=str(settings.chromium),
        args=[*CHROMIUM_FLAGS, *BACKEND_FLAGS[backend], *BENCH_FLAGS],
        timeout=60_000,
    )
    visits, adapter, interactions = Visits(), None, None
    try:
        with MemoryMonitor() as memory:
            for i in range(settings.repeat):
                log(f"{backend}: cold and warm start {i + 1} of {settings.repeat}")
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                try:
                    context.add_init_script(JS_HEAP_SAMPLER)
                    if init_script:
                        context.add_init_script(init_script)
                    page = context.new_page()
                    page.set_default_timeout(ACTION_TIMEOUT_MS)
                    visits.cold_then_warm(page, site)
                    if backend == "webgpu":
                        adapter = page.evaluate(GPU_ADAPTER)
                        if not visits.running_on.startswith("WebGPU"):
                            return unavailable(f"the page runs on {visits.running_on}", adapter)
                    if i == settings.repeat - 1:
                        log(f"{backend}: actions at T = {', '.join(map(str, PROMPT_LENGTHS))}")
                        actions = repeated_actions(page, site.prompts, settings.repeat)
                        if backend in INTERACTION_BACKENDS:
                            log(f"{backend}: interactions at T = {INTERACTION_PROMPT_LENGTH}")
                            interactions = repeated_interactions(
                                page,
                                site.prompts[INTERACTION_PROMPT_LENGTH],
                                site.config,
                                max(settings.repeat, MIN_INTERACTION_REPEATS),
                            )
                        visits.peak_js_heap = max(visits.peak_js_heap, peak_js_heap(page))
                finally:
                    memory.sample()  # the renderer ends with its context
                    context.close()
    finally:
        browser.close()
    report = backend_report(visits, actions, interactions, memory.peak_by_type(), site, targets)
    return {**report, "gpu_adapter": adapter} if adapter else report


def unavailable(reason: str, adapter: str | None) -> dict:
    return {"available": False, "reason": reason, "gpu_adapter": adapter}


# --- the report ----------------------------------------------------------------------------------


def backend_report(
    visits: Visits,
    timings: dict[str, list[dict]],
    interactions: Interactions | None,
    memory: dict,
    site: ServedSite,
    targets,
) -> dict:
    actions = {name: action_summary(t) for name, t in timings.items()}
    short, forward = actions["forward_T16"], actions["forward_T64"]
    step, recompute = actions["cached_step_after_T64"], actions["recompute_T65"]

    def over(a: dict, b: dict, key: str) -> float:
        return ratio(a[key]["value"], b[key]["value"])

    def decompose_over_inference(action: dict) -> float:
        return ratio(action["decompose_ms"]["value"], action["inference_ms"]["value"])

    return {
        "available": True,
        "running_on": visits.running_on,
        "weights": visits.weights,
        "first_visit_bytes": bytes_by_group(
            visits.first_visit_bytes, site.runtime_folders, targets.get("first_visit_bytes")
        ),
        "warm_visit_bytes": sum(visits.warm_visit_bytes.values()),
        "cold_start_ms": sampled(visits.cold_ms, targets.get("cold_start_ms")),
        "warm_start_ms": sampled(visits.warm_ms, targets.get("warm_start_ms")),
        **actions,
        "explained_forward_T64_ms": figure(
            forward["total_ms"]["value"], targets.get("explained_forward_T64_ms")
        ),
        "decompose_over_inference_T16": figure(decompose_over_inference(short)),
        "decompose_over_inference_T64": figure(
            decompose_over_inference(forward), targets.get("decompose_over_inference_T64")
        ),
        "cached_step_over_recompute": {
            **figure(
                over(step, recompute, "inference_ms"), targets.get("cached_step_over_recompute")
            ),
            "total_ms": over(step, recompute, "total_ms"),
        },
        "logit_lens_T64_ms": figure(
            actions["logit_lens_T64"]["total_ms"]["value"], targets.get("logit_lens_T64_ms")
        ),
        "peak_js_heap_bytes": figure(visits.peak_js_heap, targets.get("peak_js_heap_bytes")),
        "peak_process_bytes": {
            kind: figure(peak, targets.get("peak_renderer_bytes") if kind == "renderer" else None)
            for kind, peak in memory.items()
        },
        "interaction": (
            interaction_report(interactions, targets)
            if interactions is not None
            else {"skipped": "no redraw runs the model; measured on WebAssembly only"}
        ),
    }


def model_report(site_dir: Path, settings: Settings, targets: dict) -> dict:
    """Every figure of the site's default model, on each backend asked for."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    model_dir = default_model_dir(site_dir)
    manifest = read_manifest(model_dir)
    if manifest.config.n_positions < max(PROMPT_LENGTHS):
        raise BenchError(
            f"{manifest.name} has a context of {manifest.config.n_positions} tokens; "
            f"the benchmark needs {max(PROMPT_LENGTHS)}"
        )
    tokenizer = site_tokenizer(model_dir)
    model_bytes = manifest.files[MODEL_FILE]["bytes"]
    report = {
        "name": manifest.name,
        "config": manifest.config.to_dict(),
        "parameters": manifest.raw.get("parameters"),
        "quantization": manifest.raw["quantization"],
        "fidelity": {k: v for k, v in manifest.raw["fidelity"].items() if k != "text"},
        "model_file_bytes": figure(model_bytes, targets.get("model_file_bytes")),
        **{backend: {"skipped": True} for backend in BACKEND_FLAGS},
    }
    server = start_server(site_dir)
    site = ServedSite(
        url_of(server),
        server.traffic,
        runtime_folders(site_dir),
        {n: prompt_of_length(tokenizer, n) for n in (*PROMPT_LENGTHS, INTERACTION_PROMPT_LENGTH)},
        manifest.config,
    )
    try:
        with sync_playwright() as playwright:
            for backend in settings.backends:
                for key, init_script in device_runs(backend, report["parameters"] or 0):
                    log(f"{manifest.name} on {key}")
                    try:
                        report[key] = measure_backend(
                            playwright,
                            backend,
                            site,
                            settings,
                            backend_targets(targets, backend),
                            init_script,
                        )
                    except (BenchError, PlaywrightError) as e:
                        report[key] = {"error": str(e).splitlines()[0]}
    finally:
        server.shutdown()
        server.server_close()
    return report


def gpt2_small_site(work_dir: Path, quantize: str) -> Path:
    """A site with a GPT-2-small-sized model of random weights, quantized as asked (its
    fidelity recorded, not gated: random weights); the export is kept."""
    name = f"{GPT2_SMALL_NAME}-{quantize}"
    export_dir = work_dir / name
    try:
        read_manifest(export_dir)
    except ModelFileError:
        try:  # the exporter is part of the source checkout, not of the installed package
            from export.bench import write_random_checkpoint
            from export.export import export_model
        except ModuleNotFoundError as e:
            raise BenchError(
                f"exporting the GPT-2-small-sized model needs the repository's export/ ({e}); "
                "run from the repository root or pass --skip-gpt2-small"
            ) from e
        with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
            checkpoint = Path(tmp) / "checkpoint"
            log(f"exporting a GPT-2-small-sized random model to {export_dir} (minutes)")
            write_random_checkpoint(checkpoint, GPT2_SMALL)
            export_model(str(checkpoint), export_dir, quantize=quantize, name=name, gate=False)
    site = work_dir / f"{name}-site"
    log(f"building {site}")
    done = subprocess.run(
        [sys.executable, str(MAKE_SITE), "--out", str(site), "--model", str(export_dir)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise BenchError(f"building {site} failed: {done.stderr.strip()}")
    return site


def run_bench(
    site: Path, settings: Settings, *, gpt2_small: bool = True, work_dir: Path | None = None
) -> dict:
    started = time.perf_counter()
    version = subprocess.run(
        [str(settings.chromium), "--version"], capture_output=True, text=True, timeout=60
    )
    report = {
        "chromium": version.stdout.strip(),
        "cpu_cores": os.cpu_count(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "repeats": settings.repeat,
        "measured": MEASURED,
        "site_model": model_report(site, settings, SITE_MODEL_TARGETS),
        "gpt2_small": {"skipped": True},
    }
    if gpt2_small:
        work_dir.mkdir(parents=True, exist_ok=True)
        report["gpt2_small"] = {
            quantize: model_report(
                gpt2_small_site(work_dir, quantize), settings, GPT2_SMALL_TARGETS
            )
            for quantize in settings.gpt2_small_quantizations
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def failures(report: dict) -> list[str]:
    """Where the benchmark could not measure (not: where a target was missed)."""
    models = {"site_model": report["site_model"]}
    if "skipped" not in report["gpt2_small"]:
        models |= {f"gpt2_small {q}": r for q, r in report["gpt2_small"].items()}
    return [
        f"{model} on {backend}: {section['error']}"
        for model, sections in models.items()
        for backend, section in sections.items()
        if isinstance(section, dict) and "error" in section
    ]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", required=True, type=Path, help="a folder make_site.py built")
    p.add_argument("--out-json", type=Path, help="also write the JSON to this file")
    p.add_argument("--repeat", type=int, default=3, help="runs per median (default 3)")
    p.add_argument(
        "--skip-gpt2-small", action="store_true", help="only the site's own model (quick)"
    )
    p.add_argument("--skip-webgpu", action="store_true", help="only WebAssembly")
    p.add_argument(
        "--gpt2-small-quantize",
        default=",".join(GPT2_SMALL_QUANTIZATIONS),
        help="the GPT-2-small-sized model's quantizations, comma-separated (default %(default)s)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "pyexplainer-bench",
        help="keeps the GPT-2-small-sized export between runs (default: %(default)s)",
    )
    p.add_argument("--chromium", type=Path, default=CHROMIUM, help="default: %(default)s")


def command(args: argparse.Namespace) -> int:
    """python -m pyexplainer bench: print the report; 1 if anything could not be measured."""
    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 1
    if not args.chromium.exists():
        print(f"error: no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 1
    quantizations = tuple(args.gpt2_small_quantize.split(","))
    unknown = sorted(set(quantizations) - set(GPT2_SMALL_QUANTIZATIONS))
    if unknown:
        print(
            f"error: --gpt2-small-quantize {','.join(unknown)}: the site ships "
            f"{', '.join(GPT2_SMALL_QUANTIZATIONS)}",
            file=sys.stderr,
        )
        return 1
    backends = ("wasm",) if args.skip_webgpu else tuple(BACKEND_FLAGS)
    try:
        report = run_bench(
            args.site,
            Settings(args.repeat, backends, args.chromium, quantizations),
            gpt2_small=not args.skip_gpt2_small,
            work_dir=args.work_dir,
        )
    except (BenchError, ModelFileError, subprocess.TimeoutExpired) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    text = json.dumps(report, indent=2)
    if args.out_json:
        args.out_json.write_text(text + "\n", encoding="utf-8")
    print(text)
    problems = failures(report)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0
