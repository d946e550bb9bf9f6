"""A teacher redeploys: the site on an address is replaced by a new build. A returning student
must get the new build whole (never a file of the old one beside it), and then have it offline.
Marked `browser`."""

import itertools
import json
import os
import shutil

import pytest

from tests.conftest import start_server, stop_server
from tests.test_browser import CACHED_PATHS, Student
from tests.test_build import make_site, renamed  # build/ is a folder of scripts

pytestmark = pytest.mark.browser

BUILD = "() => document.querySelector('meta[name=pyexplainer-build]').content"
STYLE_MARK = "() => getComputedStyle(document.body).getPropertyValue('--build-mark').trim()"


# Every file of every build is given a modification time within this one second, each build
# its own: a deploy may keep its files' times, and a server whose only validator is
# Last-Modified (whole seconds) then says 304 for the new build's files (the browser's HTTP
# cache must never answer for the worker). The local server's ETags and gzip cache go by the
# nanosecond: they tell the builds apart.
DEPLOYED_AT_NS = 1_700_000_000 * 10**9
deploys = itertools.count(1)


def build(out, model, tmp_path, mark: str, **others):
    """A site whose model named "classroom" (the default) is `model`, beside `others` (name:
    export); its style sheet carries `mark` (other app bytes)."""
    web = tmp_path / f"web-{mark}"
    shutil.copytree(make_site.WEB, web)
    with (web / "style.css").open("a") as css:
        css.write(f'\nbody {{ --build-mark: "{mark}"; }}\n')
    models = {"classroom": model, **others}
    named = [renamed(m, tmp_path / f"model-{mark}-{name}", name) for name, m in models.items()]
    info = make_site.make_site(out, named, web=web)
    deployed_at = DEPLOYED_AT_NS + next(deploys) * 10**6
    for path in out.rglob("*"):
        os.utime(path, ns=(deployed_at, deployed_at))
    return info


def model_line(s: Student) -> str:
    return s.page.text_content("[data-testid=model-info]")


def wait_until_stored(s: Student) -> None:
    """The service worker stores what the page fetched in the background: until the model."""
    s.page.wait_for_function(
        f"async () => ({CACHED_PATHS})().then(p => p.some(x => x.endsWith('/model.onnx')))",
        timeout=60_000,
    )


def test_a_redeployed_site_reaches_a_returning_student_whole_then_offline(
    chromium, tiny_int8, tiny_int4, tmp_path
):
    served = tmp_path / "served"
    a = build(served, tiny_int8, tmp_path, "A")
    httpd, url = start_server(served)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        s = Student(chromium, url, context=context)
        assert s.status() == "ready" and "int8 weights" in model_line(s)
        assert s.page.evaluate(BUILD) == a["build"] and s.page.evaluate(STYLE_MARK) == '"A"'
        wait_until_stored(s)
        old_tab = s.page  # stays open, on build A

        b = build(served, tiny_int4, tmp_path, "B")  # the same address, the same model name
        assert b["build"] != a["build"]
        s.visit(url)
        assert s.status() == "ready", s.status()  # no sha256 check failed
        assert "int4 weights" in model_line(s)
        assert s.page.evaluate(BUILD) == b["build"] and s.page.evaluate(STYLE_MARK) == '"B"'
        wait_until_stored(s)
        assert s.page.is_hidden("[data-testid=new-version]")  # this tab is the new version
        # the tab still on build A, now under B's worker, offers the new version
        old_tab.wait_for_selector("[data-testid=new-version]", state="visible", timeout=60_000)
        assert sorted(s.page.evaluate("caches.keys()")) == sorted(
            [*caches_of(a, b), "pyexplainer-tabs"]
        )  # build A's files are kept while a tab runs A
        old_tab.close()
    finally:
        stop_server(httpd)
    s.context.new_cdp_session(s.page).send("Network.clearBrowserCache")
    s.page.close()
    s.visit(url)  # offline: the service worker alone
    assert s.status() == "ready" and "int4 weights" in model_line(s)
    assert s.page.evaluate(STYLE_MARK) == '"B"'
    # no tab runs A any more: its cache is gone (deleted as the page loaded, maybe still going)
    s.page.wait_for_function(
        "async (only) => JSON.stringify((await caches.keys()).sort()) === JSON.stringify(only)",
        arg=sorted([*caches_of(b), "pyexplainer-tabs"]),
        timeout=30_000,
    )
    context.close()


def caches_of(*builds) -> list[str]:
    return [f"pyexplainer-{b['build']}" for b in builds]


# Before the page's scripts: the path and sha256 of every body that a fetch() of this tab got
# (the models, the app's Python, Pyodide's packages), kept in sessionStorage across a reload.
# Not in the service worker, where Playwright runs init scripts too.
RECORD_FETCHES = """(() => {
  if (typeof document === "undefined") return;
  const original = globalThis.fetch;
  const hex = (d) => Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
  globalThis.fetch = async (...args) => {
    const response = await original(...args);
    if (response.status === 200) {
      response.clone().arrayBuffer().then((body) => crypto.subtle.digest("SHA-256", body))
        .then((digest) => {
          const build = document.querySelector("meta[name=pyexplainer-build]").content;
          const got = JSON.parse(sessionStorage.getItem("got") || "[]");
          got.push([build, new URL(response.url).pathname, hex(digest)]);
          sessionStorage.setItem("got", JSON.stringify(got));
        });
    }
    return response;
  };
})();"""


def test_an_old_tab_runs_its_build_whole_or_reloads_into_the_new_one(
    chromium, tiny_int8, tiny_int4, tiny_fp32, tmp_path
):
    """A tab open on build A when B is deployed: a model of A it opens afterwards whose files B
    kept byte for byte runs (A's files, from the server), every stage is opened, and a model
    whose files B changed makes the tab reload into B, whole; every body the tab got while it
    ran A was A's."""
    served = tmp_path / "served"
    a = build(served, tiny_int8, tmp_path, "A", same=tiny_int4, changed=tiny_int8)
    files_of_a = json.loads((served / "build-info.json").read_text())["files"]
    httpd, url = start_server(served)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_FETCHES)
    try:
        s = Student(chromium, url, context=context)
        assert s.status() == "ready" and s.page.evaluate(BUILD) == a["build"]
        wait_until_stored(s)
        old_tab = s.page

        b = build(served, tiny_int8, tmp_path, "B", same=tiny_int4, changed=tiny_fp32)
        s.visit(url)  # a new tab: B's worker installs, and takes the old tab over
        assert s.status() == "ready" and s.page.evaluate(BUILD) == b["build"]
        old_tab.wait_for_selector("[data-testid=new-version]", state="visible", timeout=60_000)

        s.page = old_tab
        s.page.click("[data-testid=model-picker] > summary")
        s.act_on("[data-testid=model-list] [data-action=use-model][data-model='same']")
        assert s.status() == "ready" and model_line(s).startswith("same")
        for kind in s.page.eval_on_selector_all(
            "[data-testid=stage-tabs] [data-kind]", "tabs => tabs.map(t => t.dataset.kind)"
        ):
            s.open(kind)
        assert s.page.evaluate(BUILD) == a["build"]  # still A, every file A's

        s.page.click("[data-testid=model-list] [data-action=use-model][data-model='changed']")
        # reloaded into B, whole: waiting for B's document itself, since the link's replaceState
        # on the old document is a navigation too, and an earlier wait for one could end there
        meta = "document.querySelector('meta[name=pyexplainer-build]')"
        s.page.wait_for_function(
            f"() => {meta}?.content === '{b['build']}'", timeout=60_000, polling=200
        )
        s.wait()
        assert s.status() == "ready" and s.page.evaluate(BUILD) == b["build"]
        assert s.page.evaluate(STYLE_MARK) == '"B"'
        got = json.loads(s.page.evaluate("sessionStorage.getItem('got')"))
        ran_a = [(path, sha) for build_id, path, sha in got if build_id == a["build"]]
        assert any(path.startswith("/models/same/") for path, _ in ran_a)
        not_a = [p for p, sha in ran_a if files_of_a.get(p.lstrip("/"), {}).get("sha256") != sha]
        assert not not_a, not_a
        context.close()
    finally:
        stop_server(httpd)


def test_the_build_id_is_in_the_page_the_worker_and_build_info(tiny_int8, tmp_path):
    info = build(tmp_path / "site", tiny_int8, tmp_path, "A")
    site = tmp_path / "site"
    assert (
        f'<meta name="pyexplainer-build" content="{info["build"]}">'
        in (site / "index.html").read_text()
    )
    assert f'const BUILD_ID = "{info["build"]}";' in (site / "sw.js").read_text()
    assert json.loads((site / "build-info.json").read_text())["build"] == info["build"]
