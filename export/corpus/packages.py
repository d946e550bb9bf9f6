"""The corpus's bytes: each Debian package pinned by version and sha256 (PACKAGES), downloaded
with apt-get, checked, unpacked with dpkg-deb (no installation), and its copyright file checked
to state the licence the corpus records. A failure raises CorpusError, which the command line
(__main__.py) reports."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from export.corpus.sources import Source

DEFAULT_CACHE = Path.home() / ".cache" / "pyexplainer" / "debs"


class CorpusError(Exception):
    """The corpus cannot be rebuilt; the message says why and what to do."""


@dataclass(frozen=True)
class Deb:
    """One pinned Debian package file (Debian 12 "bookworm")."""

    package: str
    version: str
    arch: str
    sha256: str

    @property
    def filename(self) -> str:
        # apt-get download writes the epoch colon URL-encoded.
        return f"{self.package}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


PACKAGES: dict[str, Deb] = {
    deb.package: deb
    for deb in [
        Deb(
            "sword-text-web",
            "426.0-1",
            "all",
            "930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1",
        ),
        Deb(
            "python3.11-doc",
            "3.11.2-6+deb12u9",
            "all",
            "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be",
        ),
        Deb(
            "bible-kjv-text",
            "4.38",
            "all",
            "d61b6aad4c51ba9e2800b825325fa6a09e99a0d02a9bb6dc4724fcc4995a1b7a",
        ),
        Deb(
            "bible-kjv",
            "4.38",
            "amd64",
            "75a49c032a6efa9faa2beb4a9acb70974380122906329d0e100de36cc88ff02d",
        ),
        Deb(
            "jargon-text",
            "4.4.7-4.1",
            "all",
            "17d05997e30eb3d5d6713929b8e2f81b63a5f50073858ad2a06701c71f54dcdb",
        ),
        Deb(
            "debian-handbook",
            "11.20220922",
            "all",
            "3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa",
        ),
        Deb(
            "debian-reference-en",
            "2.100",
            "all",
            "9f31d3a17df505de09689ca255512ea58c1fc47c59bb1b0c7bf1c23362e9743f",
        ),
        Deb(
            "gnu-standards",
            "2022.03.23-0.1",
            "all",
            "2087dda531c69d8505856a45e0334746f3f25211a237c95d375eed13a7d8c201",
        ),
        Deb(
            "wordnet-base",
            "1:3.0-37",
            "all",
            "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752",
        ),
        Deb(
            "sqlite3-doc",
            "3.40.1-2+deb12u2",
            "all",
            "466e30d7066e2641fa13e56bc662a2ad521b8cc9c17dde9c9dac3d4f105e32f2",
        ),
        Deb(
            "python-django-doc",
            "3:3.2.25-0+deb12u7",
            "all",
            "87307f067916df72e17180d35b7cde5c7ea6080336cda518efd7f6e66988a7ca",
        ),
        Deb(
            "postgresql-doc-15",
            "15.20-0+deb12u1",
            "all",
            "4c44bf2c599f208b3f46454a6cf7a72e25ec46ff74d37b59dd31ad76b00eebb7",
        ),
    ]
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_deb(deb: Deb, cache: Path) -> Path:
    """The verified .deb in `cache`, downloaded with apt-get if it is not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / deb.filename
    if not path.exists():
        result = subprocess.run(
            ["apt-get", "download", f"{deb.package}={deb.version}"],
            cwd=cache,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not path.exists():
            raise CorpusError(
                f"apt-get download {deb.package}={deb.version} failed:\n"
                f"{result.stdout}{result.stderr}"
            )
    actual = sha256_file(path)
    if actual != deb.sha256:
        raise CorpusError(
            f"sha256 mismatch for {path}:\n  expected {deb.sha256}\n"
            f"  actual   {actual}\nDelete the file to re-download, or update the pin."
        )
    return path


def unpack_deb(deb_path: Path, cache: Path) -> Path:
    """Extract a .deb (dpkg-deb -x, no installation) into the cache; reused when present."""
    root = cache / "unpacked" / deb_path.stem
    done = root / ".unpacked"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb_path), str(root)], check=True)
        done.touch()
    return root


def check_licence(root: Path, source: Source) -> Path:
    """The package's copyright file, after checking it states the licence we record."""
    copyright_file = root / "usr/share/doc" / source.packages[0] / "copyright"
    text = copyright_file.read_text(encoding="utf-8", errors="replace")
    if source.licence_marker.lower() not in text.lower():
        raise CorpusError(
            f"{copyright_file} no longer says {source.licence_marker!r}; "
            f"re-check the licence of {source.name}."
        )
    return copyright_file


# ---------------------------------------------------------------------------
