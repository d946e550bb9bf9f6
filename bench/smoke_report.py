"""The smoke test's report: what was checked of each model on stdout, a table of what the site
publishes for the workflow's step summary, and the figures in build-info.json."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import bytes_by_group
from bench.site import runtime_folders
from bench.smoke_checks import TOLERANCE_WORDS, TOP, ModelCheck


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def fidelity_words(facts: dict, backend: str = "wasm") -> str:
    f = facts.get("fidelity_vs_fp32", {}).get(backend, {}).get("fidelity_text")
    if facts.get("quantization") == "fp32":
        return "float32 itself"
    if not f:
        return "not measured"
    words = f"top-1 {f['top1']:.1%}, mean KL {f['mean_kl_nats']:.4f} nats"
    if f.get("perplexity") is not None:
        words += f", perplexity {f['perplexity']:.1f} (float32 {f['perplexity_fp32']:.1f})"
    return words


def graph_words(check: ModelCheck) -> str:
    """The graph the page ran and on what: "model.onnx on WebAssembly, 2 thread(s)"."""
    if not check.graph():
        return "-"
    return f"{check.graph()} on {check.page['backend'].split(' (')[0]}"


def smoke_words(check: ModelCheck) -> str:
    if not check.passed:
        return "**FAILED**: " + "; ".join(check.problems).replace("|", "\\|")
    generated = check.cpython.get("generated_text", "")
    return (
        f"top {TOP} within {check.max_difference:.1e} of CPython; generated "
        f"{json.dumps(generated, ensure_ascii=False)} as the CLI does; no page error "
        f"(loaded in {check.page.get('load_s')} s)"
    )


def stdout_lines(check: ModelCheck) -> list[str]:
    """What was checked of one model, for stdout."""
    lines = [f"{check.name} ({check.facts.get('quantization', '?')}):"]
    if check.prompt:
        lines.append(f"  prompt ({check.language}): {check.prompt}")
    page, cpython = check.page, check.cpython
    if "backend" in page:
        lines.append(
            f"  loaded in {page['load_s']} s, running on {page['backend']}, graph "
            f"{check.graph()}; {megabytes(check.wire_bytes)} of it on the wire"
        )
    if "ids" in page and cpython:
        same = "the same as CPython's" if page["ids"] == cpython["ids"] else "NOT CPython's"
        lines.append(f"  {len(page['ids'])} tokens, {same}")
    if check.max_difference is not None:
        lines.append(
            f"  top {TOP} probabilities: largest difference from CPython "
            f"{check.max_difference:.1e} (tolerance {TOLERANCE_WORDS})"
        )
    if page.get("generated") is not None and cpython:
        verdict = "a near tie of" if check.near_tie else "the CLI's:"
        if page["generated"] == [cpython["generated"]]:
            verdict = "the CLI's too:"
        lines.append(
            f"  generated at temperature 0: {page['generated']}, {verdict} "
            f"[{cpython['generated']}] {json.dumps(cpython['generated_text'], ensure_ascii=False)}"
        )
    lines.append(f"  page errors: {len(page.get('errors', []))}")
    lines += [f"  FAIL: {problem}" for problem in check.problems]
    lines.append("  passed" if check.passed else "  FAILED")
    return lines


def first_visit(site: Path, check: ModelCheck | None) -> dict | None:
    """The bytes of the default model's visit by group (runtime, app, model) and in total."""
    if check is None or "visit_bytes" not in check.page:
        return None
    groups = bytes_by_group(check.page["visit_bytes"], runtime_folders(site))
    return {**groups, "total": groups["total"]["value"]}


def summary(report: dict) -> str:
    """Markdown for the workflow's step summary: what the site publishes."""
    verdict = "passed" if report["passed"] else "**FAILED: the site is not published**"
    lines = [
        "## What the site publishes (smoke test in headless Chromium)",
        "",
        f"{report['chromium']}, WebAssembly; every model against pyexplainer's CPython runtime on "
        f"the same files (top-10 probabilities within {TOLERANCE_WORDS}). "
        f"Smoke test: {verdict}.",
        "",
        "| model | on the wire | quantization | graph run | vs float32 on the fixed text "
        "| smoke test |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for check in report["checks"]:
        lines.append(
            f"| {check.name} | {megabytes(check.wire_bytes)} | "
            f"{check.facts.get('quantization', '?')} | {graph_words(check)} | "
            f"{fidelity_words(check.facts)} | {smoke_words(check)} |"
        )
    visit = report["first_visit_bytes"]
    if visit:
        lines += [
            "",
            f"First visit (a fresh browser, the default model {report['default']}): "
            f"{megabytes(visit['total'])} (runtime {megabytes(visit['runtime'])}, app "
            f"{megabytes(visit['app'])}, model {megabytes(visit['model'])}).",
        ]
    return "\n".join(lines) + "\n"


def record(site: Path, report: dict) -> None:
    """The figures into SITE/build-info.json, under "published" (the page never reads it)."""
    path = site / "build-info.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["published"] = {
        "checked_by": "python -m pyexplainer smoke",
        "chromium": report["chromium"],
        "passed": report["passed"],
        "default": report["default"],
        "first_visit_bytes": report["first_visit_bytes"],
        "models": [check.record() for check in report["checks"]],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
