"""python build/hub_models.py site --out DIR [--cache DIR] HUB_ID ...
python build/hub_models.py cache-key HUB_ID ...

The deployed site (.github/workflows/pages.yml): GPT-2-family checkpoints from the Hugging Face
hub, exported with the project's own export and shipped after the demo model; the first of them
that ships is the page's default.

Each model is exported int4 (the site's quantization) where that passes its fidelity gate on
this model, else int8 (both stay quantized in the page). A model that passes no gate is left
out: the log and the step summary ($GITHUB_STEP_SUMMARY, when set) say why, and the site ships
the rest. Anything else that stops an export (the hub unreachable, an unknown id, a checkpoint
that is not GPT-2) stops the build, so that the site already deployed stays as it was.

Exports are kept in CACHE/hub/<name>-<hub revision>-<exporter digest>/ (CACHE: ~/.cache/
pyexplainer), with outcome.json: a new revision or a change to the exporter's code exports
again. `cache-key` prints the line `key=...` (for $GITHUB_OUTPUT) naming the revisions and
the exporter, under which the workflow caches CACHE/hub between runs. The hub's files are read
from its own cache (HF_HOME), so HF_HUB_OFFLINE=1 works once they are there.

The site must fit GitHub Pages: one larger than PAGES_LIMIT fails the build, saying so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import make_site  # build/ is sys.path[0] when run as a script
from make_site import BuildError, default_cache, demo_model, files_sha256, usable_export
from third_party import PinError

from pyexplainer.manifest import quantized_fidelity

QUANTIZE_ORDER = ("int4", "int8")  # the site's pick, then the next more precise one
# What the export records of a hub model beyond its checkpoint (python -m export --language,
# --example): the language it reads (a Chinese model is also measured on Chinese text, and the
# picker proposes it first in the Chinese interface) and example prompts in that language; the
# first two are uer's model card's
HUB_MODEL_CARDS = {
    "uer/gpt2-chinese-cluecorpussmall": {
        "language": "zh",
        "examples": [
            "这是很久之前的事情了",
            "米饭是一种用稻米与水煮成的食物",
            "今天天气很好，我们",
            "老师在黑板上写下了",
        ],
    },
}
PAGES_LIMIT = 10**9  # GitHub Pages publishes sites of at most 1 GB
OUTCOME = "outcome.json"


def model_name(hub_id: str) -> str:
    """The name the site gives a hub model: its repository's name (openai-community/gpt2: gpt2)."""
    return hub_id.rsplit("/", 1)[-1]


def card(hub_id: str) -> dict:
    """export_model's language and examples for `hub_id` (none for a model not in the table)."""
    return HUB_MODEL_CARDS.get(hub_id, {})


def hub_revision(hub_id: str) -> str:
    """The commit the hub's main branch of `hub_id` points at (offline: the hub cache's)."""
    from huggingface_hub import snapshot_download

    from export.checkpoint import HUB_CONFIG

    try:
        return Path(snapshot_download(hub_id, allow_patterns=[HUB_CONFIG])).name
    except Exception as e:  # offline, unknown id, gated repo: the hub client raises many kinds
        raise BuildError(f"{hub_id}: the hub could not be read ({type(e).__name__}: {e})") from e


def exporter_digest() -> str:
    return files_sha256(make_site.ROOT, make_site.EXPORTER_SOURCES)


def export_folder(cache: Path, hub_id: str, revision: str, exporter: str) -> Path:
    return cache / "hub" / f"{model_name(hub_id)}-{revision[:12]}-{exporter[:8]}"


def export_first_passing(hub_id: str, out: Path) -> dict:
    """Export `hub_id` into `out` in the first quantization of QUANTIZE_ORDER that passes its
    fidelity gate; the outcome: which one shipped (None: none passed) and why others did not."""
    from export.checkpoint import CheckpointError
    from export.export import ExportError, FidelityGateError, export_model

    refused = {}
    for quantize in QUANTIZE_ORDER:
        print(f"{hub_id}: exporting {quantize}", file=sys.stderr)
        try:
            export_model(hub_id, out, quantize=quantize, name=model_name(hub_id), **card(hub_id))
        except FidelityGateError as e:
            print(f"{hub_id}: {quantize} refused: {e}", file=sys.stderr)
            refused[quantize] = "; ".join(e.failures)
            continue
        except (CheckpointError, ExportError) as e:
            raise BuildError(f"exporting {hub_id} failed: {e}") from e
        return {"shipped": quantize, "refused": refused}
    return {"shipped": None, "refused": refused}


def hub_model(hub_id: str, cache: Path, exporter: str) -> dict:
    """The outcome for `hub_id` at the hub's current revision, exported once per revision and
    exporter (a cached outcome is reused): id, name, revision, shipped, refused, folder."""
    revision = hub_revision(hub_id)
    if card(hub_id):  # what the card adds to the export is part of what made it
        exporter = hashlib.sha256(f"{exporter}\0{json.dumps(card(hub_id))}".encode()).hexdigest()
    folder = export_folder(cache, hub_id, revision, exporter)
    record = folder / OUTCOME
    cached = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else None
    if cached and (cached["shipped"] is None or usable_export(folder / "model")):
        print(f"{hub_id}@{revision}: from the cache ({folder})", file=sys.stderr)
        outcome = cached
    else:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        outcome = export_first_passing(hub_id, folder / "model")
        record.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    return {
        "id": hub_id,
        "name": model_name(hub_id),
        "revision": revision,
        **outcome,
        "folder": folder / "model",
    }


def cache_key(hub_ids: list[str], exporter: str) -> str:
    digest = hashlib.sha256(exporter.encode())
    for hub_id in hub_ids:
        digest.update(f"\0{hub_id}@{hub_revision(hub_id)}{json.dumps(card(hub_id))}".encode())
    return f"pyexplainer-hub-{digest.hexdigest()[:24]}"


# --- what was shipped, what was left out and why -------------------------------------------------


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def model_row(outcome: dict, files: dict[str, dict]) -> str:
    """One line of the summary's table for a hub model."""
    name, quantize = outcome["name"], outcome["shipped"]
    source = f"{outcome['id']} @ {outcome['revision'][:12]}"
    refused = "; ".join(f"{q} refused ({why})" for q, why in outcome["refused"].items())
    if quantize is None:
        return f"| {name} | {source} | **left out** | | {refused} |"
    size = sum(e["bytes"] for rel, e in files.items() if rel.startswith(f"models/{name}/"))
    manifest = json.loads((outcome["folder"] / "manifest.json").read_text(encoding="utf-8"))
    f = quantized_fidelity(manifest)
    figures = f"held-out top-1 {f['top1']:.1%}, mean KL {f['kl']:.4f} nats" if f else ""
    notes = "; ".join(filter(None, [figures, refused]))
    return f"| {name} | {source} | {quantize} | {megabytes(size)} | {notes} |"


def summary(outcomes: list[dict], info: dict | None) -> str:
    """Markdown for the step summary: each hub model, then the whole site against the limit."""
    lines = [
        "## Hub models on the site",
        "",
        "| model | hub revision | quantization | size | fidelity vs float32, or why not shipped |",
        "| --- | --- | --- | --- | --- |",
        *(model_row(o, info["files"] if info else {}) for o in outcomes),
        "",
    ]
    if info:
        b = info["bytes"]
        lines.append(
            f"The site: {megabytes(b['total'])} of GitHub Pages' {megabytes(PAGES_LIMIT)} "
            f"(runtime {megabytes(b['runtime'])}, app {megabytes(b['app'])}, models "
            f"{megabytes(b['models'])}); models: {', '.join(info['models'])}; "
            f"default: {info['default']}."
        )
    return "\n".join(lines) + "\n"


def report(text: str) -> None:
    """The summary into the log, and into the workflow run's page when it has one."""
    print(text, file=sys.stderr)
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


def build_site(out: Path, hub_ids: list[str], cache: Path) -> dict:
    """The site with the demo model and each hub model that ships; returns build-info.json's
    content plus its default. Left-out models are announced as workflow warnings."""
    exporter = exporter_digest()
    outcomes = [hub_model(hub_id, cache, exporter) for hub_id in hub_ids]
    shipped = [o for o in outcomes if o["shipped"]]
    for o in outcomes:
        if not o["shipped"]:
            reasons = "; ".join(f"{q} {why}" for q, why in o["refused"].items())
            print(
                f"::warning title={o['name']} left out::{o['id']} passed no fidelity gate "
                f"({reasons})",
                file=sys.stderr,
            )
    default = shipped[0]["name"] if shipped else None
    models = [demo_model(cache), *(o["folder"] for o in shipped)]
    info = make_site.make_site(out, models, cache=cache, default=default)
    index = json.loads((out / "models" / "index.json").read_text(encoding="utf-8"))
    info = {**info, "default": index["default"]}
    report(summary(outcomes, info))
    if info["bytes"]["total"] > PAGES_LIMIT:
        raise BuildError(
            f"the site is {megabytes(info['bytes']['total'])}, more than GitHub Pages publishes "
            f"({megabytes(PAGES_LIMIT)}): deploy fewer or smaller models"
        )
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python build/hub_models.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="command", required=True)
    site = commands.add_parser("site", help="export the hub models and build the site")
    site.add_argument("--out", required=True, type=Path, help="the site folder to write")
    key = commands.add_parser("cache-key", help="print key=... for CACHE/hub (GITHUB_OUTPUT)")
    site.add_argument(
        "--cache",
        type=Path,
        default=default_cache(),
        help=f"where the exports are kept, in hub/ (default {default_cache()}); as make_site's",
    )
    for command in (site, key):
        command.add_argument("hub_ids", nargs="+", metavar="HUB_ID", help="openai-community/gpt2")
    args = p.parse_args(argv)
    try:
        if args.command == "cache-key":
            print(f"key={cache_key(args.hub_ids, exporter_digest())}")
        else:
            info = build_site(args.out, args.hub_ids, args.cache)
            print(
                json.dumps(
                    {
                        "out": str(args.out),
                        "models": info["models"],
                        "default": info["default"],
                        "bytes": info["bytes"],
                    },
                    indent=2,
                )
            )
    except (BuildError, PinError) as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
