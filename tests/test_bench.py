"""python -m pyexplainer bench: its pure parts without a browser, then one quick real run."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bench.interactions
from bench import BenchError
from bench.interactions import DRAG_TEMPERATURES, Interactions, drag_slider, slider_step
from bench.memory import chromium_process_type, peak_resident_bytes
from bench.page import generate_many
from bench.report import (
    action_summary,
    backend_targets,
    byte_group,
    bytes_by_group,
    drag_report,
    failures,
    figure,
    generation_report,
    interaction_report,
    latency,
    overlapping,
    ratio,
    sampled,
    start_events,
    timeline_report,
)
from bench.site import Traffic, prompt_of_length, start_server
from pyexplainer.config import ModelConfig
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.manifest import TOKENIZER_FILES
from tests.conftest import ROOT, VOCAB_DIR, hf_gpt2_tokenizer

RUNTIME = {"pyodide", "pyscript", "ort"}


@pytest.mark.parametrize(
    "path, group",
    [
        ("models/demo/model.onnx", "model"),
        ("models/index.json", "model"),
        ("pyodide/pyodide.asm.wasm", "runtime"),
        ("pyscript/core.js", "runtime"),
        ("ort/ort-wasm-simd-threaded.wasm", "runtime"),
        ("", "app"),  # the page itself, asked for as /
        ("index.html", "app"),
        ("sw.js", "app"),
        ("py/pyexplainer/app.py", "app"),
        ("ortho/x.js", "app"),  # a folder is matched whole, not by its prefix
    ],
)
def test_every_path_falls_in_one_byte_group(path, group):
    assert byte_group(path, RUNTIME) == group


def test_bytes_are_added_up_per_group_and_held_against_the_target():
    sent = {"models/m/model.onnx": 30, "ort/a.wasm": 10, "pyodide/b.zip": 5, "": 2, "sw.js": 1}
    assert bytes_by_group(sent, RUNTIME, 50) == {
        "runtime": 15,
        "app": 3,
        "model": 30,
        "total": {"value": 48, "target": 50, "met": True},
    }
    assert bytes_by_group(sent, RUNTIME, 40)["total"]["met"] is False


def test_a_figure_meets_its_target_at_or_below_it():
    assert figure(3.0) == {"value": 3.0}
    assert figure(3.0, 3) == {"value": 3.0, "target": 3, "met": True}
    assert figure(3.1, 3)["met"] is False


def test_sampled_figures_are_medians_that_keep_their_runs():
    assert sampled([30.0, 10.0, 20.0], 25) == {
        "value": 20.0,
        "target": 25,
        "met": True,
        "runs": [30.0, 10.0, 20.0],
    }
    assert sampled([1.0, 2.0])["value"] == 1.5


# What a warm visit of the demo saw of its start (bench.page.START_TIMELINE, recorded in Chromium;
# of the app's 77 files only the first, of the rest of the requests those the timeline reads)
WARM_VISIT = {
    "html_first_byte": 19.89,
    "reload_ms": None,
    "marks": {
        "status-ready": 4621.2,
        "status-running": 4521.2,
        "session": 4515.9,
        "status-starting_model": 4256.8,
        "model-bytes": 4024.1,
        "status-loading": 3966.4,
        "app-imported": 3955.9,
        "python-ready": 3051.6,
        "prefetch-done": 834.2,
        "pyscript-start": 199.4,
        "prefetch-start": 192.5,
        "boot": 177.5,
    },
    "requests": [
        ["/models/index.json", 192.9, 208.8],
        ["/models/demo/manifest.json", 211.9, 244.6],
        ["/models/demo/vocab.json", 271.6, 406.0],
        ["/models/demo/weights.bin", 271.7, 677.3],
        ["/ort/ort-wasm-simd-threaded.wasm", 325.2, 665.2],
        ["/pyodide/numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl", 759.8, 953.4],
        ["/py/pyexplainer/__init__.py", 2691.5, 2726.3],
        ["/main.py", 2946.4, 2951.7],
        ["/models/index.json", 3970.6, 3978.0],
        ["/models/demo/manifest.json", 4002.6, 4006.8],
    ],
}


def test_a_start_is_read_event_by_event_from_the_marks_and_the_requests():
    assert start_events(WARM_VISIT) == {
        "html_first_byte": 19.9,
        "first_script": 177.5,
        "pyodide_start": 199.4,
        "python_ready": 3051.6,
        "app_imported": 3955.9,
        "model_bytes_in": 4024.1,
        "session_start": 4256.8,
        "session_made": 4515.9,
        "first_run_start": 4521.2,
        "first_render": 4621.2,
        "model_requested": 271.6,  # vocab.json; neither the index nor the manifest
        "model_downloaded": 677.3,  # weights.bin's last byte
        "packages_requested": 759.8,
        "packages_fetched": 953.4,
        "pyodide_ready": 2691.5,
    }


def test_a_start_after_the_isolation_reload_counts_the_page_before_it():
    cold = {**WARM_VISIT, "reload_ms": 1250.04, "marks": {"boot": 80.0}, "requests": []}
    expected = {"html_first_byte": 19.9, "first_script": 80.0, "reload_ms": 1250.0}
    assert start_events(cold) == expected


def test_phases_that_ran_at_the_same_time_are_named_with_how_long():
    phases = {"a": [0.0, 100.0], "b": [50.0, 300.0], "c": [100.0, 120.0], "d": [400.0, 500.0]}
    assert overlapping(phases) == [
        {"phases": ["a", "b"], "ms": 50.0},
        {"phases": ["b", "c"], "ms": 20.0},  # a and c only touch
    ]


def test_the_timeline_takes_each_events_median_then_its_phases_and_overlaps():
    first = start_events(WARM_VISIT)
    later = {**first, "model_requested": 300.0, "model_downloaded": 3300.0, "python_ready": 3100.0}
    report = timeline_report([first, later, {**later, "app_imported": 4000.0}])
    assert report["events_ms"]["model_downloaded"] == 3300.0
    assert report["events_ms"]["python_ready"] == 3100.0
    assert report["events_ms"]["app_imported"] == 3955.9  # the median of 3955.9, 3955.9, 4000
    assert report["phases_ms"] == {
        "packages_download": [759.8, 953.4],
        "pyodide_boot": [199.4, 2691.5],
        "app_import": [3100.0, 3955.9],
        "model_download": [300.0, 3300.0],
        "session": [4256.8, 4515.9],
        "first_run": [4521.2, 4621.2],
    }
    assert report["overlapping"] == [
        {"phases": ["packages_download", "pyodide_boot"], "ms": 193.6},
        {"phases": ["packages_download", "model_download"], "ms": 193.6},
        {"phases": ["pyodide_boot", "model_download"], "ms": 2391.5},
        {"phases": ["app_import", "model_download"], "ms": 200.0},
    ]


def test_an_event_one_visit_lacks_is_left_out_of_the_timeline():
    first = start_events(WARM_VISIT)
    cut = {k: v for k, v in first.items() if k not in ("session_start", "session_made")}
    report = timeline_report([first, cut])
    assert "session_made" not in report["events_ms"] and "session" not in report["phases_ms"]
    assert report["phases_ms"]["first_run"] == [4521.2, 4621.2]


def test_ratios_keep_three_significant_digits():
    assert ratio(2, 3) == 0.667
    assert ratio(0.4, 2450.8) == 0.000163
    assert ratio(3, 1) == 3.0


def test_action_timings_become_medians_per_key():
    timings = [
        {"inference_ms": 10.04, "decompose_ms": 1.0, "total_ms": 20.0},
        {"inference_ms": 30.0, "decompose_ms": 3.0, "total_ms": 40.0},
        {"inference_ms": 20.0, "decompose_ms": 2.0, "total_ms": 30.0},
    ]
    summary = action_summary(timings)
    assert summary["inference_ms"] == {"value": 20.0, "runs": [10.0, 30.0, 20.0]}
    assert [summary[k]["value"] for k in ("decompose_ms", "total_ms")] == [2.0, 30.0]


def test_a_timing_missing_from_one_action_is_left_out():
    timings = [{"inference_ms": 1.0, "render_ms": 2.0}, {"inference_ms": 3.0}]
    assert list(action_summary(timings)) == ["inference_ms"]


def test_the_forward_pass_and_interaction_targets_hold_on_webassembly_only():
    targets = {
        "cold_start_ms": 10_000,
        "explained_forward_T64_ms": 450,
        "interaction_ms": 100,
        "all_views_after_run_ms": 1_500,
    }
    assert backend_targets(targets, "wasm") == targets
    assert backend_targets(targets, "webgpu") == {"cold_start_ms": 10_000}


def test_a_latency_holds_page_and_wall_time_each_against_the_target():
    redraws = [{"page_ms": 40.0, "wall_ms": 90.0}, {"page_ms": 60.0, "wall_ms": 130.0}]
    assert latency(redraws, 100) == {
        "page_ms": {"value": 50.0, "target": 100, "met": True, "runs": [40.0, 60.0]},
        "wall_ms": {"value": 110.0, "target": 100, "met": False, "runs": [90.0, 130.0]},
    }
    assert latency(redraws, None)["page_ms"] == {"value": 50.0, "runs": [40.0, 60.0]}


def test_all_views_after_a_run_add_the_run_to_the_other_stages():
    redraw = {"page_ms": 10.0, "wall_ms": 20.0}
    samples = Interactions(
        all_views=[
            {"run_total_ms": 300.0, "other_stages_ms": 100.0},
            {"run_total_ms": 500.0, "other_stages_ms": 50.0},
            {"run_total_ms": 400.0, "other_stages_ms": 200.5},
        ],
        temperature=[redraw] * 3,
        layer=[redraw] * 3,
        head=[redraw] * 3,
        open_stage={"embedding": [redraw] * 3, "mlp": [redraw] * 3},
    )
    report = interaction_report(samples, {"interaction_ms": 100, "all_views_after_run_ms": 500})
    assert report["repeats"] == 3 and report["prompt_tokens"] == 32
    views = report["all_views_after_run_ms"]
    assert views["runs"] == [400.0, 550.0, 600.5]
    assert (views["value"], views["target"], views["met"]) == (550.0, 500, False)
    assert views["run_total_ms"]["value"] == 400.0
    assert views["other_stages_ms"]["value"] == 100.0
    assert list(report["open_stage"]) == ["embedding", "mlp"]
    for section in ("temperature", "layer_switch_in_attention", "head_switch"):
        assert report[section] == latency([redraw] * 3, 100)
    assert report["temperature_drag"] == {"skipped": "the page's temperature is no slider"}
    samples.temperature_drag = [redraw, {"page_ms": 30.0, "wall_ms": 150.0}]
    drag = interaction_report(samples, {"interaction_ms": 100, "slider_update_ms": 90})[
        "temperature_drag"
    ]
    assert drag["updates"] == 2 and drag["wall_ms"]["value"] == 85.0
    assert (drag["max_wall_ms"]["value"], drag["max_wall_ms"]["target"]) == (150.0, 90)


def test_the_slider_is_dragged_down_then_up_in_steps_it_can_take():
    values = [float(v) for v in DRAG_TEMPERATURES]
    assert values[0] == 1.0 and min(values) == 0.3 and values[-1] == 1.8
    low = values.index(0.3)
    assert values[: low + 1] == sorted(values[: low + 1], reverse=True)  # down
    assert values[low:] == sorted(values[low:])  # then up
    steps = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    assert all(0.05 - 1e-9 <= step <= 0.1 + 1e-9 for step in steps)
    # the range has step 0.05 from 0 to 2: a value between steps would snap to another one
    assert all(0 <= v <= 2 and abs(v * 20 - round(v * 20)) < 1e-9 for v in values)
    assert len(values) >= 20


def test_a_drag_reports_median_and_slowest_update_against_the_target():
    updates = [
        {"page_ms": 20.0, "wall_ms": 40.0},
        {"page_ms": 30.0, "wall_ms": 130.0},
        {"page_ms": 10.0, "wall_ms": 50.0},
        {"page_ms": 40.0, "wall_ms": 60.0},
    ]
    assert drag_report(updates, 100) == {
        "updates": 4,
        "wall_ms": {"value": 55.0, "target": 100, "met": True, "runs": [40.0, 130.0, 50.0, 60.0]},
        "max_wall_ms": {"value": 130.0, "target": 100, "met": False},
        "page_ms": {"value": 25.0, "target": 100, "met": True, "runs": [20.0, 30.0, 10.0, 40.0]},
        "max_page_ms": {"value": 40.0, "target": 100, "met": True},
    }


def test_generating_n_tokens_is_reported_beside_the_one_cached_step():
    runs = [
        {"wall_ms": 1000.0, "ms_per_token": 100.0, "page_total_ms": 950.0},
        {"wall_ms": 1400.0, "ms_per_token": 140.0, "page_total_ms": 1300.0},
        {"wall_ms": 1200.0, "ms_per_token": 120.0, "page_total_ms": 1100.0},
    ]
    step = {"total_ms": {"value": 90.0, "runs": [90.0]}}
    report = generation_report(runs, step)
    assert report["wall_ms"] == {"value": 1200.0, "runs": [1000.0, 1400.0, 1200.0]}
    assert report["ms_per_token"]["value"] == 120.0
    assert report["page_total_ms"]["value"] == 1100.0
    assert report["cached_step_after_T64_total_ms"] == 90.0
    assert all("target" not in v for v in report.values() if isinstance(v, dict))  # none given


@pytest.mark.parametrize("n", [1, 16, 32, 64, 65])
def test_prompts_have_exactly_the_tokens_asked_for(n):
    vocab, merges = ((VOCAB_DIR / name).read_text(encoding="utf-8") for name in TOKENIZER_FILES)
    text = prompt_of_length(Tokenizer.from_strings(vocab, merges), n)
    assert len(hf_gpt2_tokenizer().encode(text).ids) == n


def test_a_prompt_of_the_wrong_length_is_refused():
    class OneTokenForAll:
        def encode(self, text):
            return [0]

    with pytest.raises(BenchError, match="meant to be 16 tokens long is 1 tokens"):
        prompt_of_length(OneTokenForAll(), 16)


@pytest.mark.parametrize(
    "cmdline, kind",
    [
        ("/usr/lib/chromium/chromium\0--no-sandbox\0--headless\0", "browser"),
        (
            "/usr/lib/chromium/chromium --type=renderer --crashpad-handler-pid=0 --lang=en",
            "renderer",
        ),
        ("/usr/lib/chromium/chromium --type=gpu-process --no-sandbox", "gpu-process"),
        ("/usr/bin/node\0driver/cli.js\0run-driver\0", None),
        ("", None),
    ],
)
def test_chromium_processes_are_told_apart_by_type(cmdline, kind):
    assert chromium_process_type(cmdline) == kind


def test_peak_resident_memory_is_read_from_proc_status():
    status = "Name:\tchromium\nVmPeak:\t 9000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 100000 kB\n"
    assert peak_resident_bytes(status) == 123456 * 1024
    assert peak_resident_bytes("Name:\tchromium\nState:\tZ (zombie)\n") == 0


def test_the_server_counts_every_byte_it_sends_per_path(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.onnx").write_bytes(bytes(range(256)) * 4)
    server = start_server(tmp_path)
    try:
        before = server.traffic.snapshot()
        with socket.create_connection(server.server_address[:2], timeout=10) as conn:
            conn.sendall(b"GET /models/m.onnx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b"".join(iter(lambda: conn.recv(65536), b""))
        sent = server.traffic.since(before)
    finally:
        server.shutdown()
        server.server_close()
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(bytes(range(256)))
    assert sent == {"models/m.onnx": len(received)}


def test_traffic_since_a_snapshot_holds_only_what_came_after():
    traffic = Traffic()
    traffic.add("a", 5)
    before = traffic.snapshot()
    traffic.add("a", 3)
    traffic.add("b", 1)
    assert traffic.since(before) == {"a": 3, "b": 1}


def test_failures_name_the_sections_that_could_not_be_measured():
    report = {
        "site_model": {"name": "demo", "wasm": {"available": True}, "webgpu": {"error": "boom"}},
        "gpt2_small": {"skipped": True},
    }
    assert failures(report) == ["site_model on webgpu: boom"]


# --- the slider and "Generate N tokens" on a stand-in page that keeps the page's contract ------

# What the page promises the benchmark (issue 15): the range and its input events, each
# answered by a "settings" redraw (data-redraw, data-redraws); "Generate N tokens" as one action
# appending N chips, then data-state=ready with data-actions one more.
STAND_IN = """<p data-testid=status data-actions=1 data-state=ready data-redraws=0></p>
<input type=range data-testid=temperature min=0 max=2 step=0.05 value=1>
<ol data-testid=token-list><li data-token-id=7>a</li></ol>
<input type=number data-testid=generate-count min=1 max=50 value=1>
<button data-testid=generate-many>Generate</button>
<script>
const s = document.querySelector('[data-testid=status]');
window.seen = [];
document.querySelector('[data-testid=temperature]').addEventListener('input', e => {
  const started = performance.now();
  while (performance.now() - started < 5) {}  // 5 ms of drawing
  window.seen.push(e.target.value);
  s.dataset.redraw = JSON.stringify({what: WHAT, ms: performance.now() - started});
  s.dataset.redraws = String(Number(s.dataset.redraws) + 1);
});
document.querySelector('[data-testid=generate-many]').addEventListener('click', async () => {
  const started = performance.now();
  s.dataset.state = 'running';
  const n = Number(document.querySelector('[data-testid=generate-count]').value);
  for (let i = 0; i < n - SHORT; i++) {
    await new Promise(resolve => setTimeout(resolve, 20));  // one token, 20 ms
    const chip = document.createElement('li');
    chip.dataset.tokenId = String(i);
    document.querySelector('[data-testid=token-list]').append(chip);
  }
  s.dataset.timings = JSON.stringify({total_ms: performance.now() - started});
  s.dataset.actions = String(Number(s.dataset.actions) + 1);
  s.dataset.state = 'ready';
});
</script>"""


def stand_in(chromium, what="settings", short=0):
    page = chromium.new_page()
    page.set_content(STAND_IN.replace("WHAT", repr(what)).replace("SHORT", str(short)))
    return page


@pytest.mark.browser
def test_a_drag_sets_each_value_and_times_each_redraw(chromium):
    page = stand_in(chromium)
    try:
        updates = drag_slider(page)
        seen = [float(v) for v in page.evaluate("window.seen")]  # the range's own spelling
        assert seen == [float(v) for v in DRAG_TEMPERATURES]
        assert page.get_attribute("[data-testid=status]", "data-redraws") == str(len(updates))
    finally:
        page.close()
    assert len(updates) == len(DRAG_TEMPERATURES)
    for update in updates:
        assert 5 <= update["page_ms"] < 1000
        assert update["wall_ms"] >= update["page_ms"]  # and the frame after it


@pytest.mark.browser
def test_a_drag_the_page_answers_otherwise_is_named(chromium, monkeypatch):
    page = stand_in(chromium, what="selection")
    try:
        with pytest.raises(BenchError, match="expected a 'settings' redraw.+'selection'"):
            slider_step(page, "0.50")
        page.set_content(
            "<p data-testid=status data-redraws=0></p><input type=range data-testid=temperature>"
        )  # a slider that never redraws
        monkeypatch.setattr(bench.interactions, "REDRAW_TIMEOUT_MS", 300)
        with pytest.raises(BenchError, match="slider at 0.50: the page never redrew"):
            slider_step(page, "0.50")
    finally:
        page.close()


@pytest.mark.browser
def test_generating_n_tokens_times_one_click_until_all_are_there(chromium):
    page = stand_in(chromium)
    try:
        generated = generate_many(page, 10)
        assert page.locator("[data-testid=token-list] li").count() == 11
    finally:
        page.close()
    assert generated["wall_ms"] >= 10 * 20  # ten tokens of 20 ms each, and the round trips
    assert generated["ms_per_token"] == round(generated["wall_ms"] / 10, 1)
    assert 10 * 20 <= generated["page_total_ms"] <= generated["wall_ms"]


@pytest.mark.browser
def test_a_generation_short_of_n_tokens_is_named(chromium):
    page = stand_in(chromium, short=1)
    try:
        with pytest.raises(BenchError, match="generating 10 tokens added 9 tokens"):
            generate_many(page, 10)
    finally:
        page.close()


# --- one real run ---------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
SMALL = ModelConfig(n_layer=2, n_head=4, n_embd=32, n_positions=128, vocab_size=50257)
ACTION_KEYS = {"inference_ms", "decompose_ms", "total_ms"}
STAGES = {"embedding", "layernorm", "attention", "mlp", "residual"}  # the page may have more


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Path:
    """A site of a tiny random model whose context holds the benchmark's 65-token prompt."""
    from bench.random_model import write_random_checkpoint
    from export.export import export_model

    tmp = tmp_path_factory.mktemp("bench")
    write_random_checkpoint(tmp / "checkpoint", SMALL)
    export_model(str(tmp / "checkpoint"), tmp / "model", name="tiny-bench", gate=False)
    subprocess.run(
        [
            sys.executable,
            "build/make_site.py",
            "--out",
            str(tmp / "site"),
            "--model",
            str(tmp / "model"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tmp / "site"


def assert_positive_figure(section: dict) -> None:
    assert section["value"] > 0
    if "target" in section:
        assert section["met"] == (section["value"] <= section["target"])


def assert_backend_measured(b: dict) -> None:
    assert b["available"] is True and b["running_on"]
    groups = b["first_visit_bytes"]
    assert groups["runtime"] > 1_000_000 and groups["app"] > 1_000 and groups["model"] > 100_000
    assert groups["total"]["value"] == groups["runtime"] + groups["app"] + groups["model"]
    assert b["warm_visit_bytes"] < groups["total"]["value"] / 10  # the service worker's cache
    for name in ("cold_start_ms", "warm_start_ms"):
        assert_positive_figure(b[name])
        assert len(b[name]["runs"]) == 1
    for action in ("forward_T16", "forward_T64", "cached_step_after_T64", "recompute_T65"):
        assert ACTION_KEYS <= set(b[action])  # the page may time more than these
        for key in ACTION_KEYS:
            assert_positive_figure(b[action][key])
        assert b[action]["total_ms"]["value"] >= b[action]["inference_ms"]["value"]
    for name in (
        "explained_forward_T64_ms",
        "decompose_over_inference_T16",
        "decompose_over_inference_T64",
        "cached_step_over_recompute",
        "peak_js_heap_bytes",
    ):
        assert_positive_figure(b[name])
    assert b["cached_step_over_recompute"]["target"] == 0.25
    generated = b["generate_N_after_T64"]
    for key in ("wall_ms", "ms_per_token", "page_total_ms"):
        assert_positive_figure(generated[key])
        assert "target" not in generated[key]
    assert generated["ms_per_token"]["value"] == round(generated["wall_ms"]["value"] / 10, 1)
    assert generated["page_total_ms"]["value"] <= generated["wall_ms"]["value"]
    assert b["peak_process_bytes"]["renderer"]["value"] > 50_000_000


def assert_interactions_measured(section: dict) -> None:
    assert section["prompt_tokens"] == 32 and section["repeats"] == 5
    latencies = [section[k] for k in ("temperature", "layer_switch_in_attention", "head_switch")]
    assert STAGES <= set(section["open_stage"])
    for redraws in [*latencies, *section["open_stage"].values()]:
        for key in ("page_ms", "wall_ms"):
            assert_positive_figure(redraws[key])
            assert len(redraws[key]["runs"]) == 5 and redraws[key]["target"] == 100
        assert redraws["wall_ms"]["value"] >= redraws["page_ms"]["value"]
    views = section["all_views_after_run_ms"]
    assert_positive_figure(views)
    assert views["target"] == 1_500 and len(views["runs"]) == 5
    assert views["value"] >= views["run_total_ms"]["value"]
    drag = section["temperature_drag"]
    assert drag["updates"] == 5 * len(DRAG_TEMPERATURES) == len(drag["wall_ms"]["runs"])
    for key in ("wall_ms", "page_ms"):
        assert_positive_figure(drag[key])
        assert drag[key]["target"] == 100 and drag[f"max_{key}"]["target"] == 100
        assert drag[f"max_{key}"]["value"] == max(drag[key]["runs"])
    assert drag["wall_ms"]["value"] >= drag["page_ms"]["value"]


@pytest.mark.browser
def test_the_benchmark_measures_a_small_site(small_site, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyexplainer",
            "bench",
            "--site",
            str(small_site),
            "--skip-gpt2-small",
            "--repeat",
            "1",
            "--out-json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # both backends, the drag and N tokens, on a machine others share
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert json.loads(out.read_text()) == report
    assert report["repeats"] == 1 and report["gpt2_small"] == {"skipped": True}
    model = report["site_model"]
    assert model["name"] == "tiny-bench" and model["config"]["n_positions"] == 128
    assert_backend_measured(model["wasm"])
    assert model["wasm"]["running_on"].startswith("WebAssembly")
    assert model["wasm"]["weights"].startswith("weights downloaded int4, kept as 8-bit integers")
    assert_interactions_measured(model["wasm"]["interaction"])
    webgpu = model["webgpu"]
    if webgpu["available"]:
        assert_backend_measured(webgpu)
        assert "skipped" in webgpu["interaction"]
        assert webgpu["running_on"] == "WebGPU" and webgpu["gpu_adapter"]
    else:
        assert webgpu["reason"]


def test_an_unshipped_gpt2_small_quantization_is_named_before_anything_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pyexplainer", "bench", "--site", str(tmp_path)]
        + ["--gpt2-small-quantize", "int4,int3", "--chromium", sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--gpt2-small-quantize int3: the site ships int4, int8" in done.stderr


def test_outside_the_source_checkout_the_command_says_where_the_benchmark_is(monkeypatch, capsys):
    from pyexplainer.__main__ import main

    for name in [m for m in sys.modules if m == "bench" or m.startswith("bench.")]:
        monkeypatch.delitem(sys.modules, name)
    # as an installed package, with no checkout on the path
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    assert main(["bench", "--site", "site"]) == 1
    assert "the benchmark is part of the source checkout (bench/" in capsys.readouterr().err


def test_the_gpt2_small_export_is_kept_only_for_the_same_exporter_code(tmp_path, monkeypatch):
    """The export's folder is named by the digest of the exporter's code, so a benchmark after
    a change to export/ measures a new export, not the one the old code made."""
    import bench.site

    sys.path.insert(0, str(ROOT / "build"))
    import make_site

    source = tmp_path / "graph.py"
    source.write_text("one way")
    monkeypatch.setattr(bench.site, "ROOT", tmp_path)
    monkeypatch.setattr(make_site, "EXPORTER_SOURCES", [source])
    before = bench.site.exporter_digest()
    assert before == make_site.files_sha256(tmp_path, [source])[:8]
    source.write_text("another way")
    assert bench.site.exporter_digest() != before
