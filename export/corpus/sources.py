"""The corpus's sources: where each one's text lives inside its packages, how it becomes
documents (the parsers of this package), its licence and its sampling weight (SOURCES)."""

from __future__ import annotations

import bz2
import gzip
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from export.corpus.cleaning import join_document
from export.corpus.formats import (
    jargon_paragraphs,
    kjv_chapters,
    osis_to_paragraphs,
    sword_ztext_blocks,
    wordnet_glosses,
)
from export.corpus.html_text import html_to_paragraphs
from export.corpus.rest_text import rest_to_paragraphs


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    elif path.suffix == ".bz2":
        raw = bz2.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _files(root: Path, pattern: str) -> list[Path]:
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    if not files:
        raise FileNotFoundError(f"no files match {pattern} under {root}")
    return files


def _html_documents(files: list[Path]) -> list[str]:
    return [join_document(html_to_paragraphs(_read(f))) for f in files]


def extract_web(roots: dict[str, Path]) -> tuple[list[str], int]:
    module = roots["sword-text-web"] / "usr/share/sword/modules/texts/ztext/engWEB2015eb"
    documents = []
    for testament in ("ot", "nt"):
        index = (module / f"{testament}.bzs").read_bytes()
        data = (module / f"{testament}.bzz").read_bytes()
        documents += [join_document(osis_to_paragraphs(b)) for b in sword_ztext_blocks(index, data)]
    return documents, 2


def extract_python_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["python3.11-doc"] / "usr/share/doc/python3.11/html/_sources", "**/*.txt")
    return [join_document(rest_to_paragraphs(_read(f))) for f in files], len(files)


def extract_kjv(roots: dict[str, Path]) -> tuple[list[str], int]:
    # The text is in the program's own compressed format; its GPL reader (package bible-kjv)
    # runs unpacked, without installation.
    program = roots["bible-kjv"] / "usr/bin/bible"
    output = subprocess.run(
        [str(program), "-f", "-p", str(roots["bible-kjv-text"] / "usr/lib"), "gen1:1-rev22:21"],
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [join_document(kjv_chapters(output))], 1


def extract_jargon(roots: dict[str, Path]) -> tuple[list[str], int]:
    text = _read(roots["jargon-text"] / "usr/share/doc/jargon-text/jargon.txt.gz")
    return [join_document(jargon_paragraphs(text))], 1


def extract_handbook(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["debian-handbook"] / "usr/share/doc/debian-handbook/html/en-US", "*.html")
    return _html_documents(files), len(files)


def extract_debian_reference(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["debian-reference-en"] / "usr/share/debian-reference", "*.en.html")
    files = [f for f in files if f.name != "index.en.html"]  # the one-page copy of all chapters
    return _html_documents(files), len(files)


def extract_gnu_standards(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["gnu-standards"] / "usr/share/doc/gnu-standards", "*.html")
    return _html_documents(files), len(files)


def extract_sqlite_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    root = roots["sqlite3-doc"] / "usr/share/doc/sqlite3"
    # Keyword indexes, cross-reference tables and the site map are lists of links, not prose.
    skip = {"syntax", "keyword_index.html", "sitemap.html", "doclist.html", "toc.html"}
    files = [
        f
        for f in _files(root, "**/*.html")
        if f.relative_to(root).parts[0] not in skip and not f.name.startswith("doc_")
    ]
    return _html_documents(files), len(files)


def extract_django_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    root = roots["python-django-doc"] / "usr/share/doc/python-django-doc/html"
    skip = {"_modules", "genindex.html", "py-modindex.html", "search.html", "contents.html"}
    files = [f for f in _files(root, "**/*.html") if f.relative_to(root).parts[0] not in skip]
    return _html_documents(files), len(files)


def extract_postgresql_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["postgresql-doc-15"] / "usr/share/doc/postgresql-doc-15/html", "*.html")
    return _html_documents(files), len(files)


def extract_wordnet(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = [
        roots["wordnet-base"] / f"usr/share/wordnet/data.{pos}"
        for pos in ("adj", "adv", "noun", "verb")
    ]
    # Glosses are single lines; keep them one per line, 50 to a paragraph.
    documents = []
    for f in files:
        glosses = wordnet_glosses(_read(f))
        documents.append(
            "\n\n".join("\n".join(glosses[i : i + 50]) for i in range(0, len(glosses), 50))
        )
    return documents, len(files)


@dataclass(frozen=True)
class Source:
    name: str
    packages: tuple[str, ...]  # first one holds the text and its copyright file
    licence: str
    licence_marker: str  # a phrase that must appear in the copyright file
    extract: Callable[[dict[str, Path]], tuple[list[str], int]]  # -> (documents, files read)
    weight: float = 1.0


SOURCES: list[Source] = [
    Source("web", ("sword-text-web",), "public-domain", "in the Public Domain", extract_web),
    Source(
        "python_docs",
        ("python3.11-doc",),
        "PSF-2.0",
        "PYTHON SOFTWARE FOUNDATION LICENSE",
        extract_python_docs,
    ),
    # Early-modern English: sampled less so the model does not talk like 1611.
    Source(
        "kjv",
        ("bible-kjv-text", "bible-kjv"),
        "public-domain",
        "copyright for the King James",
        extract_kjv,
        weight=0.3,
    ),
    Source("jargon", ("jargon-text",), "public-domain", "is in the public domain", extract_jargon),
    Source(
        "debian_handbook",
        ("debian-handbook",),
        "GPL-2.0+ or CC-BY-SA-3.0",
        "GPL-2.0+ or CC-BY-SA-3.0",
        extract_handbook,
    ),
    Source(
        "debian_reference",
        ("debian-reference-en",),
        "GPL-2+",
        "License: GPL-2+",
        extract_debian_reference,
    ),
    Source(
        "gnu_standards",
        ("gnu-standards",),
        "GFDL-1.3+ (no invariant sections)",
        "GNU Free Documentation License",
        extract_gnu_standards,
    ),
    Source(
        "sqlite_docs",
        ("sqlite3-doc",),
        "public-domain",
        "License: public-domain",
        extract_sqlite_docs,
    ),
    Source(
        "django_docs",
        ("python-django-doc",),
        "BSD-3-Clause",
        "License: BSD-3-Clause",
        extract_django_docs,
    ),
    Source(
        "postgresql_docs",
        ("postgresql-doc-15",),
        "PostgreSQL",
        "License: PostgreSQL",
        extract_postgresql_docs,
    ),
    # A dictionary, not prose: useful vocabulary, but sampled less.
    Source(
        "wordnet",
        ("wordnet-base",),
        "WordNet-3.0",
        "WordNet 3.0 Copyright",
        extract_wordnet,
        weight=0.3,
    ),
]


# ---------------------------------------------------------------------------
