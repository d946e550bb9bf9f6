"""A local static server for a built site: python -m pyexplainer serve DIR [--port N] [--host H].

It sends the headers that make the page cross-origin isolated (COOP/COEP, so onnxruntime-web can
use threads through SharedArrayBuffer), the MIME types the browser insists on (.mjs as JavaScript,
.wasm as application/wasm for streaming compilation), and gzips text and WebAssembly when the
browser accepts it, as GitHub Pages does. CPython only: the core never imports it.
"""

from __future__ import annotations

import gzip
import http.server
import os
import socket
import sys
import threading
from functools import partial
from pathlib import Path

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# What the page may load and run: only the site's own files and connections. Beyond that, what
# the runtime truly needs: 'wasm-unsafe-eval' to compile Pyodide's and onnxruntime-web's
# WebAssembly, 'unsafe-eval' because PyScript's core composes its hooks with Function() when it
# starts the interpreter (no page runs without it); styles may be inline (the views set them),
# scripts never. make_site.py writes the same policy into index.html as a <meta>, for hosts that
# send no headers (GitHub Pages).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'none'",
    ]
)
MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
}
# Worth compressing: text and WebAssembly (~3x smaller). Not .onnx: the page counts the model's
# bytes against its manifest for the progress bar, and int8 weights barely compress anyway.
COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".map", ".py", ".txt", ".svg", ".wasm"}


class GzipCache:
    """Gzipped bodies by (path, mtime, size), made once per file version."""

    def __init__(self):
        self._bodies: dict[tuple[str, int, int], bytes] = {}
        self._lock = threading.Lock()

    def get(self, path: str, stat: os.stat_result) -> bytes:
        key = (path, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            body = self._bodies.get(key)
        if body is None:
            with open(path, "rb") as f:
                body = gzip.compress(f.read(), compresslevel=6, mtime=0)
            with self._lock:
                self._bodies[key] = body
        return body


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    protocol_version = "HTTP/1.1"  # keep-alive: a page load is some forty requests

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if (
            os.path.isfile(path)
            and Path(path).suffix in COMPRESSIBLE
            and "gzip" in self.headers.get("Accept-Encoding", "")
        ):
            return self.send_gzipped(path)
        return super().send_head()

    def send_gzipped(self, path: str):
        stat = os.stat(path)
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-gzip"'
        if etag in self.headers.get("If-None-Match", ""):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        body = self.server.gzip_cache.get(path, stat)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        return _Body(body)

    def log_message(self, format: str, *args) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Body:
    """What send_head returns: copyfile() reads it, do_GET closes it."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        return data

    def close(self) -> None:
        pass


def make_server(
    directory: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    verbose: bool = False,
    handler: type[SiteHandler] = SiteHandler,
) -> http.server.ThreadingHTTPServer:
    """A threaded server of `directory` (port 0: any free port; see server.server_address).

    `handler`: the request handler class, SiteHandler or a subclass of it (the benchmark's counts
    the bytes it sends)."""
    server_class = http.server.ThreadingHTTPServer
    if ":" in host:
        server_class = type(
            "ThreadingHTTPServerV6", (server_class,), {"address_family": socket.AF_INET6}
        )
    server = server_class((host, port), partial(handler, directory=str(directory)))
    server.daemon_threads = True
    server.verbose = verbose
    server.gzip_cache = GzipCache()
    return server


def url_of(server: http.server.HTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(directory: str | Path, *, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until Ctrl-C; returns the exit status."""
    directory = Path(directory)
    if not directory.is_dir():
        print(
            f"error: {directory} is not a folder; build the site first "
            "(python build/make_site.py --out DIR)",
            file=sys.stderr,
        )
        return 1
    if not (directory / "index.html").is_file():
        print(f"warning: {directory} has no index.html", file=sys.stderr)
    try:
        server = make_server(directory, host=host, port=port, verbose=True)
    except OSError as e:
        print(f"error: cannot listen on {host}:{port} ({e.strerror})", file=sys.stderr)
        return 1
    print(f"Serving {directory} at {url_of(server)} (Ctrl-C stops)", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
