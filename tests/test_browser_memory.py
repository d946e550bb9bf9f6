"""The page's memory in headless Chromium: what it keeps after loading, what the logit lens and the
head roles cost, and when. Marked `browser`, on the built site's demo model."""

import json

import pytest

from bench.memory import WASM_MEMORIES
from pyexplainer.core.lens import LENS_CALL_BYTES
from tests.test_browser import READY_OR_ERROR

pytestmark = pytest.mark.browser

# Before the page's scripts: every WebAssembly memory (the benchmark's watcher: Pyodide's,
# onnxruntime-web's) and a weak reference to every Uint8Array made (the model's weights: the
# ones of weights.bin's length in bytes, and of the WebAssembly weights made from it).
WATCH = (
    WASM_MEMORIES
    + """(() => {
  const arrays = [];
  globalThis.Uint8Array = new Proxy(Uint8Array, {
    construct(target, args, newTarget) {
      const a = Reflect.construct(target, args, newTarget);
      arrays.push([a.byteLength, new WeakRef(a)]);
      return a;
    },
  });
  globalThis.watched = {
    wasmBytes: () => pyexplainerBenchWasmMemories().reduce((n, m) => n + m.bytes, 0),
    liveArrays: (length) => arrays.filter(([n, r]) => n === length && r.deref()).length,
    madeArrays: (length) => arrays.filter(([n]) => n === length).length,
  };
})();"""
)
ACTIONS = "() => Number(document.querySelector('[data-testid=status]').dataset.actions)"


@pytest.fixture
def watched(chromium, server):
    """A fresh tab on the site with WATCH installed, once the page is ready."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.goto(server)
    page.wait_for_function(READY_OR_ERROR, timeout=300_000)
    yield page
    context.close()


def collect_garbage(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.detach()


def weights_bytes(site) -> tuple[int, int]:
    """The byte lengths of weights.bin and of the WebAssembly weights the page makes from it."""
    index = json.loads((site / "models" / "index.json").read_text())
    manifest = json.loads((site / index["models"][0]["path"] / "manifest.json").read_text())
    return manifest["weights"]["bytes"], manifest["weights"]["wasm"]["bytes"]


def run(page, text: str) -> None:
    before = page.evaluate(ACTIONS)
    page.fill("[data-testid=prompt-input]", text)
    page.click("[data-testid=run-button]")
    page.wait_for_function(f"() => ({ACTIONS})() > {before}")


def test_the_model_bytes_are_not_kept_once_the_session_has_them(watched, site):
    """The page streams weights.bin into one Uint8Array and makes the WebAssembly weights into
    another, for onnxruntime-web, which copies them into its own memory: after that no
    reference may keep either (a second copy of the model)."""
    for n in weights_bytes(site):
        assert watched.evaluate(f"watched.madeArrays({n})") >= 1  # the download's, the made one
    collect_garbage(watched)
    for n in weights_bytes(site):
        assert watched.evaluate(f"watched.liveArrays({n})") == 0


def test_the_logit_lens_grows_webassembly_memory_by_little(watched):
    """The lens of 64 positions asks in calls of at most LENS_CALL_BYTES per (rows, V) array,
    of which the int8 output layer holds about six at once; in one call (the demo model: 5 x 64
    x 50257 floats, 64 MB, six times) it would grow onnxruntime-web's memory, which never
    shrinks, by some 400 MB (with calls of 32 MiB: 192 MB)."""
    run(watched, "word" + " word" * 63)
    before = watched.evaluate("watched.wasmBytes()")
    actions = watched.evaluate(ACTIONS)
    watched.click("[data-testid=stage-tabs] [data-kind=lens]")
    watched.wait_for_selector("[data-testid=logit-lens][data-state=ready]")
    watched.wait_for_function(f"() => ({ACTIONS})() > {actions}")
    grown = watched.evaluate("watched.wasmBytes()") - before
    assert grown <= 7 * LENS_CALL_BYTES, f"{grown / 1e6:.0f} MB"


def test_head_roles_run_the_induction_pass_when_first_opened(watched):
    """The load makes no pass over the repeated random sequence: the head roles tab first shows
    a note while the model runs it (one action), then the induction scores; later openings
    reuse them."""
    states = """() => {
      window.headRoleStates = [];
      new MutationObserver(() => {
        const panel = document.querySelector('[data-testid=head-roles]');
        const state = panel && panel.dataset.state;
        if (state && state !== window.headRoleStates.at(-1)) window.headRoleStates.push(state);
      }).observe(document.querySelector('[data-testid=detail]'), {childList: true, subtree: true});
    }"""
    watched.evaluate(states)
    actions = watched.evaluate(ACTIONS)
    watched.click("[data-testid=stage-tabs] [data-kind=heads]")
    watched.wait_for_selector("[data-testid=head-roles][data-state=ready]")
    watched.wait_for_function(f"() => ({ACTIONS})() > {actions}")
    assert watched.evaluate("window.headRoleStates") == ["computing", "ready"]
    assert watched.evaluate(ACTIONS) == actions + 1
    watched.select_option("[data-testid=head-role-select]", "induction")
    assert watched.locator("[data-testid=head-roles] [data-action=open-head]").count() > 0
    watched.click("[data-testid=stage-tabs] [data-kind=embedding]")
    watched.click("[data-testid=stage-tabs] [data-kind=heads]")
    assert watched.get_attribute("[data-testid=head-roles]", "data-state") == "ready"
    assert watched.evaluate(ACTIONS) == actions + 1
