"""The model picker in headless Chromium: a site with two models (the tiny int4 and int8 exports),
switching between them, a link to a model the site lacks, the advice before a download the device
should not make, and an exported folder opened from disk (the folder picker, or dropped files).
Every probability shown is compared with CPython on the same model files. Marked `browser`."""

import json
import shutil
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.colors import contrast_ratio
from pyexplainer.views.models import COMFORTABLE_SHARE, GIB, estimated_tab_bytes
from tests.conftest import ROOT, start_server, stop_server
from tests.test_browser import (
    CACHED_PATHS,
    LOAD_TIMEOUT_MS,
    SCREENSHOTS,
    Student,
    assert_same_predictions,
    expected_predictions,
)
from tests.test_browser_a11y import TEXT_COLOURS
from tests.test_browser_locale import SHOWN_STRINGS, token_labels, untranslated

sys.path.insert(0, str(ROOT / "build"))
import make_site  # noqa: E402

pytestmark = pytest.mark.browser
PROMPT = "Once upon a time"
MODEL_FILES = (
    "manifest.json",
    "model.onnx",
    "model-webgpu.onnx",
    "weights.bin",
    "vocab.json",
    "merges.txt",
)


def renamed(export, folder, name):
    """A copy of an export whose manifest names it `name`."""
    shutil.copytree(export, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "name": name}))
    return folder


@pytest.fixture(scope="module")
def two_models(tiny_int4, tiny_int8, tmp_path_factory):
    """The site with tiny-int4 (its default) and tiny-int8, served: (url, {name: folder})."""
    tmp = tmp_path_factory.mktemp("two-models")
    folders = {
        "tiny-int4": renamed(tiny_int4, tmp / "int4", "tiny-int4"),
        "tiny-int8": renamed(tiny_int8, tmp / "int8", "tiny-int8"),
    }
    make_site.make_site(tmp / "site", list(folders.values()))
    httpd, url = start_server(tmp / "site")
    yield url, {name: tmp / "site" / "models" / name for name in folders}
    stop_server(httpd)


@pytest.fixture(scope="module")
def cpython(two_models):
    _, folders = two_models
    return {name: open_model_dir(folder) for name, folder in folders.items()}


def picker_rows(s: Student) -> list[dict]:
    return s.page.eval_on_selector_all(
        "[data-testid=model-list] > [data-model]",
        "els => els.map(e => ({name: e.dataset.model, stored: e.dataset.stored,"
        " running: e.getAttribute('aria-current') === 'true', text: e.textContent}))",
    )


def open_picker(s: Student) -> None:
    if not s.page.eval_on_selector("[data-testid=model-picker]", "e => e.open"):
        s.page.click("[data-testid=model-picker] > summary")


def use_model(s: Student, name: str) -> None:
    open_picker(s)
    s.act_on(f"[data-testid=model-list] [data-action=use-model][data-model='{name}']")


def model_line(s: Student) -> str:
    return s.page.text_content("[data-testid=model-info]")


def shot(s: Student, name: str) -> None:
    """The picker open, on a laptop and on a phone; the page must not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 800), (390, 844)):
        s.page.set_viewport_size({"width": width, "height": height})
        overflow = s.page.evaluate(
            "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert overflow <= 0, (name, width)
        s.page.evaluate("() => window.scrollTo(0, 0)")  # the picker is in the page's header
        s.page.screenshot(path=SCREENSHOTS / f"{name}-{width}x{height}.png")
    s.page.set_viewport_size({"width": 1280, "height": 800})


def test_the_picker_lists_the_models_and_a_switch_keeps_prompt_view_and_settings(
    chromium, two_models, cpython
):
    url, folders = two_models
    s = Student(chromium, url)
    try:
        assert s.status() == "ready" and model_line(s).startswith("tiny-int4: GPT-2, 2 layers")
        open_picker(s)
        rows = picker_rows(s)
        assert [(r["name"], r["running"]) for r in rows] == [
            ("tiny-int4", True),
            ("tiny-int8", False),
        ]
        index = json.loads((folders["tiny-int8"].parent / "index.json").read_text())
        for row, entry in zip(rows, index["models"], strict=True):
            assert "2 layers, 4 heads, d=32" in row["text"]
            assert f"{entry['parameters'] / 1e6:.1f}M parameters" in row["text"]
            assert f"{entry['quantization']} weights" in row["text"]
            top1 = f"the same top token {entry['fidelity']['top1']:.1%}"
            assert top1 in row["text"]
            if row["stored"] == "false":
                assert f"{entry['bytes'] / 1e6:.1f} MB to download" in row["text"]
        s.page.fill("[data-testid=temperature-value]", "0.5")
        s.page.fill("[data-testid=top-k]", "5")
        s.run(PROMPT)
        s.open("attention")
        s.pick("layer-select", 1)
        s.page.click("[data-testid=attention-heatmap][data-head='2'] + button")
        shot(s, "model-picker")

        use_model(s, "tiny-int8")
        assert s.status() == "ready", s.status()
        assert model_line(s).startswith("tiny-int8: GPT-2")
        assert "int8 weights" in model_line(s)
        settings = dict(temperature=0.5, top_k=5)
        shown, int8 = (
            s.predictions(),
            expected_predictions(cpython["tiny-int8"], PROMPT, **settings),
        )
        assert_same_predictions(shown, int8)
        int4 = expected_predictions(cpython["tiny-int4"], PROMPT, **settings)
        assert [p for _, p in int8] != [p for _, p in int4]  # the two models tell apart
        assert s.page.input_value("[data-testid=prompt-input]") == PROMPT
        assert s.page.input_value("[data-testid=temperature-value]") == "0.5"
        step = s.page.locator("[data-testid=attention-step]")
        assert (step.get_attribute("data-layer"), step.get_attribute("data-head")) == ("1", "2")
        query = parse_qs(urlsplit(s.page.url).query)
        assert query["model"] == ["tiny-int8"] and query["view"] == ["attention,1"]
        size = (folders["tiny-int8"] / "weights.bin").stat().st_size / 1e6
        assert s.page.text_content("[data-testid=load-label]") == (
            f"weights.bin: {size:.1f} of {size:.1f} MB"
        )  # the download's progress, at its end: the weights come last
        assert [r["name"] for r in picker_rows(s) if r["running"]] == ["tiny-int8"]

        use_model(s, "tiny-int4")  # and back
        assert_same_predictions(
            s.predictions(), expected_predictions(cpython["tiny-int4"], PROMPT, **settings)
        )
        assert not [m for m in s.console if "was not released" in m]  # each switch frees one

        # the service worker stores what the page fetched: the picker says so once it has it all
        stored = [f"/models/tiny-int8/{n}" for n in MODEL_FILES]
        s.page.wait_for_function(
            f"async () => ({CACHED_PATHS})().then(p => {stored!r}.every(x => p.includes(x)))",
            timeout=60_000,
        )
        s.page.click("[data-testid=model-picker] > summary")  # closed, then opened again
        s.page.click("[data-testid=model-picker] > summary")
        s.page.wait_for_selector(
            "[data-testid=model-list] [data-model='tiny-int8'][data-stored=true]"
        )
        row = [r for r in picker_rows(s) if r["name"] == "tiny-int8"][0]
        assert "stored for offline use" in row["text"] and "to download" not in row["text"]
        s.assert_no_python_error()
    finally:
        s.close()


def test_a_link_to_a_model_the_site_lacks_runs_the_default_and_says_so(
    chromium, two_models, cpython
):
    url, _ = two_models
    s = Student(chromium, url + "?model=gpt3&prompt=Once+upon+a+time")
    try:
        assert "This link asks for the model “gpt3”, which this site does not have" in s.status()
        assert "tiny-int4 is running instead" in s.status()
        assert model_line(s).startswith("tiny-int4:")
        assert_same_predictions(s.predictions(), expected_predictions(cpython["tiny-int4"], PROMPT))
        assert parse_qs(urlsplit(s.page.url).query)["model"] == ["tiny-int4"]
    finally:
        s.close()
    named = Student(chromium, url + "?model=tiny-int8")  # a model alone, with no state around it
    try:
        assert named.status() == "ready" and model_line(named).startswith("tiny-int8:")
        text = named.page.input_value("[data-testid=prompt-input]")
        assert_same_predictions(
            named.predictions(), expected_predictions(cpython["tiny-int8"], text)
        )
    finally:
        named.close()


SAVE_DATA = "Object.defineProperty(navigator, 'connection', {value: {saveData: true}});"


def device_memory(gib: float) -> str:
    return f"Object.defineProperty(navigator, 'deviceMemory', {{value: {gib!r}}});"


def advice(s: Student) -> str:
    s.page.wait_for_selector("[data-testid=model-advice]:not([hidden])")
    return s.page.text_content("[data-testid=model-advice] p")


def test_save_data_asks_before_the_larger_model_downloads(chromium, two_models, cpython):
    url, folders = two_models
    s = Student(chromium, url, init_script=SAVE_DATA)
    try:
        assert s.status() == "ready" and model_line(s).startswith("tiny-int4:")  # the smallest
        open_picker(s)
        s.page.click("[data-testid=model-list] [data-model='tiny-int8'] button")
        mb = sum((folders["tiny-int8"] / n).stat().st_size for n in MODEL_FILES) / 1e6
        assert advice(s) == (
            f"Your browser asks to save data, and tiny-int8 is a {mb:.1f} MB download."
        )
        buttons = s.page.eval_on_selector_all(
            "[data-testid=model-advice] button", "els => els.map(e => e.textContent)"
        )
        assert buttons == ["Keep tiny-int4", "Download tiny-int8 anyway"]
        assert model_line(s).startswith("tiny-int4:")  # nothing started
        shot(s, "model-advice")
        s.act_on("[data-testid=model-advice] button:nth-of-type(2)")
        assert model_line(s).startswith("tiny-int8:") and s.status() == "ready"
    finally:
        s.close()


def model_sizes(folders: dict) -> dict:
    return {n: sum((f / m).stat().st_size for m in MODEL_FILES) for n, f in folders.items()}


def only_int4_fits(folders: dict) -> float:
    """A device memory (GiB) that holds the page with tiny-int4 but not with tiny-int8."""
    tabs = sorted(estimated_tab_bytes(b) for b in model_sizes(folders).values())
    return sum(tabs) / 2 / COMFORTABLE_SHARE / GIB


def test_a_link_to_a_model_too_big_for_the_device_offers_the_one_that_fits(
    chromium, two_models, cpython
):
    url, folders = two_models
    size = model_sizes(folders)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(device_memory(only_int4_fits(folders)))
    page = context.new_page()
    try:
        page.goto(url + "?model=tiny-int8&prompt=Once+upon+a+time")
        page.wait_for_selector("[data-testid=model-advice]:not([hidden])", timeout=LOAD_TIMEOUT_MS)
        assert page.get_attribute("[data-testid=status]", "data-state") == "choose_model"
        said = page.text_content("[data-testid=model-advice] p")
        needs = f"{estimated_tab_bytes(size['tiny-int8']) / GIB:.1f}"
        assert said.startswith(f"tiny-int8 needs about {needs} GB of memory in this tab, more than")
        page.click("[data-testid=model-advice] button:first-of-type")  # Use tiny-int4 instead
        page.wait_for_function(
            "() => document.querySelector('[data-testid=status]').dataset.state === 'ready'",
            timeout=LOAD_TIMEOUT_MS,
        )
        assert page.text_content("[data-testid=model-info]").startswith("tiny-int4:")
        note = page.text_content("[data-testid=model-note]")  # what was asked for, and why not
        assert note.startswith(f"tiny-int8 was asked for; it needs about {needs} GB of memory")
        assert note.endswith("so tiny-int4 runs instead.")
    finally:
        context.close()


# ---------------------------------------------------------------- a folder from disk


@pytest.fixture
def disk_model(tiny_fp32, tmp_path):
    """An exported folder on the student's disk: the fp32 export, which the site does not have."""
    return renamed(tiny_fp32, tmp_path / "my-export", "my-export")


def open_folder(s: Student, folder) -> None:
    before = s.page.get_attribute("[data-testid=status]", "data-actions")
    s.page.set_input_files("[data-testid=open-model-folder]", folder)
    s.page.wait_for_function(
        "n => document.querySelector('[data-testid=status]').dataset.actions !== n", arg=before
    )


def test_a_folder_from_disk_runs_and_nothing_of_it_is_requested(chromium, two_models, disk_model):
    url, _ = two_models
    s = Student(chromium, url)
    try:
        s.run(PROMPT)
        asked = []  # (method, url) of every request from here on, the page's and its worker's
        s.context.on("request", lambda r: asked.append((r.method, r.url)))
        open_folder(s, disk_model)
        assert s.status() == "ready", s.status()
        line = model_line(s)
        assert line.startswith("my-export: GPT-2") and "fp32 weights" in line
        assert "opened from your disk (folder my-export), not from this site" in line
        assert_same_predictions(
            s.predictions(), expected_predictions(open_model_dir(disk_model), PROMPT)
        )
        # nothing of the folder was fetched, nothing uploaded (the browser may fetch its icon)
        assert not [u for _, u in asked if u.endswith(MODEL_FILES)], asked
        assert {method for method, _ in asked} <= {"GET"}, asked
        assert parse_qs(urlsplit(s.page.url).query)["model"] == ["my-export"]
        assert not [r for r in picker_rows(s) if r["running"]]  # no site model is running
        s.assert_no_python_error()
    finally:
        s.close()


def broken(folder, what: str):
    if what == "corrupt":
        data = bytearray((folder / "model.onnx").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "model.onnx").write_bytes(bytes(data))
    elif what == "truncated":
        (folder / "vocab.json").write_bytes((folder / "vocab.json").read_bytes()[:-10])
    elif what == "missing":
        (folder / "merges.txt").unlink()
    else:
        (folder / "manifest.json").unlink()
    return folder


@pytest.mark.parametrize(
    "what, message",
    [
        ("corrupt", "model.onnx is corrupt: its sha256 differs from the manifest's"),
        ("truncated", "vocab.json has 1,042,291 bytes, the manifest says 1,042,301"),
        (
            "missing",
            "merges.txt is missing from the folder 'my-export' (its manifest.json lists it)",
        ),
        ("no manifest", "no manifest.json among the 4 file(s) opened"),
    ],
)
def test_a_wrong_folder_is_named_and_the_running_model_keeps_running(
    chromium, two_models, cpython, disk_model, what, message
):
    url, _ = two_models
    s = Student(chromium, url)
    try:
        open_folder(s, broken(disk_model, what))
        assert message in s.status()
        note = s.page.text_content("[data-testid=model-note]")
        assert note.startswith("The folder was not opened (ModelFileError: ")
        assert message in note and note.endswith("; tiny-int4 keeps running.")
        assert model_line(s).startswith("tiny-int4:")
        s.run(PROMPT)
        assert s.status() == "ready"
        assert_same_predictions(s.predictions(), expected_predictions(cpython["tiny-int4"], PROMPT))
    finally:
        s.close()


def drop(s: Student, paths) -> None:
    """Drop files or folders from the system onto the page (Chromium's own drag and drop, through
    the DevTools protocol: the page gets real FileSystemEntry objects, a folder's included)."""
    cdp = s.context.new_cdp_session(s.page)
    data = {"items": [], "files": [str(p) for p in paths], "dragOperationsMask": 1}
    before = s.page.get_attribute("[data-testid=status]", "data-actions")
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": 600, "y": 400, "data": data})
    s.page.wait_for_function(
        "n => document.querySelector('[data-testid=status]').dataset.actions !== n", arg=before
    )
    cdp.detach()


@pytest.mark.parametrize("how", ["files", "folder"])
def test_a_dropped_folder_or_its_files_run(chromium, two_models, disk_model, how):
    url, _ = two_models
    s = Student(chromium, url)
    try:
        s.run(PROMPT)
        asked = []
        s.context.on("request", lambda r: asked.append(r.url))
        drop(s, sorted(disk_model.iterdir()) if how == "files" else [disk_model])
        assert s.status() == "ready", s.status()
        folder = "my-export" if how == "folder" else "."
        assert f"opened from your disk (folder {folder})" in model_line(s)
        assert_same_predictions(
            s.predictions(), expected_predictions(open_model_dir(disk_model), PROMPT)
        )
        assert not [u for u in asked if u.endswith(MODEL_FILES)], asked
    finally:
        s.close()


def test_the_open_picker_and_its_advice_read_in_chinese_with_aa_contrast(chromium, two_models):
    url, _ = two_models
    s = Student(chromium, url, locale="zh-CN", init_script=SAVE_DATA)
    try:
        open_picker(s)
        s.page.click("[data-testid=model-list] [data-model='tiny-int8'] button")
        advice(s)
        shown = s.page.evaluate(SHOWN_STRINGS)
        assert untranslated(shown, "tiny-int4", "tiny-int8", *token_labels(s)) == []
        failures = []
        for item in s.page.evaluate(TEXT_COLOURS):
            large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
            ratio = contrast_ratio(item["colour"], item["background"])
            if ratio < (3 if large else 4.5):
                failures.append((round(ratio, 2), item["text"], item["where"]))
        assert not failures, failures
        shot(s, "model-advice-zh-CN")
        s.assert_no_python_error()
    finally:
        s.close()
