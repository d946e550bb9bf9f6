"""Opening a model: its manifest, each file checked against it as it arrives, the inference
session, and the line that says what runs."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.core.ablation import Ablation
from pyexplainer.manifest import (
    check_file,
    load_tokenizer,
    manifest_from_bytes,
    quantized_fidelity,
    tokenizer_files,
)
from pyexplainer.messages import text
from pyexplainer.page import language, status
from pyexplainer.runtime.ort_browser import BrowserRunner, files_to_read
from pyexplainer.ui.dom import document, element
from pyexplainer.views.models import quality_facts


async def open_model(page, source) -> None:
    """Open the model of `source` (ui.sources: the site's, or a folder from disk): its
    manifest, each file checked against it as it arrives, then the inference session. The
    page turns to it only once all of that worked: on a failure the running model runs on."""
    status.show_status(page, "loading")
    page.caps = page.caps or await page.bridge.capabilities()
    loading = document.querySelector(".loading")
    loading.hidden = False
    try:
        manifest = manifest_from_bytes(await source.manifest_bytes())
        names = tokenizer_files(manifest)  # GPT-2's vocab.json + merges.txt, or a vocab.txt
        files = {name: await download(page, source, manifest, name) for name in names}
        webgpu = bool(page.caps.webgpu)
        model = {
            name: await download(page, source, manifest, name, into_js=True)
            for name in files_to_read(manifest)
        }
        tokenizer = load_tokenizer(manifest, files)  # the kind the manifest names
        status.show_status(page, "starting_model")
        runner = await BrowserRunner.create(
            page.bridge, manifest, model, webgpu=webgpu, webgpu_error=str(page.caps.webgpuError)
        )
    finally:
        loading.hidden = page.runner is not None  # the first model's failure stays in view
    previous, page.runner = page.runner, runner
    page.manifest, page.tokenizer, page.source = manifest, tokenizer, source
    page.model_name = source.name or manifest.name
    page.trace = page.full = page.lens = page.lens_partial = page.what_if = page.induction = None
    page.ablation, page.recompute_values = Ablation(), None  # of the other model's parts
    page.show_flow_end = True
    if previous is not None:
        await release(previous)
    show_model_info(page)
    language.fill_examples(page)  # the model's own examples first
    loading.hidden = True


async def download(page, source, manifest, name: str, *, into_js: bool = False):
    """A file of the model, checked against the manifest: bytes, or with into_js a JS
    Uint8Array (for the model, which goes straight to onnxruntime-web)."""
    total = manifest.files[name]["bytes"]
    bar, label = element("load-progress"), element("load-label")
    bar.max = total

    def progress(received: int) -> None:
        bar.value = received
        label.textContent = text(
            "ui.download_progress",
            page.locale,
            name=name,
            received_mb=received / 1e6,
            total_mb=total / 1e6,
        )

    if into_js:
        return await source.read_js(name, manifest, progress)
    data = await source.read(name)
    progress(len(data))
    check_file(manifest, name, data)  # size and sha256, named in the message
    return data


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
        note = text(f"ui.{page.runner.note}", locale, error=page.runner.note_detail)
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


async def release(runner) -> None:
    """Free the inference session of a model the page no longer runs (its weights live in
    onnxruntime-web's memory until then)."""
    try:
        await runner.close()
    except Exception as e:  # the old model's memory stays until the tab closes; say so only
        js.console.warn(f"the previous model's session was not released: {e}")
