"""Storage limits and broken downloads, through the real service worker: a browser that will not
store the site (its quota overridden to a few MB) runs it from the network and says offline use
is unavailable (as it does with no service worker at all), a later visit with room stores it,
and freeing the space empties the site's caches; a model download cut off half-way is named
with Retry, nothing of it is stored, and Retry runs the model (the probabilities CPython's),
the first one as a switch to another. Marked `browser`."""

import json
import threading

import pytest

from pyexplainer.model_dir import open_model_dir
from pyexplainer.serve import SiteHandler, make_server, url_of
from tests.conftest import start_server, stop_server
from tests.test_browser import (
    CACHED_PATHS,
    LOAD_TIMEOUT_MS,
    TABS_RECORD,
    Student,
    assert_same_predictions,
    expected_predictions,
)
from tests.test_build import make_site, renamed  # build/ is a folder of scripts

pytestmark = pytest.mark.browser
# The shell fits, Pyodide's WebAssembly (8.6 MB) and the model (12 MB) do not. (The browser
# enforces it, but navigator.storage.estimate() still gives the disk's quota.)
FEW_MB = 4_000_000
STORAGE_STATE = "() => document.querySelector('[data-testid=storage-info]').dataset.state"


def storage(s: Student, state: str) -> str:
    """The storage line once it says `state` (in the model picker, which may be closed)."""
    s.page.wait_for_selector(
        f"[data-testid=storage-info][data-state={state}]", state="attached", timeout=60_000
    )
    return s.page.text_content("[data-testid=storage-info]")


def cached(s: Student) -> list[str]:
    return s.page.evaluate(CACHED_PATHS)


def settled(s: Student) -> list[str]:
    """What the caches hold once the service worker's puts in the background have stopped."""
    before = None
    while (now := sorted(cached(s))) != before:
        before = now
        s.page.wait_for_timeout(1500)
    return now


def open_picker(s: Student) -> None:
    """The model picker open (the model list and the storage line are in it)."""
    if not s.page.eval_on_selector("[data-testid=model-picker]", "e => e.open"):
        s.page.click("[data-testid=model-picker] > summary")


def stored_badge(s: Student, model: str) -> str:
    open_picker(s)
    return s.page.get_attribute(f"[data-testid=model-list] [data-model='{model}']", "data-stored")


def same_predictions_as_cpython(s: Student, model) -> None:
    prompt = s.page.input_value("[data-testid=prompt-input]")
    assert_same_predictions(s.predictions(), expected_predictions(model, prompt))


def test_with_no_room_the_page_runs_says_offline_is_unavailable_then_stores_and_frees(
    chromium, site, cpython_model
):
    httpd, url = start_server(site)
    origin = url.rstrip("/")
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        devtools = context.new_cdp_session(context.new_page())  # kept open: the override lasts
        devtools.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": FEW_MB})
        s = Student(chromium, url, context=context)
        assert s.status() == "ready"
        same_predictions_as_cpython(s, cpython_model)
        said = storage(s, "refused")
        assert said.startswith("Offline use is not available on this device")
        assert s.page.is_visible("[data-testid=storage-warning]")  # said with the picker closed
        assert "QuotaExceededError" in said
        # the model's small files may fit (they are asked for first, as the page loads), its
        # weights never: the model is not stored for offline use
        assert not [p for p in cached(s) if p.endswith("/weights.bin")]
        assert stored_badge(s, cpython_model.manifest.name) == "false"

        devtools.send("Storage.overrideQuotaForOrigin", {"origin": origin})  # room again
        s.page.close()
        s.visit(url)
        assert s.status() == "ready"
        said = storage(s, "stored")
        assert said.startswith(f"{cpython_model.manifest.name} is stored for offline use")
        assert "The browser allows this site " in said
        assert s.page.is_hidden("[data-testid=storage-warning]")
        assert stored_badge(s, cpython_model.manifest.name) == "true"
        assert any(p.endswith("/model.onnx") for p in settled(s))

        open_picker(s)  # the storage line is in the picker
        s.page.click("[data-testid=free-storage]")
        said = storage(s, "freed")
        assert said.startswith("Freed ") and "keeps nothing of this site now" in said
        assert cached(s) == [] and s.page.evaluate("async () => await caches.keys()") == []
        assert stored_badge(s, cpython_model.manifest.name) == "false"
        assert s.page.is_disabled("[data-testid=free-storage]")
        s.run("Once upon a time")  # the page runs on from memory
        same_predictions_as_cpython(s, cpython_model)
        s.assert_no_python_error()
    finally:
        context.close()
        stop_server(httpd)


def test_without_a_service_worker_the_page_says_offline_use_is_unavailable(chromium, server):
    s = Student(chromium, server, service_workers="block")  # as in a private window
    try:
        assert s.status() == "ready"
        said = storage(s, "unavailable")
        assert said.startswith("Offline use is not available in this browser window")
        warning = s.page.text_content("[data-testid=storage-warning]")
        assert s.page.is_visible("[data-testid=storage-warning]") and warning == (
            "⚠ offline use unavailable"
        )
        s.assert_no_python_error()
    finally:
        s.close()


class CutsTheModel(SiteHandler):
    """Sends the file whose path ends in the server's `cut` ("" for none) with its full
    Content-Length and half of its bytes, then drops the connection."""

    def copyfile(self, source, outputfile) -> None:
        if self.server.cut and self.path.endswith(self.server.cut):
            data = source.read()
            outputfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        super().copyfile(source, outputfile)


def cutting_server(site, cut: str):
    httpd = make_server(site, host="127.0.0.1", port=0, handler=CutsTheModel)
    httpd.cut = cut
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_a_model_download_cut_off_half_way_is_named_stored_nowhere_and_retry_runs_it(
    chromium, site, cpython_model
):
    index = json.loads((site / "models" / "index.json").read_text())
    model_path = index["models"][0]["path"] + "model.onnx"
    httpd = cutting_server(site, "/model.onnx")
    try:
        s = Student(chromium, url_of(httpd))
        assert s.page.get_attribute("[data-testid=status]", "data-state") == "error"
        assert model_path in s.status()
        broken = s.page.locator("[data-testid=download-broken]")
        assert broken.is_visible() and model_path in broken.text_content()
        assert s.page.is_visible("[data-testid=retry-download]")
        # the service worker's copy of the body broke off too: its put failed, nothing is kept
        s.page.wait_for_function(
            "() => pyexplainerStoreReports.some(r => r.url.endsWith('/model.onnx'))"
        )
        assert not [p for p in cached(s) if p.endswith("/model.onnx")]
        s.page.wait_for_timeout(1000)  # the page has heard the report: a broken body is no
        assert s.page.evaluate(STORAGE_STATE) != "refused"  # refusal to store

        httpd.cut = ""
        s.page.click("[data-testid=retry-download]")
        s.page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=LOAD_TIMEOUT_MS)
        assert broken.is_hidden()
        same_predictions_as_cpython(s, cpython_model)
        storage(s, "stored")
        size = s.page.evaluate(
            "async p => (await (await caches.match(p)).arrayBuffer()).byteLength", model_path
        )
        assert size == (site / model_path).stat().st_size  # the whole file, once complete
        s.assert_no_python_error()
        s.close()
    finally:
        stop_server(httpd)


def test_a_switch_whose_download_breaks_off_keeps_the_model_running_and_retry_switches(
    chromium, tiny_int4, tiny_int8, tmp_path
):
    folders = [renamed(tiny_int4, tmp_path / "int4", "tiny-int4")]
    folders.append(renamed(tiny_int8, tmp_path / "int8", "tiny-int8"))
    make_site.make_site(tmp_path / "site", folders)  # tiny-int4 is its default
    httpd = cutting_server(tmp_path / "site", "/models/tiny-int8/model.onnx")
    try:
        s = Student(chromium, url_of(httpd))
        assert s.status() == "ready"
        s.page.click("[data-testid=model-picker] > summary")
        s.act_on("[data-testid=model-list] [data-action=use-model][data-model='tiny-int8']")
        note = s.page.text_content("[data-testid=model-note]")
        assert note.startswith("tiny-int8 was not opened") and "tiny-int4 keeps running" in note
        broken = s.page.locator("[data-testid=download-broken]")
        assert "models/tiny-int8/model.onnx" in broken.text_content()
        assert s.page.text_content("[data-testid=model-info]").startswith("tiny-int4")

        httpd.cut = ""
        s.act("retry-download")
        assert s.status() == "ready" and broken.is_hidden()
        assert s.page.text_content("[data-testid=model-info]").startswith("tiny-int8")
        int8 = open_model_dir(tmp_path / "site" / "models" / "tiny-int8")
        same_predictions_as_cpython(s, int8)
        s.assert_no_python_error()
        s.close()
    finally:
        stop_server(httpd)


# Before the page's scripts: every Response that Cache Storage hands the page is marked, and any
# read of a marked one's body is counted (the page's own downloads read fetch bodies as streams;
# Pyodide and PyScript never open Cache Storage).
COUNT_CACHED_BODY_READS = """(() => {
  const fromCache = new WeakSet();
  globalThis.cachedBodyReads = 0;
  const mark = (found) => {
    for (const r of [found].flat()) if (r instanceof Response) fromCache.add(r);
    return found;
  };
  for (const [proto, name] of [[Cache.prototype, "match"], [Cache.prototype, "matchAll"],
                               [CacheStorage.prototype, "match"]]) {
    const original = proto[name];
    proto[name] = async function (...args) { return mark(await original.apply(this, args)); };
  }
  for (const name of ["arrayBuffer", "blob", "text", "json", "formData", "bytes"]) {
    const original = Response.prototype[name];
    if (!original) continue;
    Response.prototype[name] = function (...args) {
      if (fromCache.has(this)) globalThis.cachedBodyReads += 1;
      return original.apply(this, args);
    };
  }
})();"""
MB_ON_DEVICE = r"keeps (\d+\.\d) MB on this device \((\d+) files\)"


def test_the_storage_line_measures_the_caches_without_reading_a_cached_body(chromium, server, site):
    """Reading every cached body to size it held Pyodide's and onnxruntime's WebAssembly in the
    tab (the demo's renderer peak 0.77 -> 1.04 GB): the browser's own account is used instead."""
    import re

    s = Student(chromium, server, init_script=COUNT_CACHED_BODY_READS)
    try:
        assert s.status() == "ready"
        paths = settled(s)
        storage(s, "stored")
        s.page.close()
        s.visit(server)  # from the caches now
        assert s.status() == "ready"
        said = storage(s, "stored")
        assert s.page.evaluate("cachedBodyReads") == 0
        mb, files = re.search(MB_ON_DEVICE, said).groups()
        assert int(files) == len(cached(s))
        files_of_site = [p for p in paths if not p.endswith("/") and p != TABS_RECORD]
        on_disk = sum((site / p.lstrip("/")).stat().st_size for p in files_of_site)
        assert on_disk / 1e6 <= float(mb) <= 1.5 * on_disk / 1e6  # the bodies, and bookkeeping
        s.assert_no_python_error()
    finally:
        s.context.close()


class ShortWithoutLength(SiteHandler):
    """Sends the file whose path ends in the server's `short` ("" for none) without a
    Content-Length, ending after half of its bytes: to the browser, a whole body."""

    def send_header(self, keyword: str, value: str) -> None:
        if not (self.server.short and self.path.endswith(self.server.short)):
            super().send_header(keyword, value)
        elif keyword.lower() != "content-length":
            super().send_header(keyword, value)

    def copyfile(self, source, outputfile) -> None:
        if self.server.short and self.path.endswith(self.server.short):
            data = source.read()
            outputfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        super().copyfile(source, outputfile)


def test_a_body_without_length_that_ends_early_is_never_stored_as_whole(
    chromium, site, cpython_model
):
    httpd = make_server(site, host="127.0.0.1", port=0, handler=ShortWithoutLength)
    httpd.short = "/model.onnx"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        s = Student(chromium, url_of(httpd))
        assert s.page.get_attribute("[data-testid=status]", "data-state") == "error"
        assert "model.onnx" in s.status()  # its size differs from the manifest's
        report = s.page.wait_for_function(
            "() => pyexplainerStoreReports.find(r => r.url.endsWith('/model.onnx'))"
        ).json_value()
        assert report["error"].startswith("NetworkError: the body ended at"), report
        assert not [p for p in cached(s) if p.endswith("/model.onnx")]

        httpd.short = ""
        s.page.close()
        s.visit(url_of(httpd))  # had the short copy been kept, this would fail as the first
        assert s.status() == "ready"
        same_predictions_as_cpython(s, cpython_model)
        s.assert_no_python_error()
        s.close()
    finally:
        stop_server(httpd)


@pytest.mark.parametrize("answer", ["abort", 500], ids=["network error", "server error"])
def test_a_failed_model_index_is_named_with_retry_and_retry_runs(
    chromium, server, cpython_model, answer
):
    failing = True

    def respond(route):
        if not failing:
            route.continue_()
        elif answer == "abort":
            route.abort()
        else:
            route.fulfill(status=answer, body="")

    # routes see the page's own requests only when no service worker answers them
    context = chromium.new_context(service_workers="block")
    context.route("**/models/index.json", respond)
    try:
        s = Student(chromium, server, context=context)
        assert s.page.get_attribute("[data-testid=status]", "data-state") == "error"
        assert "models/index.json could not be downloaded" in s.status()
        broken = s.page.locator("[data-testid=download-broken]")
        assert broken.is_visible() and "models/index.json" in broken.text_content()

        failing = False
        s.page.click("[data-testid=retry-download]")
        s.page.wait_for_selector("[data-testid=status][data-state=ready]", timeout=LOAD_TIMEOUT_MS)
        assert broken.is_hidden()
        same_predictions_as_cpython(s, cpython_model)
        s.assert_no_python_error()
    finally:
        context.close()
