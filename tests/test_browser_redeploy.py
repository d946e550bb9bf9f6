"""A teacher redeploys: the site on an address is replaced by a new build. A returning student
must get the new build whole (never a file of the old one beside it), and then have it offline.
Marked `browser`."""

import json
import shutil

import pytest

from tests.conftest import start_server, stop_server
from tests.test_browser import CACHED_PATHS, Student
from tests.test_build import make_site, renamed  # build/ is a folder of scripts

pytestmark = pytest.mark.browser

BUILD = "() => document.querySelector('meta[name=pyexplainer-build]').content"
STYLE_MARK = "() => getComputedStyle(document.body).getPropertyValue('--build-mark').trim()"


def build(out, model, tmp_path, mark: str):
    """A site whose only model, named "classroom", is `model`; its style sheet carries `mark`
    (other app bytes)."""
    web = tmp_path / f"web-{mark}"
    shutil.copytree(make_site.WEB, web)
    with (web / "style.css").open("a") as css:
        css.write(f'\nbody {{ --build-mark: "{mark}"; }}\n')
    named = renamed(model, tmp_path / f"model-{mark}", "classroom")
    return make_site.make_site(out, [named], web=web)


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
        # the old build's cache is gone once B's worker has activated (it may still be on the way)
        s.page.wait_for_function(
            "async (only) => JSON.stringify(await caches.keys()) === JSON.stringify([only])",
            arg=f"pyexplainer-{b['build']}",
            timeout=30_000,
        )
        assert s.page.is_hidden("[data-testid=new-version]")  # this tab is the new version
        # the tab still on build A, now under B's worker, offers the new version
        old_tab.wait_for_selector("[data-testid=new-version]", state="visible", timeout=20_000)
        old_tab.close()
    finally:
        stop_server(httpd)
    s.context.new_cdp_session(s.page).send("Network.clearBrowserCache")
    s.page.close()
    s.visit(url)  # offline: the service worker alone
    assert s.status() == "ready" and "int4 weights" in model_line(s)
    assert s.page.evaluate(STYLE_MARK) == '"B"'
    context.close()


def test_the_build_id_is_in_the_page_the_worker_and_build_info(tiny_int8, tmp_path):
    info = build(tmp_path / "site", tiny_int8, tmp_path, "A")
    site = tmp_path / "site"
    assert (
        f'<meta name="pyexplainer-build" content="{info["build"]}">'
        in (site / "index.html").read_text()
    )
    assert f'const BUILD_ID = "{info["build"]}";' in (site / "sw.js").read_text()
    assert json.loads((site / "build-info.json").read_text())["build"] == info["build"]
