"""What the page says of the running model: the model line (its size, how well its weights keep
the original's predictions, what runs it and where) and its example prompts before the
interface's. Drawn when a model opens (loading.py) and again in another language (language.py)."""

from __future__ import annotations

from pyexplainer.examples import EXAMPLE_PROMPTS
from pyexplainer.manifest import quantized_fidelity
from pyexplainer.messages import text
from pyexplainer.ui.dom import element, options
from pyexplainer.views.models import quality_facts

# why the model does not run on WebGPU (runtime.ort_browser BrowserRunner.note)
WEBGPU_NOTES = {"no_webgpu": "ui.no_webgpu", "webgpu_failed": "ui.webgpu_failed"}


def show_model_info(page) -> None:
    c, locale = page.manifest.config, page.locale
    facts = [
        text(
            "ui.model_info",
            locale,
            name=page.model_name,
            n_layer=c.n_layer,
            n_head=c.n_head,
            n_embd=c.n_embd,
            parameters_m=(page.manifest.raw.get("parameters") or 0) / 1e6,
            quantization=page.manifest.quantization,
            n_positions=c.n_positions,
        )
    ]
    quality = quality_facts(
        page.manifest.quantization,
        quantized_fidelity(page.manifest.raw),
        page.manifest.raw.get("training"),
    )
    facts += [text(key, locale, **values) for key, values in quality]
    backend = (
        "WebGPU"
        if page.runner.backend == "webgpu"
        else text("ui.backend_wasm", locale, threads=page.runner.threads)
    )
    if page.runner.note:  # why not WebGPU, in the page's language (the browser's own words)
        note = text(WEBGPU_NOTES[page.runner.note], locale, error=page.runner.note_detail)
        backend = text("ui.backend_note", locale, backend=backend, note=note)
    if page.runner.backend == "wasm" and not page.caps.threads:
        backend += text("ui.facts_separator", locale) + text("ui.single_threaded", locale)
    facts.append(text("ui.running_on", locale, backend=backend))
    if page.source.from_disk:
        facts.append(text("ui.model_from_disk", locale, folder=page.source.folder or "."))
    if page.manifest.quantization != "fp32":  # runtime/weights.py says what each backend runs
        key = "ui.weights_int8" if page.runner.backend == "wasm" else "ui.weights_gpu"
        facts.append(text(key, locale, quantization=page.manifest.quantization))
    line = element("model-info")  # one line on screen: all of it on hover, and in its title
    line.textContent = line.title = text("ui.facts_separator", locale).join(facts)


def fill_examples(page) -> None:
    """The running model's own example prompts (a Chinese model's are Chinese), then the page's
    (pyexplainer/examples.py)."""
    own = page.manifest.raw.get("example_prompts", []) if page.runner is not None else []
    shown = [*own, *EXAMPLE_PROMPTS]
    options(
        element("examples"), [("", text("ui.examples", page.locale)), *((e, e) for e in shown)], ""
    )
