"""Opening a model: its manifest, each file checked against it as it arrives, the inference
session, and the line that says what runs."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.manifest import (
    check_file,
    load_tokenizer,
    manifest_from_bytes,
    tokenizer_files,
)
from pyexplainer.messages import text
from pyexplainer.page import status
from pyexplainer.page.model_info import fill_examples, show_model_info
from pyexplainer.runtime.ort_browser import BrowserRunner, files_to_read
from pyexplainer.ui.dom import document, element
from pyexplainer.views import state as events


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
        status.mark("model-bytes")
        tokenizer = load_tokenizer(manifest, files)  # the kind the manifest names
        status.show_status(page, "starting_model")
        runner = await BrowserRunner.create(
            page.bridge, manifest, model, webgpu=webgpu, webgpu_error=str(page.caps.webgpuError)
        )
        status.mark("session")
    finally:
        loading.hidden = page.runner is not None  # the first model's failure stays in view
    previous, page.runner = page.runner, runner
    page.manifest, page.tokenizer, page.source = manifest, tokenizer, source
    page.state = events.model_opened(
        page.state, source.name or manifest.name, tokenizer.never_sampled
    )  # drawn with its first run; the other model's results and parts are gone
    page.renderer.forget()
    page.stage_drawn.forget()
    page.show_flow_end = True
    if previous is not None:
        await release(previous)
    show_model_info(page)
    fill_examples(page)  # the model's own examples first
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


async def release(runner) -> None:
    """Free the inference session of a model the page no longer runs (its weights live in
    onnxruntime-web's memory until then)."""
    try:
        await runner.close()
    except Exception as e:  # the old model's memory stays until the tab closes; say so only
        js.console.warn(f"the previous model's session was not released: {e}")
