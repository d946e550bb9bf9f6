"""Third-party runtime files (Pyodide, its numpy, PyScript, onnxruntime-web), pinned in
build/third_party.json by version and sha256 and checked byte for byte before they ship.

Downloads go through the ordinary clients (`npm pack`, `pip download`) into a cache outside the
repo (~/.cache/pyexplainer/third_party), reused on the next build. Whatever differs from
the lock stops the build with a PinError naming the file, the expected and the actual digest.

Pyodide's own packages (numpy, ...) are in no package registry as such. They are taken from the
official Pyodide CDN where it is reachable, else from the official files that the PyPI wheel of
open-webui ships (open_webui/frontend/pyodide/), and must match the sha256 of npm pyodide's
pyodide-lock.json, which the lock repeats.

`python build/third_party.py --relock` rewrites the lock from fresh downloads after a version bump:
it keeps every version, include/exclude pattern and package list and recomputes the digests.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

LOCK = Path(__file__).with_name("third_party.json")
CDN_TIMEOUT_S = 10


class PinError(Exception):
    """A third-party file that is missing, or differs from the lock; the message names it."""


def default_cache() -> Path:
    """~/.cache/pyexplainer; third-party downloads go to its third_party/ folder."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pyexplainer"


def read_lock(path: Path = LOCK) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_integrity(data: bytes) -> str:
    """The tarball digest in npm's own notation (the registry's dist.integrity)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def check_digest(what: str, actual: str, expected: str, hint: str = "") -> None:
    if actual != expected:
        raise PinError(
            f"{what} does not match the lock (build/third_party.json):\n"
            f"  expected {expected}\n  actual   {actual}" + (f"\n{hint}" if hint else "")
        )


def run_client(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise PinError(f"{what}: `{argv[0]}` is not installed ({e})") from e
    if done.returncode != 0:
        raise PinError(f"{what}: `{' '.join(argv)}` failed:\n{done.stderr.strip()[-2000:]}")
    return done.stdout


# --- npm packages -------------------------------------------------------------------------------


def tarball_name(package: str, version: str) -> str:
    """The file name `npm pack` gives: "@pyscript/core" 0.7.2 -> pyscript-core-0.7.2.tgz."""
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def npm_pack(package: str, version: str, folder: Path) -> Path:
    """Download the registry tarball with `npm pack` into folder; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        run_client(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", tmp, "--silent"],
            f"{package}@{version}",
        )
        packed = Path(tmp) / tarball_name(package, version)
        if not packed.is_file():
            raise PinError(f"{package}@{version}: npm pack wrote no {packed.name}")
        path = folder / packed.name
        packed.replace(path)  # a complete file or none: the cache never holds half a download
    return path


def npm_tarball(cache: Path, package: str, entry: dict) -> Path:
    """The package's tarball from the cache (downloaded once), its integrity checked."""
    path = cache / "npm" / tarball_name(package, entry["version"])
    if not path.is_file():
        print(f"npm pack {package}@{entry['version']}", file=sys.stderr)
        npm_pack(package, entry["version"], path.parent)
    check_digest(
        f"{path} (npm {package}@{entry['version']}, integrity)",
        npm_integrity(path.read_bytes()),
        entry["integrity"],
        f"Delete {path} to download it again.",
    )
    return path


def ship_path(entry: dict, name: str) -> str:
    """Where a package file goes in the site: under entry["dest"], without entry["strip"]."""
    strip = entry.get("strip", "")
    return f"{entry['dest']}/{name[len(strip) :] if name.startswith(strip) else name}"


def npm_files(tarball: Path, package: str, entry: dict) -> dict[str, bytes]:
    """Every file the lock lists for the package, read from its tarball and checked."""
    out = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for name, expected in entry["files"].items():
            try:
                member = tar.extractfile(f"package/{name}")
            except KeyError:
                member = None
            if member is None:
                raise PinError(f"npm {package}@{entry['version']} has no file {name}")
            data = member.read()
            check_digest(f"{name} of npm {package}@{entry['version']}", sha256_hex(data), expected)
            out[ship_path(entry, name)] = data
    return out


def matching_files(tarball: Path, entry: dict) -> dict[str, str]:
    """name -> sha256 of every file matching entry's include and no exclude pattern (relock)."""
    files = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if not member.isfile():
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in entry["include"]) and not any(
                fnmatch.fnmatchcase(name, p) for p in entry.get("exclude", [])
            ):
                files[name] = sha256_hex(tar.extractfile(member).read())
    return dict(sorted(files.items()))


# --- Pyodide packages (numpy, ...) ---------------------------------------------------------------


def package_closure(names: list[str], pyodide_lock: dict) -> list[str]:
    """The packages and everything they depend on, per pyodide-lock.json."""
    packages = pyodide_lock["packages"]
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise PinError(f"pyodide-lock.json lists no package {name!r}")
        seen.add(name)
        todo.extend(packages[name]["depends"])
    return sorted(seen)


def files_from_pyodide_lock(names: list[str], pyodide_lock: dict) -> dict[str, str]:
    """file name -> sha256 of each package file, as pyodide-lock.json gives them."""
    packages = pyodide_lock["packages"]
    return {
        packages[n]["file_name"]: packages[n]["sha256"]
        for n in package_closure(names, pyodide_lock)
    }


def from_cdn(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=CDN_TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"  not reachable ({getattr(e, 'reason', e)})", file=sys.stderr)
        return None


def source_wheel(cache: Path, source: dict, *, check: bool = True) -> Path:
    """The PyPI wheel that carries Pyodide's official package files, from the cache or pip."""
    folder = cache / "pypi"
    pattern = f"{source['distribution'].replace('-', '_')}-{source['version']}-*.whl"
    candidates = sorted(folder.glob(pattern))
    if not candidates:
        print(f"pip download {source['distribution']}=={source['version']}", file=sys.stderr)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            run_client(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--no-cache-dir",
                    "--only-binary=:all:",
                    "--quiet",
                    "--dest",
                    tmp,
                    f"{source['distribution']}=={source['version']}",
                ],
                f"pip download {source['distribution']}",
            )
            for wheel in Path(tmp).glob("*.whl"):
                wheel.replace(folder / wheel.name)
        candidates = sorted(folder.glob(pattern))
    if not candidates:
        raise PinError(f"pip download {source['distribution']}=={source['version']} gave no wheel")
    path = candidates[0]
    if not check:
        return path
    check_digest(
        f"{path} (PyPI {source['distribution']}=={source['version']})",
        sha256_hex(path.read_bytes()),
        source["sha256"],
        f"Delete {path} to download it again.",
    )
    return path


def from_wheel(cache: Path, source: dict, file_name: str) -> bytes:
    with zipfile.ZipFile(source_wheel(cache, source)) as wheel:
        try:
            return wheel.read(source["folder"] + file_name)
        except KeyError as e:
            raise PinError(
                f"{source['distribution']}=={source['version']} does not ship "
                f"{source['folder']}{file_name}"
            ) from e


def pyodide_package_file(cache: Path, section: dict, version: str, name: str, sha: str) -> bytes:
    """One package file: from the cache, else the CDN, else the wheel; always checked."""
    path = cache / "pyodide-packages" / version / name
    if path.is_file():
        data = path.read_bytes()
        check_digest(f"{path}", sha256_hex(data), sha, f"Delete {path} to fetch it again.")
        return data
    url = section["cdn"].format(version=version, file=name)
    print(f"fetching {name} from the Pyodide CDN", file=sys.stderr)
    data = from_cdn(url)
    if data is not None and sha256_hex(data) != sha:
        print(f"  {url} sent other bytes than the lock pins; not used", file=sys.stderr)
        data = None
    if data is None:
        source = section["fallback"]
        print(
            f"  taking {name} from PyPI {source['distribution']}=={source['version']}",
            file=sys.stderr,
        )
        data = from_wheel(cache, source, name)
        check_digest(f"{name} from {source['distribution']}", sha256_hex(data), sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def pyodide_package_files(cache: Path, lock: dict, pyodide_lock: dict) -> dict[str, bytes]:
    """Every package file the lock lists, checked against the lock and pyodide-lock.json."""
    section = lock["pyodide_packages"]
    version = lock["npm"]["pyodide"]["version"]
    official = files_from_pyodide_lock(section["packages"], pyodide_lock)
    if official != section["files"]:
        raise PinError(
            "build/third_party.json's pyodide_packages.files differ from what pyodide-lock.json "
            f"of pyodide@{version} gives for {section['packages']}:\n"
            f"  lock:            {section['files']}\n  pyodide-lock.json: {official}\n"
            "Run python build/third_party.py --relock after changing versions."
        )
    return {
        f"{section['dest']}/{name}": pyodide_package_file(cache, section, version, name, sha)
        for name, sha in section["files"].items()
    }


# --- everything ---------------------------------------------------------------------------------


def third_party_files(cache: Path, lock: dict) -> dict[str, bytes]:
    """site path -> bytes of every pinned third-party file, each one checked."""
    files: dict[str, bytes] = {}
    for package, entry in lock["npm"].items():
        files.update(npm_files(npm_tarball(cache, package, entry), package, entry))
    pyodide = lock["npm"]["pyodide"]
    pyodide_lock = json.loads(files[ship_path(pyodide, "pyodide-lock.json")])
    files.update(pyodide_package_files(cache, lock, pyodide_lock))
    return files


def relock(cache: Path, path: Path = LOCK) -> dict:
    """Recompute every digest of the lock from fresh downloads (after a version bump)."""
    lock = read_lock(path)
    for package, entry in lock["npm"].items():
        stale = cache / "npm" / tarball_name(package, entry["version"])
        stale.unlink(missing_ok=True)
        tarball = npm_pack(package, entry["version"], stale.parent)
        registry = run_client(
            ["npm", "view", f"{package}@{entry['version']}", "dist.integrity"], package
        ).strip()
        check_digest(
            f"{tarball} (as the registry lists it)", npm_integrity(tarball.read_bytes()), registry
        )
        entry["integrity"] = registry
        entry["files"] = matching_files(tarball, entry)
        with tarfile.open(tarball, "r:gz") as tar:
            entry["license"] = json.load(tar.extractfile("package/package.json")).get("license")
    pyodide = cache / "npm" / tarball_name("pyodide", lock["npm"]["pyodide"]["version"])
    with tarfile.open(pyodide, "r:gz") as tar:
        pyodide_lock = json.load(tar.extractfile("package/pyodide-lock.json"))
    section = lock["pyodide_packages"]
    section["files"] = files_from_pyodide_lock(section["packages"], pyodide_lock)
    wheel = source_wheel(cache, section["fallback"], check=False)
    section["fallback"]["sha256"] = sha256_hex(wheel.read_bytes())
    path.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")
    third_party_files(cache, lock)  # the new lock must hold for what a build takes
    return lock


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python build/third_party.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--relock", action="store_true", help="recompute the digests of the lock")
    p.add_argument(
        "--cache",
        type=Path,
        default=default_cache(),
        help="cache; downloads go to its third_party/",
    )
    args = p.parse_args(argv)
    cache = args.cache / "third_party"
    try:
        if args.relock:
            relock(cache)
        files = third_party_files(cache, read_lock())
    except PinError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({name: len(data) for name, data in sorted(files.items())}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
