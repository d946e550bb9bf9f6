"""A host that sends no cross-origin isolation headers (GitHub Pages): the service worker gives
the page COOP/COEP, and stores every file already carrying them, so that on a revisit it hands
the cached response on as it is (re-wrapping a cached body pipes it through the worker's
JavaScript: weights.bin took seconds instead of a fraction of one). The page is isolated on the
first visit (after its one reload), on a revisit, and offline. Marked `browser`."""

import http.server
import threading

import pytest

from pyexplainer.serve import SiteHandler, make_server, url_of
from tests.conftest import stop_server
from tests.test_browser import TABS_RECORD, Student
from tests.test_browser_storage import settled

pytestmark = pytest.mark.browser
ISOLATION = ("Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy")
# Every cached response's isolation headers, by path
CACHED_HEADERS = """async (names) => {
  const found = {};
  for (const key of await caches.keys()) {
    const cache = await caches.open(key);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      found[new URL(request.url).pathname] = names.map((n) => response.headers.get(n));
    }
  }
  return found;
}"""


class NoIsolationHeaders(SiteHandler):
    """The site as a host without custom headers serves it."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        http.server.SimpleHTTPRequestHandler.end_headers(self)


def test_without_isolation_headers_the_page_is_isolated_and_the_cache_holds_them(chromium, site):
    httpd = make_server(site, host="127.0.0.1", port=0, handler=NoIsolationHeaders)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = url_of(httpd)
    s = Student(chromium, url)
    try:
        assert s.status() == "ready" and s.page.evaluate("crossOriginIsolated")
        paths = settled(s)
        assert any(p.endswith("/weights.bin") for p in paths)
        headers = s.page.evaluate(CACHED_HEADERS, list(ISOLATION))
        del headers[TABS_RECORD]  # the worker's own record: never handed to a page
        assert headers and all(h == ["same-origin", "require-corp"] for h in headers.values()), {
            p: h for p, h in headers.items() if h != ["same-origin", "require-corp"]
        }
        s.page.close()
        s.visit(url)  # the cache's responses, as they are
        assert s.status() == "ready" and s.page.evaluate("crossOriginIsolated")
        stop_server(httpd)
        httpd = None
        s.page.close()
        s.visit(url)  # offline
        assert s.status() == "ready" and s.page.evaluate("crossOriginIsolated")
        s.assert_no_python_error()
    finally:
        s.close()
        if httpd is not None:
            stop_server(httpd)
