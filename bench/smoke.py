"""The deploy's smoke test: python -m pyexplainer smoke SITE [--record] [--chromium PATH]

Serves a built site on 127.0.0.1 and opens it in headless Chromium (Debian's, through
Playwright), and for every model of its models/index.json, each in a fresh browser profile
(a first visit): the page opens it (?model=NAME) and runs a fixed prompt (Chinese for a Chinese
model, else English: PROMPTS), and then
- the page runs that model (its model line names it), and asks nothing before downloading it;
- its tokens are the CLI's (`python -m pyexplainer generate`, pyexplainer's CPython runtime on
  the same model folder of the site) and its top 10 probabilities are `python -m pyexplainer
  predict`'s, each within tolerance() of it, in the same order but for near ties;
- one click of Generate at temperature 0 adds one token, the CLI's (`generate --temperature 0`)
  or one that CPython's probabilities put within tolerance of it (page_figures says why
  greedy);
- nothing went wrong on the page: no uncaught exception, console error, failed request or
  response of 400 or more, no error in the status line, no Python error box.

What it checked goes to stdout, model by model; the exit status is 0 only when every model
passed. With --record the figures also go into SITE/build-info.json ("published"), and when
$GITHUB_STEP_SUMMARY names a file, a table of what the site publishes is appended to it: each
model's bytes on the wire (as this server sent them, gzipped as GitHub Pages does), its
quantization and the graph the page ran, its fidelity to float32 (from its manifest), the smoke
test's figures, and the first visit's bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench import BenchError
from bench.chromium import CHROMIUM, launch
from bench.site import served
from bench.smoke_checks import check_model
from bench.smoke_report import first_visit, megabytes, record, stdout_lines, summary


def chromium_version(chromium: Path) -> str:
    done = subprocess.run([str(chromium), "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or "Chromium"


def run_smoke(site: Path, chromium: Path) -> dict:
    from playwright.sync_api import sync_playwright

    site = site.resolve()  # the CLI runs from the checkout's root
    try:
        index = json.loads((site / "models" / "index.json").read_text(encoding="utf-8"))
        entries, default = index["models"], index["default"]
    except (OSError, ValueError, KeyError) as e:
        raise BenchError(f"{site} is not a built site (models/index.json: {e!r})") from e
    checks = []
    with served(site) as (url, traffic), sync_playwright() as playwright:
        browser = launch(playwright, chromium, "wasm", extra_flags=())
        try:
            for entry in entries:
                checks.append(check_model(browser, site, url, traffic, entry))
        finally:
            browser.close()
    default_check = next((c for c in checks if c.name == default), None)
    return {
        "chromium": chromium_version(chromium),
        "default": default,
        "checks": checks,
        "first_visit_bytes": first_visit(site, default_check),
        "passed": bool(checks) and all(c.passed for c in checks),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pyexplainer smoke",
        description="Every model of a built site in headless Chromium against CPython; "
        "exit status 0 only when all pass.",
    )
    p.add_argument("site", type=Path, help="a folder make_site.py or hub_models.py built")
    p.add_argument(
        "--record",
        action="store_true",
        help="also write the figures into SITE/build-info.json (the deploy does)",
    )
    p.add_argument("--chromium", type=Path, default=CHROMIUM, help="default: %(default)s")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if not args.chromium.exists():
        print(f"error: no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        report = run_smoke(args.site, args.chromium)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"smoke test of {args.site} in {report['chromium']}, WebAssembly")
    for check in report["checks"]:
        print("\n".join(stdout_lines(check)))
    visit = report["first_visit_bytes"]
    if visit:
        print(
            f"first visit ({report['default']}): {megabytes(visit['total'])} (runtime "
            f"{megabytes(visit['runtime'])}, app {megabytes(visit['app'])}, model "
            f"{megabytes(visit['model'])})"
        )
    failed = [check.name for check in report["checks"] if not check.passed]
    n = len(report["checks"])
    print(f"FAILED: {', '.join(failed)} of {n} model(s)" if failed else f"all {n} model(s) passed")
    if args.record:
        record(args.site, report)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(summary(report))
    return 0 if report["passed"] else 1
