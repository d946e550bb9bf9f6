"""The local static server: cross-origin isolation headers, MIME types, gzip, on loopback only."""

import gzip
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from pyexplainer.__main__ import main
from pyexplainer.serve import SiteHandler, make_server, url_of

FILES = {
    "index.html": (b"<!doctype html><title>pyexplainer</title>\n" * 50, "text/html"),
    "ort/ort.wasm.min.mjs": (b"export const version = '1';\n" * 200, "text/javascript"),
    "ort/ort-wasm-simd-threaded.wasm": (
        b"\0asm\1\0\0\0" + bytes(range(256)) * 400,
        "application/wasm",
    ),
    "models/m/model.onnx": (bytes(range(256)) * 40, "application/octet-stream"),
    "models/index.json": (b'{"models": []}\n', "application/json"),
    "pyodide/numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl": (
        b"PK\3\4" * 100,
        "application/zip",
    ),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for rel, (data, _) in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    server = make_server(root, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url_of(server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def get(url: str, **headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.mark.parametrize("rel", sorted(FILES))
def test_every_file_is_sent_cross_origin_isolated_with_its_mime_type(site, rel):
    status, headers, body = get(site + rel)
    assert status == 200
    assert body == FILES[rel][0]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Type"].split(";")[0] == FILES[rel][1]
    assert "Content-Encoding" not in headers  # the client did not ask for gzip


def test_the_folder_url_serves_index_html(site):
    status, headers, body = get(site)
    assert status == 200 and body == FILES["index.html"][0]
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"


@pytest.mark.parametrize("rel", ["ort/ort-wasm-simd-threaded.wasm", "ort/ort.wasm.min.mjs"])
def test_text_and_webassembly_are_gzipped_when_accepted(site, rel):
    status, headers, body = get(site + rel, **{"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"].split(";")[0] == FILES[rel][1]
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert int(headers["Content-Length"]) == len(body) < len(FILES[rel][0])
    assert gzip.decompress(body) == FILES[rel][0]
    status, headers, body = get(
        site + rel, **{"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]}
    )
    assert status == 304 and body == b""


def test_the_model_is_sent_as_it_is_even_when_gzip_is_accepted(site):
    """The page counts the model's bytes against its manifest for the progress bar."""
    status, headers, body = get(site + "models/m/model.onnx", **{"Accept-Encoding": "gzip"})
    assert status == 200 and "Content-Encoding" not in headers
    assert body == FILES["models/m/model.onnx"][0]


def test_missing_files_and_paths_outside_the_site_are_404(site):
    assert get(site + "nothing.js")[0] == 404
    assert get(site + "../../../etc/passwd")[0] == 404
    assert get(site + "%2e%2e/%2e%2e/etc/passwd")[0] == 404


def test_a_given_handler_serves_the_site_in_place_of_the_default(tmp_path):
    class TaggingHandler(SiteHandler):
        def end_headers(self) -> None:
            self.send_header("X-Handler", "tagging")
            super().end_headers()

    (tmp_path / "index.html").write_bytes(FILES["index.html"][0])
    server = make_server(tmp_path, port=0, handler=TaggingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, headers, body = get(url_of(server) + "index.html")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert status == 200 and body == FILES["index.html"][0]
    assert headers["X-Handler"] == "tagging"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"  # still the site's handler


def test_cli_serve_refuses_a_folder_that_does_not_exist(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nope"), "--port", "0"]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_the_core_does_not_import_the_server():
    code = (
        "import sys, pyexplainer, pyexplainer.core.generation, pyexplainer.manifest;"
        "assert 'pyexplainer.serve' not in sys.modules and 'http.server' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
