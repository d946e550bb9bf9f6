"""The deploy's smoke test, `python -m pyexplainer smoke SITE` (bench/smoke.py): its comparisons
on their own, the deploy workflow running it between the build and the upload, and the command
in headless Chromium on the demo site: it passes there, and fails (each planted here, on a copy
of the built site) when the page shows other probabilities than CPython, when a model file is
corrupted after the build, and when the page throws. The browser tests are marked `browser`."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from bench import smoke_checks
from bench.smoke_checks import compare_top, language, near_tie, tolerance
from pyexplainer.manifest import BYTE_LEVEL_BPE
from tests.conftest import ROOT, needed_program
from tests.test_browser_chinese import NAME as CHINESE
from tests.test_browser_chinese import chinese_export  # noqa: F401  (a fixture)

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
SMOKE_TIMEOUT_S = 900
# CPython's top list: (id, probability, label)
CPYTHON_TOP = [(11, 0.30, ","), (12, 0.20, "."), (13, 0.195, " and")] + [
    (20 + i, 0.02 - 0.001 * i, f"t{i}") for i in range(17)
]


# --- the comparisons ------------------------------------------------------------------------------


def test_the_prompt_is_chinese_for_a_chinese_model_and_english_for_gpt2s_tokenizer():
    assert language({"tokenizer": BYTE_LEVEL_BPE}) == "en"
    assert language({}) == "en"  # a manifest without a tokenizer section is GPT-2's
    assert language({"language": "zh", "tokenizer": {"kind": "wordpiece"}}) == "zh"
    assert language({"tokenizer": {"kind": "wordpiece"}}) == "zh"  # the Chinese GPT-2's vocab
    assert language({"language": "fr"}) == "en"  # no French prompt: English
    assert smoke_checks.PROMPTS["zh"] != smoke_checks.PROMPTS["en"]


def shown(rows) -> list[tuple[int, float]]:
    return [(i, p) for i, p, _ in rows][: smoke_checks.TOP]


def test_the_same_probabilities_pass_and_the_largest_difference_is_reported():
    page = [(i, p + 1e-6) for i, p in shown(CPYTHON_TOP)]
    largest, problems = compare_top(page, CPYTHON_TOP)
    assert problems == [] and largest == pytest.approx(1e-6)


def test_a_probability_beyond_the_tolerance_fails_naming_the_token():
    page = shown(CPYTHON_TOP)
    page[0] = (11, 0.30 + 1.5 * tolerance(0.30))
    _, problems = compare_top(page, CPYTHON_TOP)
    assert len(problems) == 1
    assert problems[0].startswith(f"#1: token 11 has {page[0][1]:.6f} on the page, 0.300000 in")
    assert tolerance(0.30) == pytest.approx(smoke_checks.ABSOLUTE_TOLERANCE + 0.30 * 0.1)


def test_a_near_tie_may_swap_ranks_but_other_tokens_may_not():
    page = shown(CPYTHON_TOP)
    page[1], page[2] = page[2], page[1]  # 0.20 and 0.195: within tolerance of each other
    assert compare_top(page, CPYTHON_TOP)[1] == []
    page = shown(CPYTHON_TOP)
    page[0], page[1] = page[1], page[0]  # 0.30 and 0.20: no tie
    assert "#1: the page ranks token 12 where CPython has 11" in compare_top(page, CPYTHON_TOP)[1]


def test_a_token_cpython_does_not_rank_or_too_few_predictions_fail():
    page = shown(CPYTHON_TOP)
    page[9] = (999, 0.01)
    assert any("token 999" in p for p in compare_top(page, CPYTHON_TOP)[1])
    problems = compare_top(shown(CPYTHON_TOP)[:9], CPYTHON_TOP)[1]
    assert problems == ["the page shows 9 predictions, CPython has 10"]


def test_a_greedy_token_other_than_the_clis_passes_only_as_a_near_tie():
    cpython = {"top": CPYTHON_TOP, "generated": 12}
    assert near_tie([13], cpython)  # 0.195 against 0.20
    assert not near_tie([11], cpython)  # 0.30 against 0.20
    assert not near_tie([999], cpython) and not near_tie([12], cpython)
    assert not near_tie([13, 12], cpython)  # one click, two tokens


def test_a_traceback_from_the_page_is_told_on_one_line_by_the_exception_it_ends_in():
    said = (
        "PythonError: Traceback (most recent call last):\n"
        '  File "/home/pyodide/pyexplainer/page/loading.py", line 36, in open_model\n'
        "pyexplainer.manifest.ModelFileError: weights.bin is corrupt\n\n"
        "    at new_error (http://127.0.0.1/pyodide/pyodide.asm.js:8:578922)\n"
    )
    assert smoke_checks.one_line(said) == (
        "PythonError: Traceback (most recent call last): … "
        "pyexplainer.manifest.ModelFileError: weights.bin is corrupt"
    )
    assert smoke_checks.one_line("planted page error") == "planted page error"
    assert len(smoke_checks.one_line("x" * 1000)) == 300


# --- the deploy -----------------------------------------------------------------------------------


def build_steps() -> list[dict]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]


def smoke_command(run: str) -> str:
    """The smoke test's own command in the step that runs it (in a container)."""
    (command,) = re.findall(r"python -m pyexplainer smoke [^'&\n]*", run)
    return command.strip()


def test_the_deploy_runs_the_smoke_test_after_the_build_and_before_the_upload():
    steps = build_steps()
    runs = [step.get("run", "") for step in steps]
    build = runs.index("python build/hub_models.py site --out site $HUB_MODELS")
    (smoke_step,) = [i for i, run in enumerate(runs) if "python -m pyexplainer smoke" in run]
    upload = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/upload"))
    assert build < smoke_step < upload
    run = runs[smoke_step]
    assert smoke_command(run) == "python -m pyexplainer smoke site --record"
    # Debian's chromium from Debian's archive, in a Debian image pinned by its digest; nothing
    # downloads a browser (`playwright install`) and nothing lets a failure pass
    image = steps[smoke_step]["env"]["DEBIAN_PYTHON"]
    assert re.fullmatch(r"python:3\.11-bookworm@sha256:[0-9a-f]{64}", image)
    assert '"$DEBIAN_PYTHON" bash -euo pipefail -c' in run
    assert "apt-get install -y -q chromium" in run and "playwright install" not in run
    assert not any("playwright install" in r for r in runs)
    assert "continue-on-error" not in steps[smoke_step] and "|| true" not in run
    # the step summary, mounted into the container where the smoke test writes it
    assert '--volume "$GITHUB_STEP_SUMMARY:/step-summary.md"' in run
    assert "--env GITHUB_STEP_SUMMARY=/step-summary.md" in run


# --- in Chromium ----------------------------------------------------------------------------------


@pytest.fixture
def chromium_installed():
    if needed_program("chromium") is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")


@pytest.fixture
def site_copy(site, tmp_path, chromium_installed):
    """A copy of the demo site (the session's build), to plant a failure in."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    return copy


def run_smoke(site, *options: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "pyexplainer", "smoke", str(site), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
    )
    print(done.stdout, done.stderr)  # shown when a test fails
    return done


@pytest.mark.browser
def test_the_workflows_smoke_command_passes_on_the_demo_site_and_says_what_it_published(
    site, tmp_path, chromium_installed
):
    """The command as the deploy runs it (from the checkout, on its `site` folder), with a step
    summary to write to."""
    work = tmp_path / "work"
    shutil.copytree(site, work / "site")
    summary = tmp_path / "step_summary.md"
    summary.write_text("## Hub models on the site\n", encoding="utf-8")  # an earlier step's
    (run,) = [s["run"] for s in build_steps() if "pyexplainer smoke" in s.get("run", "")]
    env = {
        **{k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"},
        "PYTHONPATH": str(ROOT),  # the checkout: pyexplainer and bench/
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", smoke_command(run)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
    )
    print(done.stdout, done.stderr)
    assert done.returncode == 0
    out = done.stdout.splitlines()
    assert out[0].startswith("smoke test of site in Chromium ")
    assert out[1] == "demo (int4):"
    assert f"  prompt (en): {smoke_checks.PROMPTS['en']}" in out
    assert any(re.fullmatch(r"  loaded in [\d.]+ s, running on WebAssembly.*graph model\.onnx; "
                            r"[\d.]+ MB of it on the wire", line) for line in out)  # fmt: skip
    assert "  12 tokens, the same as CPython's" in out
    assert any(line.startswith("  top 10 probabilities: largest difference from CPython ")
               for line in out)  # fmt: skip
    assert any(re.fullmatch(r"  generated at temperature 0: \[\d+\], the CLI's too: \[\d+\] .+",
                            line) for line in out)  # fmt: skip
    assert "  page errors: 0" in out and "  passed" in out
    assert re.fullmatch(
        r"first visit \(demo\): [\d.]+ MB \(runtime [\d.]+ MB, app [\d.]+ MB, model [\d.]+ MB\)",
        out[-2],
    )
    assert out[-1] == "all 1 model(s) passed"

    info = json.loads((work / "site" / "build-info.json").read_text(encoding="utf-8"))
    published = info["published"]
    assert published["passed"] is True and published["default"] == "demo"
    visit = published["first_visit_bytes"]
    assert visit["total"] == visit["runtime"] + visit["app"] + visit["model"] > 0
    (demo,) = published["models"]
    manifest = json.loads((work / "site/models/demo/manifest.json").read_text(encoding="utf-8"))
    assert demo["quantization"] == "int4" and demo["graph_run"] == "model.onnx"
    assert demo["graphs"] == manifest["onnx"]["graphs"]
    fixed = manifest["fidelity"]["quantized_vs_fp32"]["fidelity_text"]
    assert demo["fidelity_vs_fp32"]["wasm"]["fidelity_text"] == {
        "top1": fixed["top1_agreement_vs_fp32"],
        "mean_kl_nats": fixed["mean_kl_nats_vs_fp32"],
        "perplexity": fixed["perplexity_quantized"],
        "perplexity_fp32": fixed["perplexity_fp32"],
        "positions": fixed["positions"],
    }
    # on the wire: at least the weights (not compressed), at most all its files
    weights = manifest["files"]["weights.bin"]["bytes"]
    assert weights <= demo["wire_bytes"] <= sum(f["bytes"] for f in manifest["files"].values())
    assert demo["wire_bytes"] <= visit["model"]
    figures = demo["smoke"]
    assert figures["passed"] and figures["problems"] == [] and figures["prompt_tokens"] == 12
    assert figures["generated_token"] == figures["cli_generated_token"]
    assert figures["top10_max_abs_difference"] < smoke_checks.ABSOLUTE_TOLERANCE
    assert info["files"] and info["build"]  # build-info.json's own sections as they were

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Hub models on the site\n")  # appended to
    assert "## What the site publishes (smoke test in headless Chromium)" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| demo |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == f"{demo['wire_bytes'] / 1e6:.1f} MB"
    assert cells[2] == "int4"
    assert re.fullmatch(r"model\.onnx on WebAssembly, \d+ thread\(s\)", cells[3])
    assert cells[4] == (
        f"top-1 {fixed['top1_agreement_vs_fp32']:.1%}, mean KL "
        f"{fixed['mean_kl_nats_vs_fp32']:.4f} nats, perplexity "
        f"{fixed['perplexity_quantized']:.1f} (float32 {fixed['perplexity_fp32']:.1f})"
    )
    assert cells[5].startswith("top 10 within ") and "as the CLI does; no page error" in cells[5]
    assert (
        f"First visit (a fresh browser, the default model demo): {visit['total'] / 1e6:.1f} MB"
        in text
    )


# The page's softmax, planted off: the bars then show other probabilities than CPython's
SOFTMAX = "probs = np.exp((x - x.max()) / temperature)"
PLANTED_SOFTMAX = "probs = np.exp((x - x.max()) / (1.25 * temperature))"


@pytest.mark.browser
def test_the_smoke_test_fails_when_the_page_shows_other_probabilities_than_cpython(site_copy):
    sampling = site_copy / "py" / "pyexplainer" / "core" / "sampling.py"
    code = sampling.read_text(encoding="utf-8")
    assert code.count(SOFTMAX) == 1
    sampling.write_text(code.replace(SOFTMAX, PLANTED_SOFTMAX), encoding="utf-8")
    done = run_smoke(site_copy)
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert "  12 tokens, the same as CPython's" in out  # it ran, and the tokens are right
    assert any(re.match(r"  FAIL: #1: token \d+ has [\d.]+ on the page, [\d.]+ in CPython", line)
               for line in out)  # fmt: skip
    assert "  page errors: 0" in out and out[-1] == "FAILED: demo of 1 model(s)"


@pytest.mark.browser
def test_the_smoke_test_fails_when_a_model_file_is_corrupted_after_the_build(site_copy):
    weights = site_copy / "models" / "demo" / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    done = run_smoke(site_copy)
    assert done.returncode == 1
    fails = [line for line in done.stdout.splitlines() if line.startswith("  FAIL: ")]
    assert any(line.startswith("  FAIL: CPython: the CLI's predict failed: ") for line in fails)
    assert any("page: " in line and "weights.bin" in line for line in fails)
    assert done.stdout.splitlines()[-1] == "FAILED: demo of 1 model(s)"


PLANTED_SCRIPT = 'setTimeout(() => { throw new Error("planted page error"); }, 0);\n'


@pytest.mark.browser
def test_the_smoke_test_fails_when_the_page_throws(site_copy):
    (site_copy / "planted.js").write_text(PLANTED_SCRIPT, encoding="utf-8")
    index = site_copy / "index.html"
    html = index.read_text(encoding="utf-8")
    assert html.count("</head>") == 1
    index.write_text(
        html.replace("</head>", '<script src="./planted.js"></script>\n</head>'), encoding="utf-8"
    )
    done = run_smoke(site_copy)
    assert done.returncode == 1
    out = done.stdout.splitlines()
    assert any(
        line.startswith("  FAIL: page: uncaught exception: ") and "planted page error" in line
        for line in out
    )
    # everything else held: the error alone fails it
    assert "  12 tokens, the same as CPython's" in out
    assert [line for line in out if line.startswith("  FAIL: ")] == [
        line for line in out if "planted page error" in line
    ]
    assert out[-1] == "FAILED: demo of 1 model(s)"


@pytest.mark.browser
def test_every_model_of_a_site_is_checked_a_chinese_one_on_the_chinese_prompt(
    site,
    chinese_export,  # noqa: F811  (the imported fixture)
    tmp_path,
    chromium_installed,
):
    """The demo and the tiny Chinese GPT-2 (tests/test_browser_chinese.py), the Chinese one the
    default: each opened through its link, the Chinese one on the Chinese prompt."""
    two = tmp_path / "two"
    command = [sys.executable, "build/make_site.py", "--out", str(two), "--default", CHINESE]
    command += ["--model", str(site / "models" / "demo"), "--model", str(chinese_export)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    done = run_smoke(two)
    assert done.returncode == 0
    out = done.stdout.splitlines()
    assert "demo (int4):" in out and f"{CHINESE} (int8):" in out
    assert f"  prompt (zh): {smoke_checks.PROMPTS['zh']}" in out
    assert out.count("  passed") == 2 and out[-1] == "all 2 model(s) passed"
    assert out[-2].startswith(f"first visit ({CHINESE}): ")
