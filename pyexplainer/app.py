"""The page: events -> core -> views -> DOM. Runs in Pyodide on the page's main thread.

Python lives on the main thread because every view writes the DOM, and DOM calls from a worker
are each a synchronous round trip; the heavy part, inference, runs inside onnxruntime-web (its
WebAssembly threads, or the GPU), so the page stays responsive. Tokenizing, the numpy attention
decomposition and sampling take milliseconds.
"""

from __future__ import annotations

import hashlib
import json

import js  # Pyodide only
import numpy as np
from pyodide.ffi import create_proxy

from pyexplainer.core.generation import KVCache, cache_after, checked_ids
from pyexplainer.core.sampling import sample_next_token
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import Trace
from pyexplainer.manifest import (
    MODEL_FILE,
    TOKENIZER_FILES,
    ModelFileError,
    check_file,
    parse_manifest,
)
from pyexplainer.runtime.ort_browser import BrowserRunner
from pyexplainer.views.predictions import SamplingSettings, predictions
from pyexplainer.views.tokens import token_views

document = js.document
SHOWN_PREDICTIONS = 10


def element(testid: str):
    return document.querySelector(f'[data-testid="{testid}"]')


def set_status(text: str, *, error: bool = False) -> None:
    status = element("status")
    status.textContent = text
    status.classList.toggle("error", error)


def make(tag: str, text: str = "", **attrs):
    """A new element holding `text` as text (never parsed as HTML)."""
    node = document.createElement(tag)
    node.textContent = text
    for name, value in attrs.items():
        node.setAttribute(name.replace("_", "-"), str(value))
    return node


async def fetch_bytes(url: str, on_progress=None) -> bytes:
    """The whole body of url, reporting bytes received as they arrive."""
    try:
        response = await js.fetch(url)
    except Exception as e:  # a JS TypeError: offline, server gone, blocked
        raise ModelFileError(f"{url} could not be downloaded ({e})") from e
    if not response.ok:
        raise ModelFileError(f"{url} could not be downloaded (HTTP {response.status})")
    reader = response.body.getReader()
    chunks, received = [], 0
    while True:
        try:
            part = await reader.read()
        except Exception as e:
            raise ModelFileError(f"the download of {url} broke off ({e})") from e
        if part.done:
            break
        chunk = part.value.to_bytes()
        chunks.append(chunk)
        received += len(chunk)
        if on_progress:
            on_progress(received)
    return b"".join(chunks)


class Page:
    """The loaded model and the state of one session on the page."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.text = ""
        self.prompt_ids: list[int] = []
        self.generated_ids: list[int] = []
        self.trace: Trace | None = None
        self.rng = np.random.default_rng(0)
        self.timings: dict[str, float] = {}  # of the last action, shown on the status element
        self._handlers = []  # proxies kept alive for the page's lifetime

    # ------------------------------------------------------------------ loading

    async def load(self) -> None:
        set_status("loading")
        caps = await self.bridge.capabilities()
        index = json.loads(await fetch_bytes("models/index.json"))
        entry = next((m for m in index["models"] if m["name"] == index["default"]), None)
        if entry is None:
            raise ModelFileError(f"models/index.json lists no model {index['default']!r}")
        base = entry["path"]
        raw_manifest = await fetch_bytes(base + "manifest.json")
        if hashlib.sha256(raw_manifest).hexdigest() != entry["manifest_sha256"]:
            raise ModelFileError(
                f"{base}manifest.json is corrupt: its sha256 differs from models/index.json's"
            )
        self.manifest = parse_manifest(json.loads(raw_manifest))
        files = {name: await self.download(base, name) for name in (*TOKENIZER_FILES, MODEL_FILE)}
        self.tokenizer = Tokenizer.from_strings(
            files["vocab.json"].decode("utf-8"), files["merges.txt"].decode("utf-8")
        )
        set_status("loading: starting the model")
        self.runner = await BrowserRunner.create(self.bridge, files[MODEL_FILE])
        self.show_model_info(entry, caps)

    async def download(self, base: str, name: str) -> bytes:
        total = self.manifest.files[name]["bytes"]
        bar, label = element("load-progress"), element("load-label")
        bar.max = total

        def progress(received: int) -> None:
            bar.value = received
            label.textContent = f"{name}: {received / 1e6:.1f} of {total / 1e6:.1f} MB"

        data = await fetch_bytes(base + name, progress)
        check_file(self.manifest, name, data)  # size and sha256, named in the message
        return data

    def show_model_info(self, entry: dict, caps) -> None:
        c = self.manifest.config
        facts = [
            f"{entry['name']}: GPT-2, {c.n_layer} layers, {c.n_head} heads, d={c.n_embd}, "
            f"{entry['parameters'] / 1e6:.1f}M parameters, {self.manifest.quantization} "
            f"weights, context {c.n_positions} tokens"
        ]
        training = self.manifest.raw.get("training")
        if training:
            facts.append(
                f"held-out perplexity {training['held_out']['perplexity']:.0f} "
                f"(unigram baseline {training['unigram_baseline']['perplexity']:.0f})"
            )
        backend = (
            "WebGPU"
            if self.runner.backend == "webgpu"
            else f"WebAssembly, {self.runner.threads} thread(s)"
        )
        if self.runner.note:
            backend += f" ({self.runner.note})"
        if self.runner.backend == "wasm" and not caps.threads:
            backend += "; single-threaded: the page is not cross-origin isolated"
        facts.append(f"running on {backend}")
        element("model-info").textContent = "; ".join(facts)

    # ------------------------------------------------------------------ events

    def bind(self) -> None:
        for testid, event, handler in [
            ("run-button", "click", self.on_run),
            ("generate-button", "click", self.on_generate),
            ("temperature", "input", self.on_settings),
            ("top-k", "input", self.on_settings),
            ("top-p", "input", self.on_settings),
        ]:
            proxy = create_proxy(handler)
            self._handlers.append(proxy)
            element(testid).addEventListener(event, proxy)

    async def guarded(self, work) -> None:
        """Run one user action; any failure becomes the status message, nothing is lost."""
        set_status("running")
        for testid in ("run-button", "generate-button"):
            element(testid).disabled = True
        self.timings = {}
        started = js.performance.now()
        try:
            await work()
            self.timings["total_ms"] = js.performance.now() - started
            set_status("ready")
        except Exception as e:  # shown to the user, not swallowed
            set_status(str(e) or type(e).__name__, error=True)
            js.console.error(f"{type(e).__name__}: {e}")
        finally:
            for testid in ("run-button", "generate-button"):
                element(testid).disabled = False
            status = element("status")  # a counter of finished actions, for tests and tools
            status.dataset.timings = json.dumps(self.timings)  # milliseconds, for the benchmark
            finished = int(status.getAttribute("data-actions") or 0)  # None before the first
            status.setAttribute("data-actions", str(finished + 1))

    async def on_run(self, _event=None) -> None:
        await self.guarded(self.run_prompt)

    async def on_generate(self, _event=None) -> None:
        await self.guarded(self.generate_one)

    def on_settings(self, _event=None) -> None:
        if self.trace is None:  # nothing to redraw yet; keep whatever the status says
            return
        try:
            self.render_predictions()
        except ValueError as e:
            set_status(str(e), error=True)
        else:
            set_status("ready")

    # ------------------------------------------------------------------ actions

    async def step(self, new_ids: list[int], cache: KVCache) -> Trace:
        ids = checked_ids(self.manifest.config, new_ids, cache)
        started = js.performance.now()
        outputs = await self.runner.run(ids, cache.keys, cache.values)
        self.timings["inference_ms"] = js.performance.now() - started
        return Trace.from_outputs(ids, cache.length, outputs)

    async def run_prompt(self) -> None:
        text = element("prompt-input").value
        ids = self.tokenizer.encode(text)
        trace = await self.step(ids, KVCache.empty(self.manifest.config))
        self.text, self.prompt_ids, self.generated_ids, self.trace = text, ids, [], trace
        self.rng = np.random.default_rng(int(element("seed").value or 0))
        self.render()

    async def generate_one(self) -> None:
        if self.trace is None:
            await self.run_prompt()
        s = self.settings()
        token = sample_next_token(
            self.trace.last_logits,
            temperature=s.temperature,
            top_k=s.top_k,
            top_p=s.top_p,
            rng=self.rng,
        )
        self.trace = await self.step([token], cache_after(self.trace))
        self.generated_ids.append(token)
        self.render()

    def settings(self) -> SamplingSettings:
        def number(testid: str, kind):
            raw = element(testid).value
            try:
                return kind(raw)
            except ValueError:
                raise ValueError(f"{testid}: {raw!r} is not a number") from None

        return SamplingSettings(
            number("temperature", float), number("top-k", int), number("top-p", float)
        )

    # ------------------------------------------------------------------ rendering

    def render(self) -> None:
        self.render_tokens()
        self.render_predictions()
        self.render_check()

    def render_tokens(self) -> None:
        target = element("token-list")
        target.replaceChildren()
        views = token_views(self.tokenizer, self.text, self.prompt_ids, self.generated_ids)
        for v in views:
            chip = make(
                "li",
                v.label,
                data_token_id=v.token_id,
                data_position=v.position,
                title=f"position {v.position}, id {v.token_id}"
                + (f", characters {v.start}-{v.end}" if v.start >= 0 else ", generated"),
            )
            chip.classList.add("token")
            chip.classList.toggle("generated", v.generated)
            target.appendChild(chip)
        element("cache-info").textContent = (
            f"{len(views)} tokens; key/value cache holds {self.trace.present_keys.shape[2]} "
            f"positions (the last step computed {len(self.trace.input_ids)} new)"
        )

    def render_predictions(self) -> None:
        if self.trace is None:
            return
        target = element("prediction-list")
        target.replaceChildren()
        for p in predictions(
            self.tokenizer, self.trace.last_logits, self.settings(), SHOWN_PREDICTIONS
        ):
            row = make("li", data_token_id=p.token_id, data_prob=repr(p.probability))
            row.classList.add("prediction")
            bar = make("span")
            bar.classList.add("bar")
            bar.style.width = f"{100 * p.probability:.2f}%"
            row.append(
                make("span", p.label, **{"class": "label"}),
                bar,
                make("span", f"{100 * p.probability:.2f}%", **{"class": "prob"}),
            )
            target.appendChild(row)

    def render_check(self) -> None:
        started = js.performance.now()
        worst = max(
            self.trace.attention_mismatch(layer) for layer in range(self.manifest.config.n_layer)
        )
        self.timings["decompose_ms"] = js.performance.now() - started
        element("attention-check").textContent = (
            "Attention recomputed in numpy from the model's Q, K, V (scores, scale, causal mask, "
            f"softmax, weighted values) matches the model's own heads to {worst:.1e}."
        )


async def start(bridge) -> None:
    page = Page(bridge)
    try:
        await page.load()
    except Exception as e:
        set_status(f"could not load the model: {e}", error=True)
        raise
    page.bind()
    await page.on_run()
