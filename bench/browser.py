"""The browser benchmark: python -m pyexplainer bench --site DIR [--out-json FILE] [...]

Serves a built site on 127.0.0.1, drives it in headless Chromium (Debian's, through Playwright)
on WebAssembly and on WebGPU, and prints one JSON object: bytes of the first visit (runtime, app,
model), cold and warm start to the first prediction, the explained forward pass at T = 16 and 64,
a cached generation step against a full recompute, "Generate N tokens", the numpy decomposition
relative to inference, peak JS heap and peak process memory, and on WebAssembly the redraw after
each interaction (settings, block, head, stage tabs, the temperature slider dragged) and all
views of a new 32-token prompt, each beside its target. The same figures follow for a
GPT-2-small-sized model (random weights, int4 and int8), exported and built here unless skipped.

Times come from the page itself (the `data-timings` and `data-redraw` of the status element, and
performance.now() when the status first reads `ready`), and for interactions also from here, as
wall time around the browser call; bytes from the local server, which counts what it sends;
memory from /proc. bench.targets.MEASURED says how each figure is taken.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import BenchError, log
from bench.chromium import BACKEND_FLAGS, CHROMIUM, GPU_ADAPTER, launch
from bench.interactions import repeated_interactions
from bench.memory import (
    JS_HEAP_SAMPLER,
    WASM_MEMORIES,
    MemoryMonitor,
    peak_js_heap,
    wasm_memories,
)
from bench.page import ACTION_TIMEOUT_MS, GENERATED_TOKENS, Visits, repeated_actions
from bench.report import backend_report, backend_targets, failures, figure
from bench.site import (
    ServedSite,
    default_model_dir,
    gpt2_small_site,
    prompt_of_length,
    runtime_folders,
    served,
)
from bench.targets import (
    GPT2_SMALL_TARGETS,
    INTERACTION_PROMPT_LENGTH,
    MEASURED,
    PROMPT_LENGTHS,
    SITE_MODEL_TARGETS,
)
from pyexplainer.manifest import ModelFileError
from pyexplainer.model_dir import read_manifest, read_tokenizer

GPT2_SMALL_QUANTIZATIONS = ("int4", "int8")  # each shipped one, as its own site
MIN_INTERACTION_REPEATS = 5
INTERACTION_BACKENDS = {"wasm"}  # no redraw runs the model: elsewhere the same Python, slower
# The longest text the benchmark runs: the 65-token recompute, or N tokens generated after 64
LONGEST_TEXT = max(*PROMPT_LENGTHS, 64 + GENERATED_TOKENS)


@dataclasses.dataclass(frozen=True)
class Settings:
    repeat: int
    backends: tuple[str, ...]
    chromium: Path
    gpt2_small_quantizations: tuple[str, ...] = GPT2_SMALL_QUANTIZATIONS


def measure_backend(playwright, backend: str, site: ServedSite, settings: Settings, targets):
    """Every figure of one model on one backend, from a browser launched for that backend."""
    browser = launch(playwright, settings.chromium, backend)
    visits, adapter, interactions = Visits(), None, None
    try:
        with MemoryMonitor() as memory:
            for i in range(settings.repeat):
                log(f"{backend}: cold and warm start {i + 1} of {settings.repeat}")
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                try:
                    context.add_init_script(JS_HEAP_SAMPLER)
                    context.add_init_script(WASM_MEMORIES)
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
                        visits.wasm_memories = wasm_memories(page)
                finally:
                    memory.sample()  # the renderer ends with its context
                    context.close()
    finally:
        browser.close()
    report = backend_report(visits, actions, interactions, memory.peak_by_type(), site, targets)
    return {**report, "gpu_adapter": adapter} if adapter else report


def unavailable(reason: str, adapter: str | None) -> dict:
    return {"available": False, "reason": reason, "gpu_adapter": adapter}


def model_report(site_dir: Path, settings: Settings, targets: dict) -> dict:
    """Every figure of the site's default model, on each backend asked for."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    model_dir = default_model_dir(site_dir)
    manifest = read_manifest(model_dir)
    if manifest.config.n_positions < LONGEST_TEXT:
        raise BenchError(
            f"{manifest.name} has a context of {manifest.config.n_positions} tokens; "
            f"the benchmark needs {LONGEST_TEXT}"
        )
    tokenizer = read_tokenizer(model_dir, manifest)
    model_files = {*manifest.graphs.values(), manifest.weights["file"]}  # not the tokenizer's
    model_bytes = sum(manifest.files[name]["bytes"] for name in model_files)
    report = {
        "name": manifest.name,
        "config": manifest.config.to_dict(),
        "parameters": manifest.raw.get("parameters"),
        "quantization": manifest.raw["quantization"],
        "fidelity": {k: v for k, v in manifest.raw["fidelity"].items() if k != "text"},
        "model_file_bytes": figure(model_bytes, targets.get("model_file_bytes")),
        **{backend: {"skipped": True} for backend in BACKEND_FLAGS},
    }
    lengths = (*PROMPT_LENGTHS, INTERACTION_PROMPT_LENGTH)
    prompts = {n: prompt_of_length(tokenizer, n) for n in lengths}
    with served(site_dir) as (url, traffic), sync_playwright() as playwright:
        site = ServedSite(url, traffic, runtime_folders(site_dir), prompts, manifest.config)
        for backend in settings.backends:
            log(f"{manifest.name} on {backend}")
            try:
                report[backend] = measure_backend(
                    playwright, backend, site, settings, backend_targets(targets, backend)
                )
            except (BenchError, PlaywrightError) as e:
                report[backend] = {"error": str(e).splitlines()[0]}
    return report


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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pyexplainer bench",
        description="The site's performance figures in headless Chromium, as JSON.",
    )
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
    return p


def main(argv: list[str]) -> int:
    """python -m pyexplainer bench: print the report; 1 if anything could not be measured."""
    args = parser().parse_args(argv)
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
