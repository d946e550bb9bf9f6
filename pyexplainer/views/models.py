"""The model picker as plain data: one row per model of the site (models/index.json), which model
a link's name resolves to, whether a download is wise on this device, and which files of an
opened folder are the model's. No DOM: ui/models.py draws it, page/model_picker.py wires it."""

from __future__ import annotations

import dataclasses
import posixpath

from pyexplainer.manifest import ModelFileError

# The page's renderer memory, as the benchmark holds it to (bench/targets.py): at
# most 600 MB with the demo model (13 MB of files) and 1.0 GB with GPT-2 small (90 MB). The page
# estimates a model's tab by the line through those two points: about 530 MB of Pyodide, numpy
# and onnxruntime-web, plus 5.2 bytes for each byte of the model (its int8 weights, made from
# the wire's int4 at load, the key/value cache, activations and the (T, V) logits of a pass).
MEMORY_POINTS = ((13e6, 600e6), (90e6, 1.0e9))  # (model bytes, renderer bytes)
COMFORTABLE_SHARE = 0.25  # of the device's memory, for one tab: the system and other apps share it
GIB = 2**30  # navigator.deviceMemory counts in these
# What published GPT-2 checkpoints were trained on (their model cards), by hub id: the message
# that says it
HUB_TRAINING = {
    "gpt2": "models.training.webtext",
    "openai-community/gpt2": "models.training.webtext",
    "distilgpt2": "models.training.openwebtext",
    "distilbert/distilgpt2": "models.training.openwebtext",
    "uer/gpt2-chinese-cluecorpussmall": "models.training.cluecorpussmall",
}


@dataclasses.dataclass(frozen=True)
class ModelRow:
    """What the picker says of one model of the site."""

    name: str
    n_layer: int
    n_head: int
    n_embd: int
    n_positions: int
    parameters: int
    bytes: int  # every file of it: what a first visit downloads
    quantization: str
    fidelity: dict | None  # manifest.quantized_fidelity, when quantized
    training: dict | None  # the model card's summary (held-out perplexity, sources), if any
    hub_id: str  # the Hugging Face hub id it was exported from, "" for a local checkpoint
    language: str  # what it reads, a BCP 47 tag ("zh"; "" when the export did not say)
    example_prompts: tuple[str, ...]  # prompts in its language to offer with it
    stored: bool  # every file in the service worker's cache: opens with no download
    running: bool


@dataclasses.dataclass(frozen=True)
class Advice:
    """Why the page does not start a download at once, and what it offers instead."""

    model: str  # the one asked for
    reason: str  # "memory" or "save_data"
    bytes: int  # its download
    estimate: float  # its tab's memory, estimated
    device_bytes: float  # the device's memory (0 when the browser does not say)
    alternative: str  # a smaller model that fits, or "" when there is none


def model_rows(index: dict, stored: set[str], running: str) -> list[ModelRow]:
    """The site's models in index order; `running`: the name of the model on the page ("" for
    one opened from disk)."""
    rows = []
    for m in index["models"]:
        c = m["config"]
        rows.append(
            ModelRow(
                name=m["name"],
                n_layer=c["n_layer"],
                n_head=c["n_head"],
                n_embd=c["n_embd"],
                n_positions=c["n_positions"],
                parameters=m.get("parameters") or 0,
                bytes=m["bytes"],
                quantization=m["quantization"],
                fidelity=m.get("fidelity"),
                training=m.get("training"),
                hub_id=m.get("hub_id", ""),
                language=m.get("language", ""),
                example_prompts=tuple(m.get("example_prompts", ())),
                stored=m["name"] in stored,
                running=m["name"] == running,
            )
        )
    return rows


def rows_for_locale(rows: list[ModelRow], locale: str) -> list[ModelRow]:
    """The rows the picker proposes first for an interface in `locale` ("zh", "en"): the models
    that read its language ("zh-CN" is "zh"), then the others, each group in the site's order."""
    language = locale.split("-")[0].lower()
    return sorted(rows, key=lambda r: r.language.split("-")[0].lower() != language)


def quality_facts(
    quantization: str, fidelity: dict | None, training: dict | None
) -> list[tuple[str, dict]]:
    """What the model line and the picker say of a model's quality, as (message key, values):
    how close its quantized weights stay to float32 (manifest.quantized_fidelity; None for
    fp32), then its held-out perplexity beside the unigram baseline's, when the export
    measured them (the model card's `training`)."""
    facts = []
    if fidelity:
        facts.append(("ui.model_fidelity", {"quantization": quantization, **fidelity}))
    if training and "held_out" in training:
        held_out, baseline = training["held_out"], training["unigram_baseline"]
        values = {"perplexity": held_out["perplexity"], "baseline": baseline["perplexity"]}
        facts.append(("ui.model_perplexity", values))
    return facts


def training_data(row: ModelRow) -> tuple[str, dict] | None:
    """What the picker says the model learned from, as (message key, values): the model card's
    sources (the demo's), a published checkpoint's data by its hub id, or None if unknown."""
    if row.training and row.training.get("sources"):
        sources = row.training["sources"]
        return "models.training.sources", {
            "sources": len(sources),
            "tokens_m": sum(s["tokens"] for s in sources) / 1e6,
            "seen_m": row.training.get("tokens_seen", 0) / 1e6,
        }
    if row.hub_id in HUB_TRAINING:
        return HUB_TRAINING[row.hub_id], {"hub_id": row.hub_id}
    return None


def resolve_model(index: dict, wanted: str) -> tuple[dict, str]:
    """The index entry to load for `wanted` ("" for the default), and the name asked for when the
    site has no such model (then the entry is the default's), else ""."""
    by_name = {m["name"]: m for m in index["models"]}
    if not wanted:
        return by_name[index["default"]], ""
    if wanted in by_name:
        return by_name[wanted], ""
    return by_name[index["default"]], wanted


def estimated_tab_bytes(model_bytes: float) -> float:
    """The renderer memory of the page running a model of `model_bytes` (MEMORY_POINTS' line)."""
    (x0, y0), (x1, y1) = MEMORY_POINTS
    return y0 + (model_bytes - x0) * (y1 - y0) / (x1 - x0)


def fits(model_bytes: float, device_memory_gib: float | None) -> bool:
    """Whether a device with `device_memory_gib` (navigator.deviceMemory; None where the browser
    does not say) holds the page with this model comfortably."""
    if not device_memory_gib:
        return True
    return estimated_tab_bytes(model_bytes) <= COMFORTABLE_SHARE * device_memory_gib * GIB


def download_advice(
    rows: list[ModelRow], wanted: str, *, device_memory_gib: float | None, save_data: bool
) -> Advice | None:
    """None when model `wanted` may start at once; else why not, and the model offered instead.
    Too big for the device (navigator.deviceMemory) comes first: then the largest model that
    fits is offered. With Save-Data (navigator.connection.saveData) on, a model that needs a
    download and is not the site's smallest: then the smallest is offered. A model already in
    the cache costs no download."""
    target = next(r for r in rows if r.name == wanted)
    smaller = sorted((r for r in rows if r.bytes < target.bytes), key=lambda r: r.bytes)
    fitting = [r for r in smaller if fits(r.bytes, device_memory_gib)]
    if not fits(target.bytes, device_memory_gib):
        reason, offered = "memory", fitting[-1:]
    elif save_data and not target.stored and smaller:
        reason, offered = "save_data", fitting[:1]
    else:
        return None
    return Advice(
        model=wanted,
        reason=reason,
        bytes=target.bytes,
        estimate=estimated_tab_bytes(target.bytes),
        device_bytes=(device_memory_gib or 0) * GIB,
        alternative=offered[0].name if offered else "",
    )


def model_folder(paths: list[str]) -> tuple[str, dict[str, str]]:
    """Of the files a student opened (paths relative to what was picked or dropped, "/"
    between folders), the folder holding manifest.json and its files: (folder, {file name:
    path}). ModelFileError when no folder, or more than one, holds a manifest.json."""
    folders: dict[str, dict[str, str]] = {}
    for path in paths:
        folder, name = posixpath.split(path)
        folders.setdefault(folder, {})[name] = path
    with_manifest = sorted(f for f, files in folders.items() if "manifest.json" in files)
    if not with_manifest:
        raise ModelFileError(
            f"no manifest.json among the {len(paths)} file(s) opened: open the folder that "
            "python -m export wrote (manifest.json, model.onnx and the tokenizer's files)"
        )
    if len(with_manifest) > 1:
        shown = ", ".join(f or "." for f in with_manifest)
        raise ModelFileError(
            f"{len(with_manifest)} folders hold a manifest.json ({shown}): open one"
        )
    folder = with_manifest[0]
    return folder, folders[folder]
