"""build/make_site.py and build/third_party.py: pinned third-party files checked byte for byte,
models copied only when their files match the manifest, the site's layout and its listings.

Most tests use fake packages made here in a temporary cache (no download). One test runs the real
build: it downloads the pinned packages (npm; Pyodide's numpy from its CDN, else from PyPI) into
the user's cache once (skip it with PYEXPLAINER_NO_NETWORK=1), then checks the result in a
JavaScript engine when Node.js is there (without it those checks skip, or fail under CI: see
conftest.needed_program).
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import needed_program

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))  # build/ is a folder of scripts, not a package

import make_site  # noqa: E402
import third_party  # noqa: E402
from make_site import BuildError  # noqa: E402
from third_party import PinError, npm_integrity, sha256_hex  # noqa: E402

PYODIDE_VERSION = "0.28.3"
WHEEL = "numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl"


# --- fake third-party packages --------------------------------------------------------------------


def fake_npm_package(cache: Path, package: str, version: str, files: dict[str, bytes], **entry):
    """A tarball as npm pack writes it, in the cache, and its lock entry."""
    path = cache / "npm" / third_party.tarball_name(package, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return {
        "version": version,
        "integrity": npm_integrity(buffer.getvalue()),
        "files": {name: sha256_hex(data) for name, data in files.items()},
        **entry,
    }


def fake_pyodide_lock() -> dict:
    return {
        "info": {"version": PYODIDE_VERSION},
        "packages": {
            "numpy": {"file_name": WHEEL, "sha256": sha256_hex(b"numpy wheel"), "depends": []},
            "micropip": {"file_name": "micropip.whl", "sha256": "0" * 64, "depends": ["packaging"]},
            "packaging": {"file_name": "packaging.whl", "sha256": "1" * 64, "depends": []},
        },
    }


@pytest.fixture
def fake(tmp_path):
    """A cache holding fake pinned packages, and the lock that pins them."""
    cache = tmp_path / "cache" / "third_party"  # as make_site uses CACHE/third_party
    pyodide_lock = json.dumps(fake_pyodide_lock()).encode()
    lock = {
        "npm": {
            "pyodide": fake_npm_package(
                cache,
                "pyodide",
                PYODIDE_VERSION,
                {
                    "pyodide.mjs": b"export const loadPyodide = 1;",
                    "pyodide-lock.json": pyodide_lock,
                },
                dest="pyodide",
            ),
            "@pyscript/core": fake_npm_package(
                cache,
                "@pyscript/core",
                "0.7.2",
                {"dist/core.js": b"export {};", "dist/core.css": b"", "LICENSE": b"Apache"},
                dest="pyscript",
                strip="dist/",
            ),
            "onnxruntime-web": fake_npm_package(
                cache,
                "onnxruntime-web",
                "1.29.0",
                {
                    "dist/ort.wasm.min.mjs": b"export {};",
                    "dist/ort-wasm-simd-threaded.wasm": b"\0asm",
                },
                dest="ort",
                strip="dist/",
            ),
        },
        "pyodide_packages": {
            "packages": ["numpy"],
            "dest": "pyodide",
            "cdn": "https://cdn.invalid/pyodide/v{version}/full/{file}",
            "fallback": {
                "distribution": "fake-dist",
                "version": "1.0",
                "folder": "fake_dist/pyodide/",
                "sha256": "",
            },
            "files": {WHEEL: sha256_hex(b"numpy wheel")},
        },
    }
    wheel = cache / "pypi" / "fake_dist-1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(f"fake_dist/pyodide/{WHEEL}", b"numpy wheel")
    lock["pyodide_packages"]["fallback"]["sha256"] = sha256_hex(wheel.read_bytes())
    return cache, lock


@pytest.fixture(autouse=True)
def no_cdn(monkeypatch):
    """The CDN is not reachable here; make that instant and certain in every test."""
    monkeypatch.setattr(third_party, "from_cdn", lambda url: None)


def test_pinned_files_are_read_from_the_tarballs_and_pyodide_packages_from_the_wheel(fake):
    cache, lock = fake
    files = third_party.third_party_files(cache, lock)
    assert files["pyscript/core.js"] == b"export {};"
    assert files["pyscript/LICENSE"] == b"Apache"
    assert files["ort/ort-wasm-simd-threaded.wasm"] == b"\0asm"
    assert files[f"pyodide/{WHEEL}"] == b"numpy wheel"
    # taken from the wheel once, then from the cache
    assert (cache / "pyodide-packages" / PYODIDE_VERSION / WHEEL).read_bytes() == b"numpy wheel"


def test_a_tampered_cached_tarball_stops_the_build_naming_it(fake):
    cache, lock = fake
    tarball = cache / "npm" / "pyscript-core-0.7.2.tgz"
    tarball.write_bytes(tarball.read_bytes() + b"tampered")
    with pytest.raises(PinError) as e:
        third_party.third_party_files(cache, lock)
    message = str(e.value)
    assert str(tarball) in message
    assert lock["npm"]["@pyscript/core"]["integrity"] in message  # expected
    assert npm_integrity(tarball.read_bytes()) in message  # actual


def test_a_file_that_differs_from_its_pin_stops_the_build_naming_it(fake):
    cache, lock = fake
    lock["npm"]["onnxruntime-web"]["files"]["dist/ort.wasm.min.mjs"] = "f" * 64
    with pytest.raises(PinError) as e:
        third_party.third_party_files(cache, lock)
    message = str(e.value)
    assert "dist/ort.wasm.min.mjs of npm onnxruntime-web@1.29.0" in message
    assert "f" * 64 in message and sha256_hex(b"export {};") in message


def test_a_tampered_cached_pyodide_package_stops_the_build_naming_it(fake):
    cache, lock = fake
    third_party.third_party_files(cache, lock)
    cached = cache / "pyodide-packages" / PYODIDE_VERSION / WHEEL
    cached.write_bytes(b"numpy wheel, tampered")
    with pytest.raises(PinError) as e:
        third_party.third_party_files(cache, lock)
    assert str(cached) in str(e.value)
    assert sha256_hex(b"numpy wheel, tampered") in str(e.value)


def test_a_source_wheel_with_other_bytes_stops_the_build(fake):
    cache, lock = fake
    lock["pyodide_packages"]["fallback"]["sha256"] = "e" * 64
    with pytest.raises(PinError, match="fake_dist-1.0-py3-none-any.whl"):
        third_party.third_party_files(cache, lock)


def test_pyodide_package_pins_must_agree_with_pyodide_lock_json(fake):
    cache, lock = fake
    lock["pyodide_packages"]["files"] = {WHEEL: "d" * 64}
    with pytest.raises(PinError, match="differ from what pyodide-lock.json"):
        third_party.third_party_files(cache, lock)


def test_package_closure_follows_pyodide_lock_dependencies():
    lock = fake_pyodide_lock()
    assert third_party.package_closure(["micropip"], lock) == ["micropip", "packaging"]
    assert third_party.package_closure(["numpy"], lock) == ["numpy"]
    with pytest.raises(PinError, match="no package 'scipy'"):
        third_party.package_closure(["scipy"], lock)


def test_the_repo_lock_pins_numpy_by_pyodide_lock_json_and_every_file():
    lock = third_party.read_lock()
    assert lock["npm"]["pyodide"]["version"] == PYODIDE_VERSION
    assert lock["pyodide_packages"]["files"] == {
        WHEEL: "3db3c4f3e0448f4d62a85c262692f1260ccd8a91335442bd2442f21ffeddb558"
    }
    for entry in lock["npm"].values():
        assert entry["integrity"].startswith("sha512-")
        assert entry["files"] and all(len(sha) == 64 for sha in entry["files"].values())
    ort = {
        third_party.ship_path(lock["npm"]["onnxruntime-web"], f)
        for f in lock["npm"]["onnxruntime-web"]["files"]
    }
    assert {
        "ort/ort.wasm.min.mjs",
        "ort/ort-wasm-simd-threaded.mjs",
        "ort/ort-wasm-simd-threaded.wasm",
    } <= ort
    assert {"ort/ort.webgpu.min.mjs", "ort/ort-wasm-simd-threaded.asyncify.wasm"} <= ort


# --- models ---------------------------------------------------------------------------------------


def renamed(source: Path, folder: Path, name: str) -> Path:
    """A copy of an exported model whose manifest gives another name."""
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "name": name}))
    return folder


def test_models_are_copied_and_listed(tiny_int8, tiny_fp32, tmp_path):
    int8 = renamed(tiny_int8, tmp_path / "a", "tiny-int8")
    fp32 = renamed(tiny_fp32, tmp_path / "b", "tiny-fp32")
    models = make_site.copy_models(tmp_path / "site", [int8, fp32])
    site = tmp_path / "site"
    index = json.loads((site / "models" / "index.json").read_text())
    assert index["default"] == "tiny-int8"
    assert (
        [m["name"] for m in index["models"]]
        == ["tiny-int8", "tiny-fp32"]
        == [m["name"] for m in models]
    )
    for entry, source in zip(index["models"], [int8, fp32], strict=True):
        manifest = json.loads((source / "manifest.json").read_text())
        folder = site / entry["path"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [*manifest["files"], "manifest.json"]
        )
        for name in [*manifest["files"], "manifest.json"]:
            assert (folder / name).read_bytes() == (source / name).read_bytes()
        assert entry["config"] == manifest["config"]
        assert entry["parameters"] == manifest["parameters"]
        assert entry["quantization"] == manifest["quantization"]["weights"]
        assert entry["bytes"] == sum(p.stat().st_size for p in folder.iterdir())
        assert entry["manifest_sha256"] == sha256_hex((source / "manifest.json").read_bytes())
        assert "training" not in entry  # the tiny checkpoint has no training.json
    assert (
        index["models"][0]["quantization"] == "int8"
        and index["models"][1]["quantization"] == "fp32"
    )


def test_the_default_model_is_the_one_named_else_the_first(tiny_int8, tiny_fp32, tmp_path):
    int8 = renamed(tiny_int8, tmp_path / "a", "tiny-int8")
    fp32 = renamed(tiny_fp32, tmp_path / "b", "tiny-fp32")
    make_site.copy_models(tmp_path / "site", [int8, fp32], default="tiny-fp32")
    index = json.loads((tmp_path / "site" / "models" / "index.json").read_text())
    assert index["default"] == "tiny-fp32"
    with pytest.raises(
        BuildError, match=r"--default gpt2: .* no such model \(tiny-int8, tiny-fp32\)"
    ):
        make_site.copy_models(tmp_path / "other", [int8, fp32], default="gpt2")


def test_a_model_with_its_training_summary_lists_it(tiny_int8, tmp_path):
    model = tmp_path / "trained"
    shutil.copytree(tiny_int8, model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["name"] = "trained"
    manifest["training"] = {"held_out": {"perplexity": 123.4}, "tokens_seen": 10}
    (model / "manifest.json").write_text(json.dumps(manifest))
    (entry,) = make_site.copy_models(tmp_path / "site", [model])
    assert entry["training"] == manifest["training"]


def corrupt_copy(source: Path, tmp_path: Path, name: str, change) -> Path:
    model = tmp_path / "corrupt"
    shutil.copytree(source, model)
    path = model / name
    path.write_bytes(change(path.read_bytes()))
    return model


def test_a_corrupt_model_file_stops_the_build_naming_it(tiny_int8, tmp_path):
    flip = corrupt_copy(
        tiny_int8, tmp_path, "model.onnx", lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:]
    )
    with pytest.raises(BuildError, match=r"model.onnx is corrupt: its sha256 differs"):
        make_site.copy_models(tmp_path / "site", [flip])


def test_a_truncated_model_file_stops_the_build_naming_it(tiny_int8, tmp_path):
    short = corrupt_copy(tiny_int8, tmp_path, "vocab.json", lambda b: b[:-10])
    with pytest.raises(BuildError, match=r"vocab.json has .* bytes, the manifest says"):
        make_site.copy_models(tmp_path / "site", [short])


def test_a_missing_model_file_or_manifest_stops_the_build(tiny_int8, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(tiny_int8, model)
    (model / "merges.txt").unlink()
    with pytest.raises(BuildError, match="merges.txt: missing"):
        make_site.copy_models(tmp_path / "site", [model])
    with pytest.raises(BuildError, match="no manifest.json"):
        make_site.copy_models(tmp_path / "site", [tmp_path])


def test_two_models_with_one_name_stop_the_build(tiny_int8, tmp_path):
    with pytest.raises(BuildError, match="two models are named 'tiny-gpt2'"):
        make_site.copy_models(tmp_path / "site", [tiny_int8, tiny_int8])


def test_the_demo_checkpoint_is_exported_once_per_version(tiny_checkpoint, tmp_path, monkeypatch):
    checkpoint = tmp_path / "demo"
    shutil.copytree(tiny_checkpoint, checkpoint)
    exporter = make_site.ROOT / "export" / "graph.py"  # the sources, as a copy we can change
    copy = tmp_path / "export" / "graph.py"
    copy.parent.mkdir()
    copy.write_bytes(exporter.read_bytes())
    monkeypatch.setattr(make_site, "ROOT", tmp_path)
    monkeypatch.setattr(make_site, "EXPORTER_SOURCES", [copy])
    import export.export  # random weights: below the int4 gate, so recorded, not gated

    monkeypatch.setattr(
        export.export, "export_model", partial(export.export.export_model, gate=False)
    )
    exported = make_site.demo_model(tmp_path / "cache", checkpoint)
    assert exported.parent == tmp_path / "cache" / "models"
    assert exported.name.startswith(f"demo-{make_site.checkpoint_sha256(checkpoint)[:16]}-")
    assert json.loads((exported / "manifest.json").read_text())["name"] == "demo"
    stamp = (exported / "model.onnx").stat().st_mtime_ns
    assert make_site.demo_model(tmp_path / "cache", checkpoint) == exported
    assert (exported / "model.onnx").stat().st_mtime_ns == stamp  # reused, not exported again
    (checkpoint / "config.json").write_text((checkpoint / "config.json").read_text() + " ")
    again = make_site.demo_model(tmp_path / "cache", checkpoint)
    assert again != exported  # a new checkpoint
    copy.write_text(copy.read_text() + "\n# changed\n")
    assert make_site.demo_model(tmp_path / "cache", checkpoint) != again  # a new exporter


def test_a_demo_folder_without_a_checkpoint_says_so(tmp_path):
    with pytest.raises(BuildError, match="no trained checkpoint yet"):
        make_site.demo_model(tmp_path / "cache", tmp_path)


# --- the package and the whole site ---------------------------------------------------------------


def test_the_package_ships_what_the_browser_imports(tmp_path):
    paths = make_site.copy_package(tmp_path)
    listing = json.loads((tmp_path / "py" / "files.json").read_text())
    assert [f["path"] for f in listing["files"]] == paths
    assert "pyexplainer/__init__.py" in paths and "pyexplainer/core/tokenizer.py" in paths
    assert "pyexplainer/manifest.py" in paths
    for cpython_only in (
        "__main__.py",
        "serve.py",
        "model_dir.py",
        "runtime/ort_cpython.py",
    ):
        assert f"pyexplainer/{cpython_only}" not in paths
    for f in listing["files"]:
        data = (tmp_path / "py" / f["path"]).read_bytes()
        assert data == (ROOT / f["path"]).read_bytes()
        assert f["sha256"] == sha256_hex(data) and f["bytes"] == len(data)


def test_the_site_has_its_layout_and_lists_every_file(fake, tiny_int8, tmp_path):
    cache, lock = fake
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>")
    (web / "pyscript.json").write_text(
        json.dumps({"js_modules": {"main": {"./bridge.js": "bridge"}}})
    )
    out = tmp_path / "site"
    info = make_site.make_site(out, [tiny_int8], cache=cache.parent, lock=lock, web=web)

    assert (out / "index.html").read_text() == "<!doctype html>"
    for rel in (
        "pyodide/pyodide.mjs",
        "pyodide/pyodide-lock.json",
        f"pyodide/{WHEEL}",
        "pyscript/core.js",
        "ort/ort.wasm.min.mjs",
        "py/files.json",
        "py/pyexplainer/__init__.py",
        "models/index.json",
        "models/tiny-gpt2/model.onnx",
        "build-info.json",
    ):
        assert (out / rel).is_file(), rel

    config = json.loads((out / "pyscript.json").read_text())
    assert config["js_modules"] == {"main": {"./bridge.js": "bridge"}}  # the page's own keys kept
    assert config["interpreter"] == "./pyodide/pyodide.mjs"
    assert config["packages"] == ["numpy"] and config["packages_cache"] == "passthrough"
    for url, target in config["files"].items():
        assert (out / url).is_file() and target == "./" + url.removeprefix("./py/")

    shipped = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(info["files"]) == shipped - {"build-info.json"}
    for rel, entry in info["files"].items():
        assert entry == {
            "sha256": sha256_hex((out / rel).read_bytes()),
            "bytes": (out / rel).stat().st_size,
        }
    assert info["bytes"]["total"] == sum(e["bytes"] for e in info["files"].values())
    assert info["bytes"]["models"] == sum(
        e["bytes"] for r, e in info["files"].items() if r.startswith("models/")
    )
    assert info["third_party"]["@pyscript/core"]["version"] == "0.7.2"
    assert info["third_party"]["onnxruntime-web"]["entry points"]["wasmPaths"] == "ort/"
    assert json.loads((out / "build-info.json").read_text()) == info
    assert not list(tmp_path.glob(".site.partial-*"))


def test_the_service_worker_is_named_after_the_build(fake, tiny_int8, tmp_path):
    cache, lock = fake
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("one")
    first = make_site.make_site(tmp_path / "a", [tiny_int8], cache=cache.parent, lock=lock, web=web)
    worker = (tmp_path / "a" / "sw.js").read_text()
    assert "__BUILD_ID__" not in worker and "Cross-Origin-Embedder-Policy" in worker
    assert first["files"]["sw.js"]["sha256"] == sha256_hex(worker.encode())
    (web / "index.html").write_text("two")
    make_site.make_site(tmp_path / "b", [tiny_int8], cache=cache.parent, lock=lock, web=web)
    assert (tmp_path / "b" / "sw.js").read_text() != worker  # a new build, a new cache
    if needed_program("node"):
        subprocess.run(["node", "--check", str(tmp_path / "a" / "sw.js")], check=True)

    (web / "sw.js").write_text("// the page's own")
    make_site.make_site(tmp_path / "c", [tiny_int8], cache=cache.parent, lock=lock, web=web)
    assert (tmp_path / "c" / "sw.js").read_text() == "// the page's own"


def test_a_rebuild_replaces_the_site_and_a_failed_build_leaves_it_alone(fake, tiny_int8, tmp_path):
    cache, lock = fake
    out = tmp_path / "site"
    make_site.make_site(out, [tiny_int8], cache=cache.parent, lock=lock, web=tmp_path / "no-web")
    (out / "stale.txt").write_text("from an earlier build")
    make_site.make_site(out, [tiny_int8], cache=cache.parent, lock=lock, web=tmp_path / "no-web")
    assert not (out / "stale.txt").exists()

    before = (out / "build-info.json").read_bytes()
    lock["npm"]["pyodide"]["files"]["pyodide.mjs"] = "0" * 64
    with pytest.raises(PinError, match="pyodide.mjs of npm pyodide@0.28.3"):
        make_site.make_site(
            out, [tiny_int8], cache=cache.parent, lock=lock, web=tmp_path / "no-web"
        )
    assert (out / "build-info.json").read_bytes() == before
    assert not list(tmp_path.glob(".site.partial-*"))


def test_the_build_refuses_to_replace_a_folder_it_did_not_make(fake, tiny_int8, tmp_path):
    cache, lock = fake
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match="is not a site this script built"):
        make_site.make_site(tmp_path, [tiny_int8], cache=cache.parent, lock=lock)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_the_command_line_names_the_corrupt_file(tiny_int8, tmp_path):
    flip = corrupt_copy(tiny_int8, tmp_path, "merges.txt", lambda b: b.replace(b"e", b"E", 1))
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "build" / "make_site.py"),
            "--out",
            str(tmp_path / "site"),
            "--model",
            str(flip),
            "--cache",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # the model is checked before anything is downloaded
    assert done.returncode == 1
    assert "build failed" in done.stderr and "merges.txt is corrupt" in done.stderr
    assert not (tmp_path / "site").exists()


# --- the real build (downloads the pinned packages once into the user's cache) -------------------

network = pytest.mark.skipif(
    os.environ.get("PYEXPLAINER_NO_NETWORK") == "1",
    reason="the real build downloads from npm and PyPI (PYEXPLAINER_NO_NETWORK=1)",
)


@pytest.fixture(scope="module")
def real_site(tiny_int4, tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "site"
    info = make_site.make_site(out, [tiny_int4])
    return out, info


@network
def test_real_build_ships_every_pinned_file(real_site):
    out, info = real_site
    lock = third_party.read_lock()
    for entry in lock["npm"].values():
        for name, sha in entry["files"].items():
            assert info["files"][third_party.ship_path(entry, name)]["sha256"] == sha
    assert info["files"][f"pyodide/{WHEEL}"]["sha256"] == lock["pyodide_packages"]["files"][WHEEL]
    assert info["third_party"]["pyodide"]["version"] == PYODIDE_VERSION
    assert json.loads((out / "pyscript.json").read_text())["interpreter"] == "./pyodide/pyodide.mjs"
    pyscript_core = (
        out / "pyscript" / next(n for n in os.listdir(out / "pyscript") if n.startswith("core-"))
    )
    assert f'module:(e="{PYODIDE_VERSION}")' in pyscript_core.read_text()  # the Pyodide it expects


NODE_PYODIDE = """
const site = process.argv[2];
const { loadPyodide } = await import(`${site}/pyodide/pyodide.mjs`);
const py = await loadPyodide({ indexURL: `${site}/pyodide/` });
await py.loadPackage("numpy", { messageCallback: () => {} });
py.FS.mkdir("/site");
py.FS.mount(py.FS.filesystems.NODEFS, { root: site }, "/site");
py.globals.set("text", process.argv[3]);
console.log(py.runPython(`
import json, sys
sys.path.insert(0, "/site/py")
import numpy, pyexplainer
from pyexplainer.core.tokenizer import Tokenizer
name = json.load(open("/site/models/index.json"))["default"]
read = lambda f: open(f"/site/models/{name}/{f}", encoding="utf-8").read()
ids = Tokenizer.from_strings(read("vocab.json"), read("merges.txt")).encode(text)
json.dumps({"numpy": numpy.__version__, "ids": ids})
`));
"""

NODE_ORT = """
import { readFileSync } from "node:fs";
const [site, graph, external, ids] = [process.argv[2], process.argv[3], JSON.parse(process.argv[4]),
  JSON.parse(process.argv[5])];
const ort = await import(`${site}/ort/ort.wasm.min.mjs`);
ort.env.wasm.wasmPaths = `${site}/ort/`;
ort.env.wasm.numThreads = 1;
const [L, H, Dh] = JSON.parse(process.argv[6]);
// as the page hands them over (web/bridge.mjs): the graph, and its external data from memory
const session = await ort.InferenceSession.create(readFileSync(graph), {
  graphOptimizationLevel: "basic",
  externalData: Object.entries(external).map(([path, f]) => ({ path, data: readFileSync(f) })),
});
const empty = () => new ort.Tensor("float32", new Float32Array(0), [L, H, 0, Dh]);
// As it is (nothing ablated, no lens rows), then with head 1 of block 0 mean-ablated and every
// residual-stream row read by the logit lens.
const run = (headKeep, toMean, lensRows) => session.run({
  input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [ids.length]),
  past_keys: empty(), past_values: empty(),
  head_keep: new ort.Tensor("float32", Float32Array.from(headKeep), [L, H]),
  mlp_keep: new ort.Tensor("float32", new Float32Array(L).fill(1), [L]),
  ablate_to_mean: new ort.Tensor("float32", Float32Array.of(toMean), []),
  lens_rows: new ort.Tensor("int64", BigInt64Array.from(lensRows.map(BigInt)), [lensRows.length]),
  unembed_ids: new ort.Tensor("int64", new BigInt64Array(0), [0]),
});
const plain = await run(new Array(L * H).fill(1), 0, []);
const ablated = await run(new Array(L * H).fill(1).map((x, i) => i === 1 ? 0 : x), 1,
  [...Array((L + 1) * ids.length).keys()]);
console.log(JSON.stringify({
  plain: Array.from(plain.last_logits.data),
  plain_lens: plain.lens_probs.dims,
  ablated: Array.from(ablated.last_logits.data),
  lens_probs: Array.from(ablated.lens_probs.data),
  lens_ids: Array.from(ablated.lens_ids.data, Number),
}));
"""


def node(script: str, tmp_path: Path, *args: str) -> str:
    if needed_program("node") is None:
        pytest.skip("Node.js is not installed")
    path = tmp_path / "check.mjs"
    path.write_text(script)
    done = subprocess.run(["node", str(path), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("ci", ["", "false", "true", "1"])
def test_without_node_the_node_checks_skip_except_under_ci(ci, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    under_ci = ci not in ("", "false")
    with pytest.raises(pytest.fail.Exception if under_ci else pytest.skip.Exception):
        node("console.log(1)", tmp_path)


@network
def test_real_build_pyodide_imports_numpy_and_the_package_from_the_site(
    real_site, tiny_int4, tmp_path
):
    """The shipped Pyodide + numpy wheel + package files, in Node's WebAssembly engine."""
    from pyexplainer.model_dir import open_model_dir

    out, _ = real_site
    text = "Hello, 世界 🙂 tokens"
    result = json.loads(node(NODE_PYODIDE, tmp_path, str(out), text))
    assert result["numpy"] == "2.2.5"
    assert result["ids"] == open_model_dir(tiny_int4).tokenizer.encode(text)


def compare_onnxruntime_web(site: Path, folder: Path, backend: str, ids, tmp_path) -> None:
    """onnxruntime-web's WebAssembly build (Node) on the `backend` graph of the export in
    `folder`, given its external data from memory as the page gives them, against onnxruntime's
    CPU kernels for the same graph in CPython: a plain pass, then one with a head mean-ablated
    and the logit lens of every row."""
    import numpy as np

    from pyexplainer.core.ablation import Ablation
    from pyexplainer.core.generation import KVCache, model_feeds
    from pyexplainer.model_dir import open_model_dir
    from pyexplainer.weights_file import external_data

    model = open_model_dir(folder, backend=backend)
    manifest, c = model.manifest, model.manifest.config
    graph, weights = manifest.model_files(backend)
    external = {}
    wire = (folder / weights).read_bytes()
    for name, data in external_data(manifest.weights, backend, wire).items():
        (tmp_path / name).write_bytes(data)  # made by the page at load, for Node from a file
        external[name] = str(tmp_path / name)
    shape = json.dumps([c.n_layer, c.n_head, c.head_dim])
    args = [str(site), str(folder / graph), json.dumps(external), json.dumps(ids), shape]
    web = json.loads(node(NODE_ORT, tmp_path, *args))
    names = ["last_logits", "lens_probs", "lens_ids"]
    cpython = model.run(model_feeds(c, np.array(ids), KVCache.empty(c)))
    plain, plain_lens = cpython["last_logits"], cpython["lens_probs"]
    ablation = Ablation(heads=frozenset({(0, 1)}), mode="mean")
    lens = len(ids)
    feeds = model_feeds(c, np.array(ids), KVCache.empty(c), ablation=ablation, lens_positions=lens)
    ablated, lens_probs, lens_ids = (model.run(feeds)[n] for n in names)
    np.testing.assert_allclose(web["plain"], plain, atol=1e-4, rtol=0)
    assert web["plain_lens"] == list(plain_lens.shape) == [1, 5]  # the last row: the prediction
    np.testing.assert_allclose(web["ablated"], ablated, atol=1e-4, rtol=0)
    assert np.abs(ablated - plain).max() > 1e-3  # the ablation changed the prediction
    np.testing.assert_allclose(web["lens_probs"], lens_probs.reshape(-1), atol=1e-5, rtol=0)
    assert web["lens_ids"] == lens_ids.reshape(-1).tolist()


@network
@pytest.mark.parametrize("backend", ["wasm", "webgpu"])
def test_real_build_onnxruntime_web_runs_the_model_as_cpython_does(
    real_site, tiny_int4, tmp_path, backend
):
    """The shipped int4 model: the WebAssembly graph (MatMulInteger on the int8 codes made at
    load) and the WebGPU one (MatMulNBits on the 4-bit codes, here on the WebAssembly kernels)."""
    out, _ = real_site
    compare_onnxruntime_web(out, tiny_int4, backend, [15496, 11, 220, 10310, 244], tmp_path)


NODE_TRACE = """
import { readFileSync, writeFileSync } from "node:fs";
const [site, graph, external, ids, shape, out] = [process.argv[2], process.argv[3],
  JSON.parse(process.argv[4]), JSON.parse(process.argv[5]), JSON.parse(process.argv[6]),
  process.argv[7]];
const ort = await import(`${site}/ort/ort.wasm.min.mjs`);
ort.env.wasm.wasmPaths = `${site}/ort/`;
ort.env.wasm.numThreads = 1;
const [L, H, Dh] = shape;
const session = await ort.InferenceSession.create(readFileSync(graph), {
  graphOptimizationLevel: "basic",
  externalData: Object.entries(external).map(([path, f]) => ({ path, data: readFileSync(f) })),
});
const empty = () => new ort.Tensor("float32", new Float32Array(0), [L, H, 0, Dh]);
const results = await session.run({
  input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [ids.length]),
  past_keys: empty(), past_values: empty(),
  head_keep: new ort.Tensor("float32", new Float32Array(L * H).fill(1), [L, H]),
  mlp_keep: new ort.Tensor("float32", new Float32Array(L).fill(1), [L]),
  ablate_to_mean: new ort.Tensor("float32", Float32Array.of(0), []),
  lens_rows: new ort.Tensor("int64", new BigInt64Array(0), [0]),
  unembed_ids: new ort.Tensor("int64", new BigInt64Array(0), [0]),
});
const dims = {};
for (const [name, tensor] of Object.entries(results)) {
  if (tensor.type !== "float32") continue;
  writeFileSync(`${out}/${name}.f32`, new Uint8Array(tensor.data.buffer));
  dims[name] = Array.from(tensor.dims);
}
console.log(JSON.stringify(dims));
"""


@network
def test_onnxruntime_web_runs_a_gpt2_small_sized_export_as_cpython_does(real_site, tmp_path):
    """GPT-2 small's shapes (random weights, their fidelity recorded, not gated), at the scale
    students run: every stage of onnxruntime-web's trace is the tests' own integer arithmetic
    on its traced input (its int8 kernels at K = 768 and 3072), the first block is CPython's to
    float rounding, and the logits stay within what a flipped activation code moves them (a
    last-bit difference in a float sum upstream can round an activation to the next code)."""
    import types

    import numpy as np

    from bench.random_model import GPT2_SMALL, write_random_checkpoint
    from export.export import export_model
    from pyexplainer.core.generation import forward
    from pyexplainer.model_dir import open_model_dir
    from pyexplainer.weights_file import external_data
    from tests.test_quantize import assert_integer_stages

    write_random_checkpoint(tmp_path / "checkpoint", GPT2_SMALL)
    folder = tmp_path / "gpt2-small"
    export_model(str(tmp_path / "checkpoint"), folder, gate=False)
    out, _ = real_site
    model = open_model_dir(folder)
    manifest, c = model.manifest, model.manifest.config
    graph, weights = manifest.model_files("wasm")
    ((name, data),) = external_data(
        manifest.weights, "wasm", (folder / weights).read_bytes()
    ).items()
    (tmp_path / name).write_bytes(data)
    (tmp_path / "trace").mkdir()
    ids = [15496, 11, 220, 10310, 244, 318]
    args = [str(out), str(folder / graph), json.dumps({name: str(tmp_path / name)})]
    args += [
        json.dumps(ids),
        json.dumps([c.n_layer, c.n_head, c.head_dim]),
        str(tmp_path / "trace"),
    ]
    dims = json.loads(node(NODE_TRACE, tmp_path, *args))
    web = types.SimpleNamespace(**{
        n: np.fromfile(tmp_path / "trace" / f"{n}.f32", np.float32).reshape(d)
        for n, d in dims.items()
    })  # fmt: skip
    assert_integer_stages(folder, web, ids, [0, c.n_layer - 1])
    cpython = forward(model.run, c, ids)
    for name in ("q", "attn_out", "mlp_out", "residual"):
        np.testing.assert_allclose(getattr(web, name)[0], getattr(cpython, name)[0], atol=1e-5)
    assert np.abs(web.last_logits - cpython.last_logits).max() < 0.05


PAGES_WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def test_the_pages_workflow_builds_the_site_and_deploys_that_folder():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(PAGES_WORKFLOW.read_text())
    build_steps = workflow["jobs"]["build"]["steps"]
    commands = [step["run"] for step in build_steps if "run" in step]
    assert "python build/hub_models.py site --out site $HUB_MODELS" in commands  # test_hub.py
    upload = next(s for s in build_steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "site"
    # Write grants go to the one job that deploys, none to the whole workflow.
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(
        s.get("uses", "").startswith("actions/deploy-pages")
        for s in workflow["jobs"]["deploy"]["steps"]
    )


def test_the_pages_workflow_pins_each_action_to_a_commit_and_checkout_keeps_no_token():
    """A tag can be moved to other code; a commit cannot. The comment says which release it is."""
    yaml = pytest.importorskip("yaml")
    text = PAGES_WORKFLOW.read_text()
    uses_lines = [line.strip() for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    pinned = re.compile(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")
    assert [line for line in uses_lines if not pinned.fullmatch(line)] == []
    steps = [s for job in yaml.safe_load(text)["jobs"].values() for s in job["steps"]]
    assert len(uses_lines) == sum("uses" in s for s in steps)  # none written another way
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    assert all(s.get("with", {}).get("persist-credentials") is False for s in checkouts)


def test_ci_audits_the_workflows_with_zizmor_once_it_is_installed():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = ci[-1].split(" && ")
    install = commands.index('python -m pip install -e ".[dev]"')
    assert commands.index("zizmor --offline .github/workflows") > install


def test_ci_runs_the_readmes_test_command_once_node_and_npm_are_there():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    (command,) = [line for line in readme if line.startswith("apt-get ") and "pytest" in line]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == command
    check = next(i for i, line in enumerate(ci) if "command -v node" in line)
    assert "command -v npm" in ci[check] and "apt-get install -y -q nodejs npm" in ci[check + 1]
    assert ci.index("apt-get update -q") < check


def test_no_module_the_site_ships_is_over_about_400_lines_but_the_message_catalogues():
    """One module per concern (shared/STYLE.md): a file past ~400 lines is asking to be split."""
    long = {
        path: data.count(b"\n")
        for path, data in make_site.package_files().items()
        if not path.startswith("pyexplainer/messages") and data.count(b"\n") > 420
    }
    assert not long, long
