"""The browser benchmark's JSON: figures (a value, its target and whether it is met), medians
of repeated runs, bytes by group, the timeline of a start, and each backend's section of a
model's report."""

from __future__ import annotations

import itertools
import statistics
from typing import TYPE_CHECKING

from bench.targets import INTERACTION_PROMPT_LENGTH, WASM_ONLY_TARGETS
from pyexplainer.views.predictions import SHOW_DRAWN_S

if TYPE_CHECKING:
    from bench.interactions import Interactions
    from bench.page import Visits
    from bench.site import ServedSite


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


# A visit's start, event by event: each report name and the page's mark it is read from
# (START_TIMELINE in bench.page; the marks are set in web/boot.mjs, web/main.py and the page's
# Python: pyexplainer/page/status.py mark)
START_MARKS = {
    "first_script": "boot",
    "pyodide_start": "pyscript-start",
    "python_ready": "python-ready",
    "app_imported": "app-imported",
    "model_bytes_in": "model-bytes",
    "session_start": "status-starting_model",
    "session_made": "session",
    "first_run_start": "status-running",
    "first_render": "status-ready",
}
# The phases of a start, each from one event to another
START_PHASES = {
    "packages_download": ("packages_requested", "packages_fetched"),
    "pyodide_boot": ("pyodide_start", "pyodide_ready"),
    "app_import": ("python_ready", "app_imported"),
    "model_download": ("model_requested", "model_downloaded"),
    "session": ("session_start", "session_made"),
    "first_run": ("first_run_start", "first_render"),
}


def _span(spans: list[tuple[float, float]], first: str, last: str) -> dict[str, float]:
    """{first: the earliest start, last: the latest end} of some requests, {} for none."""
    if not spans:
        return {}
    return {first: min(start for start, _ in spans), last: max(end for _, end in spans)}


def start_events(raw: dict) -> dict[str, float]:
    """The events of one visit's start (ms since its navigation) from what the page saw of it
    (bench.page.START_TIMELINE): the marks of START_MARKS; from resource timing the model's
    files (under models/, but the index and the manifest) from the first request to the last
    byte, the Python packages' wheels likewise, and pyodide_ready, the first request of the app's
    own files (PyScript asks for them once Pyodide has booted with its packages); reload_ms, how
    long the page before the isolation reload ran, when there was one."""
    requests = raw["requests"]
    model = [
        (start, end)
        for path, start, end in requests
        if "/models/" in path and not path.endswith(("/index.json", "/manifest.json"))
    ]
    wheels = [(start, end) for path, start, end in requests if path.endswith(".whl")]
    app = [start for path, start, _ in requests if "/py/" in path]
    events = {"html_first_byte": raw["html_first_byte"]}
    events |= {name: raw["marks"][m] for name, m in START_MARKS.items() if m in raw["marks"]}
    events |= _span(model, "model_requested", "model_downloaded")
    events |= _span(wheels, "packages_requested", "packages_fetched")
    if app:
        events["pyodide_ready"] = min(app)
    if raw.get("reload_ms") is not None:
        events["reload_ms"] = raw["reload_ms"]
    return {name: round(ms, 1) for name, ms in events.items()}


def overlapping(phases: dict[str, list[float]]) -> list[dict]:
    """Each pair of phases that ran at the same time, and for how many ms."""
    pairs = []
    for (a, (a0, a1)), (b, (b0, b1)) in itertools.combinations(phases.items(), 2):
        shared = min(a1, b1) - max(a0, b0)
        if shared > 0:
            pairs.append({"phases": [a, b], "ms": round(shared, 1)})
    return pairs


def timeline_report(runs: list[dict[str, float]]) -> dict:
    """Visits' starts (start_events of each): the median of each event every visit has, the
    phases (START_PHASES) between those medians, and which phases overlapped."""
    names = [name for name in runs[0] if all(name in run for run in runs)]
    events = {name: round(statistics.median(run[name] for run in runs), 1) for name in names}
    phases = {
        name: [events[a], events[b]]
        for name, (a, b) in START_PHASES.items()
        if a in events and b in events
    }
    return {"events_ms": events, "phases_ms": phases, "overlapping": overlapping(phases)}


def action_summary(timings: list[dict]) -> dict:
    """Each timing every one of the page's data-timings has, as a median over the actions."""
    shared = [key for key in timings[0] if all(key in t for t in timings)]
    return {key: sampled([round(t[key], 1) for t in timings]) for key in shared}


def latency(redraws: list[dict], target: float | None) -> dict:
    """page_ms and wall_ms of some redraws, each as a median figure."""
    return {key: sampled([r[key] for r in redraws], target) for key in ("page_ms", "wall_ms")}


def drag_report(updates: list[dict], target: float | None) -> dict:
    """Every update of the slider's drags: wall_ms and page_ms as medians and as maxima, each
    against the target (the slowest update is one the student sees)."""
    walls, pages = ([u[key] for u in updates] for key in ("wall_ms", "page_ms"))
    return {
        "updates": len(updates),
        "wall_ms": sampled(walls, target),
        "max_wall_ms": figure(max(walls), target),
        "page_ms": sampled(pages, target),
        "max_page_ms": figure(max(pages), target),
    }


def generation_report(runs: list[dict], cached_step: dict, target: float | None = None) -> dict:
    """Generating N tokens in one click, beside the one cached step's whole action; the time
    a token takes beyond the pause the page makes on purpose is held to `target`."""
    beyond = [round(r["ms_per_token"] - SHOW_DRAWN_S * 1000, 1) for r in runs]
    return {
        **{key: sampled([r[key] for r in runs]) for key in runs[0]},
        "ms_per_token_beyond_pause": sampled(beyond, target),
        "cached_step_after_T64_total_ms": cached_step["total_ms"]["value"],
    }


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
        "temperature_drag": (
            drag_report(samples.temperature_drag, targets.get("slider_update_ms"))
            if samples.temperature_drag is not None
            else {"skipped": "the page's temperature is no slider"}
        ),
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


def backend_report(
    visits: Visits,
    timings: dict[str, list[dict]],
    interactions: Interactions | None,
    memory: dict,
    site: ServedSite,
    targets,
) -> dict:
    generated = timings.get("generate_N_after_T64")
    actions = {
        name: action_summary(t) for name, t in timings.items() if name != "generate_N_after_T64"
    }
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
        "cold_start_timeline": timeline_report([start_events(t) for t in visits.cold_starts]),
        "warm_start_timeline": timeline_report([start_events(t) for t in visits.warm_starts]),
        **actions,
        "explained_forward_T64_ms": figure(
            forward["total_ms"]["value"], targets.get("explained_forward_T64_ms")
        ),
        "cached_step_ms": figure(step["total_ms"]["value"], targets.get("cached_step_ms")),
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
        "generate_N_after_T64": (
            generation_report(generated, step, targets.get("generate_ms_per_token"))
            if generated
            else {"skipped": "the page has no 'Generate N tokens'"}
        ),
        "logit_lens_T64_ms": figure(
            actions["logit_lens_T64"]["total_ms"]["value"], targets.get("logit_lens_T64_ms")
        ),
        "logit_lens_first_part_T64_ms": (
            figure(
                actions["logit_lens_T64"]["lens_first_part_ms"]["value"],
                targets.get("logit_lens_first_part_T64_ms"),
            )
            if "lens_first_part_ms" in actions["logit_lens_T64"]
            else {"skipped": "the lens comes in one call"}
        ),
        "attribution_T64_ms": (
            figure(
                actions["attribution_T64"]["total_ms"]["value"], targets.get("attribution_T64_ms")
            )
            if "attribution_T64" in actions
            else {"skipped": "the page has no attribution stage"}
        ),
        "peak_js_heap_bytes": figure(visits.peak_js_heap, targets.get("peak_js_heap_bytes")),
        "wasm_memories": visits.wasm_memories,
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
