"""python build/make_site.py --out DIR [--model EXPORTED_MODEL_DIR ...] [--default NAME]
[--cache DIR]

Assembles the static site: one folder that any static server (GitHub Pages included, or
`python -m pyexplainer serve DIR`) serves as it is. Nothing in it is fetched from another host.

    DIR/index.html ...          everything under web/, copied as it is
    DIR/pyscript.json           PyScript config: local Pyodide, numpy, the package's files
    DIR/py/pyexplainer/...      the pyexplainer package, as Pyodide imports it
    DIR/py/files.json           those files (paths relative to DIR/py/, sha256, bytes)
    DIR/pyodide/                Pyodide core + numpy (the Pyodide indexURL)
    DIR/pyscript/               PyScript core.js, core.css and the chunks they import
    DIR/ort/                    onnxruntime-web: WebAssembly build and WebGPU build
    DIR/models/<name>/          each exported model (manifest.json, its graphs, weights.bin,
                                the tokenizer's files)
    DIR/models/index.json       the models: name, config, size, quantization, training
    DIR/sw.js                   service worker: COOP/COEP where the host sends none, offline
    DIR/build-info.json         versions, and sha256 + bytes of every file shipped (the
                                deploy's smoke test adds "published": bench/smoke.py)

Without --model, the embedded demo checkpoint models/demo is exported (python -m export) into
CACHE/models/, keyed by the checkpoint's sha256, and shipped. Downloads go to CACHE/third_party/
(CACHE: ~/.cache/pyexplainer by default). Every third-party file is checked against
build/third_party.json and every model file against its manifest; any mismatch stops the build
with a message naming the file. The site is written under a temporary name beside DIR and renamed
only when complete.

Run it as a script: `build/` has no __init__.py, so it is no package and an installed PyPA
`build` package still wins `import build`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the repo's packages importable
    sys.path.append(str(ROOT))

import third_party  # noqa: E402  (build/ is sys.path[0] when run as a script)
from third_party import PinError, default_cache, read_lock, sha256_hex  # noqa: E402

from export.out_folder import folder_in_place_of, not_ours  # noqa: E402
from pyexplainer import __version__  # noqa: E402
from pyexplainer.manifest import (  # noqa: E402
    ModelFileError,
    check_file,
    file_record,
    parse_manifest,
    quantized_fidelity,
)
from pyexplainer.serve import CONTENT_SECURITY_POLICY  # noqa: E402

WEB = ROOT / "web"
PACKAGE = ROOT / "pyexplainer"
DEMO_CHECKPOINT = ROOT / "models" / "demo"
# The code that decides what an export holds: a change to it makes the cached export stale.
EXPORTER_SOURCES = (
    [
        ROOT / "export" / n
        for n in (
            "graph.py",
            "export.py",
            "checkpoint.py",
            "quantize.py",
            "stored_weights.py",
            "fidelity.py",
            "reference.py",
            "tokenizer_source.py",
        )
    ]
    + [
        ROOT / "pyexplainer" / n
        for n in ("core/trace.py", "runtime/weights.py", "manifest.py", "weights_file.py")
    ]
    + [ROOT / "models" / "demo" / "held_out.txt"]
)
# Modules that only run in CPython (command line, file system, onnxruntime, the local server):
# the browser never imports them, so they do not ship. (The benchmark is no part of the package:
# bench/ beside it.)
CPYTHON_ONLY = {
    "__main__.py",
    "serve.py",
    "model_dir.py",
    "runtime/ort_cpython.py",
}
PYSCRIPT_CONFIG = "pyscript.json"
BUILD_INFO = "build-info.json"
SERVICE_WORKER = Path(__file__).with_name("sw.js")
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class BuildError(Exception):
    """The site cannot be built as asked; the message says why."""


def write(out: Path, rel: str, data: bytes) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- the page and the package --------------------------------------------------------------------


def copy_web(out: Path, web: Path = WEB) -> None:
    if not web.is_dir():
        print(f"note: {web} does not exist; the site has no page yet", file=sys.stderr)
        return
    shutil.copytree(web, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


def package_files(package: Path = PACKAGE) -> dict[str, bytes]:
    """'pyexplainer/...py' -> bytes of every module the browser imports."""
    files = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel not in CPYTHON_ONLY and "__pycache__" not in path.parts:
            files[f"{package.name}/{rel}"] = path.read_bytes()
    return files


def copy_package(out: Path, package: Path = PACKAGE) -> list[str]:
    """Copy the package to DIR/py/ and list it in DIR/py/files.json; returns the paths."""
    files = package_files(package)
    for rel, data in files.items():
        write(out, f"py/{rel}", data)
    listing = {
        "package": package.name,
        "version": __version__,
        "root": "py/",
        "files": [{"path": rel, **file_record(data)} for rel, data in files.items()],
    }
    write(out, "py/files.json", (json.dumps(listing, indent=2) + "\n").encode())
    return list(files)


def pyscript_config(out: Path, py_files: list[str], lock: dict) -> dict:
    """DIR/pyscript.json: the page's <script type="py" config="./pyscript.json">.

    - "interpreter": PyScript loads this pyodide.mjs instead of the CDN's, and Pyodide takes its
      folder as indexURL (stdlib, pyodide-lock.json, numpy).
    - "packages" with "packages_cache": "passthrough": PyScript hands the list to loadPyodide,
      which loads numpy from indexURL, sha256-checked against pyodide-lock.json; without it
      PyScript would install through micropip, which the site does not ship.
    - "files": every module of the package, fetched into Pyodide's working folder (on sys.path),
      so `import pyexplainer` works unchanged.
    A web/pyscript.json, if the page has one, is kept: these keys are added to it.
    """
    path = out / PYSCRIPT_CONFIG
    config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    pyodide_dest = lock["npm"]["pyodide"]["dest"]
    config.setdefault("interpreter", f"./{pyodide_dest}/pyodide.mjs")
    config["packages"] = sorted(
        {*config.get("packages", []), *lock["pyodide_packages"]["packages"]}
    )
    config.setdefault("packages_cache", "passthrough")
    config["files"] = {**config.get("files", {}), **{f"./py/{p}": f"./{p}" for p in py_files}}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return config


# --- third-party runtime files -------------------------------------------------------------------


def copy_third_party(out: Path, cache: Path, lock: dict) -> dict:
    """Copy every pinned file (checked) into DIR; returns what build-info.json says of them."""
    files = third_party.third_party_files(cache, lock)
    for rel, data in files.items():
        write(out, rel, data)
    info = {
        package: {"version": e["version"], "license": e.get("license"), "folder": e["dest"]}
        for package, e in lock["npm"].items()
    }
    section = lock["pyodide_packages"]
    info["pyodide packages"] = {
        "packages": section["packages"],
        "files": sorted(section["files"]),
        "folder": section["dest"],
    }
    ort = lock["npm"]["onnxruntime-web"]["dest"]
    info["onnxruntime-web"]["entry points"] = {
        "wasm": f"{ort}/ort.wasm.min.mjs",
        "webgpu": f"{ort}/ort.webgpu.min.mjs",
        "wasmPaths": f"{ort}/",
    }
    return info


# --- models --------------------------------------------------------------------------------------


def read_model(folder: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and every file it lists, each checked against its sha256 and size."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise BuildError(
            f"{folder}: no manifest.json; not an exported model folder "
            "(make one with python -m export --model SRC --out DIR)"
        )
    raw = path.read_bytes()
    try:
        manifest = parse_manifest(json.loads(raw))
    except ValueError as e:
        raise BuildError(f"{path}: not valid JSON ({e})") from e
    except ModelFileError as e:
        raise BuildError(f"{path}: {e}") from e
    files = {"manifest.json": raw}
    for name in manifest.files:
        if not SAFE_NAME.fullmatch(name):
            raise BuildError(f"{path} lists a file with an unsafe name: {name!r}")
        try:
            data = (folder / name).read_bytes()
        except FileNotFoundError as e:
            raise BuildError(f"{folder / name}: missing (the manifest lists it)") from e
        try:
            check_file(manifest, name, data)
        except ModelFileError as e:
            raise BuildError(f"{folder}: {e}") from e
        files[name] = data
    return manifest.raw, files


def model_summary(name: str, raw: dict, files: dict[str, bytes]) -> dict:
    """The model's entry in models/index.json: what the page's model picker shows of it before
    downloading any of its files (pyexplainer/views/models.py reads it)."""
    summary = {
        "name": name,
        "path": f"models/{name}/",
        "manifest_sha256": sha256_hex(files["manifest.json"]),
        "config": raw["config"],
        "parameters": raw.get("parameters"),
        "quantization": raw["quantization"]["weights"],
        "bytes": sum(len(d) for d in files.values()),
        "files": sorted(files),  # manifest.json, the model and its tokenizer's files
        "fidelity": quantized_fidelity(raw),
    }
    source = raw.get("source", {})
    if source.get("kind") == "hugging face hub":  # a local checkpoint's path stays unpublished
        summary["hub_id"] = source["id"]
    for key in ("training", "language", "example_prompts"):
        if key in raw:
            summary[key] = raw[key]
    return summary


def copy_models(out: Path, folders: list[Path], default: str | None = None) -> list[dict]:
    """Copy each checked model to DIR/models/<name>/ and write DIR/models/index.json, whose
    default is the model named `default` (the first model without it)."""
    models = []
    for folder in folders:
        raw, files = read_model(folder)
        name = str(raw.get("name") or folder.name)
        if not SAFE_NAME.fullmatch(name):
            raise BuildError(
                f"{folder}: model name {name!r} is not usable as a folder name; "
                "re-export it with --name"
            )
        if any(m["name"] == name for m in models):
            raise BuildError(f"two models are named {name!r}; re-export one with another --name")
        for file_name, data in files.items():
            write(out, f"models/{name}/{file_name}", data)
        models.append(model_summary(name, raw, files))
    names = [m["name"] for m in models]
    if default is not None and default not in names:
        raise BuildError(f"--default {default}: the site has no such model ({', '.join(names)})")
    index = {"default": default or names[0], "models": models}
    write(out, "models/index.json", (json.dumps(index, indent=2) + "\n").encode())
    return models


def files_sha256(root: Path, paths: list[Path]) -> str:
    """One digest over some files (names relative to root, and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def checkpoint_sha256(folder: Path) -> str:
    """One digest over every file of a checkpoint folder (names and bytes)."""
    return files_sha256(folder, [p for p in folder.rglob("*") if p.is_file()])


def usable_export(folder: Path) -> bool:
    try:
        parse_manifest(json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, ModelFileError):
        return False  # missing, or made by an older pyexplainer: export again
    return True


def demo_model(cache: Path, checkpoint: Path = DEMO_CHECKPOINT) -> Path:
    """The embedded demo checkpoint exported (int4, the site's default quantization: the smallest
    that passes its fidelity gate) once per version of the checkpoint and of the exporter, in
    the cache."""
    if not (checkpoint / "config.json").is_file():
        raise BuildError(
            f"{checkpoint} holds no trained checkpoint yet (config.json + weights); "
            "pass an exported model with --model DIR"
        )
    exporter = files_sha256(ROOT, EXPORTER_SOURCES)
    out = (
        cache / "models" / f"{checkpoint.name}-{checkpoint_sha256(checkpoint)[:16]}-{exporter[:8]}"
    )
    if not usable_export(out):
        from export.checkpoint import CheckpointError
        from export.export import ExportError, export_model

        print(f"exporting {checkpoint} to {out}", file=sys.stderr)
        try:
            export_model(str(checkpoint), out, name=checkpoint.name)
        except (CheckpointError, ExportError) as e:
            raise BuildError(f"exporting {checkpoint} failed: {e}") from e
    return out


# --- the whole site ------------------------------------------------------------------------------


def site_files(out: Path) -> dict[str, dict]:
    """Every file of the site: path relative to DIR -> sha256 and bytes."""
    paths = {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*")) if p.is_file()}
    return {rel: file_record(p.read_bytes()) for rel, p in paths.items() if rel != BUILD_INFO}


BUILD_ID_MARK = "__BUILD_ID__"  # in web/index.html's meta and build/sw.js
CSP_MARK = "__CONTENT_SECURITY_POLICY__"  # in web/index.html's meta


def stamp_build(out: Path, files: dict[str, dict]) -> str:
    """The build's id, a digest of every file (names and sha256, before stamping), written in
    place of BUILD_ID_MARK into DIR/index.html (the page knows its build) and DIR/sw.js, made
    from build/sw.js unless web/ has its own (the worker's cache is named after it); the
    content security policy `pyexplainer serve` sends, in place of CSP_MARK."""
    build_id = sha256_hex(json.dumps(files, sort_keys=True).encode())[:16]
    templates = {"index.html": out / "index.html"} if "index.html" in files else {}
    if "sw.js" not in files:
        templates["sw.js"] = SERVICE_WORKER
    for rel, template in templates.items():
        text = template.read_text(encoding="utf-8")
        data = text.replace(BUILD_ID_MARK, build_id).replace(CSP_MARK, CONTENT_SECURITY_POLICY)
        write(out, rel, data.encode())
        files[rel] = file_record(data.encode())
    return build_id


def build_info(
    out: Path, build_id: str, files: dict[str, dict], third: dict, models: list[dict]
) -> dict:
    groups = {"runtime": 0, "app": 0, "models": 0}
    runtime = tuple(f"{e['folder']}/" for e in third.values())
    for rel, entry in files.items():
        if rel.startswith("models/"):
            groups["models"] += entry["bytes"]
        else:
            groups["runtime" if rel.startswith(runtime) else "app"] += entry["bytes"]
    info = {
        "build": build_id,
        "pyexplainer": __version__,
        "third_party": third,
        "models": [m["name"] for m in models],
        "bytes": {**groups, "total": sum(groups.values())},
        "files": files,
    }
    write(out, BUILD_INFO, (json.dumps(info, indent=2) + "\n").encode())
    return info


def make_site(
    out: Path,
    models: list[Path],
    *,
    cache: Path | None = None,
    lock: dict | None = None,
    web: Path = WEB,
    default: str | None = None,
) -> dict:
    """Build the site into `out` (its default model: the one named `default`, else the first);
    returns build-info.json's content."""
    out, cache = Path(out).resolve(), Path(cache or default_cache())
    lock = lock or read_lock()
    models = [Path(m) for m in models] or [demo_model(cache)]
    if not_ours(out, BUILD_INFO):
        raise BuildError(f"{out} exists and is not a site this script built; choose another --out")
    with folder_in_place_of(out) as tmp:
        copy_web(tmp, web)
        py_files = copy_package(tmp)
        summaries = copy_models(tmp, models, default)  # before any download: fails fast
        third = copy_third_party(tmp, cache / "third_party", lock)
        pyscript_config(tmp, py_files, lock)
        files = site_files(tmp)
        build_id = stamp_build(tmp, files)
        info = build_info(tmp, build_id, files, third, summaries)
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python build/make_site.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, type=Path, help="the site folder to write")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        type=Path,
        help="an exported model folder (repeatable; default: the demo model)",
    )
    p.add_argument(
        "--default",
        metavar="NAME",
        help="the model the page opens with, by its name (default: the first --model)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=default_cache(),
        help=f"cache of downloads and of the demo model's export (default {default_cache()})",
    )
    args = p.parse_args(argv)
    try:
        info = make_site(args.out, args.model, cache=args.cache, default=args.default)
    except (BuildError, PinError) as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    summary = {k: info[k] for k in ("models", "bytes")}
    print(json.dumps({"out": str(args.out), **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
