"""The site under measurement: its default model and tokenizer, its third-party folders, a local
server of it that counts every byte it sends, and the GPT-2-small-sized sites the benchmark
builds (random weights, exported and built here)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench import BenchError, log
from bench.random_model import GPT2_SMALL, write_random_checkpoint
from pyexplainer.config import ModelConfig
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.wordpiece import WordPieceTokenizer
from pyexplainer.manifest import ModelFileError
from pyexplainer.model_dir import read_manifest
from pyexplainer.serve import SiteHandler, make_server, url_of

ROOT = Path(__file__).resolve().parent.parent
MAKE_SITE = ROOT / "build" / "make_site.py"
BUILD_TIMEOUT_S = 1_800
GPT2_SMALL_NAME = "gpt2-small-random"


def default_model_dir(site: Path) -> Path:
    try:
        index = json.loads((site / "models" / "index.json").read_text(encoding="utf-8"))
        entry = next(m for m in index["models"] if m["name"] == index["default"])
    except (OSError, ValueError, KeyError, StopIteration) as e:
        raise BenchError(f"{site} is not a built site (models/index.json: {e!r})") from e
    return site / entry["path"]


def runtime_folders(site: Path) -> set[str]:
    """The site's third-party folders, as build-info.json names them."""
    try:
        info = json.loads((site / "build-info.json").read_text(encoding="utf-8"))
        return {entry["folder"] for entry in info["third_party"].values()}
    except (OSError, ValueError, KeyError) as e:
        raise BenchError(f"{site}/build-info.json is missing or unreadable ({e!r})") from e


def prompt_of_length(tokenizer: Tokenizer | WordPieceTokenizer, n: int) -> str:
    """A prompt of exactly n tokens ('word word ...'), checked with the model's tokenizer."""
    text = "word" + " word" * (n - 1)
    found = len(tokenizer.encode(text))
    if found != n:
        raise BenchError(f"the prompt meant to be {n} tokens long is {found} tokens")
    return text


# --- the counting server -------------------------------------------------------------------------


class Traffic:
    """Bytes sent per path, added up by the server's threads."""

    def __init__(self):
        self._sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, path: str, n: int) -> None:
        with self._lock:
            self._sent[path] += n

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._sent)

    def since(self, snapshot: Counter[str]) -> dict[str, int]:
        return dict(self.snapshot() - snapshot)


class _CountingWriter:
    def __init__(self, raw):
        self.raw, self.written = raw, 0

    def write(self, data) -> int:
        self.written += len(data)
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


class CountingHandler(SiteHandler):
    """The site's own handler, adding the bytes of each response to server.traffic."""

    def setup(self) -> None:
        super().setup()
        self.wfile = _CountingWriter(self.wfile)
        self.path = ""

    def handle_one_request(self) -> None:
        before = self.wfile.written
        super().handle_one_request()
        if self.wfile.written > before:
            path = unquote(urlsplit(self.path).path).lstrip("/")
            self.server.traffic.add(path, self.wfile.written - before)


def start_server(site: Path):
    """A counting server of the site on 127.0.0.1 (any free port), running in a thread."""
    server = make_server(site, host="127.0.0.1", port=0, handler=CountingHandler)
    server.traffic = Traffic()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def served(site: Path):
    """start_server as a context: (its URL, its Traffic), shut down on leaving."""
    server = start_server(site)
    try:
        yield url_of(server), server.traffic
    finally:
        server.shutdown()
        server.server_close()


@dataclasses.dataclass(frozen=True)
class ServedSite:
    url: str
    traffic: Traffic
    runtime_folders: set[str]
    prompts: dict[int, str]  # tokens -> a prompt of that many tokens
    config: ModelConfig


# --- the GPT-2-small-sized sites -----------------------------------------------------------------


def exporter_digest() -> str:
    """The digest of the code that decides what an export holds (build/make_site.py's
    EXPORTER_SOURCES, which keys its cached demo export the same way)."""
    scripts = str(Path(__file__).resolve().parent.parent / "build")
    if scripts not in sys.path:  # build/ is a folder of scripts, not a package
        sys.path.insert(0, scripts)
    import make_site

    return make_site.files_sha256(ROOT, make_site.EXPORTER_SOURCES)[:8]


def gpt2_small_site(work_dir: Path, quantize: str) -> Path:
    """A site with a GPT-2-small-sized model of random weights, quantized as asked (its
    fidelity recorded, not gated: random weights); the export is kept for the same exporter
    code, never measured after that code changed."""
    name = f"{GPT2_SMALL_NAME}-{quantize}"
    export_dir = work_dir / f"{name}-{exporter_digest()}"
    try:
        read_manifest(export_dir)
    except ModelFileError:
        from export.export import export_model

        with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
            checkpoint = Path(tmp) / "checkpoint"
            log(f"exporting a GPT-2-small-sized random model to {export_dir} (minutes)")
            write_random_checkpoint(checkpoint, GPT2_SMALL)
            export_model(str(checkpoint), export_dir, quantize=quantize, name=name, gate=False)
    site = work_dir / f"{name}-site"
    log(f"building {site}")
    done = subprocess.run(
        [sys.executable, str(MAKE_SITE), "--out", str(site), "--model", str(export_dir)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise BenchError(f"building {site} failed: {done.stderr.strip()}")
    return site
